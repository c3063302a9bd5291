// The policy page in a real browser (Debian's chromium via playwright-core): an admin edits the policy, sees a
// problem by its path, previews the what-if, applies it, and sees the new version and its diff.
import { describe, expect, it } from 'vitest';
import { CHROMIUM, screenshot } from './chromium.ts';
import { useDemoPage } from './demo-page.ts';
import { TEST_TOKEN } from '../helpers/app.ts';

describe.skipIf(!CHROMIUM)('the policy page in chromium', () => {
  const demo = useDemoPage({ width: 1280, height: 1000 });

  it('edits, refuses a broken draft by its path, previews, applies a new version and diffs it', async () => {
    const { app, page } = demo;
    await page.goto(`${app.url}/console/policy#token=${TEST_TOKEN}`);
    const editor = page.locator('#yaml');
    await expect.poll(() => editor.inputValue()).toContain('tiers:');
    const original = await editor.inputValue();

    // weights that do not sum to 1: the problem is named by its path, and nothing can be applied
    await editor.fill(original.replace(/weight: ([\d.]+)/, 'weight: 0.99'));
    await page.click('#preview');
    await expect.poll(() => page.locator('#problems').textContent()).toMatch(/valueScore\.dimensions/);
    expect(await page.locator('#apply').isDisabled()).toBe(true);

    // a stricter tier A: the preview shows who moves, before anything is written
    const draft = original.replace(/(metric: monetary\n\s+op: \w+\n\s+value: )(\d+)/, (_m, head, v) => head + String(Number(v) * 3));
    expect(draft).not.toBe(original);
    await editor.fill(draft);
    await page.click('#preview');
    await page.locator('#what-if').waitFor();
    const w = (await app.api('/api/v1/policy/what-if', { method: 'POST', body: draft, headers: { 'content-type': 'application/yaml' } })).body;
    expect(w.changed).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#changed b').textContent()).toBe(w.changed.toLocaleString('zh-CN'));
    // the distribution table shows tier A shrinking
    const rowA = page.locator('#distribution tr', { hasText: /^A/ });
    expect(await rowA.locator('td.down').count()).toBe(1);
    expect(await page.locator('#notices').textContent()).toContain('不发单条提醒卡片');
    expect((await app.api('/api/v1/policy/versions')).body.items).toHaveLength(1);
    await screenshot(page, 'console-policy');

    // apply: a new version, listed, and its diff against the first
    await page.click('#apply');
    await expect.poll(() => page.locator('#state').textContent()).toContain('v2');
    expect((await app.api('/api/v1/policy')).body.version).toBe(2);
    await page.selectOption('#from', '1');
    await page.selectOption('#to', '2');
    await page.click('#diff');
    await expect.poll(() => page.locator('#diff-out .add').count()).toBeGreaterThan(0);
    expect(await page.locator('#diff-out').textContent()).toMatch(/^\+\s+value: 30000$/m);
  });
});
