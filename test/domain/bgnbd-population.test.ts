// The customer-base models as the engine uses them: the grouped (weighted) fits equal the fits over every
// customer; the population's fit is deterministic; the metrics pAlive / expectedPurchases90d / clv12m, as the
// engine rounds them, keep the model's monotonicity in days; the pAlive detector fires with its numbers.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reasonText } from '../../cards/common.ts';
import { fitBgNbd, fitBgNbdWeighted, fitGammaGamma, fitGammaGammaWeighted, ModelSample, type WeightedRepeat, type WeightedSpend } from '../../src/domain/bgnbd.ts';
import { evaluateCustomer } from '../../src/domain/engine.ts';
import { parsePolicy } from '../../src/domain/policy.ts';
import type { PopulationModels, PopulationStats, Rollup } from '../../src/domain/types.ts';
import { compiled, customer, DAY, defaultPolicyInput, ms, statsFor } from './helpers.ts';

const csv = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
const cdnow = csv('cdnow-customers-summary.csv').map(([, x, tx, T]) => ({ x, tx, T }));
const spend = csv('cdnow-spend-reference.csv').map(([, x, m]) => ({ x, m }));

function grouped<T extends object>(rows: T[], key: (r: T) => string): (T & { n: number })[] {
  const out = new Map<string, T & { n: number }>();
  for (const r of rows) {
    const k = key(r);
    const g = out.get(k);
    if (g) g.n++;
    else out.set(k, { ...r, n: 1 });
  }
  return [...out.values()];
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

describe('grouped fits on CDNOW', () => {
  it('BG/NBD over the distinct (x, t_x, T) with counts equals the fit over the 2,357 customers within 1e-6', () => {
    const rows: WeightedRepeat[] = grouped(cdnow, (c) => `${c.x}|${c.tx}|${c.T}`);
    expect(rows.length).toBeLessThan(cdnow.length); // there is duplication to exploit
    const all = fitBgNbd(cdnow);
    const byGroup = fitBgNbdWeighted(rows);
    expect(byGroup.n).toBe(cdnow.length);
    expect(byGroup.converged).toBe(true);
    for (const k of ['r', 'alpha', 'a', 'b', 'logLikelihood'] as const) expect(close(byGroup[k], all[k]), `${k}: ${byGroup[k]} vs ${all[k]}`).toBe(true);
  });

  it('Gamma-Gamma over the distinct (x, m) with counts equals the fit over the repeat customers within 1e-6', () => {
    const rows: WeightedSpend[] = grouped(spend, (c) => `${c.x}|${c.m}`);
    const all = fitGammaGamma(spend);
    const byGroup = fitGammaGammaWeighted(rows);
    expect(byGroup.n).toBe(946);
    for (const k of ['p', 'q', 'gamma', 'logLikelihood'] as const) expect(close(byGroup[k], all[k]), `${k}: ${byGroup[k]} vs ${all[k]}`).toBe(true);
  });
});

/** CDNOW in days (weeks × 7, rounded) with a repeat spend of x × m yuan: a realistic day-scale population. */
function cdnowSample(order: 'asc' | 'desc'): ModelSample {
  const s = new ModelSample();
  const rows = cdnow.map((c, i) => ({ x: c.x, tx: Math.round(c.tx * 7), T: Math.round(c.T * 7), fen: c.x > 0 ? Math.round(c.x * (spend[i]?.m ?? 0) * 100) : 0 }));
  if (order === 'desc') rows.reverse();
  for (const r of rows) s.add(r.x, r.tx, r.T, r.fen);
  return s;
}

describe('the population fit (ModelSample)', () => {
  it('is deterministic: the same customers in another order give identical parameters', () => {
    const a = cdnowSample('asc').fit();
    const b = cdnowSample('desc').fit();
    expect(a.bgnbd).not.toBeNull();
    expect(a.gammaGamma).not.toBeNull();
    expect(b).toEqual(a);
    // days instead of weeks: α scales by 7, the shape parameters stay
    expect(a.bgnbd!.alpha / 7).toBeGreaterThan(3.5);
    expect(a.bgnbd!.alpha / 7).toBeLessThan(5.5);
    expect(a.bgnbd!.r).toBeGreaterThan(0.2);
    expect(a.bgnbd!.r).toBeLessThan(0.3);
  });

  it('gives no parameters for fewer than 20 customers with repeat purchases', () => {
    const s = new ModelSample();
    for (let i = 0; i < 19; i++) s.add(2, 30 + i, 100, 5000);
    for (let i = 0; i < 500; i++) s.add(0, 0, 100 + i, 0);
    expect(s.fit()).toEqual({ bgnbd: null, gammaGamma: null });
  });
});

// realistic day-scale parameters (CDNOW's fit in days is r 0.24, α 31, a 0.79, b 2.4; Gamma-Gamma p 6.2, q 3.7, γ 15)
const fitOf = { logLikelihood: -1, n: 1000, rows: 100, distinct: 100, sampled: false };
const paramsArb = fc.record({
  r: fc.double({ min: 0.1, max: 3, noNaN: true }),
  alpha: fc.double({ min: 5, max: 300, noNaN: true }),
  a: fc.double({ min: 0.3, max: 5, noNaN: true }),
  b: fc.double({ min: 0.5, max: 20, noNaN: true }),
});
const modelsOf = (p: { r: number; alpha: number; a: number; b: number }): PopulationModels => ({
  bgnbd: { ...p, ...fitOf },
  gammaGamma: { p: 6.2, q: 3.7, gamma: 15.4, ...fitOf },
});

const asOf = ms('2026-06-30T12:00:00+08:00');
const cp = compiled();
const emptyStats = statsFor(cp, asOf, []);
/** orders on these days before asOf (0 = asOf's day), 100 yuan each */
const onDays = (ago: number[]): Rollup => {
  const t = [...ago].sort((x, y) => y - x).map((d) => asOf - d * DAY);
  return { t, a: t.map(() => 10_000), g: t.map(() => NaN) };
};
const metricsOf = (r: Rollup, models: PopulationModels, policy = cp) =>
  evaluateCustomer(customer(r), { policy, asOf, stats: { ...emptyStats, models } satisfies PopulationStats, runId: 'run-1' }).state;

describe('pAlive and expected purchases as the engine gives them (days, rounded)', () => {
  const daysArb = fc.uniqueArray(fc.integer({ min: 1, max: 700 }), { minLength: 2, maxLength: 30 });

  it('a more recent last purchase (same first purchase, same number of purchase days) never lowers pAlive', () => {
    fc.assert(
      fc.property(paramsArb, daysArb, fc.double({ min: 0, max: 1, noNaN: true }), (p, ago, share) => {
        const sorted = [...ago].sort((x, y) => y - x); // oldest first
        const last = sorted[sorted.length - 1];
        const before = sorted[sorted.length - 2];
        // move the last purchase day later, somewhere in [last, today]
        const moved = Math.floor(last * share);
        if (moved === before) return;
        const a = metricsOf(onDays(sorted), modelsOf(p)).metrics;
        const b = metricsOf(onDays([...sorted.slice(0, -1), moved]), modelsOf(p)).metrics;
        expect(b.pAlive!).toBeGreaterThanOrEqual(a.pAlive!);
        expect(a.pAlive!).toBeGreaterThanOrEqual(0);
        expect(b.pAlive!).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('one more purchase day between the first and a last one today never lowers the purchases to expect', () => {
    fc.assert(
      fc.property(paramsArb, daysArb, fc.integer({ min: 1, max: 699 }), (p, ago, extra) => {
        const first = Math.max(...ago);
        if (extra >= first || ago.includes(extra)) return;
        const days = [...ago, 0]; // the last purchase is today: t_x = T
        const a = metricsOf(onDays(days), modelsOf(p)).metrics;
        const b = metricsOf(onDays([...days, extra]), modelsOf(p)).metrics;
        expect(b.expectedPurchases90d!).toBeGreaterThanOrEqual(a.expectedPurchases90d!);
      }),
      { numRuns: 300 },
    );
  });

  it('but more purchase days long ago can lower it: a frequent buyer gone silent is likely gone (the reason for a = t_x = T above)', () => {
    const p = { r: 0.24, alpha: 31, a: 1.5, b: 2.4 };
    const few = metricsOf(onDays([400, 300]), modelsOf(p)).metrics;
    const many = metricsOf(onDays([400, 380, 360, 340, 320, 300]), modelsOf(p)).metrics;
    expect(many.pAlive!).toBeLessThan(few.pAlive!);
  });
});

describe('the new metrics and the pAlive detector in an evaluation', () => {
  // the CDNOW customers in days: first purchase T weeks ago, x repeat days spread evenly up to t_x
  const population: Rollup[] = cdnow.map((c, i) => {
    const T = Math.round(c.T * 7);
    const tx = Math.round(c.tx * 7);
    const days = [T];
    for (let j = 1; j <= c.x; j++) days.push(T - Math.round((tx * j) / c.x));
    const r = onDays([...new Set(days)]);
    // CDNOW's mean repeat spend on every repeat day, a varying amount on the first
    const m = spend[i]?.m ?? 0;
    r.a = r.a.map((_, j) => (j === 0 || !(m > 0) ? 2_000 + ((i * 37) % 50) * 100 : Math.round(m * 100)));
    return r;
  });
  const regular = Array.from({ length: 200 }, (_, c) => onDays(Array.from({ length: 2 + (c % 9) }, (_, i) => (c % 7) + i * (7 + (c % 40)))));
  const policy = compiled((p) => p.churn.push({ key: 'likelyGone', severity: 'high', detector: 'pAlive', below: 0.3, minOrders: 3 }));
  const stats = statsFor(policy, asOf, population);

  it('pass 1 fits both models on the population; an active customer gets plausible pAlive, expected purchases and 12-month value', () => {
    expect(stats.models?.bgnbd).not.toBeNull();
    expect(stats.models?.gammaGamma).not.toBeNull();
    const active = onDays([60, 45, 30, 16, 2]);
    const m = evaluateCustomer(customer(active), { policy, asOf, stats, runId: 'run-1' }).state.metrics;
    expect(m.pAlive).toBeGreaterThan(0.5);
    expect(m.pAlive).toBeLessThanOrEqual(1);
    expect(Math.round(m.pAlive! * 1000)).toBe(m.pAlive! * 1000);
    expect(m.expectedPurchases90d).toBeGreaterThan(0.5);
    expect(m.clv12m).toBeGreaterThan(0);
    expect(Math.round(m.clv12m! * 100) / 100).toBe(m.clv12m);
    // clv12m = E[purchase days in 365] × expected spend: more than 90 days' worth of purchases at ≥ 1 yuan
    expect(m.clv12m!).toBeGreaterThan(m.expectedPurchases90d!);
  });

  it('fires for a customer of ≥ minOrders orders whose pAlive is below the threshold, with the numbers in its reason', () => {
    const gone = onDays([400, 390, 380, 370, 360, 350]);
    const s = evaluateCustomer(customer(gone), { policy, asOf, stats, runId: 'run-1' }).state;
    const reason = s.risk.reasons.find((r) => r.rule === 'likelyGone');
    expect(reason).toBeDefined();
    expect(reason!.severity).toBe('high');
    expect(reason!.detail).toEqual({ detector: 'pAlive', pAlive: s.metrics.pAlive, below: 0.3, orderCount: 6, minOrders: 3, recencyDays: 350 });
    expect(s.metrics.pAlive!).toBeLessThan(0.3);
    const zh = reasonText('zh-CN', reason!);
    const en = reasonText('en', reason!);
    for (const text of [zh, en]) {
      expect(text).toContain(`${Math.round(s.metrics.pAlive! * 1000) / 10}%`);
      expect(text).toContain('30%');
      expect(text).toContain('350');
      expect(text).toContain('6');
    }
    // too few orders: silent
    const two = evaluateCustomer(customer(onDays([400, 350])), { policy, asOf, stats, runId: 'run-1' }).state;
    expect(two.metrics.pAlive! < 0.3 ? two.risk.reasons.some((r) => r.rule === 'likelyGone') : false).toBe(false);
  });

  it('a population without heterogeneity (everyone buys like a clock) gives no fit', () => {
    expect(statsFor(policy, asOf, regular).models).toEqual({ bgnbd: null, gammaGamma: null });
  });

  it('without a fit the metrics are null, never NaN, and the detector stays silent', () => {
    const s = evaluateCustomer(customer(onDays([400, 390, 380])), { policy, asOf, stats: statsFor(policy, asOf, []), runId: 'run-1' }).state;
    expect([s.metrics.pAlive, s.metrics.expectedPurchases90d, s.metrics.clv12m]).toEqual([null, null, null]);
    expect(s.risk.reasons.some((r) => r.rule === 'likelyGone')).toBe(false);
    expect(JSON.stringify(s.metrics)).not.toContain('NaN');
  });
});

describe('the pAlive detector in a policy', () => {
  const withRule = (rule: Record<string, unknown>) => {
    const input = defaultPolicyInput();
    input.churn.push({ key: 'likelyGone', severity: 'high', detector: 'pAlive', ...rule });
    return parsePolicy(input);
  };

  it('accepts below in (0, 1] and minOrders ≥ 1', () => {
    expect(withRule({ below: 0.3, minOrders: 3 }).ok).toBe(true);
  });

  it('rejects a bad one naming the field', () => {
    const at = (r: ReturnType<typeof parsePolicy>) => (r.ok ? [] : r.issues.map((i) => i.path));
    expect(at(withRule({ below: 1.5, minOrders: 3 }))).toEqual(['churn.3.below']);
    expect(at(withRule({ below: 0, minOrders: 3 }))).toEqual(['churn.3.below']);
    expect(at(withRule({ below: 0.3, minOrders: 0 }))).toEqual(['churn.3.minOrders']);
    expect(at(withRule({ below: 0.3 }))).toEqual(['churn.3.minOrders']);
    expect(at(withRule({ below: 0.3, minOrders: 2.5 }))).toEqual(['churn.3.minOrders']);
  });

  it('pAlive, expectedPurchases90d and clv12m are metrics conditions may use', () => {
    const input = defaultPolicyInput();
    input.churn.push({ key: 'valuableGone', severity: 'high', when: { all: [{ metric: 'clv12m', op: 'gte', value: 1000 }, { metric: 'pAlive', op: 'lt', value: 0.5 }, { metric: 'expectedPurchases90d', op: 'lt', value: 1 }] } });
    expect(parsePolicy(input).ok).toBe(true);
  });
});
