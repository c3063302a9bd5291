import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, evaluateCustomer, PopulationBuilder, baseMetrics } from '../../src/domain/engine.ts';
import type { Rollup } from '../../src/domain/types.ts';
import { compiled, customer, DAY, evaluate, ms, policy, rollupArb as rollupArbOf } from './helpers.ts';

const asOf = ms('2026-06-30T02:00:00+08:00');
const thresholds = compiled();
const quintiles = compilePolicy(policy((p) => (p.rfm = { method: 'quintiles' })), 1);

const rollupArb = rollupArbOf(asOf);

function withOrder(r: Rollup, t: number, a: number): Rollup {
  const rows = r.t.map((x, i) => ({ t: x, a: r.a[i], g: r.g[i] }));
  rows.push({ t, a, g: NaN });
  rows.sort((x, y) => x.t - y.t);
  return { t: rows.map((x) => x.t), a: rows.map((x) => x.a), g: rows.map((x) => x.g) };
}

describe('engine properties', () => {
  it('adding a positive order inside the window never lowers f or m (thresholds)', () => {
    fc.assert(
      fc.property(rollupArb, fc.integer({ min: asOf - 365 * DAY + 1, max: asOf }), fc.integer({ min: 1, max: 5_000_000 }), (r, t, a) => {
        const before = evaluate(thresholds, asOf, customer(r)).state.metrics;
        const after = evaluate(thresholds, asOf, customer(withOrder(r, t, a))).state.metrics;
        expect(after.f!).toBeGreaterThanOrEqual(before.f ?? 1);
        expect(after.m!).toBeGreaterThanOrEqual(before.m ?? 1);
        expect(after.frequency).toBe(before.frequency + 1);
      }),
      { numRuns: 300 },
    );
  });

  it('an additional, more recent order never lowers r', () => {
    fc.assert(
      fc.property(rollupArb, fc.integer({ min: asOf - 400 * DAY, max: asOf }), (r, t) => {
        const before = evaluate(thresholds, asOf, customer(r)).state.metrics;
        const after = evaluate(thresholds, asOf, customer(withOrder(r, t, 100))).state.metrics;
        expect(after.r!).toBeGreaterThanOrEqual(before.r ?? 1);
        if (before.recencyDays !== null) expect(after.recencyDays!).toBeLessThanOrEqual(before.recencyDays);
      }),
      { numRuns: 300 },
    );
  });

  it('r, f and m are always 1..5, or all null exactly when there is no counted order (both methods)', () => {
    fc.assert(
      fc.property(fc.array(rollupArb, { minLength: 1, maxLength: 12 }), fc.boolean(), (pop, q) => {
        const cp = q ? quintiles : thresholds;
        for (const r of pop) {
          const m = evaluate(cp, asOf, customer(r), pop).state.metrics;
          if (m.orderCount === 0) {
            expect([m.r, m.f, m.m, m.rfmTotal]).toEqual([null, null, null, null]);
          } else {
            for (const x of [m.r, m.f, m.m]) expect(x! >= 1 && x! <= 5 && Number.isInteger(x)).toBe(true);
            expect(m.rfmTotal).toBe(m.r! + m.f! + m.m!);
          }
          expect(m.monetaryTopPct! > 0 && m.monetaryTopPct! <= 100).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('population stats do not depend on the order customers are fed in, and evaluation is deterministic', () => {
    fc.assert(
      fc.property(fc.array(rollupArb, { minLength: 1, maxLength: 15 }).chain((pop) => fc.tuple(fc.constant(pop), fc.shuffledSubarray(pop, { minLength: pop.length, maxLength: pop.length }))), ([pop, shuffled]) => {
        const statsOf = (rs: Rollup[]) => {
          const b = new PopulationBuilder(quintiles);
          for (const r of rs) {
            const m = baseMetrics(r, asOf, quintiles);
            b.add(m.recencyDays, m.frequency, m.monetary);
          }
          return b.finish();
        };
        const s1 = statsOf(pop);
        const s2 = statsOf(shuffled);
        expect(s2).toEqual(s1);
        for (const r of pop) {
          const ctx = { policy: quintiles, asOf, stats: s1, runId: 'r' };
          const a = evaluateCustomer(customer(r), ctx).state;
          const b = evaluateCustomer(customer(r), { ...ctx, stats: s2 }).state;
          expect(b).toEqual(a);
          expect(JSON.stringify(b)).toBe(JSON.stringify(a));
        }
      }),
      { numRuns: 150 },
    );
  });
});
