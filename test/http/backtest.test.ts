// The backtest on a population whose churners are known by construction: every number worked by hand.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import type { Store } from '../../src/ports/store.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';

const DAY = 86_400_000;
const AS_OF = '2026-03-01T00:00:00.000Z';
const at = (days: number) => new Date(Date.parse(AS_OF) + days * DAY).toISOString();

async function snapshot(store: Store): Promise<string> {
  const customers: unknown[] = [];
  for await (const batch of store.streamCustomers(1000)) customers.push(...batch);
  return JSON.stringify({ customers, policy: await store.getPolicy() });
}

describe('backtest', () => {
  let app: TestApp;
  let store: Store;
  let policy: any;
  beforeAll(async () => {
    store = new MemoryStore();
    app = await startApp(store, { clock: fixedClock('2026-06-30T10:00:00Z') });
    const base = parse(await readFile(resolve(import.meta.dirname, '../../config/policy.yaml'), 'utf8'));
    policy = {
      ...base,
      tiers: [
        { ...base.tiers[0], key: 'A', rank: 2, when: { metric: 'monetary', op: 'gte', value: 10000 } },
        { ...base.tiers[3], key: 'C', rank: 1, when: { always: true } },
      ],
      churn: [
        { key: 'quiet', severity: 'medium', when: { metric: 'recencyDays', op: 'gt', value: 60 } },
        { key: 'cold', severity: 'high', when: { metric: 'recencyDays', op: 'gt', value: 120 } },
      ],
    };
    expect((await app.api('/api/v1/policy', { method: 'PUT', json: policy })).status).toBe(200);
    const ids = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'];
    expect((await app.api('/api/v1/customers', { method: 'PUT', json: ids.map((id) => ({ id, name: id, ownerId: 'u-x' })) })).status).toBe(200);
    const o = (customerId: string, day: number, amount: number, status?: string) => ({ orderId: `${customerId}-${day}-${amount}`, customerId, amount, occurredAt: at(day), ...(status ? { status } : {}) });
    const orders = [
      // c1: tier A (12,000 before asOf), buys 3,000 in the horizon: below 50% of the 12,000 before, a drop
      o('c1', -10, 6000), o('c1', -20, 6000), o('c1', 5, 3000),
      // c2: tier A, keeps buying (8,000 >= 50% of 12,000)
      o('c2', -5, 12000), o('c2', 10, 8000),
      // c3: quiet 90 days, lapses: a true alert
      o('c3', -90, 500),
      // c4: quiet and cold (200 days), buys again: a false alert for both (nothing before in the last 30 days, so no drop)
      o('c4', -200, 500), o('c4', 3, 700),
      // c5: bought 15 days ago, lapses without an alert (a miss); a cancelled order in the horizon is no purchase
      o('c5', -15, 1000), o('c5', 12, 999, 'cancelled'),
      // c6: first order after asOf: not a customer yet
      o('c6', 2, 400),
      // c7: quiet 70 days as of asOf (the order after the horizon must not count), lapses: a true alert
      o('c7', -70, 300), o('c7', 40, 300),
    ];
    expect((await app.api('/api/v1/orders', { method: 'POST', json: orders })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  const run = (json: unknown) => app.api('/api/v1/tiering/backtest', { method: 'POST', json });

  it('gives exact per-tier revenue, lapsed share, and alert precision and recall per detector; writes nothing', async () => {
    const before = await snapshot(store);
    const res = await run({ asOf: AS_OF, horizonDays: 30 });
    expect(res.status).toBe(200);
    const b = res.body;
    expect(await snapshot(store)).toBe(before);
    expect(b).toMatchObject({ customers: 6, notYetCustomers: 1, lapsed: 3, dropped: 1, revenue: 1_170_000, dropBelowPct: 50 });
    expect(b.revenuePerCustomer).toBeCloseTo(195_000, 9);
    const [a, c] = b.tiers;
    expect(a).toMatchObject({ tier: 'A', customers: 2, revenue: 1_100_000, revenuePerCustomer: 550_000, lapsed: 0, lapsedShare: 0 });
    expect(a.lift).toBeCloseTo(550_000 / 195_000, 12);
    expect(c).toMatchObject({ tier: 'C', customers: 4, revenue: 70_000, revenuePerCustomer: 17_500, lapsed: 3, lapsedShare: 0.75 });
    expect(c.lift).toBeCloseTo(17_500 / 195_000, 12);
    expect(b.alerts).toMatchObject({ alerted: 3, truePositives: 2, lapsedAlerted: 2 });
    expect(b.alerts.precision).toBeCloseTo(2 / 3, 12);
    expect(b.alerts.recall).toBeCloseTo(2 / 3, 12);
    expect(Object.keys(b.alerts.detectors)).toEqual(['cold', 'quiet']);
    expect(b.alerts.detectors.quiet).toMatchObject({ alerted: 3, truePositives: 2, lapsedAlerted: 2 });
    expect(b.alerts.detectors.cold).toEqual({ alerted: 1, truePositives: 0, precision: 0, lapsedAlerted: 0, recall: 0 });
    expect(b.stability).toMatch(/no prior state/);
  });

  it('a drop threshold of 20% turns c1 into a keeper', async () => {
    const b = (await run({ asOf: AS_OF, horizonDays: 30, dropBelowPct: 20 })).body;
    expect(b.dropped).toBe(0);
  });

  it('puts two policies side by side, each with its own numbers', async () => {
    const strict = { ...policy, tiers: [{ ...policy.tiers[0], when: { metric: 'monetary', op: 'gte', value: 100000 } }, policy.tiers[1]], churn: [policy.churn[1]] };
    const res = await run({ asOf: AS_OF, horizonDays: 30, policies: [null, strict] });
    expect(res.status).toBe(200);
    const [x, y] = res.body.results;
    expect(x.tiers.map((t: any) => t.customers)).toEqual([2, 4]);
    expect(x.alerts.alerted).toBe(3);
    expect(y.tiers.map((t: any) => t.customers)).toEqual([0, 6]);
    expect(y.alerts).toMatchObject({ alerted: 1, truePositives: 0, precision: 0, recall: 0 });
    expect(Object.keys(y.alerts.detectors)).toEqual(['cold']);
  });

  it('refuses bad input with a 422 (valid JSON, invalid content) naming the field', async () => {
    const field = async (json: unknown) => {
      const res = await run(json);
      expect(res.status).toBe(422);
      return res.body.error.details.map((d: { path: string }) => d.path);
    };
    expect(await field({ asOf: '2026-07-01T00:00:00Z', horizonDays: 30 })).toContain('asOf');
    expect(await field({ asOf: '2026-06-20T00:00:00Z', horizonDays: 30 })).toContain('horizonDays');
    expect(await field({ asOf: AS_OF, horizonDays: 0 })).toContain('horizonDays');
    expect(await field({ asOf: AS_OF, horizonDays: -3 })).toContain('horizonDays');
    expect(await field({ asOf: AS_OF, horizonDays: 100_000 })).toContain('horizonDays');
    expect(await field({ asOf: 'yesterday', horizonDays: 30 })).toContain('asOf');
    expect((await field({ asOf: AS_OF, horizonDays: 30, policy: { ...policy, tiers: [] } })).some((p: string) => p.startsWith('policy'))).toBe(true);
    expect((await field({ asOf: AS_OF, horizonDays: 30, policies: [null, 'tiers: [oops'] })).some((p: string) => p.startsWith('policies.1'))).toBe(true);
  });
});
