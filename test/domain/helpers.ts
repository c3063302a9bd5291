// Shared builders for the domain tests.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'yaml';
import {
  baseMetrics,
  compilePolicy,
  evaluateCustomer,
  PopulationBuilder,
  repeatCounts,
  type CompiledPolicy,
  type CustomerEvalInput,
  type EvalResult,
} from '../../src/domain/engine.ts';
import { parsePolicy, type Policy } from '../../src/domain/policy.ts';
import type { ApprovedScore, PopulationStats, Rollup, TierState } from '../../src/domain/types.ts';

export const DAY = 86_400_000;

export function defaultPolicyInput(): Record<string, any> {
  return parse(readFileSync(new URL('../../config/policy.yaml', import.meta.url), 'utf8'));
}

/** The default policy with `patch` applied on a deep copy. */
export function policy(patch: (p: Record<string, any>) => void = () => {}): Policy {
  const input = defaultPolicyInput();
  patch(input);
  const r = parsePolicy(input);
  if (!r.ok) throw new Error(`test policy invalid: ${JSON.stringify(r.issues)}`);
  return r.policy;
}

export function compiled(patch?: (p: Record<string, any>) => void, version = 1): CompiledPolicy {
  return compilePolicy(policy(patch), version);
}

export const ms = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad date ${iso}`);
  return t;
};

/** Orders as [occurredAt ISO, amount yuan, margin yuan?]; sorted like a real rollup. */
export function rollup(orders: [string, number, number?][]): Rollup {
  const rows = orders.map(([at, amount, margin]) => ({ t: ms(at), a: Math.round(amount * 100), g: margin === undefined ? NaN : Math.round(margin * 100) }));
  rows.sort((x, y) => x.t - y.t);
  return { t: rows.map((r) => r.t), a: rows.map((r) => r.a), g: rows.map((r) => r.g) };
}

/** A rollup straight from epoch ms and fen. */
export function rawRollup(t: number[], aFen: number[], gFen?: number[]): Rollup {
  return { t, a: aFen, g: gFen ?? t.map(() => NaN) };
}

export function customer(r: Rollup, extra: Partial<CustomerEvalInput> = {}): CustomerEvalInput {
  return { rollup: r, attributes: {}, score: null, current: null, ...extra };
}

export function score(points: Record<string, number>): ApprovedScore {
  return { points, approvedBy: 'u-li', approvedAt: '2026-06-01T10:00:00+08:00' };
}

export function statsFor(cp: CompiledPolicy, asOf: number, rollups: Rollup[]): PopulationStats {
  const b = new PopulationBuilder(cp);
  for (const r of rollups) {
    const m = baseMetrics(r, asOf, cp);
    b.add(m.recencyDays, m.frequency, m.monetary);
    const rc = repeatCounts(r, asOf, cp);
    if (rc !== null) b.addRepeat(rc.x, rc.tx, rc.T, rc.repeatFen);
  }
  return b.finish();
}

/** Evaluates one customer in a run of `population` (defaults to just this customer). */
export function evaluate(
  cp: CompiledPolicy,
  asOf: number,
  input: CustomerEvalInput,
  population: Rollup[] = [input.rollup],
  runId = 'run-1',
  models?: PopulationStats['models'],
): EvalResult {
  const stats = statsFor(cp, asOf, population);
  return evaluateCustomer(input, { policy: cp, asOf, stats: models === undefined ? stats : { ...stats, models }, runId });
}

/** Runs the same customer through consecutive runs, feeding each state into the next. */
export function runs(cp: CompiledPolicy, steps: { asOf: number; rollup: Rollup; score?: ApprovedScore | null }[], start: TierState | null = null) {
  let current = start;
  return steps.map((s, i) => {
    const r = evaluate(cp, s.asOf, customer(s.rollup, { current, score: s.score ?? null }), [s.rollup], `run-${i + 1}`);
    current = r.state;
    return r;
  });
}

/** Rollups of up to 30 orders over the two years before `asOf` and a few days after it; some refunds, some margins. */
export function rollupArb(asOf: number): fc.Arbitrary<Rollup> {
  const order = fc.record({
    t: fc.integer({ min: asOf - 730 * DAY, max: asOf + 10 * DAY }),
    a: fc.oneof(fc.integer({ min: 1, max: 2_000_000 }), fc.integer({ min: -200_000, max: -1 })),
    g: fc.option(fc.integer({ min: -100_000, max: 500_000 }), { nil: undefined }),
  });
  return fc.array(order, { maxLength: 30 }).map((os): Rollup => {
    const s = [...os].sort((x, y) => x.t - y.t);
    return { t: s.map((o) => o.t), a: s.map((o) => o.a), g: s.map((o) => o.g ?? NaN) };
  });
}
