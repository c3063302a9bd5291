// The fingerprint a recompute compares before it reads a customer whole: states a user would see as the same
// hash alike (whatever run wrote them, whenever), states that differ in anything visible hash apart.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameEvaluation } from '../../src/app/recompute.ts';
import { stateFingerprint } from '../../src/domain/fingerprint.ts';
import type { TierState } from '../../src/domain/types.ts';
import { compiled, customer, evaluate, rollupArb } from './helpers.ts';

const AS_OF = Date.parse('2026-06-30T02:00:00+08:00');
const DAY = 86_400_000;
const cp = compiled();
const stateArb = fc.tuple(rollupArb(AS_OF), fc.integer({ min: 0, max: 400 })).map(([r, later]) => evaluate(cp, AS_OF + later * DAY, customer(r)).state);

describe('stateFingerprint', () => {
  it('agrees with the comparison that decides a rewrite, on random engine states', () => {
    fc.assert(
      fc.property(stateArb, stateArb, (a, b) => {
        const same = sameEvaluation(a, { ...b, alerted: a.alerted });
        expect(stateFingerprint(a) === stateFingerprint(b)).toBe(same);
      }),
      { numRuns: 400 },
    );
  });

  it('ignores who wrote the state and when, and the alert bookkeeping', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        const rewritten: TierState = { ...structuredClone(s), runId: 'run-other', evaluatedAt: '2027-01-01T00:00:00.000Z', since: '2020-01-01T00:00:00.000Z', previous: 'X', alerted: { level: 'high', rules: ['overdue'], runId: 'run-x' } };
        expect(stateFingerprint(rewritten)).toBe(stateFingerprint(s));
      }),
      { numRuns: 200 },
    );
  });

  it('tells apart states that differ in one visible field', () => {
    fc.assert(
      fc.property(stateArb, fc.constantFrom('tier', 'tierName', 'lifecycle', 'streak', 'version', 'level', 'metric', 'null metric', 'rule', 'kept', 'reason'), (s, field) => {
        const t = structuredClone(s);
        if (field === 'tier') t.tier += 'x';
        else if (field === 'tierName') t.tierName += '级';
        else if (field === 'lifecycle') t.lifecycle = t.lifecycle === 'dormant' ? 'mature' : 'dormant';
        else if (field === 'streak') t.downgradeStreak++;
        else if (field === 'version') t.policyVersion++;
        else if (field === 'level') t.risk.level = t.risk.level === 'high' ? 'low' : 'high';
        else if (field === 'metric') t.metrics.monetary = (t.metrics.monetary ?? 0) + 0.01;
        else if (field === 'null metric') t.metrics.recencyDays = t.metrics.recencyDays === null ? 0 : null;
        else if (field === 'rule') t.explanation.rule += 'x';
        else if (field === 'kept') t.explanation.keptBy = t.explanation.keptBy ? undefined : { stability: true, candidate: 'C', agreeingRuns: 1, needed: 2 };
        else t.risk.reasons = [...t.risk.reasons, { rule: 'x', severity: 'low', detail: { days: 1 } }];
        expect(sameEvaluation(s, t)).toBe(false);
        expect(stateFingerprint(t)).not.toBe(stateFingerprint(s));
      }),
      { numRuns: 400 },
    );
  });
});
