// One browser suite's setup: the demo after its first run at a fixed instant, and a chromium page of a given size.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { fixedClock, startDemoApp, type TestApp } from '../helpers/app.ts';
import { openPage } from './chromium.ts';

/** Registers the suite's beforeAll/afterAll; read `app` and `page` inside the tests. */
export function useDemoPage(viewport: { width: number; height: number }): { readonly app: TestApp; readonly page: Page } {
  let app: TestApp | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    app = await startDemoApp({ clock: fixedClock('2026-06-30T10:00:00+08:00') });
    ({ browser, page } = await openPage(viewport));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });
  return {
    get app() {
      return app!;
    },
    get page() {
      return page!;
    },
  };
}
