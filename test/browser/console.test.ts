// The console in a real browser (Debian's chromium via playwright-core): the tier table, then the
// core story — act as a rep, score a customer, switch to the manager, approve, see every card update —
// and the demo's first morning: a rep's alert summary, whose link opens the console on their customers.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, openPage, screenshot } from './chromium.ts';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { fixedClock, startApp, startDemoApp, TEST_TOKEN, type TestApp } from '../helpers/app.ts';
import { seed } from '../workflows/helpers.ts';


describe.skipIf(!CHROMIUM)('console in chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    app = await startApp(new MemoryStore(), { clock: fixedClock('2026-06-30T10:00:00+08:00') });
    await seed(app);
    ({ browser, page } = await openPage({ width: 1280, height: 900 }));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const shot = (name: string) => screenshot(page, name);

  it('shows the tier distribution and the tiered customers', async () => {
    await page.goto(`${app.url}/console#token=${TEST_TOKEN}`);
    const a = (await app.api('/api/v1/customers/c-a')).body;
    await page.locator('#distribution .stat').first().waitFor();
    const distribution = (await app.api('/api/v1/reports/distribution')).body;
    const expected = distribution.tiers.find((t: { key: string }) => t.key === a.tier.key).count;
    expect(expected).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.locator(`[data-tier="${a.tier.key}"] b`).textContent()).toBe(String(expected));
    const rows = page.locator('#rows tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain('上海鼎盛科技有限公司');
    expect(await rows.first().textContent()).toContain(a.tier.name);
    // the token left the address bar
    expect(page.url()).not.toContain(TEST_TOKEN);
    await shot('console-customers');
  });

  it('lets a rep score a customer and a manager approve it, every card updating', async () => {
    await page.click('#tab-inbox');
    await page.selectOption('#as', 'u-zhang');
    await page.fill('#command', '评分 鼎盛');
    await page.click('#send-command');
    const form = page.locator('article[data-kind="score_form"] form');
    await form.waitFor();
    await form.locator('select[name="profitability"]').selectOption('90');
    await form.locator('select[name="strength"]').selectOption('80');
    await form.locator('input[name="comment"]').fill('回款及时，订单稳定');
    await shot('console-score-form');
    await form.locator('button[type="submit"]').click();
    await expect.poll(() => page.locator('#toast').textContent()).toContain('已提交审批');

    await page.selectOption('#as', 'u-li');
    const request = page.locator('article[data-kind="approval_request"]');
    await request.waitFor();
    expect(await request.textContent()).toContain('回款及时');
    await shot('console-approval-request');
    await request.getByRole('button', { name: /通过/ }).click();
    await expect.poll(() => page.locator('#toast').textContent()).toContain('已通过');
    // the manager's card is the same card, now closed and saying who decided
    await expect.poll(async () => page.locator('article .closed').count()).toBe(1);
    expect(await page.locator('article').first().textContent()).toContain('李经理');

    await page.selectOption('#as', 'u-wang');
    await expect.poll(async () => (await page.locator('article').first().textContent()) ?? '').toContain('李经理');

    await page.selectOption('#as', 'u-zhang');
    await page.locator('article[data-kind="approval_result"]').waitFor();
    await shot('console-approval-result');
    const customer = (await app.api('/api/v1/customers/c-a')).body;
    expect(customer.score.points).toEqual({ profitability: 90, strength: 80 });
  });
});

describe.skipIf(!CHROMIUM)('the demo in chromium: the alert summary', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    app = await startDemoApp({ clock: fixedClock('2026-06-30T10:00:00+08:00') });
    // a rep opens the console from the card on a phone
    ({ browser, page } = await openPage({ width: 390, height: 844 }));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("shows a rep one summary of their book, whose link lists that rep's customers", async () => {
    await page.goto(`${app.url}/console#token=${TEST_TOKEN}`);
    await page.click('#tab-inbox');
    await page.selectOption('#as', 'u-zhang');
    const summary = page.locator('article[data-kind="alert_summary"]');
    await summary.waitFor();
    expect(await page.locator('article').count()).toBe(1);
    const atRisk = (await app.api('/api/v1/reports/at-risk?ownerId=u-zhang&limit=1000')).body;
    expect(await summary.textContent()).toContain(`${atRisk.total} 个有流失风险`);
    expect(await summary.textContent()).toContain(atRisk.items[0].name);
    // it fits the phone's width: nothing to scroll sideways
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(summary, 'console-alert-summary');
    // the link is signed for 张三: on their phone (no admin token, a browser of its own) it signs them in
    const href = (await summary.locator('a').last().getAttribute('href'))!;
    expect(href).toMatch(/\/console\/open\?t=/);
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    await phone.goto(`${app.url}${new URL(href).pathname}${new URL(href).search}`);
    expect(new URL(phone.url()).pathname + new URL(phone.url()).search).toBe('/console');
    const rows = phone.locator('#rows tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    // their own customers only, under their name
    const owners = await phone.locator('#rows tr td:nth-child(2)').allTextContents();
    expect(new Set(owners)).toEqual(new Set(['张三']));
    expect(await phone.locator('#who').textContent()).toContain('张三');
    const mine = (await app.api('/api/v1/customers?ownerId=u-zhang&limit=500')).body.items.length;
    expect(await rows.count()).toBe(Math.min(mine, 50));
    await phone.close();
  });

  it('lets a manager, signed in from a card, approve a score request in the console; and only as themselves', async () => {
    const customer = (await app.api('/api/v1/customers?ownerId=u-zhang&limit=1')).body.items[0];
    const submitted = await app.api('/api/v1/scores', { method: 'POST', json: { customerId: customer.id, points: { profitability: 70, strength: 60 }, comment: '新签年度框架', submittedBy: 'u-zhang' } });
    expect(submitted.status).toBe(201);
    await app.bot.chat.settle(); // the outbox worker does not run in tests: deliver the approval card
    const link = await app.bot.links.url('u-li', {});
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    await phone.goto(`${app.url}${new URL(link).pathname}${new URL(link).search}`);
    await phone.click('#tab-inbox');
    // the act-as list holds the manager alone: the simulator is for admins
    await expect.poll(() => phone.locator('#as option').allTextContents()).toEqual(['李经理（经理）']);
    const request = phone.locator('article[data-kind="approval_request"]').filter({ hasText: '新签年度框架' });
    await request.waitFor();
    await request.getByRole('button', { name: /通过/ }).click();
    await expect.poll(() => phone.locator('#toast').textContent()).toContain('已通过');
    const decided = (await app.api(`/api/v1/scores?customerId=${customer.id}`)).body.items[0];
    expect(decided).toMatchObject({ status: 'approved' });
    expect((await app.api(`/api/v1/customers/${customer.id}`)).body.score.points).toEqual({ profitability: 70, strength: 60 });
    await phone.close();
  });

  it('opens a customer from a signed link on a phone: why the tier, the risk with its numbers, snooze from the page; another team stays closed', async () => {
    const atRisk = (await app.api('/api/v1/reports/at-risk?ownerId=u-zhang&limit=1')).body.items[0];
    const link = await app.bot.links.url('u-zhang', { customer: atRisk.id });
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    await phone.goto(`${app.url}${new URL(link).pathname}${new URL(link).search}`);
    expect(new URL(phone.url()).pathname).toBe(`/console/customers/${atRisk.id}`);
    const view = phone.locator('#customer-view');
    await view.locator('h2').first().waitFor();
    expect(await view.locator('h2').first().textContent()).toBe(atRisk.name);
    const explanation = view.locator('[data-section="explanation"]');
    expect(await explanation.textContent()).toContain('为什么是这个层级');
    const risk = view.locator('[data-section="risk"]');
    expect(await risk.textContent()).toMatch(/\d/);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(phone, 'console-customer-phone');
    // the card's actions, through the same handlers the chat platforms use
    await view.getByRole('button', { name: /客户卡片/ }).click();
    const card = view.locator('article[data-kind="customer_profile"]');
    await card.waitFor();
    await card.getByRole('button', { name: /暂缓7天/ }).click();
    await expect.poll(() => phone.locator('#toast').textContent()).toContain('已暂停提醒 7 天');
    expect(await app.bot.store.docs.get('snoozes', atRisk.id)).toMatchObject({ by: 'u-zhang' });
    // the page's activity: 12 months of spend, and (reloaded) the snooze in the audit trail
    await phone.reload();
    await view.locator('[data-section="audit"]').waitFor();
    expect(await view.locator('[data-section="spend"] .bars div').count()).toBe(12);
    expect(await view.locator('[data-section="audit"]').textContent()).toContain('张三 · alert.snooze');
    const activity = await app.api(`/api/v1/customers/${atRisk.id}/activity`);
    expect(activity.body.spend).toHaveLength(12);

    // a customer of the other team: nothing of it is shown
    const other = (await app.api('/api/v1/customers?teamId=t-south&limit=1')).body.items[0];
    await phone.goto(`${app.url}/console/customers/${encodeURIComponent(other.id)}`);
    await expect.poll(() => phone.locator('#error').textContent()).toContain('not found');
    expect(await phone.locator('#customer-view').textContent()).not.toContain(other.name);
    await phone.close();
  });
});
