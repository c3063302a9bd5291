// Order-ingest bookkeeping shared by both store adapters (pure functions, no I/O). An adapter imports
// only its own folder and src/adapters/shared/ (test/infra/imports.test.ts).
//
// An ingest batch is planned in app code: every order is classified against what is stored
// (new / same content / changed / unknown customer) as if the batch were applied one order at a
// time, and the effect on each customer's rollup is collected as a delta (entries to remove,
// entries to add). The mongo store applies deltas to the stored rollups (applyRollupDelta rebuilds
// the three arrays in one pass, exactly sized). The memory store applies orders one by one to its
// order index (same semantics, nothing allocated per order) and uses the helpers below.
//
// Rollup entries are matched by content (t, a, g): two orders of one customer with the same
// content are interchangeable in a rollup, so removing "an" entry with the old content is exact.
import type { Rollup } from '../../domain/types.ts';
import type { IngestResult, OrderInput } from '../../ports/store.ts';

/** What a store must remember of an order to keep rollups right when the order changes. */
export interface OrderTuple {
  customerId: string;
  /** occurredAt, epoch ms */
  t: number;
  /** amount, fen */
  a: number;
  /** margin, fen; NaN = none */
  g: number;
  cancelled: boolean;
}

export interface RollupEntry {
  t: number;
  a: number;
  g: number;
}

export interface RollupDelta {
  adds: RollupEntry[];
  removes: RollupEntry[];
}

export interface PlannedWrite {
  tuple: OrderTuple;
  /** the last input of this orderId in the batch that changed something */
  input: OrderInput;
  /** the order was stored before this batch */
  existed: boolean;
}

export interface IngestPlan {
  result: IngestResult;
  /** final content per orderId whose stored content changes (last occurrence in the batch wins) */
  writes: Map<string, PlannedWrite>;
  /** per customer id: what leaves and enters its rollup */
  deltas: Map<string, RollupDelta>;
}

export function tupleOf(o: OrderInput): OrderTuple {
  return {
    customerId: o.customerId,
    t: o.occurredAt,
    a: o.amountFen,
    g: o.marginFen === null || o.marginFen === undefined ? NaN : o.marginFen,
    cancelled: o.cancelled === true,
  };
}

/** Same margin: NaN (none) equals NaN; -0 equals 0 (stores may normalise -0). */
export function sameMargin(x: number, y: number): boolean {
  return x === y || (x !== x && y !== y);
}

export function sameTuple(x: OrderTuple, y: OrderTuple): boolean {
  return x.customerId === y.customerId && x.t === y.t && x.a === y.a && sameMargin(x.g, y.g) && x.cancelled === y.cancelled;
}

/**
 * Classifies a batch. `existing(orderId)` returns the stored order (or undefined);
 * `customerExists(id)` tells whether a customer is stored.
 * Orders of unknown customers are reported and leave no trace, also when the orderId exists.
 */
export function planIngest(
  orders: readonly OrderInput[],
  existing: (orderId: string) => OrderTuple | undefined,
  customerExists: (customerId: string) => boolean,
): IngestPlan {
  const result: IngestResult = { inserted: 0, updated: 0, duplicates: 0, unknownCustomer: [] };
  const writes = new Map<string, PlannedWrite>();
  const deltas = new Map<string, RollupDelta>();
  const deltaOf = (customerId: string): RollupDelta => {
    let d = deltas.get(customerId);
    if (!d) deltas.set(customerId, (d = { adds: [], removes: [] }));
    return d;
  };
  const add = (x: OrderTuple) => {
    deltaOf(x.customerId).adds.push({ t: x.t, a: x.a, g: x.g });
  };
  const remove = (x: OrderTuple) => {
    const d = deltaOf(x.customerId);
    // an entry added earlier in this batch is taken back before touching the stored rollup
    for (let i = d.adds.length - 1; i >= 0; i--) {
      const e = d.adds[i];
      if (e.t === x.t && e.a === x.a && sameMargin(e.g, x.g)) {
        d.adds.splice(i, 1);
        return;
      }
    }
    d.removes.push({ t: x.t, a: x.a, g: x.g });
  };

  for (let i = 0; i < orders.length; i++) {
    const o = orders[i];
    if (!customerExists(o.customerId)) {
      result.unknownCustomer.push(i);
      continue;
    }
    const next = tupleOf(o);
    const w = writes.get(o.orderId);
    const prev = w ? w.tuple : existing(o.orderId);
    if (!prev) {
      result.inserted++;
      if (!next.cancelled) add(next);
      writes.set(o.orderId, { tuple: next, input: o, existed: false });
    } else if (sameTuple(prev, next)) {
      result.duplicates++;
    } else {
      result.updated++;
      if (!prev.cancelled) remove(prev);
      if (!next.cancelled) add(next);
      writes.set(o.orderId, { tuple: next, input: o, existed: w ? w.existed : true });
    }
  }
  return { result, writes, deltas };
}

/** A shared, frozen empty array: the rollup of a customer without counted orders. */
export const EMPTY: number[] = Object.freeze([]) as unknown as number[];

export function emptyRollup(): Rollup {
  return { t: EMPTY, a: EMPTY, g: EMPTY };
}

// Scratch arrays for building exactly-sized packed arrays (`slice` of a prefix allocates exactly).
const st: number[] = [];
const sa: number[] = [];
const sg: number[] = [];

/** arr[i] = v, growing a packed array by push (never leaves holes) */
export function put(arr: number[], i: number, v: number): void {
  if (i < arr.length) arr[i] = v;
  else arr.push(v);
}

function lowerBound(t: readonly number[], x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface AppliedDelta {
  rollup: Rollup;
  /** removals that found no matching entry: the stored rollup disagrees with the orders */
  missing: number;
}

/**
 * Applies a delta to a rollup and returns NEW arrays (the input arrays are never modified, so a
 * rollup handed out earlier stays as it was). Entries stay sorted by t; among equal t the existing
 * entries come first, then the added ones in the order they were added.
 */
export function applyRollupDelta(r: Rollup, d: RollupDelta): AppliedDelta {
  const { t, a, g } = r;
  const n = t.length;
  let missing = 0;
  let removed: Uint8Array | null = null;
  for (const x of d.removes) {
    let found = false;
    for (let j = lowerBound(t, x.t); j < n && t[j] === x.t; j++) {
      if ((removed === null || removed[j] === 0) && a[j] === x.a && sameMargin(g[j], x.g)) {
        if (removed === null) removed = new Uint8Array(n);
        removed[j] = 1;
        found = true;
        break;
      }
    }
    if (!found) missing++;
  }
  if (removed === null && d.adds.length === 0) return { rollup: r, missing };

  const adds = d.adds.length > 1 ? d.adds.slice().sort((x, y) => x.t - y.t) : d.adds; // stable
  let i = 0;
  let k = 0;
  let m = 0;
  while (i < n || k < adds.length) {
    if (i < n && removed !== null && removed[i] === 1) {
      i++;
      continue;
    }
    if (k >= adds.length || (i < n && t[i] <= adds[k].t)) {
      put(st, m, t[i]);
      put(sa, m, a[i]);
      put(sg, m, g[i]);
      i++;
    } else {
      const e = adds[k++];
      put(st, m, e.t);
      put(sa, m, e.a);
      put(sg, m, e.g);
    }
    m++;
  }
  if (m === 0) return { rollup: emptyRollup(), missing };
  return { rollup: { t: st.slice(0, m), a: sa.slice(0, m), g: sg.slice(0, m) }, missing };
}

/** Builds a rollup from an unordered list of (non-cancelled) orders: the repair path. */
export function rollupFromOrders(orders: readonly RollupEntry[]): Rollup {
  return applyRollupDelta(emptyRollup(), { adds: orders.slice(), removes: [] }).rollup;
}

/**
 * Id order used by both stores: Unicode code point order, which is what MongoDB (and FerretDB)
 * use for strings without a collation (UTF-8 byte order). JavaScript's `<` compares UTF-16 code
 * units, which differs only when astral characters (surrogate pairs) meet U+E000..U+FFFF.
 */
export function compareIds(x: string, y: string): number {
  if (x === y) return 0;
  const n = x.length < y.length ? x.length : y.length;
  for (let i = 0; i < n; i++) {
    let cx = x.charCodeAt(i);
    let cy = y.charCodeAt(i);
    if (cx !== cy) {
      if (cx >= 0xd800 && cy >= 0xd800) {
        // surrogates (astral code points) sort after U+E000..U+FFFF
        cx = cx < 0xe000 ? cx + 0x2000 : cx - 0x800;
        cy = cy < 0xe000 ? cy + 0x2000 : cy - 0x800;
      }
      return cx - cy;
    }
  }
  return x.length - y.length;
}

const SURROGATE = /[\ud800-\udfff]/;

/** True when `<` on the string agrees with compareIds for every pair that includes it. */
export function hasSurrogates(s: string): boolean {
  return SURROGATE.test(s);
}
