// The web console: one static page for every role. Org users arrive through a signed link on a card
// (/console/open?t=…, which starts their session); admins may also use the admin token from the URL fragment.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import Router from '@koa/router';
import type { Context } from 'koa';
import { CSRF_COOKIE, SESSION_COOKIE, viewerOf } from './auth.ts';
import { HttpError } from './errors.ts';
import { SESSION_HOURS, TokenRefused } from './links.ts';
import type { Services } from './services.ts';
import { z } from 'zod';
import { doc } from '../inbound/route-doc.ts';
import { ErrorBody, SignedOut } from './openapi-schemas.ts';

const page = new URL('./console/index.html', import.meta.url);
const dashboardPage = new URL('./console/dashboard.html', import.meta.url);
const policyPage = new URL('./console/policy.html', import.meta.url);
const opsPage = new URL('./console/ops.html', import.meta.url);
const backtestPage = new URL('./console/backtest.html', import.meta.url);
const importPage = new URL('./console/import.html', import.meta.url);
const commonScript = new URL('./console/common.js', import.meta.url);
const commonStyles = new URL('./console/common.css', import.meta.url);
// the dashboard's charts: ECharts as installed by npm, served by us (no CDN, no build step)
const ECHARTS = createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
const CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'";

const REFUSALS = {
  expired: ['链接已过期', 'This link has expired', '请在聊天中重新打开最新卡片上的链接，或发送“帮助”获取新的链接。', 'Open the link on a newer card, or send "help" to the bot for a new one.'],
  invalid: ['链接无效', 'This link is not valid', '链接不完整或被修改过。请从聊天卡片上重新打开。', 'The link is incomplete or was changed. Open it again from the card in your chat.'],
  signed_out: ['链接已失效', 'This link no longer works', '你已退出登录，之前的链接随之失效。请打开新卡片上的链接。', 'You signed out, which ends every earlier link. Open the link on a newer card.'],
  unknown_user: ['无法登录', 'Cannot sign in', '此链接对应的用户已不在组织中，请联系管理员。', 'The person this link was made for is no longer in the org. Ask your admin.'],
} as const;

/** A refusal's texts: the title and the explanation, in zh-CN and en. */
export type RefusalText = readonly [zh: string, en: string, zhText: string, enText: string];

/** A page saying why nothing is shown (a refused link or sign-in): `reason` is its data-refusal, for tests. */
export function refusalPage(ctx: Context, status: number, reason: string, text: RefusalText = REFUSALS[reason as keyof typeof REFUSALS]): void {
  const [zh, en, zhText, enText] = text;
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', CSP);
  ctx.body = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${zh} · tierbot</title>
<style>body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;padding:32px 20px;color:#1f2329;background:#f5f6f7}main{max-width:480px;margin:auto;background:#fff;border-radius:8px;padding:20px 24px;box-shadow:0 1px 3px #0002}h1{font-size:20px;margin:0 0 8px}p{line-height:1.6;margin:6px 0}.en{color:#646a73}</style></head>
<body><main data-refusal="${reason}"><h1>${zh}</h1><p>${zhText}</p><h1 class="en">${en}</h1><p class="en">${enText}</p></main></body></html>`;
}

/** Cookies only over HTTPS when the service is reached over it. */
export const secure = (s: Services, ctx: Context) => ctx.secure || s.env.PUBLIC_BASE_URL.startsWith('https:');

/** Starts a console session for an org user: the session cookie (httpOnly) and the CSRF cookie, both SameSite=Lax. */
export async function startConsoleSession(s: Services, ctx: Context, userId: string): Promise<void> {
  const { token: session, session: { csrf } } = await s.links.startSession(userId);
  const cookie = { sameSite: 'lax' as const, secure: secure(s, ctx), path: '/', maxAge: SESSION_HOURS * 3600_000, overwrite: true };
  ctx.cookies.set(SESSION_COOKIE, session, { ...cookie, httpOnly: true });
  // readable by the page, which sends it back in x-csrf-token (a cross-site page can read neither cookie)
  ctx.cookies.set(CSRF_COOKIE, csrf, { ...cookie, httpOnly: false });
  ctx.set('Cache-Control', 'no-store');
}

export function consoleRouter(s: Services): Router {
  const r = new Router();
  // the console's pages: static, uncached, read once; their data comes from the API
  const cache = new Map<URL, string>();
  const serve = (file: URL) => async (ctx: Context) => {
    let html = cache.get(file);
    if (html === undefined) cache.set(file, (html = await readFile(file, 'utf8')));
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', CSP);
    // the signed link's token never lingers in the page's address or in what it links to
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.body = html;
  };
  r.get('/', doc({ summary: 'Redirects to the console', tag: 'console', responses: { 302: { description: 'to /console' } } }), (ctx) => ctx.redirect('/console'));
  r.get('/console', doc({ summary: 'The console page (its data comes from the API)', tag: 'console', responses: { 200: { description: 'HTML', contentType: 'text/html' } } }), serve(page));
  r.get('/console/customers/:id', doc({ summary: 'The console page on a customer', tag: 'console', responses: { 200: { description: 'HTML', contentType: 'text/html' } } }), serve(page));
  // the dashboard, the policy page and the operations page (admins): their own pages, the console's sign-in
  r.get('/console/dashboard', doc({ summary: 'The dashboard page', tag: 'console', responses: { 200: { description: 'HTML', contentType: 'text/html' } } }), serve(dashboardPage));
  r.get('/console/policy', doc({ summary: 'The policy page', tag: 'console', responses: { 200: { description: 'HTML', contentType: 'text/html' } } }), serve(policyPage));
  r.get('/console/ops', doc({ summary: 'The operations page', tag: 'console', responses: { 200: { description: 'HTML', contentType: 'text/html' } } }), serve(opsPage));
  r.get('/console/backtest', serve(backtestPage));
  r.get('/console/import', doc({ summary: 'The import page (admins: CSV and workbook uploads)', tag: 'console', responses: { 200: { description: 'HTML', contentType: 'text/html' } } }), serve(importPage));
  // the pages' shared script (sign-in, requests, DOM helpers) and styles; they change with the release, so revalidated
  for (const [route, file, type] of [['/console/assets/common.js', commonScript, 'application/javascript; charset=utf-8'], ['/console/assets/common.css', commonStyles, 'text/css; charset=utf-8']] as const) {
    let text: string | null = null;
    r.get(route, doc({ summary: "The console pages' shared script or styles", tag: 'console', responses: { 200: { description: type.split(';')[0]!, contentType: type.split(';')[0] } } }), async (ctx) => {
      text ??= await readFile(file, 'utf8');
      ctx.type = type;
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = text;
    });
  }
  let echarts: { size: number; etag: string } | null = null;
  r.get('/console/assets/echarts.min.js', doc({ summary: 'The charting library (ECharts)', tag: 'console', responses: { 200: { description: 'JavaScript', contentType: 'application/javascript' }, 304: { description: 'not modified' } } }), async (ctx) => {
    if (!echarts) {
      const { size, mtimeMs } = await stat(ECHARTS);
      echarts = { size, etag: `"echarts-${size.toString(36)}-${Math.floor(mtimeMs).toString(36)}"` };
    }
    ctx.set('Cache-Control', 'public, max-age=2592000');
    ctx.set('ETag', echarts.etag);
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.status = 200; // ctx.fresh compares validators only for a successful answer
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.length = echarts.size;
    ctx.body = createReadStream(ECHARTS);
  });

  // a signed link from a card: a session for its user, then the page it names
  r.get('/console/open', doc({ summary: 'Open a signed card link: starts a console session, then redirects to its page', tag: 'console', query: z.object({ t: z.string().describe('the signed link token') }), responses: { 302: { description: 'to the page the link names, with the session cookies set' }, 401: { description: 'an expired or invalid link (HTML)', contentType: 'text/html' }, 403: { description: 'not in the org (HTML)', contentType: 'text/html' } } }), async (ctx) => {
    ctx.set('Referrer-Policy', 'no-referrer');
    const token = typeof ctx.query.t === 'string' ? ctx.query.t : '';
    let opened: { userId: string; page: string };
    try {
      opened = await s.links.openLink(token);
    } catch (err) {
      if (err instanceof TokenRefused) return refusalPage(ctx, 401, err.reason);
      throw err;
    }
    const user = (await s.store.getOrg())?.users.find((u) => u.id === opened.userId);
    if (!user) return refusalPage(ctx, 403, 'unknown_user');
    await startConsoleSession(s, ctx, user.id);
    ctx.redirect(opened.page);
  });

  // ends the session and every link issued to this user until now
  r.post('/console/logout', doc({ summary: 'End the session and every link issued to this user until now', tag: 'console', auth: 'session', responses: { 200: SignedOut, 401: { description: 'no console session', schema: ErrorBody } } }), async (ctx) => {
    const v = await viewerOf(ctx, s.gate);
    if (!v || v.kind !== 'user') throw new HttpError(401, 'unauthorized', 'no console session');
    await s.links.signOut(v.user.id);
    for (const name of [SESSION_COOKIE, CSRF_COOKIE]) ctx.cookies.set(name, null, { path: '/', overwrite: true });
    ctx.body = { signedOut: v.user.id };
  });
  return r;
}
