// Console links on cards sign their person in; what they see follows the org, enforced by the API.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';
import { cookieBrowser, type CookieBrowser } from '../helpers/cookie-browser.ts';

const NOW = '2026-06-30T10:00:00+08:00';
const org = {
  users: [
    { id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east' },
    { id: 'u-zhao', name: '赵六', role: 'rep', teamId: 't-east' },
    { id: 'u-wang', name: '王五', role: 'rep', teamId: 't-west' },
    { id: 'u-li', name: '李四', role: 'manager', teamId: 't-east' },
    { id: 'u-admin', name: '管理员', role: 'admin' },
  ],
  teams: [
    { id: 't-east', name: '华东组', managerIds: ['u-li'] },
    { id: 't-west', name: '华西组', managerIds: [] },
  ],
};
const customers = [
  { id: 'c-z1', name: '张三的客户一', ownerId: 'u-zhang' },
  { id: 'c-z2', name: '张三的客户二', ownerId: 'u-zhang' },
  { id: 'c-zhao', name: '赵六的客户', ownerId: 'u-zhao' },
  { id: 'c-w1', name: '王五的客户', ownerId: 'u-wang' },
];

describe('console links and sessions', () => {
  const clock = fixedClock(NOW);
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp(new MemoryStore(), { clock, env: { TIERBOT_DEMO: '0' } });
    expect((await app.api('/api/v1/org', { method: 'PUT', json: org })).status).toBe(200);
    expect((await app.api('/api/v1/customers', { method: 'PUT', json: customers })).status).toBe(200);
    const orders = customers.map((c, i) => ({ orderId: `o-${i}`, customerId: c.id, amount: 1000 * (i + 1), occurredAt: '2026-06-01T10:00:00+08:00' }));
    expect((await app.api('/api/v1/orders', { method: 'POST', json: orders })).status).toBe(200);
    expect((await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} })).status).toBe(200);
  });
  afterAll(async () => {
    await app.close();
  });

  /** a phone's browser: keeps the cookies the server sets, follows nothing by itself */
  const browser = () => cookieBrowser(app.url);

  function rawPost(path: string, body: unknown, headers: Record<string, string>): Promise<number> {
    const data = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  const csrf = (b: CookieBrowser) => ({ 'x-csrf-token': decodeURIComponent(b.cookies.get('tierbot_csrf') ?? '') });
  const pathOf = (url: string) => url.slice(url.indexOf('/console'));

  /** the console link on the card a person gets for `text` (sent as them through the console) */
  async function cardLink(userId: string, text: string): Promise<string> {
    expect((await app.api('/api/v1/console/command', { method: 'POST', json: { as: userId, text } })).status).toBe(200);
    const inbox = await app.api(`/api/v1/console/inbox?as=${userId}&limit=1`);
    return pathOf(inbox.body.items[0].card.url);
  }

  async function signIn(userId: string, page = { customer: 'c-z1' }): Promise<CookieBrowser> {
    const b = browser();
    const res = await b.get(pathOf(await app.bot.links.url(userId, page)));
    expect(res.status).toBe(302);
    return b;
  }

  it('a card carries a link signed for its recipient; opening it starts an httpOnly, SameSite session and lands on the customer', async () => {
    const link = await cardLink('u-zhang', '客户 c-z1');
    expect(link).toMatch(/^\/console\/open\?t=[\w-]+\.[\w-]+\.[\w-]+$/);
    const b = browser();
    const res = await b.get(link);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/console/customers/c-z1');
    const set = res.headers.getSetCookie();
    const session = set.find((c) => c.startsWith('tierbot_session='))!;
    expect(session).toMatch(/; httponly/i);
    expect(session).toMatch(/; samesite=lax/i);
    expect(set.find((c) => c.startsWith('tierbot_csrf='))).not.toMatch(/httponly/i);
    const me = await (await b.get('/api/v1/me')).json();
    expect(me.viewer).toMatchObject({ id: 'u-zhang', role: 'rep' });
    // the page it lands on is the console page (the customer view), not an error
    const page = await b.get('/console/customers/c-z1');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('tierbot');
  });

  it('a rep sees only their own customers, and another rep\'s customer is not found', async () => {
    const b = await signIn('u-zhang');
    const list = await (await b.get('/api/v1/customers')).json();
    expect(list.items.map((c: { id: string }) => c.id)).toEqual(['c-z1', 'c-z2']);
    expect((await b.get('/api/v1/customers/c-z1')).status).toBe(200);
    for (const other of ['c-zhao', 'c-w1']) {
      expect((await b.get(`/api/v1/customers/${other}`)).status).toBe(404);
      expect((await b.get(`/api/v1/customers/${other}/activity`)).status).toBe(404);
    }
    const activity = await (await b.get('/api/v1/customers/c-z1/activity')).json();
    expect(activity.spend).toHaveLength(12);
    const dist = await (await b.get('/api/v1/reports/distribution')).json();
    expect(dist.total).toBe(2);
    const risk = await (await b.get('/api/v1/reports/at-risk')).json();
    expect(risk.items.every((r: { ownerId: string }) => r.ownerId === 'u-zhang')).toBe(true);
  });

  it('a manager sees their team, not another team; an admin user sees all', async () => {
    const li = await signIn('u-li');
    const ids = (await (await li.get('/api/v1/customers')).json()).items.map((c: { id: string }) => c.id);
    expect(ids).toEqual(['c-z1', 'c-z2', 'c-zhao']);
    expect((await li.get('/api/v1/customers/c-w1')).status).toBe(404);
    const admin = await signIn('u-admin');
    expect((await (await admin.get('/api/v1/customers')).json()).items).toHaveLength(4);
    expect((await admin.get('/api/v1/org')).status).toBe(200);
  });

  it('every endpoint the console reads answers each role over exactly what that role may see', async () => {
    const visible: Record<string, string[]> = { 'u-zhang': ['c-z1', 'c-z2'], 'u-li': ['c-z1', 'c-z2', 'c-zhao'], 'u-admin': customers.map((c) => c.id) };
    const ownerOf = Object.fromEntries(customers.map((c) => [c.id, c.ownerId]));
    for (const [who, ids] of Object.entries(visible)) {
      const b = await signIn(who);
      const json = async (path: string) => {
        const res = await b.get(path);
        expect(res.status, `${who} ${path}`).toBe(200);
        return res.json();
      };
      const owners = [...new Set(ids.map((id) => ownerOf[id]))].sort();
      expect((await json('/api/v1/customers')).items.map((c: { id: string }) => c.id), who).toEqual([...ids].sort());
      for (const c of customers) {
        const open = ids.includes(c.id);
        expect((await b.get(`/api/v1/customers/${c.id}`)).status, `${who} ${c.id}`).toBe(open ? 200 : 404);
        expect((await b.get(`/api/v1/customers/${c.id}/activity`)).status, `${who} ${c.id} activity`).toBe(open ? 200 : 404);
      }
      expect((await json('/api/v1/reports/distribution')).total, who).toBe(ids.length);
      expect((await json('/api/v1/reports/tiers')).total, who).toBe(ids.length);
      expect((await json('/api/v1/reports/pareto')).customers, who).toBe(ids.length);
      const bySegment = (await json('/api/v1/reports/segments?by=owner')).segments as { segment: string; customers: number }[];
      expect(bySegment.map((g) => g.segment).sort(), who).toEqual(owners);
      expect(bySegment.reduce((n, g) => n + g.customers, 0), who).toBe(ids.length);
      for (const r of (await json('/api/v1/reports/at-risk')).items) expect(ids, who).toContain(r.id);
      for (const o of (await json('/api/v1/reports/value-at-stake')).byOwner) expect(owners, who).toContain(o.id);
      const moves = (await json('/api/v1/reports/movements?since=2026-01-01T00:00:00Z')).matrix as Record<string, Record<string, number>>;
      expect(Object.values(moves).flatMap((row) => Object.values(row)).reduce((n, k) => n + k, 0), who).toBeLessThanOrEqual(ids.length);
      const runs = (await json('/api/v1/reports/distribution/runs')).runs as { tiers: Record<string, number> }[];
      for (const r of runs) expect(Object.values(r.tiers).reduce((n, k) => n + k, 0), who).toBeLessThanOrEqual(ids.length);
    }
  });

  it('admin endpoints refuse reps and managers (403), whatever they send', async () => {
    for (const who of ['u-zhang', 'u-li']) {
      const b = await signIn(who);
      expect((await b.get('/api/v1/org')).status).toBe(403);
      expect((await b.get('/api/v1/outbox')).status).toBe(403);
      expect((await b.post('/api/v1/tiering/recompute', {}, csrf(b))).status).toBe(403);
      const put = await b.get('/api/v1/policy');
      expect(put.status).toBe(403);
    }
  });

  it('state-changing requests need the CSRF header and this origin; a person acts only as themselves', async () => {
    const b = await signIn('u-zhang');
    const command = { as: 'u-zhang', text: '帮助' };
    const bare = await b.post('/api/v1/console/command', command);
    expect(bare.status).toBe(403);
    expect((await bare.json()).error.message).toMatch(/x-csrf-token/);
    expect((await b.post('/api/v1/console/command', command, { ...csrf(b), 'x-csrf-token': 'guess' })).status).toBe(403);
    // fetch may not set Origin (a forbidden header): a raw request, as another site's page would send it
    const crossSite = await rawPost('/api/v1/console/command', command, { ...csrf(b), cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; '), origin: 'https://evil.example' });
    expect(crossSite).toBe(403);
    const sameSite = await rawPost('/api/v1/console/command', command, { ...csrf(b), cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; '), origin: app.url });
    expect(sameSite).toBe(200);
    expect((await b.post('/api/v1/console/command', command, csrf(b))).status).toBe(200);
    expect((await b.post('/api/v1/console/command', { as: 'u-wang', text: '帮助' }, csrf(b))).status).toBe(403);
    expect((await b.get('/api/v1/console/inbox?as=u-wang')).status).toBe(403);
    expect((await b.get('/api/v1/console/inbox?as=u-zhang')).status).toBe(200);
  });

  it('refuses tampered, expired and foreign links with a page that says so and shows nothing else', async () => {
    const good = pathOf(await app.bot.links.url('u-zhang', { customer: 'c-z1' }));
    const [head, payload, sig] = good.slice(good.indexOf('t=') + 2).split('.');
    // the payload re-signed by nobody: someone else's id put in
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'u-admin' })).toString('base64url');
    for (const [token, reason] of [
      [`${head}.${forged}.${sig}`, 'invalid'],
      [`${head}.${payload}.${sig.slice(0, -2)}xx`, 'invalid'],
      ['', 'invalid'],
    ] as const) {
      const res = await browser().get(`/console/open?t=${token}`);
      expect(res.status).toBe(401);
      const html = await res.text();
      expect(html).toContain(`data-refusal="${reason}"`);
      expect(html).not.toContain('c-z1');
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    const ghost = await browser().get(pathOf(await app.bot.links.url('u-ghost', { customer: 'c-z1' })));
    expect(ghost.status).toBe(403);
    expect(await ghost.text()).toContain('data-refusal="unknown_user"');

    clock.set('2026-07-07T10:00:01+08:00'); // 7 days and a second later
    try {
      const expired = await browser().get(good);
      expect(expired.status).toBe(401);
      expect(await expired.text()).toContain('data-refusal="expired"');
    } finally {
      clock.set(NOW);
    }
  });

  it('sessions end after 12 hours', async () => {
    const b = await signIn('u-zhang');
    clock.set('2026-06-30T22:00:01+08:00');
    try {
      expect((await b.get('/api/v1/me')).status).toBe(401);
    } finally {
      clock.set(NOW);
    }
  });

  it('signing out ends the session and every link issued before it; a newer link works again', async () => {
    clock.set('2026-06-30T11:00:00+08:00');
    try {
      const link = pathOf(await app.bot.links.url('u-wang', { owner: 'u-wang' }));
      const b = browser();
      expect((await b.get(link)).status).toBe(302);
      const old = new Map(b.cookies);
      expect((await b.post('/console/logout', {})).status).toBe(403); // no CSRF header
      expect((await b.post('/console/logout', {}, csrf(b))).status).toBe(200);
      expect(b.cookies.has('tierbot_session')).toBe(false);
      // the old cookie, replayed, and the old link, replayed
      const replay = browser();
      for (const [k, v] of old) replay.cookies.set(k, v);
      expect((await replay.get('/api/v1/me')).status).toBe(401);
      const again = await browser().get(link);
      expect(again.status).toBe(401);
      expect(await again.text()).toContain('data-refusal="signed_out"');
      clock.set('2026-06-30T11:00:02+08:00');
      const fresh = browser();
      const res = await fresh.get(pathOf(await app.bot.links.url('u-wang', { owner: 'u-wang' })));
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/console?owner=u-wang');
      expect((await fresh.get('/api/v1/me')).status).toBe(200);
    } finally {
      clock.set(NOW);
    }
  });

  it('a group chat gets an unsigned link (behind the sign-in), and the admin token still opens everything', async () => {
    expect(await app.bot.links.url(null, { team: 't-east' })).toMatch(/\/console\?team=t-east$/);
    expect((await browser().get('/api/v1/customers')).status).toBe(401);
    expect((await app.api('/api/v1/customers')).body.items).toHaveLength(4);
  });
});
