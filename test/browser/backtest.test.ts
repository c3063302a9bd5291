// The backtest page in a real browser: an admin runs the policy in force and a stricter draft side by side as of a
// past day; each column shows its own numbers, the same as the API's; a bad horizon is named by its field.
import { describe, expect, it } from 'vitest';
import { CHROMIUM } from './chromium.ts';
import { useDemoPage } from './demo-page.ts';
import { TEST_TOKEN } from '../helpers/app.ts';

describe.skipIf(!CHROMIUM)('the backtest page in chromium', () => {
  const demo = useDemoPage({ width: 1280, height: 1000 });

  it('runs two policies side by side and refuses a bad horizon by its field', async () => {
    const { app, page } = demo;
    await page.goto(`${app.url}/console/backtest#token=${TEST_TOKEN}`);
    const { body: y } = await app.api('/api/v1/policy/yaml');
    const strict = y.yaml.replace(/(metric: monetary\n\s+op: \w+\n\s+value: )(\d+)/, (_m: string, head: string, v: string) => head + String(Number(v) * 3));
    expect(strict).not.toBe(y.yaml);
    await page.fill('#asOf', '2026-03-01');
    await page.fill('#horizon', '60');
    await page.fill('#policyB', strict);
    await page.click('#run');
    await expect.poll(() => page.locator('#results section').count()).toBe(2);
    const asOf = new Date('2026-03-01T00:00:00+08:00').toISOString();
    const { body } = await app.api('/api/v1/tiering/backtest', { method: 'POST', json: { asOf, horizonDays: 60, policies: [null, strict] } });
    const [a, b] = body.results;
    const cols = page.locator('#results section');
    for (const [i, r] of [a, b].entries()) {
      const text = (await cols.nth(i).textContent()) ?? '';
      expect(text).toContain(`客户 ${r.customers}`);
      expect(text).toContain(`流失 ${r.lapsed}`);
      const rowA = cols.nth(i).locator('tr', { hasText: /^A/ }).first();
      expect(await rowA.locator('td').nth(1).textContent()).toBe(String(r.tiers.find((t: { tier: string }) => t.tier === 'A').customers));
    }
    expect(a.tiers[0].customers).not.toBe(b.tiers[0].customers);

    // the feedback table lists what the report answers (no alerts on the demo's first run: a header row only, or its rows)
    await page.fill('#fbFrom', '2026-01-01');
    await page.fill('#fbTo', '2026-07-01');
    await page.click('#fbRun');
    const fb = (await app.api('/api/v1/reports/detector-feedback?from=2026-01-01T00:00:00.000Z&to=2026-07-01T00:00:00.000Z&bucket=week')).body;
    await expect.poll(() => page.locator('#feedback tr').count()).toBe(1 + fb.items.length);

    await page.fill('#horizon', '0');
    await page.click('#run');
    await expect.poll(() => page.locator('#problems').textContent()).toContain('horizonDays');
  });
});
