// The segment report on a data set small enough to work out by hand: customers, window revenue, share,
// customers at risk, value at stake and the latest run's change, as exact numbers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';

const org = { users: [{ id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east' }], teams: [{ id: 't-east', name: '华东组', managerIds: [] }] };
const customers = [
  { id: 'a1', name: '鼎盛制造', ownerId: 'u-zhang', attributes: { industry: '制造业' } },
  { id: 'a2', name: '云帆零售', ownerId: 'u-zhang', attributes: { industry: '零售' } },
  { id: 'c3', name: '恒瑞制造', ownerId: 'u-zhang', attributes: { industry: '制造业' } },
  { id: 'z4', name: '老客户', ownerId: 'u-zhang', attributes: { industry: '零售' } },
];
const orders = (customerId: string, n: number, amount: number, month: number, day0: number) =>
  Array.from({ length: n }, (_, k) => ({ orderId: `${customerId}-${month}-${day0}-${k}`, customerId, amount, occurredAt: `2026-${String(month).padStart(2, '0')}-${String(day0 + k).padStart(2, '0')}T10:00:00+08:00` }));

describe('segment report, exact numbers', () => {
  const clock = fixedClock('2026-06-30T10:00:00+08:00');
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(new MemoryStore(), { clock, env: { TIERBOT_DEMO: '0' } });
    await app.api('/api/v1/org', { method: 'PUT', json: org });
    await app.api('/api/v1/customers', { method: 'PUT', json: customers });
    await app.api('/api/v1/orders', { method: 'POST', json: [...orders('a1', 6, 2000, 6, 1), ...orders('a2', 6, 3000, 6, 1), ...orders('c3', 1, 100, 6, 1), ...orders('z4', 6, 2000, 1, 5)] });
    await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} });
    await app.api('/api/v1/orders', { method: 'POST', json: orders('c3', 6, 2500, 6, 20) });
    clock.set('2026-07-01T02:00:00+08:00');
    await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} });
  }, 60_000);
  afterAll(async () => {
    await app.close();
  });

  it('by industry: a2 6×¥3,000 (A) and z4 6×¥2,000 in January (W, overdue); a1 6×¥2,000 and c3 ¥100 + 6×¥2,500, moved C → A by the latest run', async () => {
    const res = await app.api('/api/v1/reports/segments?by=attributes.industry');
    expect(res.status).toBe(200);
    expect(res.body.segments).toEqual([
      // ¥30,000 of ¥57,100: 52.54 %; z4 is at risk with its ¥12,000 window spend at stake
      { segment: '零售', customers: 2, revenue: 30000, revenueSharePct: 52.54, atRisk: 1, valueAtStake: 12000, tiers: { A: { customers: 1, revenue: 18000, change: 0 }, W: { customers: 1, revenue: 12000, change: 0 } } },
      { segment: '制造业', customers: 2, revenue: 27100, revenueSharePct: 47.46, atRisk: 0, valueAtStake: 0, tiers: { A: { customers: 2, revenue: 27100, change: 1 }, C: { customers: 0, revenue: 0, change: -1 } } },
    ]);
    const a = (await app.api('/api/v1/reports/segments?by=attributes.industry&tier=A')).body.segments;
    expect(a.map((r: { segment: string; customers: number; revenue: number; revenueSharePct: number }) => [r.segment, r.customers, r.revenue, r.revenueSharePct])).toEqual([
      ['制造业', 2, 27100, 60.09],
      ['零售', 1, 18000, 39.91],
    ]);
  });
});
