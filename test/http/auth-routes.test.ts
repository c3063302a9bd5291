// Every route of the composed app, found by walking its routers: without the admin token nothing under /api
// answers with data or changes anything, however the path is spelled; only the intended routes are open.
import Router from '@koa/router';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { AdminRouter } from '../../src/http/auth.ts';
import { startApp, TEST_TOKEN, type TestApp } from '../helpers/app.ts';

const NOWHERE = 'http://127.0.0.1:9';
/** All three platforms in HTTP-callback mode, so their webhook routes are part of the app. */
const PLATFORMS = {
  FEISHU_APP_ID: 'cli_auth_test',
  FEISHU_APP_SECRET: 'feishu-secret',
  FEISHU_VERIFICATION_TOKEN: 'feishu-verification',
  FEISHU_DOMAIN: NOWHERE,
  WECOM_CORP_ID: 'ww-auth-test',
  WECOM_AGENT_ID: '1000002',
  WECOM_SECRET: 'wecom-secret',
  WECOM_TOKEN: 'wecom-token',
  WECOM_ENCODING_AES_KEY: 'a'.repeat(43),
  WECOM_API_BASE: NOWHERE,
  DINGTALK_CLIENT_ID: 'ding-auth-test',
  DINGTALK_CLIENT_SECRET: 'dingtalk-secret',
  DINGTALK_ROBOT_CODE: 'ding-robot',
  DINGTALK_MODE: 'webhook',
  DINGTALK_CALLBACK_TOKEN: 'dingtalk-token',
  DINGTALK_CALLBACK_AES_KEY: 'b'.repeat(43),
  DINGTALK_API_BASE: NOWHERE,
};

/** The routes meant to answer without the admin token. Anything else must be refused. */
const OPEN = new Set([
  'GET /',
  'GET /console',
  // the console page again (a customer's), with no data in it: the page reads the API
  'GET /console/customers/:id',
  // the dashboard and the policy page, and the charting library they load: pages without data, like the console
  'GET /console/dashboard',
  'GET /console/policy',
  'GET /console/ops',
  'GET /console/backtest',
  'GET /console/import',
  'GET /console/assets/echarts.min.js',
  'GET /console/assets/common.js',
  'GET /console/assets/common.css',
  // a signed link from a card (its own check: test/http/console-session.test.ts), and signing out of its session
  'GET /console/open',
  // sign in with a platform (src/http/oauth.ts): the configured providers, the redirect to the platform, its callback
  'GET /console/login',
  'GET /console/login/:platform',
  'GET /console/login/:platform/callback',
  'POST /console/logout',
  'GET /healthz',
  'GET /metrics',
  'POST /webhooks/feishu',
  'GET /webhooks/wecom',
  'POST /webhooks/wecom',
  'POST /webhooks/dingtalk',
  // the API's description and its reference page (src/http/openapi.ts)
  'GET /api/v1/openapi.json',
  'GET /docs',
  'GET /docs/assets/init.js',
  'GET /docs/assets/swagger-ui-bundle.js',
  'GET /docs/assets/swagger-ui.css',
]);

interface Route {
  method: string;
  path: string;
}

/** Every (method, path) the app's routers register, read from their layer stacks. */
function registeredRoutes(app: Koa): Route[] {
  const seen = new Map<string, Route>();
  for (const mw of app.middleware) {
    const router = (mw as { router?: Router }).router;
    for (const layer of router?.stack ?? []) {
      for (const method of layer.methods) seen.set(`${method} ${String(layer.path)}`, { method, path: String(layer.path) });
    }
  }
  return [...seen.values()];
}

/** A request path for a route pattern; a pattern this cannot fill fails the test so it gets taught. */
function concrete(pattern: string): string {
  const path = pattern.replace(/:(\w+)/g, 'x-$1');
  if (/[{}*()?+]/.test(path)) throw new Error(`teach this test the route syntax of ${pattern}`);
  return path;
}

/** The spellings a router might match but a path-prefix guard would not. */
function spellings(path: string): string[] {
  const lastLetter = path.search(/[a-z](?=[^/]*$)/);
  return [
    path,
    path.toUpperCase(),
    path.replace(/[a-z]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c)),
    `${path}/`,
    `${path.toUpperCase()}/`,
    `/${path}`,
    path.replace('/v1/', '//v1/'),
    path.replace(/^\/api\//, '/%61pi/'),
    lastLetter < 0 ? path : `${path.slice(0, lastLetter)}%${path.charCodeAt(lastLetter).toString(16)}${path.slice(lastLetter + 1)}`,
  ];
}

const newOrg = {
  users: [
    { id: 'u-intruder', name: 'Intruder', role: 'admin', teamId: 't-x' },
    { id: 'u-other', name: 'Other', role: 'rep', teamId: 't-x' },
    { id: 'u-third', name: 'Third', role: 'rep', teamId: 't-x' },
  ],
  teams: [{ id: 't-x', name: 'X', managerIds: ['u-intruder'] }],
};

/** Bodies that would change something if a write got through. */
function payloadFor(path: string): unknown {
  if (/\/org$/.test(path)) return newOrg;
  if (/\/customers$/.test(path)) return [{ id: 'c-intruder', name: 'Intruder Ltd', ownerId: 'u-zhang' }];
  if (/\/orders$/.test(path)) return [{ orderId: 'o-intruder', customerId: 'c-1', amount: 99999, occurredAt: '2026-06-01T10:00:00+08:00' }];
  if (/\/policy$/.test(path)) return policy;
  if (/\/scores$/.test(path)) return { customerId: 'c-1', points: { profitability: 90, strength: 90 }, comment: 'x', submittedBy: 'u-zhang' };
  if (/\/console\/command$/.test(path)) return { as: 'u-zhang', text: '评分 c-1' };
  return {};
}

function errorCode(text: string): unknown {
  try {
    return JSON.parse(text).error?.code;
  } catch {
    return undefined;
  }
}

let app: TestApp;
let routes: Route[];
let policy: unknown;

/** What a successful unauthenticated write would change. */
async function snapshot() {
  const get = async (path: string) => (await app.api(path)).body;
  return {
    org: await get('/api/v1/org'),
    customers: (await get('/api/v1/customers?limit=500')).items.map((c: { id: string; name: string; metrics: unknown }) => [c.id, c.name, c.metrics]),
    policyVersion: (await get('/api/v1/policy')).version,
    runs: (await get('/api/v1/tiering/runs')).items.length,
    scores: (await get('/api/v1/scores')).items.length,
    outbox: (await get('/api/v1/outbox')).items.length,
    audit: (await get('/api/v1/audit')).items.length,
  };
}

describe('authentication is part of the routers', () => {
  beforeAll(async () => {
    app = await startApp(new MemoryStore(), { env: PLATFORMS });
    routes = registeredRoutes(app.bot.app);
    await app.api('/api/v1/org', {
      method: 'PUT',
      json: { users: [{ id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east' }, { id: 'u-li', name: '李经理', role: 'manager', teamId: 't-east' }], teams: [{ id: 't-east', name: '华东', managerIds: ['u-li'] }] },
    });
    await app.api('/api/v1/customers', { method: 'PUT', json: [{ id: 'c-1', name: '上海鼎盛', ownerId: 'u-zhang' }] });
    policy = (await app.api('/api/v1/policy')).body.policy;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('finds the routes by walking the composed app: the API and exactly the intended open routes', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(keys).toEqual(expect.arrayContaining(['GET /api/v1/org', 'PUT /api/v1/org', 'PUT /api/v1/policy', 'POST /api/v1/console/command', 'GET /api/v1/customers/:id']));
    expect(routes.length).toBeGreaterThan(30);
    const openOnes = new Set(keys.filter((k) => !k.includes(' /api/') && !k.startsWith('HEAD ')));
    expect(openOnes).toEqual(new Set([...OPEN].filter((k) => !k.includes(' /api/'))));
  });

  it('refuses every other route without a token, in every spelling, with no data and no side effect', async () => {
    const before = await snapshot();
    const leaks: string[] = [];
    let tried = 0;
    for (const route of routes) {
      if (OPEN.has(`${route.method === 'HEAD' ? 'GET' : route.method} ${route.path}`)) continue;
      const body = route.method === 'GET' || route.method === 'HEAD' ? undefined : JSON.stringify(payloadFor(route.path));
      for (const path of spellings(concrete(route.path))) {
        for (const method of [route.method, 'OPTIONS', 'DELETE']) {
          const res = await fetch(app.url + path, { method, body: method === route.method ? body : undefined, headers: { 'content-type': 'application/json' }, redirect: 'manual' });
          const text = await res.text();
          tried++;
          const refused = res.status === 401 || (res.status === 404 && (method === 'HEAD' || errorCode(text) === 'not_found'));
          if (!refused) leaks.push(`${method} ${path} → ${res.status} ${text.slice(0, 80)}`);
        }
      }
    }
    expect(leaks).toEqual([]);
    expect(tried).toBeGreaterThan(500);
    expect(await snapshot()).toEqual(before);
  });

  it('answers 401 with the error shape and a WWW-Authenticate challenge on the canonical path', async () => {
    const res = await fetch(`${app.url}/API/v1/org`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect((await res.json()).error).toMatchObject({ code: 'unauthorized' });
    const wrong = await fetch(`${app.url}/Api/v1/customers`, { method: 'PUT', headers: { authorization: `Bearer ${TEST_TOKEN}x`, 'content-type': 'application/json' }, body: '[]' });
    expect(wrong.status).toBe(401);
  });

  it('serves the open routes without a token', async () => {
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${app.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${app.url}/console`)).status).toBe(200);
  });

  it('serves every API route with the token (so the refusals above are not a broken API)', async () => {
    const problems: string[] = [];
    for (const route of routes) {
      if (!route.path.startsWith('/api/')) continue;
      const body = route.method === 'GET' || route.method === 'HEAD' ? undefined : JSON.stringify(payloadFor(route.path));
      const res = await app.api(concrete(route.path), { method: route.method, body, headers: { 'content-type': 'application/json' } });
      const noRoute = res.status === 404 && String(res.body?.error?.message ?? '').startsWith('no route');
      if (res.status === 401 || res.status === 403 || noRoute) problems.push(`${route.method} ${route.path} → ${res.status}`);
    }
    expect(problems).toEqual([]);
    // and in another spelling too: the router matches case-insensitively, the token is what counts
    const org = await app.api('/API/V1/ORG');
    expect(org.status).toBe(200);
    expect(org.body.users.length).toBeGreaterThan(0);
  });

  it('gives OPTIONS and 405 answers (which list the methods) only with the token', async () => {
    const withToken = await app.api('/api/v1/org', { method: 'DELETE' });
    expect(withToken.status).toBe(405);
    expect(withToken.headers.get('allow')).toContain('PUT');
    const without = await fetch(`${app.url}/api/v1/org`, { method: 'DELETE' });
    expect(without.status).toBe(401);
    expect(without.headers.get('allow')).toBeNull();
    const options = await fetch(`${app.url}/API/v1/org/`, { method: 'OPTIONS' });
    expect(options.status).toBe(401);
    expect(options.headers.get('allow')).toBeNull();
  });
});

describe('AdminRouter', () => {
  it('guards routes copied in from a nested router too', async () => {
    const nested = new Router().get('/inner', (ctx) => void (ctx.body = { secret: 1 }));
    const admin = new AdminRouter(TEST_TOKEN);
    admin.use(nested.routes());
    const koa = new Koa();
    koa.silent = true;
    const server = koa.use(admin.routes()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/API/V1/inner`;
    try {
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).status).toBe(200);
    } finally {
      server.close();
    }
  });
});
