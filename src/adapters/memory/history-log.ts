// Tier history of the memory store in columns: ~36 bytes per row, no object per row.
//
// A first run writes one row per customer; as objects (entry, strings, a per-customer array in a Map) that was
// ~200 bytes a row and a million more objects for every major GC to walk. Here a row is a few numbers in typed
// arrays plus a pointer to the customer's id (the store's own string); the few distinct tier keys, run ids and
// instants are interned. Each customer's rows form a backward linked list from its newest row.
import type { HistoryEntry } from '../../ports/store.ts';
import { compareIds } from '../shared/ingest-plan.ts';
import { StringTable } from '../../domain/string-table.ts';

const NONE = -1;

class Column<A extends Int32Array | Float64Array> {
  constructor(public data: A) {}
  ensure(n: number, make: (size: number) => A): void {
    if (n <= this.data.length) return;
    const next = make(Math.max(n, this.data.length * 2));
    next.set(this.data);
    this.data = next;
  }
}

export class HistoryLog {
  private n = 0;
  private readonly customer: string[] = [];
  private readonly from = new Column(new Int32Array(1024));
  private readonly to = new Column(new Int32Array(1024));
  private readonly at = new Column(new Int32Array(1024));
  private readonly atMs = new Column(new Float64Array(1024));
  private readonly run = new Column(new Int32Array(1024));
  /** the same customer's previous row, or NONE */
  private readonly prev = new Column(new Int32Array(1024));
  /** newest row of each customer */
  private readonly newest = new Map<string, number>();
  private readonly strings = new StringTable();
  /** instant of each interned string that was used as `at` (a run writes one `at` for all its rows) */
  private readonly instants = new Map<number, number>();
  /** row numbers in historySince order; rebuilt when rows arrived out of that order */
  private order: Int32Array | null = null;
  private inOrder = true;

  get size(): number {
    return this.n;
  }

  /** One row per (run, customer): a repeated row leaves the first one. */
  add(h: HistoryEntry): void {
    const head = this.newest.get(h.customerId) ?? NONE;
    const run = this.strings.id(h.runId);
    for (let r = head; r !== NONE; r = this.prev.data[r]) if (this.run.data[r] === run) return;
    const i = this.n;
    for (const c of [this.from, this.to, this.at, this.run, this.prev] as Column<Int32Array>[]) c.ensure(i + 1, (k) => new Int32Array(k));
    this.atMs.ensure(i + 1, (k) => new Float64Array(k));
    this.customer.push(h.customerId);
    this.from.data[i] = h.from === null ? NONE : this.strings.id(h.from);
    this.to.data[i] = this.strings.id(h.to);
    const at = this.strings.id(h.at);
    let ms = this.instants.get(at);
    if (ms === undefined) this.instants.set(at, (ms = instant(h.at)));
    this.at.data[i] = at;
    this.atMs.data[i] = ms;
    this.run.data[i] = run;
    this.prev.data[i] = head;
    this.newest.set(h.customerId, i);
    if (i > 0 && this.inOrder && this.compareRows(i - 1, i) > 0) this.inOrder = false;
    this.order = null;
    this.n++;
  }

  /** A customer's rows, oldest first (by instant, then run). */
  of(customerId: string): HistoryEntry[] {
    const rows: number[] = [];
    for (let r = this.newest.get(customerId) ?? NONE; r !== NONE; r = this.prev.data[r]) rows.push(r);
    rows.sort((x, y) => this.atMs.data[x] - this.atMs.data[y] || compareIds(this.strings.get(this.run.data[x]), this.strings.get(this.run.data[y])));
    return rows.map((r) => this.entry(r));
  }

  /** Up to `limit` rows at or after `sinceMs`, by instant, then customer, then run. */
  since(sinceMs: number, limit: number): HistoryEntry[] {
    const order = this.sorted();
    const atMs = this.atMs.data;
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (atMs[order === null ? mid : order[mid]] < sinceMs) lo = mid + 1;
      else hi = mid;
    }
    const out: HistoryEntry[] = [];
    for (let k = lo; k < this.n && out.length < limit; k++) out.push(this.entry(order === null ? k : order[k]));
    return out;
  }

  /** null while the rows are in their natural order already */
  private sorted(): Int32Array | null {
    if (this.inOrder) return null;
    if (this.order === null) {
      const order = new Int32Array(this.n);
      for (let i = 0; i < this.n; i++) order[i] = i;
      this.order = order.sort((x, y) => this.compareRows(x, y));
    }
    return this.order;
  }

  private compareRows(x: number, y: number): number {
    return (
      this.atMs.data[x] - this.atMs.data[y] ||
      compareIds(this.customer[x], this.customer[y]) ||
      compareIds(this.strings.get(this.run.data[x]), this.strings.get(this.run.data[y]))
    );
  }

  private entry(r: number): HistoryEntry {
    const from = this.from.data[r];
    return {
      customerId: this.customer[r],
      from: from === NONE ? null : this.strings.get(from),
      to: this.strings.get(this.to.data[r]),
      at: this.strings.get(this.at.data[r]),
      runId: this.strings.get(this.run.data[r]),
    };
  }
}

/** Instant of an ISO time for ordering; unparsable text sorts first. */
export function instant(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? -Infinity : ms;
}
