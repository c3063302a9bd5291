// Debian's chromium for the browser tests (playwright-core, never a downloaded browser).
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
// CI must run the browser tests; a developer machine without chromium skips them with a reason
if (!CHROMIUM && process.env.CI) throw new Error('chromium is not installed (apt-get install chromium); CI requires the browser tests');

const SHOTS = resolve(import.meta.dirname, '../../docs/screenshots');

/** The browser with one page of this size (a phone: 390 × 844). */
export async function openPage(viewport: { width: number; height: number }): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  return { browser, page: await browser.newPage({ viewport, locale: 'zh-CN' }) };
}

/** With TIERBOT_SCREENSHOTS=1: the README's screenshot `name`.png of the page (or of one element of it). */
export async function screenshot(target: Page | { screenshot(o: { path: string }): Promise<unknown> }, name: string, fullPage = true): Promise<void> {
  if (!process.env.TIERBOT_SCREENSHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  const path = `${SHOTS}/${name}.png`;
  await ('goto' in target ? target.screenshot({ path, fullPage }) : target.screenshot({ path }));
}
