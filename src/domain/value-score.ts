// Weighted value score (docs/policy.md, "Value score").
import { compilePolicy, type CompiledDimension, type CompiledPolicy } from './compile.ts';
import type { Policy } from './policy.ts';
import { valuesOf, type Values } from './conditions.ts';
import type { Metrics } from './types.ts';

/** Round half away from zero to 2 decimals, immune to binary noise such as 1.005 → 1.00499999…. */
export function round2(x: number): number {
  const y = Math.round(Math.abs(x) * 100 * (1 + 4 * Number.EPSILON)) / 100;
  return x < 0 ? -y : y;
}

/** Points 0..100 of a metric dimension: per measure the points of the highest band with min ≤ value. */
export function metricDimensionPoints(d: CompiledDimension, values: Values): number {
  let sum = 0;
  for (let i = 0; i < d.measures.length; i++) {
    const ms = d.measures[i];
    const v = values[ms.index];
    if (v !== v) continue; // null scores 0
    const mins = ms.mins;
    for (let j = mins.length - 1; j >= 0; j--) {
      if (mins[j] <= v) {
        sum += ms.points[j];
        break;
      }
    }
  }
  return sum < 0 ? 0 : sum > 100 ? 100 : sum;
}

/** A manual dimension's points, or null when the score has none for it. */
function manualPoints(d: CompiledDimension, points: Readonly<Record<string, number>> | null): number | null {
  if (points === null) return null;
  // inherited members (constructor, __proto__, …) are never numbers
  const p: unknown = points[d.key];
  if (typeof p !== 'number' || !Number.isFinite(p)) return null;
  return p < 0 ? 0 : p > 100 ? 100 : p;
}

/** The engine's value score for already computed metrics. */
export function valueScoreOf(cp: CompiledPolicy, values: Values, points: Readonly<Record<string, number>> | null): number | null {
  const dims = cp.valueScore.dimensions;
  const missingNull = cp.valueScore.missing === 'null';
  let total = 0;
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i];
    const p = d.source === 'metric' ? metricDimensionPoints(d, values) : manualPoints(d, points);
    if (p === null) {
      if (missingNull) return null;
      continue;
    }
    total += d.weight * p;
  }
  return round2(total);
}

export interface ValueScoreBreakdown {
  /** weighted total, 2 decimals; null when a dimension has no points and `missing` is "null" */
  total: number | null;
  dimensions: { key: string; name: string; weight: number; source: 'manual' | 'metric'; guidance: string | null; points: number | null }[];
}

/**
 * The value score of proposed manual points (scoring and approval cards). Metric dimensions are computed from
 * `metrics` (the customer's latest evaluation); without metrics they count as having no points.
 */
export function computeValueScore(
  points: Readonly<Record<string, number>>,
  policy: Policy | CompiledPolicy,
  metrics: Metrics | null = null,
): ValueScoreBreakdown {
  const cp = isCompiled(policy) ? policy : compilePolicy(policy, 0);
  const missingNull = cp.valueScore.missing === 'null';
  const values = metrics ? valuesOf(metrics) : null;
  let total: number | null = 0;
  const dimensions = cp.valueScore.dimensions.map((d) => {
    const p = d.source === 'manual' ? manualPoints(d, points) : values ? metricDimensionPoints(d, values) : null;
    if (p === null) {
      if (missingNull) total = null;
    } else if (total !== null) {
      total += d.weight * p;
    }
    return { key: d.key, name: d.name, weight: d.weight, source: d.source, guidance: d.guidance, points: p };
  });
  return { total: total === null ? null : round2(total), dimensions };
}

function isCompiled(p: Policy | CompiledPolicy): p is CompiledPolicy {
  return p.tierByKey instanceof Map;
}
