// The memory store keeps tier states in columns: every state the engine produces must come back exactly,
// key order included (the recompute compares risk reasons as plain data, key order and all).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StateColumns } from '../../src/adapters/memory/state-columns.ts';
import { StringTable } from '../../src/domain/string-table.ts';
import { compilePolicy } from '../../src/domain/engine.ts';
import type { Rollup, TierState } from '../../src/domain/types.ts';
import { customer, DAY, evaluate, ms, policy, rollupArb as rollupArbOf, score } from '../domain/helpers.ts';

const asOf = ms('2026-06-30T02:00:00+08:00');
const policies = [
  compilePolicy(policy(), 1),
  compilePolicy(policy((p) => (p.rfm = { method: 'quintiles' })), 2),
  // downgrades wait for a second agreeing run: kept tiers (explanation.keptBy) occur
  compilePolicy(policy((p) => (p.stability = { downgradeAfterRuns: 2 })), 3),
];

const rollupArb = rollupArbOf(asOf);
const fit = { logLikelihood: -1, n: 100, rows: 100, distinct: 100, sampled: false };
const MODELS = { bgnbd: { r: 0.24, alpha: 30, a: 1.5, b: 2.8, ...fit }, gammaGamma: { p: 6.2, q: 3.7, gamma: 15.4, ...fit } };

/** Two consecutive runs (so stability, `previous` and kept tiers occur) and sometimes an alert decision. */
const stateArb = fc
  .record({
    first: rollupArb,
    // the second run sees the same orders or fewer (a refunded past: downgrades) or other ones
    second: fc.oneof(fc.constant(null), rollupArb),
    dropped: fc.integer({ min: 0, max: 30 }),
    policy: fc.constantFrom(...policies),
    scored: fc.boolean(),
    alerted: fc.constantFrom('absent', 'null', 'set'),
    industry: fc.constantFrom(undefined, '制造业', 'retail'),
    modelled: fc.boolean(),
  })
  .map(({ first, dropped, policy: cp, scored, alerted, industry, modelled, ...rest }): TierState => {
    const second = rest.second ?? { t: first.t.slice(dropped), a: first.a.slice(dropped), g: first.g.slice(dropped) };
    const attributes: Record<string, string> = industry === undefined ? {} : { industry };
    const extra = { attributes, score: scored ? score({ relationship: 4, potential: 3 }) : null };
    // with population models (pAlive, expectedPurchases90d, clv12m set) or without (null)
    const models = modelled ? MODELS : undefined;
    const a = evaluate(cp, asOf - 7 * DAY, customer(first, extra), [first, second], 'run-1', models).state;
    const b = evaluate(cp, asOf, customer(second, { ...extra, current: a }), [first, second], 'run-2', models).state;
    if (alerted === 'null') b.alerted = null;
    if (alerted === 'set') b.alerted = { level: 'high', rules: ['overdue', 'quietVip'], runId: 'run-2' };
    return b;
  });

describe('StateColumns (memory store tier states)', () => {
  it('gives back every engine state exactly, key order included', () => {
    const columns = new StateColumns(new StringTable());
    let kept = 0;
    let risky = 0;
    fc.assert(
      fc.property(stateArb, fc.integer({ min: 0, max: 200_000 }), (state, slot) => {
        const json = JSON.stringify(state);
        columns.set(slot, state);
        const back = columns.get(slot);
        expect(back).toEqual(state);
        expect(JSON.stringify(back)).toBe(json);
        expect(back).not.toBe(state);
        if (state.explanation.keptBy) kept++;
        if (state.risk.reasons.length > 0) risky++;
      }),
      { numRuns: 400 },
    );
    // the generator reaches the interesting shapes
    expect(kept).toBeGreaterThan(0);
    expect(risky).toBeGreaterThan(0);
  });

  it('keeps states of another shape whole, and tells slots apart', () => {
    const columns = new StateColumns(new StringTable());
    const odd = { tier: 'A', risk: { level: 'none', reasons: [] }, runId: 'r1', metrics: { frequency: 1 }, note: 'x' } as unknown as TierState;
    columns.set(3, odd);
    expect(columns.get(3)).toEqual(odd);
    expect(columns.head(3)).toEqual({ tier: 'A', level: 'none', runId: 'r1' });
    expect(columns.writtenBy(3, 'r1')).toBe(true);
    expect(columns.get(2)).toBeNull();
    expect(columns.get(70_000)).toBeNull();
    columns.set(3, null);
    expect(columns.get(3)).toBeNull();
    expect(columns.head(3)).toBeNull();
  });
});
