// The digest's "top growing segment" line: among the top tier's customers of the team, the segment (by
// industry, the default grouping) whose revenue grew most since the previous digest, with exact numbers;
// no line on the first digest, nor when nothing grew.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';
import { inbox } from './helpers.ts';

const org = {
  users: [{ id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east' }, { id: 'u-wang', name: '王五', role: 'rep', teamId: 't-west' }],
  teams: [{ id: 't-east', name: '华东组', managerIds: [] }, { id: 't-west', name: '华西组', managerIds: [] }],
};
const customers = [
  { id: 'a1', name: '鼎盛制造', ownerId: 'u-zhang', attributes: { industry: '制造业' } },
  { id: 'a2', name: '云帆零售', ownerId: 'u-zhang', attributes: { industry: '零售' } },
  { id: 'c3', name: '恒瑞制造', ownerId: 'u-zhang', attributes: { industry: '制造业' } },
  // another team's: never in t-east's line
  { id: 'w1', name: '西部制造', ownerId: 'u-wang', attributes: { industry: '物流' } },
];
const orders = (customerId: string, n: number, amount: number, day0: number) =>
  Array.from({ length: n }, (_, k) => ({ orderId: `${customerId}-${day0}-${k}`, customerId, amount, occurredAt: `2026-06-${String(day0 + k).padStart(2, '0')}T10:00:00+08:00` }));

describe('the digest\'s top growing segment', () => {
  const clock = fixedClock('2026-06-30T09:07:00+08:00');
  let app: TestApp;
  const digestText = async (date: string) => {
    const res = await app.api('/api/v1/digests/run', { method: 'POST', json: { teamId: 't-east' } });
    expect(res.status).toBe(200);
    await app.bot.chat.settle();
    const card = (await inbox(app, 't-east')).find((i) => i.card.kind === 'daily_digest' && JSON.stringify(i.card).includes(date));
    expect(card).toBeDefined();
    return JSON.stringify(card!.card);
  };
  beforeAll(async () => {
    app = await startApp(new MemoryStore(), { clock, env: { TIERBOT_DEMO: '0' } });
    await app.api('/api/v1/org', { method: 'PUT', json: org });
    await app.api('/api/v1/customers', { method: 'PUT', json: customers });
    // A: within 30 days, more than 5 orders, more than ¥10,000
    await app.api('/api/v1/orders', { method: 'POST', json: [...orders('a1', 6, 2000, 1), ...orders('a2', 6, 3000, 1), ...orders('c3', 1, 100, 1), ...orders('w1', 6, 5000, 1)] });
    await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} });
  }, 60_000);
  afterAll(async () => {
    await app.close();
  });

  it('is absent from the first digest, names the segment that grew most with its revenue and customers, and is absent when nothing grew', async () => {
    const tiers = Object.fromEntries((await app.api('/api/v1/customers?limit=10')).body.items.map((c: { id: string; tier: { key: string } }) => [c.id, c.tier.key]));
    expect(tiers).toEqual({ a1: 'A', a2: 'A', c3: 'C', w1: 'A' });
    expect(await digestText('2026-06-30')).not.toContain('增长最快');

    // c3 becomes an A customer (¥100 + 6 × ¥2,500), a2 buys ¥1,000 more
    await app.api('/api/v1/orders', { method: 'POST', json: [...orders('c3', 6, 2500, 20), ...orders('a2', 1, 1000, 28), ...orders('w1', 6, 9000, 20)] });
    clock.set('2026-07-01T02:00:00+08:00');
    await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} });
    clock.set('2026-07-01T09:07:00+08:00');
    const text = await digestText('2026-07-01');
    // 制造业 among A: ¥12,000 (a1) → ¥27,100 (a1 + c3), one customer more; 零售 only +¥1,000
    expect(text).toContain('A 类客户中增长最快的细分：行业=制造业 +¥15,100（+1 个客户）');
    expect(text).not.toContain('物流');

    clock.set('2026-07-02T09:07:00+08:00');
    expect(await digestText('2026-07-02')).not.toContain('增长最快');
  }, 60_000);
});
