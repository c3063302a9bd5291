import { describe, expect, it } from 'vitest';
import { computeValueScore } from '../../src/domain/engine.ts';
import { round2 } from '../../src/domain/value-score.ts';
import { compiled, customer, evaluate, ms, policy, rollup, score } from './helpers.ts';

const asOf = ms('2026-06-30T02:00:00+08:00');
// relationship (default policy) = tenure band + frequency band:
// tenure < 365 → 10, frequency ≥ 6 → 50: 60 points
const sixOrdersThisYear = rollup(
  Array.from({ length: 6 }, (_, i) => [`2026-0${i + 1}-10T10:00:00+08:00`, 1000] as [string, number]),
);

describe('value score', () => {
  it('the worked example: 90·0.4 + 90·0.4 + 60·0.2 = 84', () => {
    const cp = compiled();
    const m = evaluate(cp, asOf, customer(sixOrdersThisYear, { score: score({ profitability: 90, strength: 90 }) })).state.metrics;
    expect(m.tenureDays).toBeLessThan(365);
    expect(m.frequency).toBe(6);
    expect(m.valueScore).toBe(84);
  });

  it('metric dimensions take the highest band whose min ≤ value, summed over measures', () => {
    const cp = compiled();
    // tenure ≥ 730 → 50, frequency 3..5 → 25: 75
    const r = rollup([
      ['2024-01-01T10:00:00+08:00', 100],
      ['2026-04-01T10:00:00+08:00', 100],
      ['2026-05-01T10:00:00+08:00', 100],
      ['2026-06-01T10:00:00+08:00', 100],
    ]);
    const v = evaluate(cp, asOf, customer(r, { score: score({ profitability: 0, strength: 0 }) })).state.metrics.valueScore;
    expect(v).toBe(15); // 0.2 · 75
  });

  it('clamps a metric dimension to 0..100 and scores a null metric as 0', () => {
    const cp = compiled((p) => {
      p.valueScore.dimensions[2].measures = [
        { metric: 'frequency', bands: [{ min: 0, points: 80 }] },
        { metric: 'orderCount', bands: [{ min: 0, points: 80 }] },
        { metric: 'tenureDays', bands: [{ min: 0, points: -500 }] },
      ];
    });
    const none = evaluate(cp, asOf, customer(rollup([]), { score: score({ profitability: 0, strength: 0 }) })).state.metrics;
    expect(none.tenureDays).toBeNull();
    expect(none.valueScore).toBe(20); // 160 clamped to 100; the null tenure adds nothing
    const some = evaluate(cp, asOf, customer(sixOrdersThisYear, { score: score({ profitability: 0, strength: 0 }) })).state.metrics;
    expect(some.valueScore).toBe(0); // 80 + 80 − 500 clamped to 0
  });

  it('a value below the first band scores 0', () => {
    const cp = compiled((p) => (p.valueScore.dimensions[2].measures = [{ metric: 'frequency', bands: [{ min: 10, points: 100 }] }]));
    expect(evaluate(cp, asOf, customer(sixOrdersThisYear, { score: score({ profitability: 100, strength: 100 }) })).state.metrics.valueScore).toBe(80);
  });

  it('missing "null": a manual dimension without points makes the score null', () => {
    const cp = compiled();
    expect(evaluate(cp, asOf, customer(sixOrdersThisYear)).state.metrics.valueScore).toBeNull();
    expect(evaluate(cp, asOf, customer(sixOrdersThisYear, { score: score({ profitability: 90 }) })).state.metrics.valueScore).toBeNull();
  });

  it('missing "zero": a manual dimension without points contributes 0', () => {
    const cp = compiled((p) => (p.valueScore.missing = 'zero'));
    expect(evaluate(cp, asOf, customer(sixOrdersThisYear)).state.metrics.valueScore).toBe(12);
    expect(evaluate(cp, asOf, customer(sixOrdersThisYear, { score: score({ profitability: 90 }) })).state.metrics.valueScore).toBe(48);
  });

  it('rounds to 2 decimals', () => {
    const cp = compiled((p) => {
      p.valueScore.dimensions = [
        { key: 'a', name: 'A', weight: 1 / 3, source: 'manual' },
        { key: 'b', name: 'B', weight: 2 / 3, source: 'manual' },
      ];
    });
    expect(evaluate(cp, asOf, customer(sixOrdersThisYear, { score: score({ a: 100, b: 0 }) })).state.metrics.valueScore).toBe(33.33);
    expect(evaluate(cp, asOf, customer(sixOrdersThisYear, { score: score({ a: 0, b: 100 }) })).state.metrics.valueScore).toBe(66.67);
    expect(round2(1.005)).toBe(1.01);
    expect(round2(-1.005)).toBe(-1.01);
  });
});

describe('computeValueScore (scoring and approval cards)', () => {
  it('breaks a proposed score down per dimension with the weighted total', () => {
    const cp = compiled();
    const metrics = evaluate(cp, asOf, customer(sixOrdersThisYear)).state.metrics;
    const r = computeValueScore({ profitability: 90, strength: 90 }, cp, metrics);
    expect(r.total).toBe(84);
    expect(r.dimensions.map((d) => [d.key, d.points, d.weight])).toEqual([
      ['profitability', 90, 0.4],
      ['strength', 90, 0.4],
      ['relationship', 60, 0.2],
    ]);
    expect(r.dimensions[0].guidance).toBeTruthy();
  });

  it('accepts the uncompiled policy; without metrics a metric dimension has no points', () => {
    const p = policy();
    expect(computeValueScore({ profitability: 90, strength: 90 }, p).total).toBeNull();
    const zero = policy((x) => (x.valueScore.missing = 'zero'));
    expect(computeValueScore({ profitability: 90, strength: 80 }, zero).total).toBe(68);
    expect(computeValueScore({ profitability: 90, strength: 80 }, zero).dimensions[2].points).toBeNull();
  });
});
