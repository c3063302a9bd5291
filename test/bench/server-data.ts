// The data set of server.bench.ts, as rows of the API: an org of 50 reps in 2 teams, customers, and ~20 orders each
// over the two years before AS_OF, refunds and cancelled orders included. Every value is a pure function of
// (SEED, customer, order), so the benchmark generates it chunk by chunk and never holds all orders at once; the
// same orders go to the server as NDJSON and to DuckDB as CSV lines.
import { formatInstant } from '../../src/domain/time.ts';
import { AS_OF, customerId, DAY, interleavedBatches, u01 } from './common.ts';

export const SEED = 20_260_630;
export const REPS = 50;
export const TEAMS = 2;
export const POLICY_TZ = 'Asia/Shanghai';

/** Uniform [0, 1) from (SEED, customer, order, salt): common.ts's stateless hash, salted with this data set's seed. */
const rnd = (c: number, j: number, salt: number): number => u01(c ^ SEED, j, salt + 0x165667b1);

export function serverOrg() {
  const users = [
    ...Array.from({ length: REPS }, (_, i) => ({ id: `u-${i}`, name: `销售${i}`, role: 'rep' as const, teamId: `t-${i % TEAMS}` })),
    ...Array.from({ length: TEAMS }, (_, i) => ({ id: `m-${i}`, name: `经理${i}`, role: 'manager' as const, teamId: `t-${i}` })),
  ];
  const teams = Array.from({ length: TEAMS }, (_, i) => ({ id: `t-${i}`, name: `销售${i}组`, managerIds: [`m-${i}`] }));
  return { users, teams };
}

/** A row of PUT /api/v1/customers; no teamId: the server takes the owner's. */
export function customerRow(c: number) {
  return { id: customerId(c), name: `客户${c}号商贸有限公司`, ownerId: `u-${c % REPS}`, attributes: { region: ['east', 'south', 'north', 'west'][Math.floor(rnd(c, 0, 20) * 4)] } };
}

/** 1 % of customers have no orders, 11 % have 1–5 (recent, mid-sized: the B candidates), the rest 10–34. */
export function orderCount(c: number): number {
  const u = rnd(c, 0, 1);
  if (u < 0.01) return 0;
  if (u < 0.12) return 1 + Math.floor(rnd(c, 0, 2) * 5);
  return 10 + Math.floor(rnd(c, 0, 2) * 25);
}

/** Customers whose orders 1 and 2 sit on the window's edge and whose last one on the 30-day recency edge. */
export const isEdgeCustomer = (c: number) => orderCount(c) >= 3 && rnd(c, 0, 11) < 0.01;

export interface ServerOrder {
  orderId: string;
  customerId: string;
  /** yuan, 2 decimals; negative for a refund */
  amount: number;
  margin: number | null;
  occurredAt: string;
  status: string | null;
}

const CANCELLED = ['cancelled', 'Cancelled', 'CANCELLED'];

/** Order j of customer c, 0 ≤ j < k = orderCount(c). */
export function orderOf(c: number, j: number, k: number): ServerOrder {
  const few = k <= 5;
  // days since the customer's last order: half active, a fifth 30–95 days ago, the rest lapsed
  const p = rnd(c, 0, 3);
  const lag = p < 0.5 ? rnd(c, 0, 4) * 30 : p < 0.7 ? 30 + rnd(c, 0, 4) * 65 : 95 + rnd(c, 0, 4) * 540;
  const end = AS_OF - lag * DAY;
  const first = few ? end - (30 + rnd(c, 0, 5) * 330) * DAY : AS_OF - 730 * DAY + rnd(c, 0, 5) * 60 * DAY;
  let t = Math.floor(first + ((j + 0.8 * rnd(c, j, 6)) * (end - first)) / k);
  if (isEdgeCustomer(c)) {
    // exactly at the window start (outside: the window is (asOf − 365 d, asOf]) and 1 ms after it (inside)
    if (j === 1) t = AS_OF - 365 * DAY;
    else if (j === 2) t = AS_OF - 365 * DAY + 1;
    // the last order at the first or last millisecond of a local day 30/31 days before asOf's (recency 30 or 31)
    else if (j === k - 1) t = rnd(c, 0, 12) < 0.5 ? Date.parse('2026-05-31T00:00:00.000+08:00') : Date.parse('2026-05-30T23:59:59.999+08:00');
  }
  const base = few ? 30_000 + Math.floor(rnd(c, 0, 7) * 250_000) : 20_000 + Math.floor(rnd(c, 0, 7) ** 3 * 2_000_000); // fen
  const kind = rnd(c, j, 8);
  let fen: number;
  let status: string | null;
  if (j > 0 && kind < 0.03) {
    fen = -Math.round(base * (0.1 + 0.4 * rnd(c, j, 9)));
    status = 'refunded';
  } else {
    fen = Math.round(base * (0.5 + rnd(c, j, 9)));
    status = kind < 0.05 ? CANCELLED[Math.floor(rnd(c, j, 10) * 3)] : kind < 0.5 ? 'paid' : null;
  }
  const margin = rnd(c, j, 11) < 0.7 ? Math.round(fen * (0.1 + 0.3 * rnd(c, j, 13))) / 100 : null;
  // half with the UTC 'Z' form, half in the policy zone's +08:00 form
  const occurredAt = rnd(c, j, 14) < 0.5 ? new Date(t).toISOString() : formatInstant(t, POLICY_TZ);
  return { orderId: `o${c}-${j}`, customerId: customerId(c), amount: fen / 100, margin, occurredAt, status };
}

/** The order as a line of POST /api/v1/orders (NDJSON). */
export function orderJson(o: ServerOrder): string {
  const row: Record<string, unknown> = { orderId: o.orderId, customerId: o.customerId, amount: o.amount, occurredAt: o.occurredAt };
  if (o.margin !== null) row.margin = o.margin;
  if (o.status !== null) row.status = o.status;
  return JSON.stringify(row);
}

/** The order as a CSV line for DuckDB: order_id,customer_id,amount,margin,occurred_at,status (empty = null). */
export function orderCsv(o: ServerOrder): string {
  return `${o.orderId},${o.customerId},${o.amount},${o.margin ?? ''},${o.occurredAt},${o.status ?? ''}\n`;
}

/**
 * The orders of customers [0, n) in chunks of `size`, interleaved like a chronological import: round j carries the
 * j-th order of every customer that has one.
 */
export function* orderChunks(n: number, size: number): Generator<ServerOrder[]> {
  yield* interleavedBatches(n, size, orderCount, orderOf);
}
