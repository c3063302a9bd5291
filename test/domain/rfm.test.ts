import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, PopulationBuilder } from '../../src/domain/engine.ts';
import { monetaryTopPct, quintileHigherBetter, quintileLowerBetter, scoreHigherBetter, scoreLowerBetter } from '../../src/domain/rfm.ts';
import { round2 } from '../../src/domain/value-score.ts';
import { compiled, customer, DAY, evaluate, ms, policy, rawRollup, rollup } from './helpers.ts';

const asOf = ms('2026-06-30T02:00:00+08:00');

describe('RFM thresholds', () => {
  const cp = compiled();

  it('recency: ≤ b1 → 5 … > b4 → 1 (breaks 30, 60, 90, 180)', () => {
    const b = [30, 60, 90, 180];
    expect([0, 30, 31, 60, 61, 90, 91, 180, 181].map((x) => scoreLowerBetter(x, b))).toEqual([5, 5, 4, 4, 3, 3, 2, 2, 1]);
  });

  it('frequency and monetary: ≥ b4 → 5 … < b1 → 1', () => {
    const b = [2000, 5000, 10000, 50000];
    expect([0, 1999.99, 2000, 4999.99, 5000, 10000, 49999.99, 50000].map((x) => scoreHigherBetter(x, b))).toEqual([1, 1, 2, 2, 3, 4, 4, 5]);
  });

  it('scores a customer, with rfmTotal the sum', () => {
    // 6 orders in the window, last one 10 days ago, 12,000 yuan
    const r = rollup(Array.from({ length: 6 }, (_, i) => [`2026-06-${String(20 - i).padStart(2, '0')}T10:00:00+08:00`, 2000] as [string, number]));
    const m = evaluate(cp, asOf, customer(r)).state.metrics;
    expect(m).toMatchObject({ recencyDays: 10, frequency: 6, monetary: 12000, r: 5, f: 4, m: 4, rfmTotal: 13 });
  });

  it('r, f, m and rfmTotal are null without a counted order', () => {
    const m = evaluate(cp, asOf, customer(rollup([]))).state.metrics;
    expect(m).toMatchObject({ r: null, f: null, m: null, rfmTotal: null });
  });

  it('an old customer with no order in the window still gets scores (f and m of 1)', () => {
    const m = evaluate(cp, asOf, customer(rollup([['2024-01-01T10:00:00+08:00', 99999]]))).state.metrics;
    expect(m).toMatchObject({ r: 1, f: 1, m: 1, rfmTotal: 3 });
  });
});

describe('RFM quintiles', () => {
  const cp = compilePolicy(policy((p) => (p.rfm = { method: 'quintiles' })), 1);

  /** min(5, 1 + floor(5·worse/n)) computed the slow way */
  const direct = (x: number, all: number[], worse: (v: number, x: number) => boolean) =>
    Math.min(5, 1 + Math.floor((5 * all.filter((v) => worse(v, x)).length) / all.length));

  it('scores by how many customers are strictly worse, equal values get equal scores', () => {
    // frequencies 1..10 with a tie at 4
    const freqs = [1, 2, 3, 4, 4, 6, 7, 8, 9, 10];
    const pop = freqs.map((k) => rollup(Array.from({ length: k }, (_, i) => [`2026-06-${String(i + 1).padStart(2, '0')}T10:00:00+08:00`, 100] as [string, number])));
    const f = pop.map((r) => evaluate(cp, asOf, customer(r), pop).state.metrics.f);
    expect(f).toEqual([1, 1, 2, 2, 2, 3, 4, 4, 5, 5]);
    expect(f).toEqual(freqs.map((x) => direct(x, freqs, (v, y) => v < y)));
  });

  it('recency is better when smaller; customers without orders are not part of n', () => {
    const recency = [0, 5, 5, 40, 200];
    const pop = [...recency.map((d) => rawRollup([asOf - d * DAY], [100_00])), rollup([]), rollup([])];
    const r = pop.map((x) => evaluate(cp, asOf, customer(x), pop).state.metrics.r);
    expect(r).toEqual([5, 3, 3, 2, 1, null, null]);
    expect(r.slice(0, 5)).toEqual(recency.map((x) => direct(x, recency, (v, y) => v > y)));
  });

  it('cut-offs answer exactly what the formula says, for any population (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: -5, max: 30 })), { minLength: 1, maxLength: 60 }), (rows) => {
        const b = new PopulationBuilder(cp);
        for (const [r, f, m] of rows) b.add(r, f, m * 100);
        const q = b.finish().quintiles!;
        expect(q.n).toBe(rows.length);
        const rs = rows.map((x) => x[0]);
        const fs = rows.map((x) => x[1]);
        const ms_ = rows.map((x) => x[2] * 100);
        for (const [r, f, m] of rows) {
          expect(quintileLowerBetter(r, q.recency)).toBe(direct(r, rs, (v, y) => v > y));
          expect(quintileHigherBetter(f, q.frequency)).toBe(direct(f, fs, (v, y) => v < y));
          expect(quintileHigherBetter(m * 100, q.monetary)).toBe(direct(m * 100, ms_, (v, y) => v < y));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stats carry quintile cut-offs only for the quintiles method', () => {
    const b = new PopulationBuilder(compiled());
    b.add(3, 2, 100);
    expect(b.finish().quintiles).toBeNull();
  });
});

describe('monetaryTopPct lookup', () => {
  const cp = compiled();
  const brute = (x: number, all: number[]) => round2((100 * (all.filter((v) => v > x).length + 1)) / all.length);
  const money = fc.oneof(
    fc.integer({ min: -1_000_000, max: 100_000_000 }).map((f) => f / 100),
    fc.constantFrom(0, 0.01, -0.01, 2000, 2000.01, 1e12, -1e12),
    fc.double({ min: 1e-300, max: 1e300, noNaN: true }),
  );

  it('equals counting by hand, for members of the population and for other values (property)', () => {
    fc.assert(
      fc.property(fc.array(money, { minLength: 1, maxLength: 400 }), fc.array(money, { maxLength: 20 }), (pop, others) => {
        const b = new PopulationBuilder(cp);
        for (const m of pop) b.add(null, 0, m);
        const stats = b.finish();
        for (const x of [...pop, ...others]) expect(monetaryTopPct(x, stats)).toBe(brute(x, pop));
      }),
      { numRuns: 300 },
    );
  });

  it('holds for a large population with many ties', () => {
    const pop = Array.from({ length: 50_000 }, (_, i) => Math.round(((i * 7919) % 10_007) * 37.5) / 100);
    const b = new PopulationBuilder(cp);
    for (const m of pop) b.add(1, 1, m);
    const stats = b.finish();
    const sorted = [...pop].sort((x, y) => y - x);
    const greater = (x: number) => {
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid] > x) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    for (let i = 0; i < pop.length; i += 7) {
      expect(monetaryTopPct(pop[i], stats)).toBe(round2((100 * (greater(pop[i]) + 1)) / pop.length));
    }
    expect(monetaryTopPct(1e9, stats)).toBe(round2(100 / pop.length));
  });

  it('is null for an empty run', () => {
    expect(monetaryTopPct(5, new PopulationBuilder(cp).finish())).toBeNull();
  });
});
