// The dashboard in a real browser (Debian's chromium via playwright-core): a manager opens it on a phone
// through a signed link; the charts render (ECharts served from node_modules) and the KPI table shows the
// numbers the API gives that manager, with nothing to scroll sideways.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, openPage, screenshot } from './chromium.ts';
import { fixedClock, startDemoApp, type TestApp } from '../helpers/app.ts';


interface Kpi { key: string; customers: number; revenueSharePct: number; revenue: number; avgLifetimeValue: number | null; repurchaseRatePct: number; atRisk: number; valueAtStake: number }
const FIELDS = ['customers', 'revenueSharePct', 'revenue', 'avgLifetimeValue', 'repurchaseRatePct', 'atRisk', 'valueAtStake'] as const;

/** a displayed number back to a number: ¥1,234.5 → 1234.5, 12.5% → 12.5, — → null */
const parse = (text: string | null) => (text === null || text.trim() === '—' ? null : Number(text.replace(/[¥,%\s]/g, '')));

describe.skipIf(!CHROMIUM)('the dashboard in chromium', () => {
  const clock = fixedClock('2026-06-30T10:00:00+08:00');
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    app = await startDemoApp({ clock });
    // a month later, a second run: tiers move, and the distribution has two runs
    clock.set('2026-07-30T10:00:00+08:00');
    await app.bot.recomputer.start().done;
    await app.bot.chat.settle();
    ({ browser, page } = await openPage({ width: 390, height: 844 }));
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('a manager opens it from a signed link on a phone: charts drawn, the KPI table equal to the API, no sideways scroll', async () => {
    const link = await app.bot.links.url('u-li', {});
    await page.goto(`${app.url}${new URL(link).pathname}${new URL(link).search}`);
    expect(new URL(page.url()).pathname).toBe('/console');
    await page.goto(`${app.url}/console/dashboard`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
    expect(await page.locator('#error').textContent()).toBe('');
    expect(await page.locator('#who').textContent()).toContain('李经理');

    // ECharts drew on a canvas, as wide as the phone allows
    const canvas = page.locator('#chart-tiers canvas').first();
    await canvas.waitFor();
    const box = (await canvas.boundingBox())!;
    expect(box.width).toBeGreaterThan(200);
    expect(box.width).toBeLessThanOrEqual(390);
    expect(await page.locator('#chart-pareto canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#chart-runs canvas').count()).toBeGreaterThan(0);

    // the KPI table holds exactly the numbers the API gives this manager (their teams only)
    const mine = await page.evaluate(async () => (await fetch('/api/v1/reports/tiers')).json());
    const everyone = (await app.api('/api/v1/reports/tiers')).body;
    expect(mine.total).toBeGreaterThan(0);
    expect(mine.total).toBeLessThan(everyone.total);
    const rows: (Kpi & { key: string })[] = [...mine.tiers, { ...mine.all, key: 'all' }];
    for (const t of rows) {
      const row = page.locator(`#kpis tr[data-tier="${t.key}"]`);
      for (const f of FIELDS) expect.soft(parse(await row.locator(`td[data-field="${f}"]`).textContent()), `${t.key} ${f}`).toBe(t[f]);
    }
    const pareto = await page.evaluate(async () => (await fetch('/api/v1/reports/pareto')).json());
    expect(parse(await page.locator('#top20').textContent())).toBe(pareto.top20SharePct);

    // names, not ids: value at stake by owner names the manager's reps
    const owners = await page.locator('#by-owner td:first-child').allTextContents();
    expect(owners.join(' ')).toMatch(/张三|陈晨/);
    expect(owners.join(' ')).not.toMatch(/u-/);
    expect(owners.join(' ')).not.toContain('刘洋'); // the other team's rep

    // the movement matrix since a chosen date: the second run moved some tiers
    await page.fill('#since', '2026-07-01');
    await page.click('#since-form button');
    const movements = await page.evaluate(async () => (await fetch('/api/v1/reports/movements?since=' + encodeURIComponent(new Date('2026-07-01T00:00:00').toISOString()))).json());
    if (movements.changes > 0) await expect.poll(() => page.locator('#matrix table').count()).toBe(1);

    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'console-dashboard');
  });

  it('shows tier × segment for what the manager may see, by industry and by tag', async () => {
    // the page of the first test: the manager's session
    const cookies = await page.context().cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const api = async (q: string) => (await fetch(`${app.url}/api/v1/reports/segments?${q}`, { headers: { cookie } })).json();
    const byIndustry = await api('by=attributes.industry');
    await expect.poll(() => page.locator('#segments tr').count()).toBe(byIndustry.segments.length);
    for (const g of byIndustry.segments) {
      const row = page.locator(`#segments tr[data-segment="${g.segment}"]`);
      expect(parse(await row.locator('td').nth(1).textContent())).toBe(g.customers);
    }
    await page.selectOption('#segment-by', 'tags');
    const byTag = await api('by=tags');
    await expect.poll(() => page.locator('#segments tr').count()).toBe(byTag.segments.length);
    expect(byIndustry.segments.reduce((n: number, g: { customers: number }) => n + g.customers, 0)).toBeGreaterThan(0);
  });

  it('is refused without a session: the page says how to sign in and shows no numbers', async () => {
    const other = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    await other.goto(`${app.url}/console/dashboard`);
    await expect.poll(() => other.locator('#error').textContent()).toContain('卡片');
    expect(await other.locator('#kpis tr').count()).toBe(0);
    await other.close();
  });
});
