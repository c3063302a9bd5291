// DuckDB's answer for server.bench.ts: the default policy's metrics, RFM scores and tiers in SQL over the raw
// orders, as an analyst would compute them. Runs in its own process so its peak RSS is DuckDB's (plus Node's):
//   node --import tsx test/bench/duckdb.ts '<DuckJob JSON>'   → one line of DuckAnswer JSON on stdout
// Semantics (docs/policy.md): counted orders are those not cancelled (status, trimmed, case-insensitive) at or
// before asOf; refunds are negative amounts and count like any order; the window is (asOf − days × 24 h, asOf];
// recencyDays is the difference of local dates in the policy's zone; r/f/m are null without a counted order;
// a leaf on a null metric is false; the first tier whose condition holds wins.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Condition, Policy } from '../../src/domain/policy.ts';

export interface DuckJob {
  customersCsv: string;
  ordersCsv: string;
  asOf: number;
  policy: Policy;
  /** the what-if policy: its distribution is timed like POST /api/v1/tiering/simulate */
  simulatePolicy: Policy;
  /** customers whose metrics are returned for a one-by-one comparison */
  sampleIds: string[];
  /** where `id,tier` of every customer is written (after the clock) */
  tiersCsv: string;
  threads: number;
}

export interface DuckSample {
  id: string;
  recencyDays: number | null;
  frequency: number;
  monetary: number;
  lifetimeValue: number;
  orderCount: number;
  r: number | null;
  f: number | null;
  m: number | null;
  rfmTotal: number | null;
  tier: string;
}

export interface DuckAnswer {
  version: string;
  threads: number;
  orders: number;
  loadMs: number;
  queryMs: number;
  simulateMs: number;
  distribution: Record<string, number>;
  simulateDistribution: Record<string, number>;
  samples: DuckSample[];
  peakRssMb: number;
  rssAfterLoadMb: number;
}

const COLUMNS: Record<string, string> = {
  recencyDays: 'recency_days',
  frequency: 'frequency',
  monetary: 'monetary',
  lifetimeValue: 'lifetime_value',
  orderCount: 'order_count',
  r: 'r',
  f: 'f',
  m: 'm',
  rfmTotal: 'rfm_total',
};

const literal = (v: unknown): string => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`DuckDB translation: only numeric values, got ${JSON.stringify(v)}`);
  return String(v);
};

/** A tier condition as SQL; every leaf is coalesced to false so that `not` of a null leaf is true, as in the engine. */
export function conditionSql(c: Condition): string {
  if ('all' in c) return c.all.length === 0 ? 'TRUE' : `(${c.all.map(conditionSql).join(' AND ')})`;
  if ('any' in c) return c.any.length === 0 ? 'FALSE' : `(${c.any.map(conditionSql).join(' OR ')})`;
  if ('not' in c) return `(NOT ${conditionSql(c.not)})`;
  if ('always' in c) return 'TRUE';
  const col = COLUMNS[c.metric];
  if (!col) throw new Error(`DuckDB translation: metric ${c.metric} is not computed here`);
  const ops: Record<string, string> = { lt: '<', lte: '<=', gt: '>', gte: '>=', eq: '=', ne: '<>' };
  let expr: string;
  if (c.op === 'between') {
    const [lo, hi] = c.value as number[];
    expr = `${col} BETWEEN ${literal(lo)} AND ${literal(hi)}`;
  } else if (c.op === 'in') expr = `${col} IN (${(c.value as number[]).map(literal).join(', ')})`;
  else expr = `${col} ${ops[c.op]} ${literal(c.value)}`;
  return `coalesce(${expr}, FALSE)`;
}

const scoreDesc = (col: string, b: number[]) =>
  `CASE WHEN recency_days IS NULL THEN NULL WHEN ${col} >= ${b[3]} THEN 5 WHEN ${col} >= ${b[2]} THEN 4 WHEN ${col} >= ${b[1]} THEN 3 WHEN ${col} >= ${b[0]} THEN 2 ELSE 1 END`;

/** Per customer: id, metrics, r/f/m, rfm_total and tier, straight from the orders table. */
export function tiersSql(policy: Policy, asOf: number): string {
  if (policy.rfm.method !== 'thresholds') throw new Error('DuckDB translation: only rfm.method thresholds');
  const asOfSql = `TIMESTAMPTZ '${new Date(asOf).toISOString()}'`;
  const windowStart = `TIMESTAMPTZ '${new Date(asOf - policy.window.days * 86_400_000).toISOString()}'`;
  const tz = policy.timezone.replace(/'/g, "''");
  const rb = policy.rfm.recency!.breaks;
  const tiers = policy.tiers;
  const tierCase = `CASE ${tiers.slice(0, -1).map((t) => `WHEN ${conditionSql(t.when as Condition)} THEN '${t.key}'`).join(' ')} ELSE '${tiers[tiers.length - 1].key}' END`;
  return `
    WITH counted AS (
      SELECT customer_id, amount, occurred_at FROM orders
      WHERE occurred_at <= ${asOfSql} AND (status IS NULL OR lower(trim(status)) <> 'cancelled')
    ), agg AS (
      SELECT customer_id,
        max(occurred_at) AS last_at,
        count(*) FILTER (WHERE occurred_at > ${windowStart}) AS frequency,
        coalesce(sum(amount) FILTER (WHERE occurred_at > ${windowStart}), 0) AS monetary,
        sum(amount) AS lifetime_value,
        count(*) AS order_count
      FROM counted GROUP BY customer_id
    ), metrics AS (
      SELECT c.id,
        ((${asOfSql} AT TIME ZONE '${tz}')::DATE - (a.last_at AT TIME ZONE '${tz}')::DATE) AS recency_days,
        coalesce(a.frequency, 0) AS frequency,
        coalesce(a.monetary, 0) AS monetary,
        coalesce(a.lifetime_value, 0) AS lifetime_value,
        coalesce(a.order_count, 0) AS order_count
      FROM customers c LEFT JOIN agg a ON a.customer_id = c.id
    ), scored AS (
      SELECT *,
        CASE WHEN recency_days IS NULL THEN NULL WHEN recency_days <= ${rb[0]} THEN 5 WHEN recency_days <= ${rb[1]} THEN 4
             WHEN recency_days <= ${rb[2]} THEN 3 WHEN recency_days <= ${rb[3]} THEN 2 ELSE 1 END AS r,
        ${scoreDesc('frequency', policy.rfm.frequency!.breaks)} AS f,
        ${scoreDesc('monetary', policy.rfm.monetary!.breaks)} AS m
      FROM metrics
    ), rfm AS (SELECT *, r + f + m AS rfm_total FROM scored)
    SELECT id, recency_days, frequency, monetary, lifetime_value, order_count, r, f, m, rfm_total, ${tierCase} AS tier FROM rfm`;
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const rssMb = () => Math.round(process.memoryUsage().rss / 1048576);

export async function runDuck(job: DuckJob): Promise<DuckAnswer> {
  const db = await DuckDBInstance.create(':memory:', { threads: String(job.threads) });
  const con = await db.connect();
  const rows = async (sql: string) => (await con.runAndReadAll(sql)).getRowObjectsJS();
  const version = String((await rows('SELECT version() AS v'))[0].v);

  let t0 = performance.now();
  await con.run(`CREATE TABLE customers AS SELECT * FROM read_csv(${q(job.customersCsv)}, header = false, auto_detect = false, columns = {'id': 'VARCHAR'})`);
  await con.run(
    `CREATE TABLE orders AS SELECT * FROM read_csv(${q(job.ordersCsv)}, header = false, auto_detect = false, delim = ',', quote = '', escape = '',
       columns = {'order_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'amount': 'DECIMAL(18,2)', 'margin': 'DECIMAL(18,2)', 'occurred_at': 'TIMESTAMPTZ', 'status': 'VARCHAR'})`,
  );
  const loadMs = performance.now() - t0;
  const orders = Number((await rows('SELECT count(*) AS n FROM orders'))[0].n);
  const rssAfterLoadMb = rssMb();

  const counts = (list: Record<string, unknown>[]) => Object.fromEntries(list.map((r) => [String(r.tier), Number(r.n)]));
  t0 = performance.now();
  await con.run(`CREATE TABLE tiers AS ${tiersSql(job.policy, job.asOf)}`);
  const distribution = counts(await rows('SELECT tier, count(*) AS n FROM tiers GROUP BY tier'));
  const queryMs = performance.now() - t0;

  t0 = performance.now();
  const simulateDistribution = counts(await rows(`SELECT tier, count(*) AS n FROM (${tiersSql(job.simulatePolicy, job.asOf)}) GROUP BY tier`));
  const simulateMs = performance.now() - t0;

  const ids = job.sampleIds.map(q).join(', ') || "''";
  const samples = (
    await rows(`SELECT id, recency_days::INTEGER AS recency_days, frequency::INTEGER AS frequency, monetary::DOUBLE AS monetary,
      lifetime_value::DOUBLE AS lifetime_value, order_count::INTEGER AS order_count, r::INTEGER AS r, f::INTEGER AS f, m::INTEGER AS m,
      rfm_total::INTEGER AS rfm_total, tier FROM tiers WHERE id IN (${ids}) ORDER BY id`)
  ).map(
    (r): DuckSample => ({
      id: String(r.id),
      recencyDays: r.recency_days as number | null,
      frequency: r.frequency as number,
      monetary: r.monetary as number,
      lifetimeValue: r.lifetime_value as number,
      orderCount: r.order_count as number,
      r: r.r as number | null,
      f: r.f as number | null,
      m: r.m as number | null,
      rfmTotal: r.rfm_total as number | null,
      tier: String(r.tier),
    }),
  );
  await con.run(`COPY (SELECT id, tier FROM tiers ORDER BY id) TO ${q(job.tiersCsv)} (HEADER false)`);
  con.closeSync();
  db.closeSync();
  return {
    version,
    threads: job.threads,
    orders,
    loadMs,
    queryMs,
    simulateMs,
    distribution,
    simulateDistribution,
    samples,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    rssAfterLoadMb,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  runDuck(JSON.parse(process.argv[2]) as DuckJob).then(
    (a) => process.stdout.write(`${JSON.stringify(a)}\n`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
