// The embedded, in-process store (the embedded default of README "Quick start"). Nothing survives a restart.
//
// Sized for 1,000,000 customers and 20,000,000 orders (README "Benchmarks"):
//   - customers: Map by id + an id index sorted lazily (re-sorted on demand after inserts out of
//     order), walked by binary search for pagination and streaming;
//   - orders: OrderIndex (typed arrays outside the V8 heap, ~52 bytes per order, order-index.ts)
//     holding only what a rollup needs (customer, t, amount, margin, cancelled) plus a `next`
//     link: every customer has a linked list of its orders (head/tail slots);
//   - rollups are NOT kept as arrays between reads: a customer's rollup is the (t, a, g) of its
//     non-cancelled orders, gathered from its list and sorted by t when the customer is read.
//     Materialised arrays cost ~30 bytes per order more on the heap (600 MB at 20M orders), and
//     rebuilding them at ingest churned the old generation (measured at 1M/20M: 76k orders/s and
//     3.7 GB RSS, against 350k orders/s and 1.75 GB now). Gathering costs 85-250 ns per order on
//     read (cache misses grow with the population), ~5 s per full pass at 1M/20M.
//   Ingest is O(1) per new order; an order moving to another customer walks the old list.
//   - tier states: StateColumns (state-columns.ts), numbers in typed arrays, repeated strings interned and
//     the open-ended rest as one JSON string: ~400 bytes a state and one heap object, where a TierState of
//     objects was ~1.1 KB in ~15 objects (1.1 GB at 1M customers for every major GC to mark);
//   - tier history: HistoryLog (history-log.ts), columns with ~36 bytes a row and no object per row.
// Measured at 1M customers / 20M orders: 1.75 GB RSS after ingest (order index 1.0 GB, heap 0.4 GB).
//
// Every read returns fresh rollup arrays and fresh states (the caller owns them; writeStates copies). Other
// parts are shared, read-only views instead of copies: `score`, `attributes` and `tags` are deep-frozen.
import type { ApprovedScore, PopulationStats, Rollup, TierState } from '../../domain/types.ts';
import type {
  AttributeValue,
  CustomerFilter,
  CustomerInput,
  CustomerScope,
  CustomerRecord,
  EvalRow,
  HistoryEntry,
  IngestResult,
  Org,
  OrderInput,
  PolicyVersion,
  RunRecord,
  StateWrite,
  Store,
  Tally,
} from '../../ports/store.ts';
import { MemoryDocStore } from './doc-store.ts';
import { compareIds, hasSurrogates, sameMargin } from '../shared/ingest-plan.ts';
import { HistoryLog, instant } from './history-log.ts';
import { StringTable } from '../../domain/string-table.ts';
import { StateColumns } from './state-columns.ts';
import { OrderIndex } from './order-index.ts';

const EMPTY_TAGS: readonly string[] = Object.freeze([]);
// gather buffers for rollupOf (the store is synchronous between awaits)
const EMPTY_ATTRIBUTES: Readonly<Record<string, AttributeValue>> = Object.freeze({});
/** distinct attribute sets shared between customers; beyond this, each customer keeps its own */
const MAX_ATTRIBUTE_SETS = 65_536;

class Customer {
  score: ApprovedScore | null = null;
  /** first and last order slot of this customer's order list, -1 when none */
  head = -1;
  tail = -1;
  /** length of the order list (cancelled orders included) */
  count = 0;
  constructor(
    readonly idx: number,
    readonly id: string,
    public name: string,
    public ownerId: string,
    public teamId: string | null,
    public attributes: Readonly<Record<string, AttributeValue>>,
    public tags: readonly string[],
    readonly createdAt: string,
    public updatedAt: string,
  ) {}
}

/** Deep-freezes plain data (objects and arrays) in place; already frozen parts are skipped. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const k of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[k]);
  }
  return value;
}

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly docs = new MemoryDocStore();

  private org: Org | null = null;
  private readonly customers = new Map<string, Customer>();
  private readonly byIdx: Customer[] = [];
  /** the customers in id order once sorted (listing and streaming walk it, no id lookups) */
  private sorted: Customer[] = [];
  private idsSorted = true;
  /** true once an id with surrogate pairs exists: then `<` differs from code point order */
  private needCodePointOrder = false;
  private readonly orders = new OrderIndex();
  private slotBuf = new Int32Array(1024);
  /** interned owner/team ids and attribute values: repeated strings are stored once */
  private readonly strings = new Map<string, string>();
  private readonly attributeSets = new Map<string, Readonly<Record<string, AttributeValue>>>();
  /** runs that saved a state before them for some customer (released when the run is done) */
  private readonly runsWithBefore = new Set<string>();

  private readonly history = new HistoryLog();
  private readonly stateStrings = new StringTable();
  private readonly states = new StateColumns(this.stateStrings, true);
  /** the state each customer had before the running recompute wrote it (released when the run is done) */
  private readonly before = new StateColumns(this.stateStrings);

  private readonly policies: PolicyVersion[] = [];
  private readonly runs = new Map<string, { run: RunRecord }>();
  private readonly stats = new Map<string, PopulationStats>();

  async init(): Promise<void> {}
  async close(): Promise<void> {}

  // --- org ---------------------------------------------------------------------------------

  async getOrg(): Promise<Org | null> {
    return this.org ? structuredClone(this.org) : null;
  }

  async putOrg(org: Org): Promise<void> {
    this.org = structuredClone(org);
  }

  // --- customers ---------------------------------------------------------------------------

  async upsertCustomers(customers: CustomerInput[]): Promise<{ upserted: number; updated: number }> {
    const now = new Date().toISOString(); // one string shared by the whole batch
    let upserted = 0;
    let updated = 0;
    for (const input of customers) {
      const attributes = this.attributesOf(input.attributes);
      const tags = input.tags && input.tags.length > 0 ? Object.freeze(input.tags.slice()) : EMPTY_TAGS;
      const ownerId = this.intern(input.ownerId);
      const teamId = input.teamId === undefined || input.teamId === null ? null : this.intern(input.teamId);
      const c = this.customers.get(input.id);
      if (c) {
        c.name = input.name;
        c.ownerId = ownerId;
        c.teamId = teamId;
        c.attributes = attributes;
        c.tags = tags;
        c.updatedAt = now;
        updated++;
        continue;
      }
      const created = new Customer(this.byIdx.length, input.id, input.name, ownerId, teamId, attributes, tags, now, now);
      this.customers.set(created.id, created);
      this.byIdx.push(created);
      if (this.idsSorted && this.sorted.length > 0 && this.compare(this.sorted[this.sorted.length - 1].id, created.id) > 0) this.idsSorted = false;
      if (!this.needCodePointOrder && hasSurrogates(created.id)) {
        this.needCodePointOrder = true;
        this.idsSorted = false;
      }
      this.sorted.push(created);
      upserted++;
    }
    return { upserted, updated };
  }

  async getCustomer(id: string): Promise<CustomerRecord | null> {
    const c = this.customers.get(id);
    return c ? this.records([c])[0] : null;
  }

  async getCustomers(ids: string[]): Promise<CustomerRecord[]> {
    const found: Customer[] = [];
    for (const id of ids) {
      const c = this.customers.get(id);
      if (c) found.push(c);
    }
    return this.records(found);
  }

  async listCustomers(filter: CustomerFilter, limit: number, cursor?: string): Promise<{ items: CustomerRecord[]; nextCursor: string | null }> {
    const ids = this.sortedCustomers();
    const match = this.matcher(filter);
    const page: Customer[] = [];
    let i = cursor === undefined || cursor === null ? 0 : this.upperBound(ids, cursor);
    let more = false;
    for (; i < ids.length; i++) {
      const c = ids[i];
      if (!match(c)) continue;
      if (page.length >= limit) {
        more = true;
        break;
      }
      page.push(c);
    }
    const items = this.records(page);
    return { items, nextCursor: more && items.length > 0 ? items[items.length - 1].id : null };
  }

  async *streamCustomers(batchSize: number, afterId?: string | null): AsyncIterable<CustomerRecord[]> {
    for (const page of this.pagesAfter(batchSize, afterId)) yield this.records(page);
  }

  /** The customers in id order after `afterId`, page by page. */
  private *pagesAfter(batchSize: number, afterId: string | null | undefined): Generator<Customer[]> {
    const size = Math.max(1, Math.floor(batchSize));
    let last = afterId ?? null;
    for (;;) {
      // re-located by id every page: customers inserted meanwhile are seen when they sort later
      const ids = this.sortedCustomers();
      const i = last === null ? 0 : this.upperBound(ids, last);
      if (i >= ids.length) return;
      const page = ids.slice(i, i + size);
      last = page[page.length - 1].id;
      yield page;
    }
  }

  async *streamRollups(batchSize: number): AsyncIterable<Rollup[]> {
    const size = Math.max(1, Math.floor(batchSize));
    for (let i = 0; i < this.byIdx.length; i += size) yield this.rollups(this.byIdx.slice(i, i + size), true);
  }

  async *streamEvalRows(batchSize: number, afterId?: string | null): AsyncIterable<EvalRow[]> {
    for (const cs of this.pagesAfter(batchSize, afterId)) {
      const rollups = this.rollups(cs, true);
      yield cs.map((c, j) => ({
        id: c.id,
        ownerId: c.ownerId,
        teamId: c.teamId,
        attributes: c.attributes as Record<string, AttributeValue>,
        score: c.score,
        rollup: rollups[j],
        current: this.states.carried(c.idx),
        fingerprint: this.states.fingerprint(c.idx),
        writtenBy: this.states.field(c.idx, 'runId'),
      }));
    }
  }

  async countCustomers(filter?: CustomerFilter): Promise<number> {
    if (!filter || Object.values(filter).every((v) => v === undefined)) return this.customers.size;
    const match = this.matcher(filter);
    let n = 0;
    for (const c of this.byIdx) if (match(c)) n++;
    return n;
  }

  async tally(filter: Pick<CustomerFilter, 'ownerId' | 'teamId' | 'scope'> = {}): Promise<Tally> {
    const tiers: Record<string, number> = {};
    const risk: Record<string, number> = {};
    let total = 0;
    for (const c of this.byIdx) {
      if ((filter.ownerId !== undefined && c.ownerId !== filter.ownerId) || (filter.teamId !== undefined && c.teamId !== filter.teamId)) continue;
      if (filter.scope !== undefined && !inScope(filter.scope, c.ownerId, c.teamId)) continue;
      total++;
      const tier = this.states.field(c.idx, 'tier');
      if (tier === null) continue;
      const level = this.states.field(c.idx, 'level')!;
      tiers[tier] = (tiers[tier] ?? 0) + 1;
      risk[level] = (risk[level] ?? 0) + 1;
    }
    return { total, tiers, risk };
  }

  // --- orders ------------------------------------------------------------------------------

  /**
   * Orders are applied one by one, in batch order: that is the contract's semantics (the last
   * occurrence of an orderId wins, counts add up) and it allocates nothing per order.
   */
  async ingestOrders(orders: OrderInput[]): Promise<IngestResult> {
    const index = this.orders;
    const result: IngestResult = { inserted: 0, updated: 0, duplicates: 0, unknownCustomer: [] };
    for (let i = 0; i < orders.length; i++) {
      const o = orders[i];
      const c = this.customers.get(o.customerId);
      if (c === undefined) {
        result.unknownCustomer.push(i);
        continue;
      }
      const t = o.occurredAt;
      const a = o.amountFen;
      const g = o.marginFen === null || o.marginFen === undefined ? NaN : o.marginFen;
      const cancelled = o.cancelled === true;
      const slot = index.find(o.orderId);
      if (slot < 0) {
        this.link(c, index.add(o.orderId, c.idx, t, a, g, cancelled));
        result.inserted++;
        continue;
      }
      const was = index.customer(slot);
      if (was === c.idx && index.t(slot) === t && index.a(slot) === a && sameMargin(index.g(slot), g) && index.cancelled(slot) === cancelled) {
        result.duplicates++;
        continue;
      }
      index.set(slot, c.idx, t, a, g, cancelled);
      if (was !== c.idx) {
        this.unlink(this.byIdx[was], slot);
        this.link(c, slot);
      }
      result.updated++;
    }
    return result;
  }

  /** Bytes held by the order index (typed arrays outside the V8 heap). */
  get orderIndexBytes(): number {
    return this.orders.bytes;
  }

  get orderCount(): number {
    return this.orders.size;
  }

  // --- evaluations -------------------------------------------------------------------------

  async writeStates(writes: StateWrite[], history: HistoryEntry[]): Promise<void> {
    for (const w of writes) {
      const c = this.customers.get(w.id);
      if (!c) continue;
      this.states.set(c.idx, w.state);
      this.before.set(c.idx, w.stateBeforeRun);
      if (w.stateBeforeRun !== null) this.runsWithBefore.add(w.state.runId);
    }
    for (const h of history) this.history.add(h);
  }

  async setScore(customerId: string, score: ApprovedScore): Promise<void> {
    const c = this.customers.get(customerId);
    if (c) c.score = deepFreeze(structuredClone(score));
  }

  async getHistory(customerId: string): Promise<HistoryEntry[]> {
    return this.history.of(customerId);
  }

  async historySince(since: string, limit: number): Promise<HistoryEntry[]> {
    return this.history.since(instant(since), Math.max(0, limit));
  }

  // --- policies ----------------------------------------------------------------------------

  async getPolicy(version?: number): Promise<PolicyVersion | null> {
    const p = version === undefined ? this.policies[this.policies.length - 1] : this.policies.find((x) => x.version === version);
    return p ? structuredClone(p) : null;
  }

  async addPolicy(policy: unknown, installedAt: string): Promise<number> {
    const version = this.policies.length === 0 ? 1 : this.policies[this.policies.length - 1].version + 1;
    this.policies.push({ version, installedAt, policy: structuredClone(policy) });
    return version;
  }

  async listPolicies(): Promise<Omit<PolicyVersion, 'policy'>[]> {
    return this.policies.map((p) => ({ version: p.version, installedAt: p.installedAt }));
  }

  // --- runs --------------------------------------------------------------------------------

  async createRun(run: RunRecord): Promise<void> {
    if (this.runs.has(run.id)) throw new Error(`run ${run.id} already exists`);
    const copy = structuredClone(run);
    if (copy.notices === null) delete copy.notices; // as the mongo store: no book, no field
    this.runs.set(run.id, { run: copy });
  }

  async updateRun(id: string, patch: Partial<RunRecord>): Promise<void> {
    const r = this.runs.get(id);
    if (!r) return;
    const clean = structuredClone(patch);
    delete clean.id;
    for (const k of Object.keys(clean) as (keyof RunRecord)[]) if (clean[k] === undefined) delete clean[k];
    r.run = { ...r.run, ...clean };
    if (r.run.notices === null) delete r.run.notices;
    if (patch.status === 'done') {
      // the run is over: nobody re-runs it, so the states it saved for re-runs are released
      // (a walk over every customer: only for a run that saved any)
      if (this.runsWithBefore.delete(id)) for (const c of this.byIdx) if (this.states.writtenBy(c.idx, id)) this.before.clear(c.idx);
    }
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const r = this.runs.get(id);
    return r ? structuredClone(r.run) : null;
  }

  async listRuns(limit: number): Promise<RunRecord[]> {
    return [...this.runs.values()]
      .sort((x, y) => instant(y.run.startedAt) - instant(x.run.startedAt) || compareIds(y.run.id, x.run.id))
      .slice(0, Math.max(0, limit))
      .map((r) => structuredClone(r.run));
  }

  // --- population statistics ---------------------------------------------------------------

  async savePopulationStats(runId: string, stats: PopulationStats): Promise<void> {
    this.stats.set(runId, copyStats(stats));
  }

  async loadPopulationStats(runId: string): Promise<PopulationStats | null> {
    const s = this.stats.get(runId);
    return s ? copyStats(s) : null;
  }

  // --- internals ---------------------------------------------------------------------------

  private compare(x: string, y: string): number {
    if (this.needCodePointOrder) return compareIds(x, y);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  private sortedCustomers(): Customer[] {
    if (!this.idsSorted) {
      if (this.needCodePointOrder) this.sorted.sort((x, y) => compareIds(x.id, y.id));
      else this.sorted.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)); // code unit order == code point order without surrogates
      this.idsSorted = true;
    }
    return this.sorted;
  }

  /** first index whose id sorts after `id` */
  private upperBound(ids: Customer[], id: string): number {
    let lo = 0;
    let hi = ids.length;
    const codePoints = this.needCodePointOrder || hasSurrogates(id);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = ids[mid].id;
      const c = codePoints ? compareIds(at, id) : at < id ? -1 : at > id ? 1 : 0;
      if (c <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private matcher(f: CustomerFilter): (c: Customer) => boolean {
    const q = f.q !== undefined && f.q !== '' ? f.q.toLowerCase() : null;
    return (c) =>
      (f.tier === undefined || this.states.field(c.idx, 'tier') === f.tier) &&
      (f.risk === undefined || this.states.field(c.idx, 'level') === f.risk) &&
      (f.ownerId === undefined || c.ownerId === f.ownerId) &&
      (f.teamId === undefined || c.teamId === f.teamId) &&
      (f.scope === undefined || inScope(f.scope, c.ownerId, c.teamId)) &&
      (q === null || c.id.toLowerCase().includes(q) || c.name.toLowerCase().includes(q));
  }

  private link(c: Customer, slot: number): void {
    const index = this.orders;
    index.setNext(slot, -1);
    if (c.tail < 0) c.head = slot;
    else index.setNext(c.tail, slot);
    c.tail = slot;
    c.count++;
  }

  private unlink(c: Customer, slot: number): void {
    const index = this.orders;
    let prev = -1;
    for (let s = c.head; s >= 0; prev = s, s = index.next(s)) {
      if (s !== slot) continue;
      const next = index.next(s);
      if (prev < 0) c.head = next;
      else index.setNext(prev, next);
      if (c.tail === slot) c.tail = prev;
      index.setNext(slot, -1);
      c.count--;
      return;
    }
  }

  private records(cs: readonly Customer[]): CustomerRecord[] {
    const rollups = this.rollups(cs);
    return cs.map((c, i) => this.record(c, rollups[i]));
  }

  /**
   * Rollups of several customers. The order lists are walked for all
   * customers together, one step of every list per round: the loads of a round are independent,
   * so the CPU overlaps their cache misses (walking list after list would wait for each one).
   */
  private rollups(cs: readonly Customer[], views = false): Rollup[] {
    const index = this.orders;
    const k = cs.length;
    let total = 0;
    for (let i = 0; i < k; i++) total += cs[i].count;
    if (this.slotBuf.length < total) this.slotBuf = new Int32Array(Math.max(total, this.slotBuf.length * 2));
    const slots = this.slotBuf;
    const end = new Int32Array(k);
    const cur = new Int32Array(k);
    const active = new Int32Array(k);
    let n = 0;
    let p = 0;
    for (let i = 0; i < k; i++) {
      end[i] = p;
      p += cs[i].count;
      cur[i] = cs[i].head;
      if (cur[i] >= 0) active[n++] = i;
    }
    while (n > 0) {
      let m = 0;
      for (let j = 0; j < n; j++) {
        const i = active[j];
        const s = cur[i];
        slots[end[i]++] = s;
        const next = index.next(s);
        cur[i] = next;
        if (next >= 0) active[m++] = i;
      }
      n = m;
    }
    const out: Rollup[] = [];
    const bt = new Float64Array(total);
    const ba = new Float64Array(total);
    const bg = new Float64Array(total);
    let from = 0;
    let at = 0;
    for (let i = 0; i < k; i++) {
      const m = this.rollupInto(slots, from, end[i], bt, ba, bg, at);
      const t = bt.subarray(at, at + m);
      const a = ba.subarray(at, at + m);
      const g = bg.subarray(at, at + m);
      // views for a run's passes (no arrays per customer to collect); arrays for records, which callers keep
      out.push(views ? ({ t, a, g } as unknown as Rollup) : { t: Array.from(t), a: Array.from(a), g: Array.from(g) });
      at += m;
      from = end[i];
    }
    return out;
  }

  /**
   * The rollup of the orders in slots[from..to) written into t/a/g from `at`, sorted by t (stable); returns how
   * many orders it holds.
   */
  private rollupInto(slots: Int32Array, from: number, to: number, t: Float64Array, a: Float64Array, g: Float64Array, at: number): number {
    const index = this.orders;
    let m = at;
    let sorted = true;
    for (let j = from; j < to; j++) {
      const s = slots[j];
      if (index.cancelled(s)) continue;
      const ts = index.t(s);
      if (m > at && ts < t[m - 1]) sorted = false;
      t[m] = ts;
      a[m] = index.a(s);
      g[m] = index.g(s);
      m++;
    }
    if (!sorted) {
      const order: number[] = [];
      for (let i = at; i < m; i++) order.push(i);
      order.sort((x, y) => t[x] - t[y] || x - y);
      const ts = order.map((i) => t[i]);
      const as = order.map((i) => a[i]);
      const gs = order.map((i) => g[i]);
      t.set(ts, at);
      a.set(as, at);
      g.set(gs, at);
    }
    return m - at;
  }

  private record(c: Customer, rollup: Rollup): CustomerRecord {
    return {
      id: c.id,
      name: c.name,
      ownerId: c.ownerId,
      teamId: c.teamId,
      attributes: c.attributes as Record<string, AttributeValue>,
      tags: c.tags as string[],
      rollup,
      state: this.states.get(c.idx),
      stateBeforeRun: this.before.get(c.idx),
      score: c.score,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
    };
  }

  private intern(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    if (this.strings.size < 1_000_000) this.strings.set(s, s);
    return s;
  }

  private attributesOf(attrs: Record<string, AttributeValue> | undefined): Readonly<Record<string, AttributeValue>> {
    if (!attrs) return EMPTY_ATTRIBUTES;
    const keys = Object.keys(attrs);
    if (keys.length === 0) return EMPTY_ATTRIBUTES;
    // Object.fromEntries defines own properties, so a key like "__proto__" stays a plain key
    const frozen = Object.freeze(
      Object.fromEntries(keys.map((k) => {
        const v = attrs[k];
        return [k, typeof v === 'string' && v.length <= 64 ? this.intern(v) : v];
      })),
    );
    // customers with the same attributes share one object (less heap; a run's batches pack each set once)
    const key = JSON.stringify(frozen);
    const shared = this.attributeSets.get(key);
    if (shared) return shared;
    if (this.attributeSets.size < MAX_ATTRIBUTE_SETS) this.attributeSets.set(key, frozen);
    return frozen;
  }
}

function inScope(scope: CustomerScope, ownerId: string, teamId: string | null): boolean {
  return ownerId === scope.ownerId || (teamId === null ? scope.teamlessOwnerIds.includes(ownerId) : scope.teamIds.includes(teamId));
}

function copyStats(s: PopulationStats): PopulationStats {
  return {
    n: s.n,
    monetaryDesc: new Float64Array(s.monetaryDesc),
    quintiles: s.quintiles
      ? {
          n: s.quintiles.n,
          recency: s.quintiles.recency.slice(),
          frequency: s.quintiles.frequency.slice(),
          monetary: s.quintiles.monetary.slice(),
        }
      : null,
    models: s.models ? structuredClone(s.models) : null,
  };
}
