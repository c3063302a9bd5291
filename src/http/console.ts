// The web console: a static page that talks to the API with the admin token from the URL fragment.
import { readFile } from 'node:fs/promises';
import Router from '@koa/router';
import type { Services } from './services.ts';

const page = new URL('./console/index.html', import.meta.url);

export function consoleRouter(_s: Services): Router {
  const r = new Router();
  let html: string | null = null;
  r.get('/', (ctx) => ctx.redirect('/console'));
  r.get('/console', async (ctx) => {
    html ??= await readFile(page, 'utf8');
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'");
    ctx.body = html;
  });
  return r;
}
