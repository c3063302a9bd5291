// Tier × segment reports: every customer in its segment once (by tag: once per tag), revenue shares that add
// up, the latest run's moves as changes, and only what the viewer may see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, makeTestStore, startApp, type StoreKind, type TestApp } from '../helpers/app.ts';
import { hasMongo } from '../setup/mongo.ts';

const org = {
  users: [
    { id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east' },
    { id: 'u-wang', name: '王五', role: 'rep', teamId: 't-west' },
  ],
  teams: [
    { id: 't-east', name: '华东组', managerIds: [] },
    { id: 't-west', name: '华西组', managerIds: [] },
  ],
};
const industries = ['制造业', '零售', '物流'];
const customers = Array.from({ length: 12 }, (_, i) => ({
  id: `c-${String(i).padStart(2, '0')}`,
  name: `客户${i}`,
  ownerId: i % 3 === 0 ? 'u-wang' : 'u-zhang',
  attributes: i === 11 ? {} : { industry: industries[i % 3] },
  tags: i % 2 === 0 ? ['重点', '华东'] : ['华东'],
}));

for (const kind of ['memory', 'mongo'] as StoreKind[]) {
  describe.skipIf(kind === 'mongo' && !hasMongo)(`segment reports (${kind} store)`, () => {
    const clock = fixedClock('2026-06-30T10:00:00+08:00');
    let app: TestApp;
    let before: Record<string, string>;
    beforeAll(async () => {
      app = await startApp(makeTestStore(kind, 'segments'), { clock, env: { TIERBOT_DEMO: '0' } });
      await app.api('/api/v1/org', { method: 'PUT', json: org });
      await app.api('/api/v1/customers', { method: 'PUT', json: customers });
      const orders = customers.flatMap((c, i) => Array.from({ length: 1 + (i % 4) }, (_, k) => ({ orderId: `o-${i}-${k}`, customerId: c.id, amount: 500 * (i + 1), occurredAt: `2026-06-${String(10 + k).padStart(2, '0')}T10:00:00+08:00` })));
      await app.api('/api/v1/orders', { method: 'POST', json: orders });
      await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} });
      before = Object.fromEntries((await app.api('/api/v1/customers?limit=100')).body.items.map((c: { id: string; tier: { key: string } }) => [c.id, c.tier.key]));
      // c-01 becomes a big, frequent buyer: the next run moves it up
      const big = Array.from({ length: 8 }, (_, k) => ({ orderId: `big-${k}`, customerId: 'c-01', amount: 9000, occurredAt: `2026-06-${String(20 + k).padStart(2, '0')}T10:00:00+08:00` }));
      await app.api('/api/v1/orders', { method: 'POST', json: big });
      clock.set('2026-07-01T10:00:00+08:00'); // the next night
      await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} });
    }, 120_000);
    afterAll(async () => {
      await app.close();
    });

    const all = async () => (await app.api('/api/v1/customers?limit=100')).body.items as { id: string; tier: { key: string }; metrics: { monetary: number }; attributes: Record<string, string> }[];

    it('by an attribute: each customer in one segment, revenue and shares adding up, the run\'s move as a change', async () => {
      const res = await app.api('/api/v1/reports/segments?by=attributes.industry');
      expect(res.status).toBe(200);
      const rows = res.body.segments as { segment: string; customers: number; revenue: number; revenueSharePct: number; tiers: Record<string, { customers: number; change: number }> }[];
      const now = await all();
      expect(rows.map((r) => r.segment).sort()).toEqual([...industries, '(none)'].sort());
      for (const r of rows) {
        const members = now.filter((c) => (c.attributes.industry ?? '(none)') === r.segment);
        expect(r.customers).toBe(members.length);
        expect(r.revenue).toBeCloseTo(members.reduce((s, c) => s + c.metrics.monetary, 0), 2);
        for (const [tier, cell] of Object.entries(r.tiers)) expect(cell.customers).toBe(members.filter((c) => c.tier.key === tier).length);
      }
      expect(rows.reduce((s, r) => s + r.revenueSharePct, 0)).toBeCloseTo(100, 0);
      // c-01 (零售) moved: +1 in its new tier, −1 in its old one, nowhere else
      const after = now.find((c) => c.id === 'c-01')!.tier.key;
      expect(after).not.toBe(before['c-01']);
      const retail = rows.find((r) => r.segment === '零售')!;
      expect(retail.tiers[after].change).toBe(1);
      expect(retail.tiers[before['c-01']].change).toBe(-1);
      for (const r of rows.filter((x) => x.segment !== '零售')) for (const cell of Object.values(r.tiers)) expect(cell.change).toBe(0);
    });

    it('by tag: a customer counts in each of its tags; a tier alone; only what a rep may see', async () => {
      const tags = (await app.api('/api/v1/reports/segments?by=tags')).body.segments as { segment: string; customers: number }[];
      expect(Object.fromEntries(tags.map((t) => [t.segment, t.customers]))).toEqual({ 华东: 12, 重点: 6 });
      const now = await all();
      const tier = now[0].tier.key;
      const one = (await app.api(`/api/v1/reports/segments?by=tags&tier=${tier}`)).body;
      expect(one.tier).toBe(tier);
      expect(one.segments.find((s: { segment: string }) => s.segment === '华东').customers).toBe(now.filter((c) => c.tier.key === tier).length);

      const link = await app.bot.links.url('u-wang', {});
      const res = await fetch(app.url + link.slice(link.indexOf('/console')), { redirect: 'manual' });
      const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const mine = await (await fetch(`${app.url}/api/v1/reports/segments?by=owner`, { headers: { cookie } })).json();
      expect(mine.segments.map((s: { segment: string }) => s.segment)).toEqual(['u-wang']);
      expect(mine.segments[0].customers).toBe(customers.filter((c) => c.ownerId === 'u-wang').length);
    });

    it('names a bad grouping', async () => {
      const res = await app.api('/api/v1/reports/segments?by=colour');
      expect(res.status).toBe(422);
      expect(res.body.error.details[0].path).toBe('by');
    });
  });
}
