// A validated Policy turned into the form the engine evaluates quickly.
import { compileCondition, METRIC_INDEX, type CompiledCondition } from './conditions.ts';
import type { MetricName, Policy } from './policy.ts';
import { zone, type Zone } from './time.ts';
import type { Frame, Severity } from './types.ts';

export interface CompiledMeasure {
  metric: string;
  /** METRIC_INDEX of the metric */
  index: number;
  mins: number[];
  points: number[];
}

export interface CompiledDimension {
  key: string;
  name: string;
  weight: number;
  source: 'manual' | 'metric';
  guidance: string | null;
  measures: CompiledMeasure[];
}

export interface CompiledTier {
  key: string;
  name: string;
  rank: number;
  when: CompiledCondition;
  playbook: Record<string, string[]>;
}

export type CompiledChurnRule =
  | { kind: 'overdue'; key: string; severity: Severity; factor: number; minDays: number }
  | { kind: 'spendDrop'; key: string; severity: Severity; months: number; pct: number }
  | { kind: 'pAlive'; key: string; severity: Severity; below: number; minOrders: number }
  | { kind: 'when'; key: string; severity: Severity; when: CompiledCondition };

export interface CompiledPolicy {
  version: number;
  policy: Policy;
  tz: string;
  zone: Zone;
  windowMs: number;
  rfm: {
    method: 'thresholds' | 'quintiles';
    /** b1..b4 per dimension; null with quintiles */
    recency: number[] | null;
    frequency: number[] | null;
    monetary: number[] | null;
  };
  valueScore: { missing: 'null' | 'zero'; dimensions: CompiledDimension[] };
  tiers: CompiledTier[];
  tierByKey: Map<string, CompiledTier>;
  downgradeAfterRuns: number;
  lifecycle: { newDays: number; dormantDays: number; churnedDays: number; mature: CompiledCondition };
  churn: CompiledChurnRule[];
  /** the most months any spendDrop rule looks back (0 when there is none) */
  spendMonths: number;
  /** derived from the last asOf evaluated (a run evaluates every customer at one asOf) */
  frame: Frame | null;
}

export function compilePolicy(policy: Policy, version: number): CompiledPolicy {
  const tiers: CompiledTier[] = policy.tiers.map((t) => ({
    key: t.key,
    name: t.name,
    rank: t.rank,
    when: compileCondition(t.when),
    playbook: t.playbook ?? {},
  }));
  const churn: CompiledChurnRule[] = policy.churn.map((r) => {
    if ('when' in r) return { kind: 'when', key: r.key, severity: r.severity, when: compileCondition(r.when) };
    if (r.detector === 'overdue') return { kind: 'overdue', key: r.key, severity: r.severity, factor: r.factor, minDays: r.minDays };
    if (r.detector === 'pAlive') return { kind: 'pAlive', key: r.key, severity: r.severity, below: r.below, minOrders: r.minOrders };
    return { kind: 'spendDrop', key: r.key, severity: r.severity, months: r.months, pct: r.pct };
  });
  const thresholds = policy.rfm.method === 'thresholds';
  return {
    version,
    policy,
    tz: policy.timezone,
    zone: zone(policy.timezone),
    windowMs: policy.window.days * 86_400_000,
    rfm: {
      method: policy.rfm.method,
      recency: thresholds ? policy.rfm.recency!.breaks.slice() : null,
      frequency: thresholds ? policy.rfm.frequency!.breaks.slice() : null,
      monetary: thresholds ? policy.rfm.monetary!.breaks.slice() : null,
    },
    valueScore: {
      missing: policy.valueScore.missing,
      dimensions: policy.valueScore.dimensions.map((d) => ({
        key: d.key,
        name: d.name,
        weight: d.weight,
        source: d.source,
        guidance: d.guidance ?? null,
        measures: (d.measures ?? []).map((ms) => ({
          metric: ms.metric,
          index: METRIC_INDEX[ms.metric as MetricName],
          mins: ms.bands.map((b) => b.min),
          points: ms.bands.map((b) => b.points),
        })),
      })),
    },
    tiers,
    tierByKey: new Map(tiers.map((t) => [t.key, t])),
    downgradeAfterRuns: policy.stability.downgradeAfterRuns,
    lifecycle: {
      newDays: policy.lifecycle.newDays,
      dormantDays: policy.lifecycle.dormantDays,
      churnedDays: policy.lifecycle.churnedDays,
      mature: compileCondition(policy.lifecycle.mature),
    },
    churn,
    spendMonths: churn.reduce((k, r) => (r.kind === 'spendDrop' ? Math.max(k, r.months) : k), 0),
    frame: null,
  };
}
