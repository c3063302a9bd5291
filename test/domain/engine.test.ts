import { describe, expect, it } from 'vitest';
import { compilePolicy, evaluateCustomer } from '../../src/domain/engine.ts';
import type { Rollup, TierState } from '../../src/domain/types.ts';
import { compiled, customer, DAY, evaluate, ms, policy, rawRollup, rollup, runs, statsFor } from './helpers.ts';

const asOf = ms('2026-06-30T02:00:00+08:00');
const at = (daysLater: number) => asOf + daysLater * DAY;

/** k orders of `yuan` each, the last one `recency` days before `when`, `gap` days apart. */
function orders(when: number, k: number, yuan: number, recency = 5, gap = 4): Rollup {
  const t = Array.from({ length: k }, (_, i) => when - (recency + (k - 1 - i) * gap) * DAY);
  return rawRollup(t, t.map(() => Math.round(yuan * 100)));
}
const tierA = (when: number) => orders(when, 6, 2000); // recency 5, frequency 6, monetary 12,000
const tierC = (when: number) => orders(when, 1, 100); // recency 5, frequency 1

describe('tier and explanation', () => {
  const cp = compiled();

  it('the first rule that holds wins, with every leaf explained', () => {
    const s = evaluate(cp, asOf, customer(tierA(asOf))).state;
    expect(s).toMatchObject({ tier: 'A', tierName: '高价值客户', tierRank: 4 });
    expect(s.explanation).toEqual({
      rule: 'A',
      conditions: [
        { metric: 'recencyDays', op: 'lte', value: 30, actual: 5, held: true },
        { metric: 'frequency', op: 'gt', value: 5, actual: 6, held: true },
        { metric: 'monetary', op: 'gt', value: 10000, actual: 12000, held: true },
      ],
    });
  });

  it('B, W and the catch-all C', () => {
    expect(evaluate(cp, asOf, customer(orders(asOf, 3, 1000, 40))).state.tier).toBe('B');
    // the last B order: monetary 9999.99 is inside, 10000 is not
    expect(evaluate(cp, asOf, customer(rawRollup([at(-40), at(-35)], [500000, 499999]))).state.tier).toBe('B');
    expect(evaluate(cp, asOf, customer(rawRollup([at(-40), at(-35)], [500000, 500000]))).state.tier).toBe('C');
    expect(evaluate(cp, asOf, customer(orders(asOf, 2, 6000, 100))).state.tier).toBe('W'); // lifetime 12,000
    expect(evaluate(cp, asOf, customer(orders(asOf, 5, 10, 100))).state.tier).toBe('W'); // frequency 5
    const c = evaluate(cp, asOf, customer(rollup([]))).state;
    expect(c).toMatchObject({ tier: 'C', explanation: { rule: 'C', conditions: [] } });
  });

  it('fills the bookkeeping fields', () => {
    const s = evaluate(compiled(undefined, 7), asOf, customer(tierA(asOf)), undefined, 'run-42').state;
    expect(s).toMatchObject({
      since: '2026-06-30T02:00:00+08:00',
      evaluatedAt: '2026-06-30T02:00:00+08:00',
      previous: null,
      downgradeStreak: 0,
      policyVersion: 7,
      runId: 'run-42',
    });
    expect(s.metrics.previousTierRank).toBe(0);
    expect(s.metrics.tierRank).toBe(4);
  });

  it('uses attributes in tier rules', () => {
    const byIndustry = compiled((p) => p.tiers.splice(0, 0, { key: 'K', name: '重点行业', rank: 9, when: { metric: 'attributes.industry', op: 'in', value: ['制造', '能源'] } }));
    expect(evaluate(byIndustry, asOf, customer(tierC(asOf), { attributes: { industry: '能源' } })).state.tier).toBe('K');
    expect(evaluate(byIndustry, asOf, customer(tierC(asOf), { attributes: { industry: '零售' } })).state.tier).toBe('C');
  });
});

describe('stability', () => {
  it('downgradeAfterRuns 1: a downgrade applies on the first run', () => {
    const cp = compiled();
    const [a, c] = runs(cp, [
      { asOf: at(0), rollup: tierA(at(0)) },
      { asOf: at(1), rollup: tierC(at(1)) },
    ]);
    expect(a.state.tier).toBe('A');
    expect(c.change).toBe('downgrade');
    expect(c.state).toMatchObject({ tier: 'C', previous: 'A', since: '2026-07-01T02:00:00+08:00', downgradeStreak: 0 });
    expect(c.state.metrics).toMatchObject({ previousTierRank: 4, tierRank: 1 });
  });

  it('downgradeAfterRuns 2: the first lower run keeps the tier, the second applies it', () => {
    const cp = compiled((p) => (p.stability.downgradeAfterRuns = 2));
    const [first, kept, applied, stays] = runs(cp, [
      { asOf: at(0), rollup: tierA(at(0)) },
      { asOf: at(1), rollup: tierC(at(1)) },
      { asOf: at(2), rollup: tierC(at(2)) },
      { asOf: at(3), rollup: tierC(at(3)) },
    ]);
    expect(first.change).toBeNull();
    expect(kept.change).toBeNull();
    expect(kept.state).toMatchObject({ tier: 'A', tierRank: 4, since: first.state.since, previous: null, downgradeStreak: 1 });
    expect(kept.state.explanation).toMatchObject({ rule: 'C', keptBy: { stability: true, candidate: 'C', agreeingRuns: 1, needed: 2 } });
    expect(kept.state.metrics.tierRank).toBe(4);
    expect(applied.change).toBe('downgrade');
    expect(applied.state).toMatchObject({ tier: 'C', previous: 'A', since: '2026-07-02T02:00:00+08:00', downgradeStreak: 0 });
    expect(applied.state.explanation.keptBy).toBeUndefined();
    expect(stays.change).toBeNull();
    expect(stays.state).toMatchObject({ tier: 'C', previous: 'A', since: applied.state.since });
  });

  it('a run back at the current tier resets the count', () => {
    const cp = compiled((p) => (p.stability.downgradeAfterRuns = 2));
    const r = runs(cp, [
      { asOf: at(0), rollup: tierA(at(0)) },
      { asOf: at(1), rollup: tierC(at(1)) }, // kept (1 of 2)
      { asOf: at(2), rollup: tierA(at(2)) }, // same tier: reset
      { asOf: at(3), rollup: tierC(at(3)) }, // kept again (1 of 2)
      { asOf: at(4), rollup: tierC(at(4)) }, // applied
    ]);
    expect(r.map((x) => x.state.tier)).toEqual(['A', 'A', 'A', 'A', 'C']);
    expect(r.map((x) => x.state.downgradeStreak)).toEqual([0, 1, 0, 1, 0]);
    expect(r.map((x) => x.change)).toEqual([null, null, null, null, 'downgrade']);
  });

  it('lower results need not agree on the same tier; the applied tier is this run’s result', () => {
    const cp = compiled((p) => (p.stability.downgradeAfterRuns = 2));
    const r = runs(cp, [
      { asOf: at(0), rollup: tierA(at(0)) },
      { asOf: at(1), rollup: orders(at(1), 3, 1000, 40) }, // B
      { asOf: at(2), rollup: tierC(at(2)) }, // C
    ]);
    expect(r.map((x) => x.state.tier)).toEqual(['A', 'A', 'C']);
  });

  it('upgrades apply at once and reset the count', () => {
    const cp = compiled((p) => (p.stability.downgradeAfterRuns = 3));
    const r = runs(cp, [
      { asOf: at(0), rollup: orders(at(0), 3, 1000, 40) }, // B
      { asOf: at(1), rollup: tierC(at(1)) }, // kept B (1 of 3)
      { asOf: at(2), rollup: tierA(at(2)) }, // upgrade
    ]);
    expect(r.map((x) => [x.state.tier, x.change, x.state.downgradeStreak])).toEqual([
      ['B', null, 0],
      ['B', null, 1],
      ['A', 'upgrade', 0],
    ]);
    expect(r[2].state).toMatchObject({ previous: 'B', since: '2026-07-02T02:00:00+08:00' });
  });

  it('a tier the new policy no longer has is replaced at once', () => {
    const cp = compiled((p) => (p.stability.downgradeAfterRuns = 5));
    const old = evaluate(cp, asOf, customer(tierA(asOf))).state;
    const renamed = compiled((p) => {
      p.stability.downgradeAfterRuns = 5;
      p.tiers[0].key = 'S';
    });
    const r = evaluate(renamed, at(1), customer(tierC(at(1)), { current: old }));
    expect(r.state).toMatchObject({ tier: 'C', previous: 'A' });
    expect(r.change).toBe('downgrade');
  });
});

describe('lifecycle', () => {
  const cp = compiled();
  const stage = (r: Rollup, c = cp) => evaluate(c, asOf, customer(r)).state.lifecycle;

  it('prospect without a counted order (orders after asOf do not count)', () => {
    expect(stage(rollup([]))).toBe('prospect');
    expect(stage(rawRollup([at(1)], [100_00]))).toBe('prospect');
  });

  it('churned after churnedDays, dormant after dormantDays', () => {
    expect(stage(rawRollup([at(-366)], [100_00]))).toBe('churned');
    expect(stage(rawRollup([at(-365)], [100_00]))).toBe('dormant');
    expect(stage(rawRollup([at(-181)], [100_00]))).toBe('dormant');
    expect(stage(rawRollup([at(-180)], [100_00]))).toBe('growing'); // one order but tenure 180 > newDays
  });

  it('new: exactly one order and tenure ≤ newDays', () => {
    expect(stage(rawRollup([at(-90)], [100_00]))).toBe('new');
    expect(stage(rawRollup([at(-91)], [100_00]))).toBe('growing');
    expect(stage(rawRollup([at(-3), at(-2)], [100_00, 100_00]))).toBe('growing');
  });

  it('mature when the mature condition holds, else growing', () => {
    expect(stage(tierA(asOf))).toBe('mature'); // r 5 + f 4 + m 4 = 13
    expect(stage(orders(asOf, 3, 1000, 40))).toBe('growing');
  });

  it('precedence: dormant before new, new before mature', () => {
    const always = compiled((p) => {
      p.lifecycle.newDays = 300;
      p.lifecycle.mature = { always: true };
    });
    expect(stage(rawRollup([at(-200)], [100_00]), always)).toBe('dormant');
    expect(stage(rawRollup([at(-10)], [100_00]), always)).toBe('new');
    expect(stage(rawRollup([at(-10), at(-5)], [100_00, 100_00]), always)).toBe('mature');
  });
});

describe('churn: overdue', () => {
  const cp = compiled((p) => (p.churn = [p.churn[0]])); // factor 2, minDays 30
  const overdue = (r: Rollup) => evaluate(cp, asOf, customer(r)).state.risk;
  // orders every 20 days, the last one `recency` days ago: median 20, threshold 40
  const everyTwenty = (recency: number) => orders(asOf, 5, 100, recency, 20);

  it('fires only when recency > factor · median', () => {
    expect(overdue(everyTwenty(40))).toEqual({ level: 'none', reasons: [] });
    expect(overdue(everyTwenty(41))).toEqual({
      level: 'medium',
      reasons: [{ rule: 'overdue', severity: 'medium', detail: { recencyDays: 41, medianIntervalDays: 20, factor: 2, minDays: 30, thresholdDays: 40 } }],
    });
  });

  it('and only from minDays on', () => {
    // median 10 → threshold 20, but minDays 30
    expect(overdue(orders(asOf, 5, 100, 29, 10)).level).toBe('none');
    expect(overdue(orders(asOf, 5, 100, 30, 10)).level).toBe('medium');
  });

  it('needs a median interval', () => {
    expect(overdue(rawRollup([at(-300)], [100_00])).level).toBe('none');
  });
});

describe('churn: spendDrop', () => {
  const cp = compiled((p) => (p.churn = [p.churn[1]])); // 3 months, 20%
  const monthly = (feb: number, mar: number, apr: number, may: number, extra: [string, number][] = []) =>
    rollup([
      ['2026-02-10T10:00:00+08:00', feb],
      ['2026-03-10T10:00:00+08:00', mar],
      ['2026-04-10T10:00:00+08:00', apr],
      ['2026-05-10T10:00:00+08:00', may],
      ...extra,
    ]);
  const risk = (r: Rollup) => evaluate(cp, asOf, customer(r)).state.risk;

  it('fires at exactly 20% less every month, with the monthly numbers', () => {
    expect(risk(monthly(1000, 800, 640, 512))).toEqual({
      level: 'high',
      reasons: [
        {
          rule: 'spendDrop',
          severity: 'high',
          detail: {
            pct: 20,
            months: [
              { month: '2026-02', amount: 1000 },
              { month: '2026-03', amount: 800 },
              { month: '2026-04', amount: 640 },
              { month: '2026-05', amount: 512 },
            ],
            dropPct: [20, 20, 20],
          },
        },
      ],
    });
  });

  it('does not fire at a 19.99% drop in any month', () => {
    expect(risk(monthly(1000, 800.1, 640, 512)).level).toBe('none');
    expect(risk(monthly(1000, 800, 640, 512.01)).level).toBe('none');
  });

  it('does not fire when the month before the first had no spend', () => {
    expect(risk(monthly(0, 0, 0, 0)).level).toBe('none');
    expect(risk(rollup([['2026-03-10T10:00:00+08:00', 800]])).level).toBe('none');
  });

  it('counts complete months before asOf’s month, in the policy time zone', () => {
    // 23:59 on May 31 in Shanghai belongs to May and breaks the drop…
    expect(risk(monthly(1000, 800, 640, 512, [['2026-05-31T23:59:00+08:00', 1]])).level).toBe('none');
    // …00:01 on June 1 is June (although still May 31 in UTC) and does not count
    expect(risk(monthly(1000, 800, 640, 512, [['2026-06-01T00:01:00+08:00', 1]])).level).toBe('high');
    // refunds lower a month's spend
    expect(risk(monthly(1000, 800, 640, 600, [['2026-05-20T10:00:00+08:00', -88]])).level).toBe('high');
  });

  it('a drop to nothing keeps firing', () => {
    expect(risk(monthly(1000, 0, 0, 0)).level).toBe('high');
  });
});

describe('churn: when rules and risk level', () => {
  it('quietVip sees the tier after stability', () => {
    const cp = compiled((p) => {
      p.stability.downgradeAfterRuns = 2;
      p.churn = [p.churn[2]]; // tierRank ≥ 3 and recencyDays > 60
    });
    const [a, kept] = runs(cp, [
      { asOf: at(0), rollup: tierA(at(0)) },
      { asOf: at(61), rollup: tierA(at(0)) }, // nothing new for 66 days: the result is C, kept at A
    ]);
    expect(a.state.risk.level).toBe('none');
    expect(kept.state.tier).toBe('A');
    expect(kept.state.explanation.rule).toBe('C');
    expect(kept.state.risk.level).toBe('high');
    expect(kept.state.risk.reasons[0]).toMatchObject({
      rule: 'quietVip',
      detail: { conditions: [{ metric: 'tierRank', actual: 4, held: true }, { metric: 'recencyDays', actual: 66, held: true }] },
    });
    expect(kept.riskRose).toBe(true);
  });

  it('the level is the highest severity that fired, one reason per rule', () => {
    const cp = compiled((p) => {
      p.churn = [
        { key: 'low1', severity: 'low', when: { always: true } },
        { key: 'med', severity: 'medium', when: { metric: 'frequency', op: 'gte', value: 1 } },
        { key: 'never', severity: 'high', when: { metric: 'frequency', op: 'gt', value: 99 } },
      ];
    });
    const r = evaluate(cp, asOf, customer(tierC(asOf)));
    expect(r.state.risk.level).toBe('medium');
    expect(r.state.risk.reasons.map((x) => x.rule)).toEqual(['low1', 'med']);
    expect(r.riskRose).toBe(true);
    const again = evaluate(cp, at(1), customer(tierC(at(1)), { current: r.state }));
    expect(again.riskRose).toBe(false);
  });
});

describe('whole runs', () => {
  it('orders after asOf change nothing', () => {
    const cp = compiled();
    const base = tierA(asOf);
    const withFuture: Rollup = { t: [...base.t, at(1), at(30)], a: [...base.a, 9_999_999, -5_000_00], g: [...base.g, 1, 1] };
    const pop = [base, orders(asOf, 2, 50)];
    const a = evaluate(cp, asOf, customer(base), pop).state;
    const b = evaluate(cp, asOf, customer(withFuture), [withFuture, pop[1]]).state;
    expect(b).toEqual(a);
  });

  it('evaluates a customer the same way in a run and in a single re-evaluation with the run’s stats', () => {
    const cp = compilePolicy(policy((p) => (p.rfm = { method: 'quintiles' })), 2);
    const pop = [tierA(asOf), tierC(asOf), orders(asOf, 3, 1000, 40), rollup([])];
    const stats = statsFor(cp, asOf, pop);
    const inRun = pop.map((r) => evaluateCustomer(customer(r), { policy: cp, asOf, stats, runId: 'r' }).state);
    const alone = evaluateCustomer(customer(pop[2]), { policy: cp, asOf, stats, runId: 'r' }).state;
    expect(alone).toEqual(inRun[2]);
    // recency 5, 5, 40 among n = 3: 1 + floor(5·1/3) = 2 for the two 5s, 1 for 40
    expect(inRun.map((s: TierState) => s.metrics.r)).toEqual([2, 2, 1, null]);
  });
});
