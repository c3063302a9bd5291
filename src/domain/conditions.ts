// Conditions compiled to closures over a customer's metric values; a leaf on a null (or absent) value is false.
//
// Metrics are read from a Float64Array indexed by METRIC_INDEX with NaN standing for null: every comparison
// with NaN is false, which is exactly the null rule, and a leaf costs one closure call and one array read.
import { CONDITION_METRICS, type Condition, type LeafCondition, type MetricName, type Scalar } from './policy.ts';
import type { ConditionTrace, Metrics } from './types.ts';

export type Attributes = Readonly<Record<string, string | number | boolean | null>>;
/** metric values by METRIC_INDEX, NaN for null */
export type Values = Float64Array;
export type Predicate = (v: Values, a: Attributes) => boolean;

export const METRIC_INDEX = Object.fromEntries(CONDITION_METRICS.map((m, i) => [m, i])) as Record<MetricName, number>;
export const TIER_RANK_INDEX = METRIC_INDEX.tierRank;

/** Writes the metric values of `m` into `out` (NaN for null). */
export function loadValues(m: Metrics, out: Values): Values {
  out[0] = n(m.recencyDays);
  out[1] = m.frequency;
  out[2] = m.monetary;
  out[3] = n(m.margin);
  out[4] = m.lifetimeValue;
  out[5] = m.orderCount;
  out[6] = n(m.avgOrderValue);
  out[7] = n(m.tenureDays);
  out[8] = n(m.medianIntervalDays);
  out[9] = n(m.monetaryTopPct);
  out[10] = n(m.r);
  out[11] = n(m.f);
  out[12] = n(m.m);
  out[13] = n(m.rfmTotal);
  out[14] = n(m.valueScore);
  out[15] = m.previousTierRank;
  out[16] = m.tierRank;
  out[17] = n(m.pAlive);
  out[18] = n(m.expectedPurchases90d);
  out[19] = n(m.clv12m);
  return out;
}

function n(x: number | null): number {
  return x === null ? NaN : x;
}

export function valuesOf(m: Metrics): Values {
  return loadValues(m, new Float64Array(CONDITION_METRICS.length));
}

interface CompiledLeaf {
  leaf: LeafCondition;
  /** the value the leaf looks at, null when absent */
  actual: (v: Values, a: Attributes) => Scalar | null;
  test: Predicate;
}

export interface CompiledCondition {
  test: Predicate;
  /** leaves in document order, for explanations */
  leaves: CompiledLeaf[];
}

export function compileCondition(c: Condition): CompiledCondition {
  const leaves: CompiledLeaf[] = [];
  const test = build(c, leaves);
  return { test, leaves };
}

/** Every leaf of the condition with the value it saw and whether it held on its own. */
export function traceCondition(c: CompiledCondition, v: Values, a: Attributes): ConditionTrace[] {
  // sized up front: a growing array would reserve room for 16 entries
  const out = new Array<ConditionTrace>(c.leaves.length);
  for (let i = 0; i < c.leaves.length; i++) {
    const l = c.leaves[i];
    out[i] = { metric: l.leaf.metric, op: l.leaf.op, value: l.leaf.value, actual: l.actual(v, a), held: l.test(v, a) };
  }
  return out;
}

function build(c: Condition, leaves: CompiledLeaf[]): Predicate {
  if ('all' in c) {
    const parts = c.all.map((x) => build(x, leaves));
    return (v, a) => {
      for (let i = 0; i < parts.length; i++) if (!parts[i](v, a)) return false;
      return true;
    };
  }
  if ('any' in c) {
    const parts = c.any.map((x) => build(x, leaves));
    return (v, a) => {
      for (let i = 0; i < parts.length; i++) if (parts[i](v, a)) return true;
      return false;
    };
  }
  if ('not' in c) {
    const inner = build(c.not, leaves);
    return (v, a) => !inner(v, a);
  }
  if ('always' in c) return () => true;
  const compiled = leaf(c);
  leaves.push(compiled);
  return compiled.test;
}

function leaf(l: LeafCondition): CompiledLeaf {
  if (l.metric.startsWith('attributes.')) {
    const name = l.metric.slice('attributes.'.length);
    const actual = (_v: Values, a: Attributes): Scalar | null => (Object.hasOwn(a, name) ? a[name] ?? null : null);
    const value = l.value;
    const set = Array.isArray(value) ? value : [value];
    let test: Predicate;
    if (l.op === 'eq') test = (v, a) => { const x = actual(v, a); return x !== null && x === value; };
    else if (l.op === 'ne') test = (v, a) => { const x = actual(v, a); return x !== null && x !== value; };
    else if (l.op === 'in') test = (v, a) => { const x = actual(v, a); return x !== null && set.includes(x); };
    else throw new Error(`operator ${l.op} is not available for attributes`);
    return { leaf: l, actual, test };
  }
  const i = METRIC_INDEX[l.metric as MetricName];
  if (i === undefined) throw new Error(`unknown metric ${l.metric}`);
  const actual = (v: Values): number | null => (v[i] === v[i] ? v[i] : null);
  let test: Predicate;
  if (l.op === 'between') {
    const [lo, hi] = l.value as number[];
    test = (v) => v[i] >= lo && v[i] <= hi;
  } else if (l.op === 'in') {
    const set = l.value as number[];
    test = (v) => v[i] === v[i] && set.includes(v[i]);
  } else {
    const c = l.value as number;
    switch (l.op) {
      case 'lt': test = (v) => v[i] < c; break;
      case 'lte': test = (v) => v[i] <= c; break;
      case 'gt': test = (v) => v[i] > c; break;
      case 'gte': test = (v) => v[i] >= c; break;
      case 'eq': test = (v) => v[i] === c; break;
      case 'ne': test = (v) => v[i] === v[i] && v[i] !== c; break;
    }
  }
  return { leaf: l, actual, test: test! };
}
