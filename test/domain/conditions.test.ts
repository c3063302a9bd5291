import { describe, expect, it } from 'vitest';
import { compileCondition, METRIC_INDEX, traceCondition, valuesOf } from '../../src/domain/conditions.ts';
import { CONDITION_METRICS } from '../../src/domain/policy.ts';
import type { Condition } from '../../src/domain/policy.ts';
import type { Metrics } from '../../src/domain/types.ts';

const base: Metrics = {
  recencyDays: 12, frequency: 7, monetary: 15300, margin: null, lifetimeValue: 40100, orderCount: 19, avgOrderValue: 2185.71,
  tenureDays: 800, medianIntervalDays: 21, monetaryTopPct: 3.5, r: 5, f: 5, m: 4, rfmTotal: 14, valueScore: 84,
  previousTierRank: 3, tierRank: 4, pAlive: 0.82, expectedPurchases90d: 1.5, clv12m: 9800.5,
};
const holds = (c: Condition, m: Partial<Metrics> = {}, attrs: Record<string, string | number | boolean | null> = {}) =>
  compileCondition(c).test(valuesOf({ ...base, ...m }), attrs);

describe('metric values', () => {
  it('every metric reaches conditions under its own name', () => {
    const distinct = Object.fromEntries(CONDITION_METRICS.map((k, i) => [k, 100 + i])) as unknown as Metrics;
    const v = valuesOf(distinct);
    for (const k of CONDITION_METRICS) {
      expect(v[METRIC_INDEX[k]]).toBe(distinct[k]);
      expect(compileCondition({ metric: k, op: 'eq', value: distinct[k] as number }).test(v, {})).toBe(true);
    }
  });
});

describe('leaf operators', () => {
  it.each([
    ['lt', 12, false], ['lt', 13, true],
    ['lte', 11, false], ['lte', 12, true],
    ['gt', 12, false], ['gt', 11, true],
    ['gte', 13, false], ['gte', 12, true],
    ['eq', 12, true], ['eq', 12.5, false],
    ['ne', 12, false], ['ne', 13, true],
  ] as const)('recencyDays 12 %s %s → %s', (op, value, expected) => {
    expect(holds({ metric: 'recencyDays', op, value })).toBe(expected);
  });

  it('between is inclusive at both ends', () => {
    const c: Condition = { metric: 'monetary', op: 'between', value: [2000, 9999.99] };
    expect([1999.99, 2000, 5000, 9999.99, 10000].map((monetary) => holds(c, { monetary }))).toEqual([false, true, true, true, false]);
  });

  it('in matches any listed value', () => {
    expect(holds({ metric: 'r', op: 'in', value: [4, 5] })).toBe(true);
    expect(holds({ metric: 'r', op: 'in', value: [1, 2] })).toBe(false);
  });

  it('a leaf on a null metric is false for every operator, and not of it is true', () => {
    const leaves: Condition[] = [
      { metric: 'margin', op: 'lt', value: 1 }, { metric: 'margin', op: 'lte', value: 1 },
      { metric: 'margin', op: 'gt', value: 1 }, { metric: 'margin', op: 'gte', value: 1 },
      { metric: 'margin', op: 'eq', value: 0 }, { metric: 'margin', op: 'ne', value: 0 },
      { metric: 'margin', op: 'between', value: [-1e9, 1e9] }, { metric: 'margin', op: 'in', value: [0] },
    ];
    for (const leaf of leaves) {
      expect(holds(leaf)).toBe(false);
      expect(holds({ not: leaf })).toBe(true);
    }
  });
});

describe('composites', () => {
  const t: Condition = { always: true };
  const f: Condition = { not: { always: true } };
  it('all, any, not, always', () => {
    expect(holds({ all: [t, t] })).toBe(true);
    expect(holds({ all: [t, f] })).toBe(false);
    expect(holds({ any: [f, t] })).toBe(true);
    expect(holds({ any: [f, f] })).toBe(false);
    expect(holds({ all: [] })).toBe(true);
    expect(holds({ any: [] })).toBe(false);
    expect(holds({ not: { any: [f, { all: [t, { not: f }] }] } })).toBe(false);
  });
});

describe('attributes', () => {
  it('eq, ne and in compare strictly; a missing or null attribute is false', () => {
    const a = { industry: '制造', size: 3, vip: true, region: null };
    expect(holds({ metric: 'attributes.industry', op: 'eq', value: '制造' }, {}, a)).toBe(true);
    expect(holds({ metric: 'attributes.size', op: 'eq', value: '3' }, {}, a)).toBe(false);
    expect(holds({ metric: 'attributes.size', op: 'ne', value: 4 }, {}, a)).toBe(true);
    expect(holds({ metric: 'attributes.vip', op: 'in', value: [true] }, {}, a)).toBe(true);
    expect(holds({ metric: 'attributes.region', op: 'ne', value: 'east' }, {}, a)).toBe(false);
    expect(holds({ metric: 'attributes.channel', op: 'ne', value: 'web' }, {}, a)).toBe(false);
    expect(holds({ not: { metric: 'attributes.channel', op: 'eq', value: 'web' } }, {}, a)).toBe(true);
  });

  it('never reads inherited object members', () => {
    expect(holds({ metric: 'attributes.constructor', op: 'ne', value: 'x' }, {}, {})).toBe(false);
    expect(holds({ metric: 'attributes.toString', op: 'ne', value: 'x' }, {}, {})).toBe(false);
  });
});

describe('traces (explanations)', () => {
  it('list every leaf with its value, the actual metric and whether it held', () => {
    const c = compileCondition({
      all: [
        { metric: 'recencyDays', op: 'lte', value: 30 },
        { any: [{ metric: 'margin', op: 'gt', value: 0 }, { metric: 'attributes.industry', op: 'eq', value: '零售' }] },
      ],
    });
    expect(traceCondition(c, valuesOf(base), { industry: '零售' })).toEqual([
      { metric: 'recencyDays', op: 'lte', value: 30, actual: 12, held: true },
      { metric: 'margin', op: 'gt', value: 0, actual: null, held: false },
      { metric: 'attributes.industry', op: 'eq', value: '零售', actual: '零售', held: true },
    ]);
    expect(traceCondition(compileCondition({ always: true }), valuesOf(base), {})).toEqual([]);
  });
});
