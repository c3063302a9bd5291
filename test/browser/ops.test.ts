// The operations page in a real browser: runs with their counts, a dead letter with its error and a retry
// that puts it back in the queue, and the audit log that records the retry.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, openPage, screenshot } from './chromium.ts';
import { noticeCard } from '../../cards/notice.ts';
import { fixedClock, startDemoApp, TEST_TOKEN, type TestApp } from '../helpers/app.ts';

describe.skipIf(!CHROMIUM)('the operations page in chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let deadId: string;

  beforeAll(async () => {
    app = await startDemoApp({ clock: fixedClock('2026-06-30T10:00:00+08:00') });
    // a card for a platform this server has no credentials for: given up at once, a dead letter
    const card = noticeCard('zh-CN', '测试通知', ['hello'], `${app.url}/console`);
    ({ id: deadId } = await app.bot.chat.outbox.enqueue({ kind: 'notice', recipient: { platform: 'feishu', kind: 'user', id: 'ou_nobody' }, card, subject: 'ops-test', period: 'x' }));
    await app.bot.chat.settle();
    ({ browser, page } = await openPage({ width: 1280, height: 900 }));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows the runs, retries a dead letter and audits the retry; only for admins', async () => {
    expect((await app.bot.chat.outbox.get(deadId))?.status).toBe('dead');
    await page.goto(`${app.url}/console/ops#token=${TEST_TOKEN}`);
    const run = (await app.api('/api/v1/tiering/runs')).body.items[0];
    const runRow = page.locator(`tr[data-run="${run.id}"]`);
    await runRow.waitFor();
    expect(await runRow.textContent()).toContain('完成');
    expect(await runRow.textContent()).toContain(run.counts.evaluated.toLocaleString('zh-CN'));

    const row = page.locator(`tr[data-id="${deadId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('platform feishu is not configured');
    await screenshot(page, 'console-ops');
    await row.getByRole('button', { name: '重试' }).click();
    await expect.poll(async () => (await app.bot.chat.outbox.get(deadId))?.status).toBe('pending');
    // the list (of dead letters) no longer holds it
    await expect.poll(() => page.locator(`tr[data-id="${deadId}"]`).count()).toBe(0);
    // a second retry is refused: it is not dead
    expect((await app.api(`/api/v1/outbox/${deadId}/retry`, { method: 'POST' })).status).toBe(409);
    expect((await app.api('/api/v1/outbox/nope/retry', { method: 'POST' })).status).toBe(404);
    await page.fill('#audit-filters [name=actor]', 'ADMIN_TOKEN');
    await page.click('#audit-filters button');
    await expect.poll(() => page.locator('#audit').textContent()).toContain('outbox.retry');

    // a rep's session: the page says it is for admins, and shows nothing
    const link = await app.bot.links.url('u-zhang', {});
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    await phone.goto(`${app.url}${new URL(link).pathname}${new URL(link).search}`);
    await phone.goto(`${app.url}/console/ops`);
    await expect.poll(() => phone.locator('#error').textContent()).toContain('仅管理员可见');
    expect(await phone.locator('#outbox tr').count()).toBe(0);
    await phone.close();
  });
});
