// "Sign in with Feishu / WeCom / DingTalk" on the console: one mechanism for every configured platform's own web
// OAuth. What differs per platform (the authorize page, the code → platform user id exchange) is the platform's
// PlatformOAuth (src/ports/platform.ts); the org user behind that id is the descriptor's `identify`, exactly as
// for chat identities. The composition hands both in, so this file imports no platform.
//
//  GET /console/login                       the configured providers: {providers: [{platform, url}]} (no auth)
//  GET /console/login/:platform?next=/console/…
//      a fresh `state` and a nonce cookie, then a redirect to the platform's authorize page
//  GET /console/login/:platform/callback?<code>&state=…
//      the state checked (signed, for this platform, unused, unexpired, bound to this browser's nonce cookie) and
//      used up, the code exchanged for the platform user id, that person's org user signed in like a card's link
//      (startConsoleSession), then a redirect to `next` (default /console). Every refusal is a page, no session.
//
// The state is short (WeCom allows 128 bytes of a-zA-Z0-9): a random id and its HMAC, hex. What it stands for
// (platform, the nonce's hash, the page, the expiry) is a document in the shared store, removed when used, so a
// replayed state finds nothing, on any instance. The nonce cookie is httpOnly and SameSite=Lax: the platform
// sends the browser back with a top-level GET, which carries Lax cookies, while a callback URL planted in
// another browser lacks the cookie (login CSRF).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { OAuthRefused, type PlatformOAuth } from '../ports/platform.ts';
import type { Org, OrgUser } from '../ports/store.ts';
import { secretsEqual } from './auth.ts';
import { refusalPage, secure, startConsoleSession, type RefusalText } from './console.ts';
import type { Services } from './services.ts';
import { z } from 'zod';
import { doc } from '../inbound/route-doc.ts';

/** A platform the console offers sign-in with: its OAuth and its identity mapping. */
export interface OAuthProvider {
  platform: string;
  oauth: PlatformOAuth;
  identify(org: Org, platformUserId: string): OrgUser | undefined;
}

export const NONCE_COOKIE = 'tierbot_oauth';
const STATES = 'consoleOAuthStates';
/** how long a sign-in may take between our redirect and the platform's callback */
export const STATE_MINUTES = 10;

type StateDoc = {
  _id: string;
  platform: string;
  nonceHash: string;
  next: string;
  expiresAtMs: number;
};

const REFUSALS = {
  unknown_platform: ['无法登录', 'Cannot sign in', '此平台未配置登录。', 'Sign-in with this platform is not configured.'],
  state_invalid: ['登录链接无效', 'This sign-in is not valid', '登录请求不完整或被修改过。请回到控制台重新点击登录。', 'The sign-in request was incomplete or changed. Go back to the console and sign in again.'],
  state_used: ['登录已失效', 'This sign-in has ended', '这次登录已经用过或已过期。请回到控制台重新点击登录。', 'This sign-in was already used or has expired. Go back to the console and sign in again.'],
  declined: ['未登录', 'Not signed in', '登录没有完成（已取消或未授权）。', 'The sign-in was not completed (cancelled or not authorised).'],
  platform_error: ['登录失败', 'Sign-in failed', '平台拒绝了这次登录，或暂时无法访问。请稍后重试。', 'The platform refused this sign-in or could not be reached. Try again later.'],
  not_in_org: ['无法登录', 'Cannot sign in', '你的账号不在本组织的成员中，请联系管理员。', 'Your account is not one of this org’s people. Ask your admin.'],
} as const satisfies Record<string, RefusalText>;

type Refusal = keyof typeof REFUSALS;
const refuse = (ctx: Context, status: number, reason: Refusal) => refusalPage(ctx, status, reason, REFUSALS[reason]);

/** Only pages of the console, and only as paths of this origin. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/console(?:[/?#]|$)/.test(next) && !next.includes('\\') && !/^\/console\/\//.test(next) ? next : '/console';
}

export function oauthRouter(s: Services, providers: readonly OAuthProvider[], key: Uint8Array): Router {
  const r = new Router();
  const byName = new Map(providers.map((p) => [p.platform, p]));
  const stateKey = createHmac('sha256', key).update('tierbot console oauth state v1').digest();
  const mac = (id: string, platform: string) => createHmac('sha256', stateKey).update(`${platform}\n${id}`).digest('hex').slice(0, 32);
  const hash = (nonce: string) => createHash('sha256').update(nonce).digest('hex');
  const redirectUri = (platform: string) => `${s.env.PUBLIC_BASE_URL}/console/login/${platform}/callback`;
  const cookie = (ctx: Context) => ({ httpOnly: true, sameSite: 'lax' as const, secure: secure(s, ctx), path: '/console/login', overwrite: true });

  r.get('/console/login', doc({ summary: 'The platforms one may sign in with', tag: 'console', responses: { 200: z.object({ providers: z.array(z.object({ platform: z.string(), url: z.string() })) }) } }), (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { providers: providers.map((p) => ({ platform: p.platform, url: `/console/login/${p.platform}` })) };
  });

  r.get('/console/login/:platform', doc({ summary: 'Sign in with a platform: redirects to its OAuth page', tag: 'console', query: z.object({ next: z.string().optional().describe('the console page to return to') }), responses: { 302: { description: "to the platform's sign-in" }, 404: { description: 'unknown platform (HTML)', contentType: 'text/html' } } }), async (ctx) => {
    const provider = byName.get(ctx.params.platform!);
    if (!provider) return refuse(ctx, 404, 'unknown_platform');
    const id = randomBytes(16).toString('hex');
    const nonce = randomBytes(18).toString('base64url');
    const doc: StateDoc = { _id: id, platform: provider.platform, nonceHash: hash(nonce), next: safeNext(ctx.query.next), expiresAtMs: s.clock.now() + STATE_MINUTES * 60_000 };
    await s.store.docs.insert(STATES, doc);
    // states never called back: a few of the expired ones go with every new sign-in
    for (const stale of await s.store.docs.find(STATES, { expiresAtMs: { $lt: s.clock.now() } }, { limit: 20, fields: ['_id'] })) await s.store.docs.remove(STATES, stale._id);
    ctx.cookies.set(NONCE_COOKIE, nonce, { ...cookie(ctx), maxAge: STATE_MINUTES * 60_000 });
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.redirect(provider.oauth.authorizeUrl(redirectUri(provider.platform), id + mac(id, provider.platform)));
  });

  r.get('/console/login/:platform/callback', doc({ summary: "The platform's OAuth callback: starts a console session", tag: 'console', query: z.looseObject({ state: z.string(), code: z.string().optional().describe("the platform's code (its parameter name is the platform's)") }), responses: { 302: { description: 'to the page asked for, with the session cookies set' }, 400: { description: 'bad or used state (HTML)', contentType: 'text/html' }, 401: { description: 'declined (HTML)', contentType: 'text/html' }, 403: { description: 'not in the org (HTML)', contentType: 'text/html' } } }), async (ctx) => {
    ctx.set('Referrer-Policy', 'no-referrer');
    const provider = byName.get(ctx.params.platform!);
    if (!provider) return refuse(ctx, 404, 'unknown_platform');
    const nonce = ctx.cookies.get(NONCE_COOKIE);
    ctx.cookies.set(NONCE_COOKIE, null, cookie(ctx));

    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const id = state.slice(0, 32);
    if (!/^[0-9a-f]{64}$/.test(state) || !secretsEqual(state.slice(32), mac(id, provider.platform))) return refuse(ctx, 400, 'state_invalid');
    const doc = await s.store.docs.get<StateDoc>(STATES, id);
    // used up before anything else: a state works once, whatever follows
    if (!doc || !(await s.store.docs.remove(STATES, id)) || doc.platform !== provider.platform || doc.expiresAtMs <= s.clock.now()) return refuse(ctx, 400, 'state_used');
    if (!nonce || !secretsEqual(hash(nonce), doc.nonceHash)) return refuse(ctx, 400, 'state_invalid');

    const code = ctx.query[provider.oauth.codeParam];
    if (typeof code !== 'string' || !code) return refuse(ctx, 401, 'declined');
    let platformUserId: string | null;
    try {
      platformUserId = await provider.oauth.userId(code, redirectUri(provider.platform));
    } catch (err) {
      s.log.warn({ err, platform: provider.platform }, err instanceof OAuthRefused ? 'console sign-in refused by the platform' : 'console sign-in: the platform could not be reached');
      return refuse(ctx, err instanceof OAuthRefused ? 401 : 502, 'platform_error');
    }
    const org = await s.store.getOrg();
    const user = platformUserId === null || !org ? undefined : provider.identify(org, platformUserId);
    if (!user) {
      s.log.info({ platform: provider.platform, platformUserId }, 'console sign-in: not a person of the org');
      return refuse(ctx, 403, 'not_in_org');
    }
    await startConsoleSession(s, ctx, user.id);
    ctx.redirect(doc.next);
  });
  return r;
}
