// Evaluates one customer: metrics, RFM, value score, tier with stability, lifecycle and churn risk.
//
// A full run is two passes over the customers: pass 1 feeds baseMetrics() of each into a PopulationBuilder,
// pass 2 calls evaluateCustomer() with the resulting PopulationStats. A single re-evaluation uses the stats of
// the latest full run.
import { expectedPurchasesOver, expectedSpend, pAlive, type BgNbdParams, type RepeatSummary } from './bgnbd.ts';
import { evaluateChurn, riskRank } from './churn.ts';
import type { CompiledPolicy, CompiledTier } from './compile.ts';
import { loadValues, METRIC_INDEX, TIER_RANK_INDEX, traceCondition, type Attributes } from './conditions.ts';
import { lifecycleOf } from './lifecycle.ts';
import { frameFor, medianGap, repeatOfScan, scanRollup, type RepeatCounts, type Scan } from './metrics.ts';
import { monetaryTopPct, quintileHigherBetter, quintileLowerBetter, scoreHigherBetter, scoreLowerBetter } from './rfm.ts';
import { CONDITION_METRICS } from './policy.ts';
import type { ApprovedScore, CarriedState, Explanation, Metrics, PopulationModels, PopulationStats, Rollup, TierState } from './types.ts';
import { valueScoreOf } from './value-score.ts';

// the whole run API from one module
export { compilePolicy, type CompiledPolicy } from './compile.ts';
export { baseMetrics, monthlySpend, repeatCounts, type BaseMetrics, type RepeatCounts } from './metrics.ts';
export { PopulationBuilder } from './rfm.ts';
export { computeValueScore } from './value-score.ts';

export interface CustomerEvalInput {
  rollup: Rollup;
  attributes: Attributes;
  score: ApprovedScore | null;
  /** the state before this run (a resumed run passes the record's stateBeforeRun) */
  current: CarriedState | null;
}

export interface EvalContext {
  policy: CompiledPolicy;
  /** epoch ms */
  asOf: number;
  stats: PopulationStats;
  runId: string;
}

export interface EvalResult {
  state: TierState;
  /** by rank, against the current tier; null when unchanged or on the first evaluation */
  change: 'upgrade' | 'downgrade' | null;
  /** the risk level is higher than before (a first evaluation counts from `none`) */
  riskRose: boolean;
}

// the metric values conditions read (evaluation is synchronous, so one scratch array serves every call)
const values = new Float64Array(CONDITION_METRICS.length);

const repeat: RepeatCounts = { x: 0, tx: 0, T: 0, repeatFen: 0 };
const summary: RepeatSummary = { x: 0, tx: 0, T: 0 };
const spendOf = { x: 0, m: 0 };
/** pAlive, expectedPurchases90d, clv12m of one customer (docs/policy.md, "Customer-base models"); one reused result */
const modelled = { pAlive: null as number | null, expectedPurchases90d: null as number | null, clv12m: null as number | null };

const finiteOrNull = (x: number, digits: number): number | null => (Number.isFinite(x) ? Math.round(x * digits) / digits : null);

/** the expectations of the models last seen (a run evaluates every customer with the same models) */
let expectations: { bg: BgNbdParams; in90: (c: RepeatSummary) => number; in365: (c: RepeatSummary) => number } | null = null;

function expectationsOf(bg: BgNbdParams): NonNullable<typeof expectations> {
  if (expectations?.bg !== bg) expectations = { bg, in90: expectedPurchasesOver(bg, 90), in365: expectedPurchasesOver(bg, 365) };
  return expectations;
}

function modelMetrics(models: PopulationModels | null | undefined, s: Scan, asOfDay: number): typeof modelled {
  const out = modelled;
  out.pAlive = out.expectedPurchases90d = out.clv12m = null;
  const bg = models?.bgnbd ?? null;
  if (bg === null || repeatOfScan(s, asOfDay, repeat) === null) return out;
  const expected = expectationsOf(bg);
  summary.x = repeat.x;
  summary.tx = repeat.tx;
  summary.T = repeat.T;
  out.pAlive = finiteOrNull(pAlive(bg, summary), 1000);
  // a = 1 exactly (a 0/0 in the conditional expectation) gives NaN, hence null
  out.expectedPurchases90d = finiteOrNull(expected.in90(summary), 100);
  const gg = models?.gammaGamma ?? null;
  if (gg === null) return out;
  spendOf.x = repeat.x;
  // a repeat spend refunded to zero or below counts as 0
  spendOf.m = repeat.x > 0 ? Math.max(0, repeat.repeatFen) / 100 / repeat.x : 0;
  out.clv12m = finiteOrNull(expected.in365(summary) * expectedSpend(gg, spendOf), 100);
  return out;
}

export function evaluateCustomer(input: CustomerEvalInput, ctx: EvalContext): EvalResult {
  const cp = ctx.policy;
  const stats = ctx.stats;
  const f = frameFor(cp, ctx.asOf);
  const s = scanRollup(input.rollup, cp, f);
  const attrs = input.attributes;
  const cur = input.current;
  const curTier = cur === null ? undefined : cp.tierByKey.get(cur.tier);
  // a tier the policy no longer has keeps its stored rank
  const previousTierRank = cur === null ? 0 : curTier !== undefined ? curTier.rank : cur.tierRank;

  const hasOrders = s.count > 0;
  const recencyDays = hasOrders ? f.asOfDay - s.lastDay : null;
  const frequency = s.frequency;
  const monetary = s.monetaryFen / 100;
  const mm = modelMetrics(stats.models, s, f.asOfDay);

  let r: number | null = null;
  let fr: number | null = null;
  let mo: number | null = null;
  if (recencyDays !== null) {
    const rfm = cp.rfm;
    if (rfm.method === 'thresholds') {
      r = scoreLowerBetter(recencyDays, rfm.recency!);
      fr = scoreHigherBetter(frequency, rfm.frequency!);
      mo = scoreHigherBetter(monetary, rfm.monetary!);
    } else if (stats.quintiles !== null) {
      const q = stats.quintiles;
      r = quintileLowerBetter(recencyDays, q.recency);
      fr = quintileHigherBetter(frequency, q.frequency);
      mo = quintileHigherBetter(monetary, q.monetary);
    }
  }

  const m: Metrics = {
    recencyDays,
    frequency,
    monetary,
    margin: s.hasMargin ? s.marginFen / 100 : null,
    lifetimeValue: s.lifetimeFen / 100,
    orderCount: s.count,
    // rounded to the fen, halves towards +∞
    avgOrderValue: frequency > 0 ? Math.round(s.monetaryFen / frequency) / 100 : null,
    tenureDays: hasOrders ? f.asOfDay - s.firstDay : null,
    medianIntervalDays: medianGap(s),
    monetaryTopPct: monetaryTopPct(monetary, stats),
    r,
    f: fr,
    m: mo,
    rfmTotal: r !== null && fr !== null && mo !== null ? r + fr + mo : null,
    valueScore: null,
    previousTierRank,
    tierRank: 0,
    pAlive: mm.pAlive,
    expectedPurchases90d: mm.expectedPurchases90d,
    clv12m: mm.clv12m,
  };
  loadValues(m, values);
  m.valueScore = valueScoreOf(cp, values, input.score === null ? null : input.score.points);
  values[METRIC_INDEX.valueScore] = m.valueScore === null ? NaN : m.valueScore;

  const tiers = cp.tiers;
  let matched: CompiledTier = tiers[tiers.length - 1];
  for (let i = 0; i < tiers.length; i++) {
    if (tiers[i].when.test(values, attrs)) {
      matched = tiers[i];
      break;
    }
  }

  // stability
  let tierKey = matched.key;
  let tierName = matched.name;
  let tierRank = matched.rank;
  let downgradeStreak = 0;
  let change: EvalResult['change'] = null;
  const explanation: Explanation = { rule: matched.key, conditions: traceCondition(matched.when, values, attrs) };
  if (cur !== null) {
    if (matched.rank > previousTierRank) change = 'upgrade';
    else if (matched.rank < previousTierRank) {
      const agreeingRuns = cur.downgradeStreak + 1;
      if (curTier !== undefined && agreeingRuns < cp.downgradeAfterRuns) {
        tierKey = curTier.key;
        tierName = curTier.name;
        tierRank = curTier.rank;
        downgradeStreak = agreeingRuns;
        explanation.keptBy = { stability: true, candidate: matched.key, agreeingRuns, needed: cp.downgradeAfterRuns };
      } else {
        change = 'downgrade';
      }
    }
  }
  m.tierRank = tierRank;
  values[TIER_RANK_INDEX] = tierRank;
  const changed = cur === null || cur.tier !== tierKey;

  const risk = evaluateChurn(cp, m, values, s, f, attrs);
  const state: TierState = {
    tier: tierKey,
    tierName,
    tierRank,
    since: changed ? f.asOfText : cur.since,
    previous: cur === null ? null : changed ? cur.tier : cur.previous,
    downgradeStreak,
    metrics: m,
    lifecycle: lifecycleOf(cp, m, values, attrs),
    risk,
    explanation,
    policyVersion: cp.version,
    evaluatedAt: f.asOfText,
    runId: ctx.runId,
  };
  return { state, change, riskRose: riskRank(risk.level) > riskRank(cur === null ? 'none' : cur.risk.level) };
}
