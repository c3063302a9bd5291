// Chat commands through the console messenger: help, lookup with fuzzy matching and pick lists,
// my at-risk list, pending approvals, unknown commands and unknown users.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchScore } from '../../src/app/workflows/commands.ts';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';
import { command, inbox, ORG } from './helpers.ts';

describe('fuzzy customer matching', () => {
  it('prefers the exact id, then the exact name, then containment, then shared bigrams', () => {
    const c = { id: 'c-0012', name: '上海鼎盛科技有限公司' };
    expect(matchScore('c-0012', c)).toBe(1);
    expect(matchScore('上海鼎盛科技', c)).toBeGreaterThanOrEqual(0.95); // company suffix ignored
    expect(matchScore('鼎盛', c)).toBeGreaterThan(0.8);
    expect(matchScore('鼎盛科枝', c)).toBeGreaterThanOrEqual(0.35); // a typo still matches by bigrams
    expect(matchScore('远航', c)).toBeLessThan(0.35);
  });
});

describe('chat commands', () => {
  let app: TestApp;
  const texts = async (as: string) => (await inbox(app, as)).map((i) => JSON.stringify(i.card));

  beforeAll(async () => {
    app = await startApp(new MemoryStore(), { clock: fixedClock('2026-06-30T10:00:00+08:00') });
    await app.api('/api/v1/org', { method: 'PUT', json: ORG });
    await app.api('/api/v1/customers', {
      method: 'PUT',
      json: [
        { id: 'c-1', name: '上海鼎盛科技有限公司', ownerId: 'u-zhang' },
        { id: 'c-2', name: '上海鼎盛物流有限公司', ownerId: 'u-zhang' },
        { id: 'c-3', name: '杭州远航贸易', ownerId: 'u-zhang' },
        { id: 'c-4', name: '深圳鼎盛电子', ownerId: 'u-liu' },
      ],
    });
    await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} });
  });
  afterAll(async () => app?.close());

  it('answers help in the user\'s language', async () => {
    await command(app, 'u-zhang', '帮助');
    expect((await texts('u-zhang'))[0]).toContain('评分');
    await command(app, 'u-admin', 'help');
    const en = (await texts('u-admin'))[0];
    expect(en).toContain('atrisk');
    expect(en).not.toMatch(/[帮助指令]/);
  });

  it('looks a customer up by a unique fuzzy name and shows its profile', async () => {
    await command(app, 'u-zhang', '客户 远航');
    const [card] = await inbox(app, 'u-zhang');
    expect(card.card.kind).toBe('customer_profile');
    expect(JSON.stringify(card.card)).toContain('杭州远航贸易');
  });

  it('gives a pick list when the name is ambiguous, among visible customers only', async () => {
    await command(app, 'u-zhang', '客户 鼎盛');
    const text = (await texts('u-zhang'))[0];
    expect(text).toContain('c-1');
    expect(text).toContain('c-2');
    expect(text).not.toContain('c-4'); // another team's customer is not visible to this rep
  });

  it('says clearly when nothing matches', async () => {
    await command(app, 'u-zhang', '客户 不存在的公司');
    expect((await texts('u-zhang'))[0]).toContain('未找到');
  });

  it('scores straight from the command, validating every value', async () => {
    await command(app, 'u-zhang', '评分 c-3 profitability=80 strength=120 备注=test');
    expect((await texts('u-zhang'))[0]).toContain('经营实力');
    expect((await app.api('/api/v1/scores?customerId=c-3')).body.items).toHaveLength(0);
    await command(app, 'u-zhang', '评分 c-3 profitability=80 strength=70 备注=稳定');
    expect((await app.api('/api/v1/scores?customerId=c-3')).body.items).toHaveLength(1);
    await command(app, 'u-li', '待审批');
    expect((await texts('u-li')).some((t) => t.includes('杭州远航贸易'))).toBe(true);
  });

  it('answers an unknown command with a hint and an unknown user with a polite note, changing nothing', async () => {
    await command(app, 'u-zhang', 'foo bar');
    expect((await texts('u-zhang'))[0]).toContain('帮助');
    const before = (await app.api('/api/v1/audit')).body.items.length;
    await command(app, 'u-nobody', '评分 c-1 profitability=10 strength=10');
    expect((await texts('u-nobody'))[0]).toContain('组织名单');
    expect((await app.api('/api/v1/scores?customerId=c-1')).body.items).toHaveLength(0);
    expect((await app.api('/api/v1/audit')).body.items.length).toBe(before);
  });
});
