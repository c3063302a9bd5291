// The backtest: a policy evaluated as of a past instant on the orders up to it, then measured against what the
// customers did in the following days. Reads only; nothing is written.
import { alertWorthy } from '../domain/alerting.ts';
import { compilePolicy, evaluateCustomer, PopulationBuilder } from '../domain/engine.ts';
import type { Policy } from '../domain/policy.ts';
import type { Rollup } from '../domain/types.ts';
import type { Store } from '../ports/store.ts';
import { addToPopulation, RECOMPUTE_BATCH, yieldToEventLoop } from './recompute.ts';

export const DAY_MS = 86_400_000;
/** the longest horizon a backtest measures */
export const MAX_HORIZON_DAYS = 730;
/** default `dropBelowPct`: horizon spend below this share of the spend in the equal period before asOf is a drop */
export const DEFAULT_DROP_BELOW_PCT = 50;

export interface BacktestOptions {
  asOf: number;
  horizonDays: number;
  /** a customer who bought in the horizon "dropped" when horizon revenue < dropBelowPct% of the revenue in (asOf - horizon, asOf] */
  dropBelowPct: number;
  batchSize?: number;
}

export interface TierOutcome {
  tier: string;
  customers: number;
  /** net revenue (fen) in (asOf, asOf + horizon] */
  revenue: number;
  revenuePerCustomer: number;
  /** revenuePerCustomer / the population's revenue per customer; null when the population earned nothing */
  lift: number | null;
  lapsed: number;
  lapsedShare: number;
}

export interface AlertOutcome {
  /** customers alerted (the whole alert, or the alerts naming this detector) */
  alerted: number;
  /** alerted customers who then lapsed or dropped */
  truePositives: number;
  /** truePositives / alerted; null when none alerted */
  precision: number | null;
  /** lapsed customers alerted */
  lapsedAlerted: number;
  /** lapsedAlerted / lapsed customers; null when none lapsed */
  recall: number | null;
}

export interface BacktestResult {
  asOf: string;
  horizonDays: number;
  dropBelowPct: number;
  /** customers with at least one order at or before asOf (the others did not exist yet and are left out) */
  customers: number;
  notYetCustomers: number;
  lapsed: number;
  dropped: number;
  revenue: number;
  revenuePerCustomer: number;
  tiers: TierOutcome[];
  alerts: AlertOutcome & { detectors: Record<string, AlertOutcome> };
  stability: string;
}

const STABILITY =
  'A single evaluation as of asOf with no prior state: each customer is evaluated as if for the first time, so tier stability (downgradeAfterRuns) and alert repetition against an earlier alert play no part.';

/** The customer's rollup up to and including `asOf` (rollups are sorted by t; cancelled orders are never in them). */
export function cutRollup(r: Rollup, asOf: number): Rollup {
  let n = r.t.length;
  while (n > 0 && r.t[n - 1] > asOf) n--;
  if (n === r.t.length) return r;
  return { t: r.t.slice(0, n), a: r.a.slice(0, n), g: r.g.slice(0, n) };
}

interface Counter {
  alerted: number;
  tp: number;
  lapsedAlerted: number;
}

export async function backtest(store: Store, policy: Policy, o: BacktestOptions): Promise<BacktestResult> {
  const batchSize = o.batchSize ?? RECOMPUTE_BATCH;
  const compiled = compilePolicy(policy, 0);
  const asOf = o.asOf;
  const horizon = o.horizonDays * DAY_MS;
  const end = asOf + horizon;
  const before = asOf - horizon;
  // pass 1: the population statistics over the cut rollups, exactly as a run as of asOf would collect them
  const builder = new PopulationBuilder(compiled);
  for await (const batch of store.streamRollups(batchSize)) {
    for (const rollup of batch) {
      const cut = cutRollup(rollup, asOf);
      if (cut.t.length > 0) addToPopulation(builder, cut, asOf, compiled);
    }
    await yieldToEventLoop();
  }
  const stats = builder.finish();
  const ctx = { policy: compiled, asOf, stats, runId: 'backtest' };
  const tierIdx = new Map(policy.tiers.map((t, i) => [t.key, i]));
  const tc = policy.tiers.map(() => ({ customers: 0, revenue: 0, lapsed: 0 }));
  const all: Counter = { alerted: 0, tp: 0, lapsedAlerted: 0 };
  const det = new Map<string, Counter>();
  let customers = 0;
  let notYet = 0;
  let lapsed = 0;
  let dropped = 0;
  let revenue = 0;
  // pass 2: evaluate as of asOf, then measure the horizon from the same rollup (numbers only, no order objects)
  for await (const batch of store.streamEvalRows(batchSize)) {
    for (const row of batch) {
      const cut = cutRollup(row.rollup, asOf);
      if (cut.t.length === 0) {
        notYet++;
        continue;
      }
      customers++;
      const { state } = evaluateCustomer({ rollup: cut, attributes: row.attributes, score: row.score, current: null }, ctx);
      const t = row.rollup.t;
      const a = row.rollup.a;
      let hRev = 0;
      let purchases = 0;
      let pRev = 0;
      for (let i = 0; i < t.length; i++) {
        if (t[i] > asOf && t[i] <= end) {
          hRev += a[i];
          if (a[i] > 0) purchases++;
        } else if (t[i] > before && t[i] <= asOf) pRev += a[i];
      }
      const isLapsed = purchases === 0;
      const isDropped = !isLapsed && pRev > 0 && hRev < (pRev * o.dropBelowPct) / 100;
      if (isLapsed) lapsed++;
      if (isDropped) dropped++;
      revenue += hRev;
      const k = tc[tierIdx.get(state.tier)!];
      k.customers++;
      k.revenue += hRev;
      if (isLapsed) k.lapsed++;
      if (!alertWorthy(null, state.risk)) continue;
      const hit = isLapsed || isDropped;
      const bump = (c: Counter) => {
        c.alerted++;
        if (hit) c.tp++;
        if (isLapsed) c.lapsedAlerted++;
      };
      bump(all);
      const seen = new Set<string>();
      for (const r of state.risk.reasons) {
        if (seen.has(r.rule)) continue;
        seen.add(r.rule);
        let c = det.get(r.rule);
        if (!c) det.set(r.rule, (c = { alerted: 0, tp: 0, lapsedAlerted: 0 }));
        bump(c);
      }
    }
    await yieldToEventLoop();
  }
  const rpc = customers > 0 ? revenue / customers : 0;
  const outcome = (c: Counter): AlertOutcome => ({
    alerted: c.alerted,
    truePositives: c.tp,
    precision: c.alerted > 0 ? c.tp / c.alerted : null,
    lapsedAlerted: c.lapsedAlerted,
    recall: lapsed > 0 ? c.lapsedAlerted / lapsed : null,
  });
  return {
    asOf: new Date(asOf).toISOString(),
    horizonDays: o.horizonDays,
    dropBelowPct: o.dropBelowPct,
    customers,
    notYetCustomers: notYet,
    lapsed,
    dropped,
    revenue,
    revenuePerCustomer: rpc,
    tiers: policy.tiers.map((tier, i) => {
      const k = tc[i];
      const per = k.customers > 0 ? k.revenue / k.customers : 0;
      return { tier: tier.key, customers: k.customers, revenue: k.revenue, revenuePerCustomer: per, lift: rpc > 0 ? per / rpc : null, lapsed: k.lapsed, lapsedShare: k.customers > 0 ? k.lapsed / k.customers : 0 };
    }),
    alerts: { ...outcome(all), detectors: Object.fromEntries([...det].sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, c]) => [k, outcome(c)])) },
    stability: STABILITY,
  };
}
