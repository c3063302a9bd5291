// The pure domain engine: no I/O, no clock reads.
export * from './types.ts';
export { parsePolicy, policySchema, CONDITION_METRICS, MEASURE_METRICS, OPS } from './policy.ts';
export type { Policy, PolicyIssue, Condition, LeafCondition, Op, MetricName, ChurnRule, Dimension, TierRule } from './policy.ts';
export { compilePolicy } from './compile.ts';
export type { CompiledPolicy, CompiledTier, CompiledDimension } from './compile.ts';
export { evaluateCustomer } from './engine.ts';
export type { CustomerEvalInput, EvalContext, EvalResult } from './engine.ts';
export { baseMetrics, monthlySpend } from './metrics.ts';
export type { BaseMetrics } from './metrics.ts';
export { PopulationBuilder, monetaryTopPct } from './rfm.ts';
export { computeValueScore, round2 } from './value-score.ts';
export type { ValueScoreBreakdown } from './value-score.ts';
export { riskRank } from './churn.ts';
export { formatInstant, localDayNumber, isValidTimeZone, zone, monthOfDay, monthStartDay, monthLabel, dayLabel, daysFromCivil, civilFromDays, DAY_MS } from './time.ts';
