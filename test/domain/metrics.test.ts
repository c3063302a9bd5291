import { describe, expect, it } from 'vitest';
import { baseMetrics, monthlySpend } from '../../src/domain/engine.ts';
import { compiled, customer, DAY, evaluate, ms, rawRollup, rollup } from './helpers.ts';

const cp = compiled();
const asOf = ms('2026-06-30T02:00:00+08:00');
const metricsOf = (r: ReturnType<typeof rollup>, at = asOf, c = cp) => evaluate(c, at, customer(r)).state.metrics;

describe('recencyDays', () => {
  it('counts local calendar days in the policy zone, not elapsed time', () => {
    // 2 hours apart, but yesterday in Shanghai
    expect(metricsOf(rollup([['2026-06-29T23:59:00+08:00', 100]]), ms('2026-06-30T00:01:00+08:00')).recencyDays).toBe(1);
    // almost 24 hours apart, same local day
    expect(metricsOf(rollup([['2026-06-30T00:01:00+08:00', 100]]), ms('2026-06-30T23:59:00+08:00')).recencyDays).toBe(0);
    // same UTC date (06-29) but the next local date
    expect(metricsOf(rollup([['2026-06-29T16:30:00Z', 100]]), ms('2026-06-29T23:00:00Z')).recencyDays).toBe(0);
  });

  it('follows the policy time zone', () => {
    const ny = compiled((p) => (p.timezone = 'America/New_York'));
    // 2026-06-30 03:00 Shanghai = 06-29 15:00 New York; order 06-29 22:00 Shanghai = 06-29 10:00 New York
    const r = rollup([['2026-06-29T22:00:00+08:00', 100]]);
    expect(metricsOf(r, ms('2026-06-30T03:00:00+08:00'), cp).recencyDays).toBe(1);
    expect(metricsOf(r, ms('2026-06-30T03:00:00+08:00'), ny).recencyDays).toBe(0);
  });

  it('uses the latest order at or before asOf, null without one', () => {
    const r = rollup([
      ['2026-06-01T10:00:00+08:00', 100],
      ['2026-07-05T10:00:00+08:00', 100], // after asOf
    ]);
    expect(metricsOf(r).recencyDays).toBe(29);
    expect(metricsOf(rollup([['2026-07-01T10:00:00+08:00', 100]])).recencyDays).toBeNull();
    expect(metricsOf(rollup([])).recencyDays).toBeNull();
  });
});

describe('frequency, monetary and margin over the trailing window', () => {
  it('excludes an order exactly window.days·24h before asOf and includes one 1 ms later', () => {
    const edge = asOf - 365 * DAY;
    const out = metricsOf(rawRollup([edge, asOf], [100_00, 5_00]));
    expect(out.frequency).toBe(1);
    expect(out.monetary).toBe(5);
    const inside = metricsOf(rawRollup([edge + 1, asOf], [100_00, 5_00]));
    expect(inside.frequency).toBe(2);
    expect(inside.monetary).toBe(105);
  });

  it('includes an order exactly at asOf and ignores any after it, everywhere', () => {
    const m = metricsOf(rawRollup([asOf - DAY, asOf, asOf + 1, asOf + 90 * DAY], [10_00, 20_00, 400_00, 800_00], [1_00, NaN, 50_00, 50_00]));
    expect(m).toMatchObject({ frequency: 2, monetary: 30, margin: 1, lifetimeValue: 30, orderCount: 2, recencyDays: 0 });
  });

  it('refunds (negative amounts) subtract from monetary and lifetime value', () => {
    const m = metricsOf(
      rollup([
        ['2026-05-01T10:00:00+08:00', 1000.5],
        ['2026-05-03T10:00:00+08:00', -200.25],
      ]),
    );
    expect(m.monetary).toBe(800.25);
    expect(m.lifetimeValue).toBe(800.25);
    // a refund is a counted order (docs/policy.md: frequency counts the counted orders in the window)
    expect(m.frequency).toBe(2);
    expect(m.avgOrderValue).toBe(400.13); // 80025 fen / 2 = 40012.5 fen → rounded to the fen
  });

  it('sums money exactly in fen', () => {
    const m = metricsOf(rollup(Array.from({ length: 10 }, (_, i) => [`2026-06-0${i % 9 + 1}T10:00:00+08:00`, 0.1] as [string, number])));
    expect(m.monetary).toBe(1);
  });

  it('margin is null unless some window order carries one; orders without margin are skipped', () => {
    expect(metricsOf(rollup([['2026-06-01T10:00:00+08:00', 100]])).margin).toBeNull();
    expect(
      metricsOf(
        rollup([
          ['2026-06-01T10:00:00+08:00', 100, 30],
          ['2026-06-02T10:00:00+08:00', 100],
          ['2026-06-03T10:00:00+08:00', 100, -5.5],
        ]),
      ).margin,
    ).toBe(24.5);
    // a margin only outside the window does not count
    expect(metricsOf(rollup([['2024-06-01T10:00:00+08:00', 100, 30]])).margin).toBeNull();
  });

  it('avgOrderValue is monetary / frequency, null when frequency is 0', () => {
    expect(metricsOf(rollup([['2026-06-01T10:00:00+08:00', 100], ['2026-06-02T10:00:00+08:00', 50]])).avgOrderValue).toBe(75);
    const old = metricsOf(rollup([['2024-01-01T10:00:00+08:00', 100]]));
    expect(old.frequency).toBe(0);
    expect(old.monetary).toBe(0);
    expect(old.avgOrderValue).toBeNull();
  });
});

describe('lifetime, tenure and intervals', () => {
  it('lifetimeValue and orderCount cover every order at or before asOf, also outside the window', () => {
    const m = metricsOf(
      rollup([
        ['2023-01-10T10:00:00+08:00', 1000],
        ['2026-06-10T10:00:00+08:00', 500],
        ['2026-07-10T10:00:00+08:00', 9999],
      ]),
    );
    expect(m).toMatchObject({ lifetimeValue: 1500, orderCount: 2, frequency: 1, monetary: 500 });
  });

  it('tenureDays counts local dates from the first order, null without orders', () => {
    expect(metricsOf(rollup([['2026-06-29T23:59:00+08:00', 1]]), ms('2026-06-30T00:01:00+08:00')).tenureDays).toBe(1);
    expect(metricsOf(rollup([['2024-06-30T09:00:00+08:00', 1], ['2026-06-01T09:00:00+08:00', 1]])).tenureDays).toBe(730);
    expect(metricsOf(rollup([])).tenureDays).toBeNull();
  });

  it('medianIntervalDays: median of gaps between distinct local order dates', () => {
    // dates 06-01, 06-01 (same day), 06-04, 06-14, 06-15 → gaps 3, 10, 1 → median 3
    const odd = rollup([
      ['2026-06-01T09:00:00+08:00', 1],
      ['2026-06-01T23:00:00+08:00', 1],
      ['2026-06-04T09:00:00+08:00', 1],
      ['2026-06-14T09:00:00+08:00', 1],
      ['2026-06-15T09:00:00+08:00', 1],
    ]);
    expect(metricsOf(odd).medianIntervalDays).toBe(3);
    // gaps 3, 10 → mean of the two middle values
    expect(metricsOf(rollup([['2026-06-01T09:00:00+08:00', 1], ['2026-06-04T09:00:00+08:00', 1], ['2026-06-14T09:00:00+08:00', 1]])).medianIntervalDays).toBe(6.5);
  });

  it('medianIntervalDays uses local dates: 23:59 and 00:01 are one day apart', () => {
    const r = rollup([['2026-06-01T23:59:00+08:00', 1], ['2026-06-02T00:01:00+08:00', 1]]);
    expect(metricsOf(r).medianIntervalDays).toBe(1);
  });

  it('medianIntervalDays is null with fewer than two distinct dates', () => {
    expect(metricsOf(rollup([['2026-06-01T09:00:00+08:00', 1], ['2026-06-01T18:00:00+08:00', 1]])).medianIntervalDays).toBeNull();
    expect(metricsOf(rollup([['2026-06-01T09:00:00+08:00', 1]])).medianIntervalDays).toBeNull();
  });

  it('medianIntervalDays handles gaps of many years', () => {
    const r = rollup([
      ['2000-01-01T09:00:00+08:00', 1],
      ['2015-01-01T09:00:00+08:00', 1],
      ['2026-06-01T09:00:00+08:00', 1],
      ['2026-06-02T09:00:00+08:00', 1],
    ]);
    // gaps 5479, 4169, 1 → 4169
    expect(metricsOf(r).medianIntervalDays).toBe(4169);
  });

  it('medianIntervalDays matches a plain sort for many orders', () => {
    const t: number[] = [];
    let x = ms('2020-01-01T00:00:00Z');
    for (let i = 0; i < 300; i++) {
      x += ((i * 7919) % 97) * 3_600_000 * 5 + 3_600_000;
      t.push(x);
    }
    const days = [...new Set(t.map((v) => Math.floor((v + 8 * 3_600_000) / DAY)))];
    const gaps = days.slice(1).map((d, i) => d - days[i]).sort((a, b) => a - b);
    const mid = gaps.length >> 1;
    const expected = gaps.length % 2 ? gaps[mid] : (gaps[mid - 1] + gaps[mid]) / 2;
    expect(metricsOf(rawRollup(t, t.map(() => 100)), ms('2030-01-01T00:00:00Z')).medianIntervalDays).toBe(expected);
  });
});

describe('monetaryTopPct', () => {
  it('is 100·rank/N with ties sharing the best rank, rounded to 2 decimals', () => {
    const spend = [500, 300, 300, 100, 0, 0];
    const pop = spend.map((y) => (y ? rollup([['2026-06-01T10:00:00+08:00', y]]) : rollup([])));
    const pct = pop.map((r) => evaluate(cp, asOf, customer(r), pop).state.metrics.monetaryTopPct);
    expect(pct).toEqual([16.67, 33.33, 33.33, 66.67, 83.33, 83.33]);
  });

  it('places the top 20% of revenue at ≤ 20', () => {
    const pop = Array.from({ length: 10 }, (_, i) => rollup([['2026-06-01T10:00:00+08:00', (i + 1) * 100]]));
    const pct = pop.map((r) => evaluate(cp, asOf, customer(r), pop).state.metrics.monetaryTopPct!);
    expect(pct.filter((p) => p <= 20).length).toBe(2);
    expect(Math.min(...pct)).toBe(10);
  });

  it('ranks a re-evaluated value against the run statistics', () => {
    const pop = [100, 200, 300, 400].map((y) => rollup([['2026-06-01T10:00:00+08:00', y]]));
    const newcomer = rollup([['2026-06-01T10:00:00+08:00', 250]]);
    const stats = evaluate(cp, asOf, customer(pop[0]), pop); // warm
    expect(stats.state.metrics.monetaryTopPct).toBe(100);
    const r = evaluate(cp, asOf, customer(newcomer), pop);
    expect(r.state.metrics.monetaryTopPct).toBe(75); // two of four are larger → rank 3
  });
});

describe('baseMetrics (pass 1)', () => {
  it('agrees with the full evaluation', () => {
    const r = rollup([
      ['2025-06-01T10:00:00+08:00', 100],
      ['2026-06-01T10:00:00+08:00', 250.5],
      ['2026-06-29T23:30:00+08:00', -50],
    ]);
    const full = metricsOf(r);
    expect(baseMetrics(r, asOf, cp)).toEqual({ recencyDays: full.recencyDays, frequency: full.frequency, monetary: full.monetary });
    expect(baseMetrics(rollup([]), asOf, cp)).toEqual({ recencyDays: null, frequency: 0, monetary: 0 });
  });
});

describe('monthlySpend', () => {
  it('buckets by local calendar month: last N complete months plus the current one', () => {
    const r = rollup([
      ['2026-03-31T23:59:00+08:00', 10], // March locally, still March in UTC
      ['2026-05-31T23:59:00+08:00', 20], // May
      ['2026-06-01T00:01:00+08:00', 40], // June locally (May 31 in UTC)
      ['2026-06-15T10:00:00+08:00', -5],
      ['2026-06-30T03:00:00+08:00', 1000], // after asOf
      ['2025-01-01T10:00:00+08:00', 999], // too old
    ]);
    expect(monthlySpend(r, asOf, 'Asia/Shanghai', 3)).toEqual([
      { month: '2026-03', amount: 10 },
      { month: '2026-04', amount: 0 },
      { month: '2026-05', amount: 20 },
      { month: '2026-06', amount: 35 },
    ]);
    expect(monthlySpend(r, asOf, 'Asia/Shanghai', 11)).toHaveLength(12);
    expect(monthlySpend(r, asOf, 'UTC', 1)).toEqual([
      { month: '2026-05', amount: 60 },
      { month: '2026-06', amount: -5 },
    ]);
  });
});
