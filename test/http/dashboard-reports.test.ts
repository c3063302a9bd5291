// The dashboard's report endpoints per role, on both stores: a rep's numbers are those of their own
// customers, a manager's those of their teams, an admin's everyone's. Every expectation is recomputed here
// from the customers as the admin token reads them (their metrics, risk and history), filtered by hand.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { valueAtStake } from '../../src/app/reports.ts';
import { hasMongo } from '../setup/mongo.ts';
import { fixedClock, makeTestStore, startApp, type StoreKind, type TestApp } from '../helpers/app.ts';

const NOW = '2026-06-30T10:00:00+08:00';
const FIRST_RUN = '2026-02-15T02:00:00+08:00';
const org = {
  users: [
    { id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east' },
    { id: 'u-zhao', name: '赵六', role: 'rep', teamId: 't-east' },
    { id: 'u-wang', name: '王五', role: 'rep', teamId: 't-west' },
    { id: 'u-li', name: '李经理', role: 'manager', teamId: 't-east' },
    { id: 'u-admin', name: '运营', role: 'admin' },
  ],
  teams: [
    { id: 't-east', name: '华东组', managerIds: ['u-li'] },
    { id: 't-west', name: '华西组', managerIds: [] },
  ],
};
const customers = [
  { id: 'c-z1', name: '张三的大客户', ownerId: 'u-zhang' },
  { id: 'c-z2', name: '张三的沉默客户', ownerId: 'u-zhang' },
  { id: 'c-z3', name: '张三的新客户', ownerId: 'u-zhang' },
  { id: 'c-zhao', name: '赵六的客户', ownerId: 'u-zhao' },
  { id: 'c-w1', name: '王五的老客户', ownerId: 'u-wang' },
  { id: 'c-w2', name: '王五的小客户', ownerId: 'u-wang' },
];
const OWNERS_SEEN: Record<string, string[]> = {
  'u-zhang': ['u-zhang'],
  'u-li': ['u-zhang', 'u-zhao', 'u-li'],
  'u-admin': ['u-zhang', 'u-zhao', 'u-wang', 'u-li'],
};

/** monthly orders of `amount` on the 10th, from month `from` to month `to` (inclusive, yyyy-mm) */
function monthly(customerId: string, amount: number, from: string, to: string) {
  const out: { orderId: string; customerId: string; amount: number; occurredAt: string }[] = [];
  let [y, m] = from.split('-').map(Number);
  const [ty, tm] = to.split('-').map(Number);
  while (y < ty || (y === ty && m <= tm)) {
    const mm = String(m).padStart(2, '0');
    out.push({ orderId: `${customerId}-${y}${mm}`, customerId, amount, occurredAt: `${y}-${mm}-10T10:00:00+08:00` });
    [y, m] = m === 12 ? [y + 1, 1] : [y, m + 1];
  }
  return out;
}
const orders = [
  ...monthly('c-z1', 3000, '2025-07', '2026-06'),
  ...monthly('c-z2', 1500, '2025-07', '2026-02'), // quiet since February: overdue by June
  ...monthly('c-z3', 800, '2026-05', '2026-05'),
  ...monthly('c-zhao', 500, '2026-01', '2026-06'),
  ...monthly('c-w1', 5000, '2025-08', '2026-01'), // quiet since January
  ...monthly('c-w2', 200, '2026-06', '2026-06'),
];

interface View {
  id: string;
  ownerId: string;
  teamId: string | null;
  tier: { key: string; name: string } | null;
  metrics: { monetary: number; lifetimeValue: number; frequency: number; tenureDays: number | null };
  risk: { level: string };
  history: { from: string | null; to: string; at: string; runId: string }[];
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const pct = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10000) / 100 : 0);

for (const kind of ['memory', 'mongo'] as StoreKind[]) {
  describe.skipIf(kind === 'mongo' && !hasMongo)(`dashboard reports on the ${kind} store`, () => {
    const clock = fixedClock(NOW);
    let app: TestApp;
    let all: View[];
    let runs: { id: string; asOf: string }[];
    const sessions = new Map<string, string>();

    beforeAll(async () => {
      app = await startApp(makeTestStore(kind, 'dashboard'), { clock, env: { TIERBOT_DEMO: '0' } });
      expect((await app.api('/api/v1/org', { method: 'PUT', json: org })).status).toBe(200);
      expect((await app.api('/api/v1/customers', { method: 'PUT', json: customers })).status).toBe(200);
      expect((await app.api('/api/v1/orders', { method: 'POST', json: orders })).body.inserted).toBe(orders.length);
      expect((await app.api('/api/v1/tiering/recompute', { method: 'POST', json: { asOf: FIRST_RUN } })).status).toBe(200);
      clock.set('2026-06-30T10:05:00+08:00'); // the second run starts later (the latest run is the one started last)
      expect((await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} })).status).toBe(200);
      all = await Promise.all(customers.map(async (c) => (await app.api(`/api/v1/customers/${c.id}`)).body as View));
      runs = (await app.api('/api/v1/tiering/runs')).body.items.filter((r: { status: string }) => r.status === 'done').reverse();
      expect(runs.map((r) => r.asOf)).toEqual([FIRST_RUN, '2026-06-30T10:05:00+08:00'].map((t) => new Date(t).toISOString()));
      for (const id of Object.keys(OWNERS_SEEN)) {
        const link = await app.bot.links.url(id, {});
        const res = await fetch(app.url + link.slice(link.indexOf('/console')), { redirect: 'manual' });
        expect(res.status).toBe(302);
        sessions.set(id, res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '));
      }
    });
    afterAll(async () => {
      await app?.close();
    });

    const as = async (userId: string, path: string) => {
      const res = await fetch(app.url + path, { headers: { cookie: sessions.get(userId)! } });
      expect(res.status).toBe(200);
      return res.json();
    };
    const seenBy = (userId: string) => all.filter((c) => OWNERS_SEEN[userId].includes(c.ownerId));

    it('the data has what the reports need: two runs, tier changes between them, customers at risk in both teams', () => {
      expect(runs).toHaveLength(2);
      expect(all.some((c) => c.history.some((h) => h.from !== null))).toBe(true);
      expect(seenBy('u-zhang').some((c) => c.risk.level !== 'none')).toBe(true);
      expect(all.some((c) => c.ownerId === 'u-wang' && c.risk.level !== 'none')).toBe(true);
    });

    it.each(Object.keys(OWNERS_SEEN))('KPIs per tier for %s: only what they may see', async (userId) => {
      const seen = seenBy(userId);
      const body = await as(userId, '/api/v1/reports/tiers');
      expect(body.total).toBe(seen.length);
      const revenue = seen.reduce((s, c) => s + c.metrics.monetary, 0);
      for (const t of body.tiers) {
        const mine = seen.filter((c) => c.tier?.key === t.key);
        const risky = mine.filter((c) => c.risk.level !== 'none');
        expect(t).toMatchObject({
          customers: mine.length,
          revenue: round2(mine.reduce((s, c) => s + c.metrics.monetary, 0)),
          revenueSharePct: pct(mine.reduce((s, c) => s + c.metrics.monetary, 0), revenue),
          avgLifetimeValue: mine.length ? round2(mine.reduce((s, c) => s + c.metrics.lifetimeValue, 0) / mine.length) : null,
          repurchaseRatePct: pct(mine.filter((c) => c.metrics.frequency >= 2).length, mine.length),
          atRisk: risky.length,
          valueAtStake: round2(risky.reduce((s, c) => s + valueAtStake(c.metrics), 0)),
        });
      }
      expect(body.all.customers).toBe(seen.length);
      expect(body.all.revenue).toBe(round2(revenue));
      expect(body.all.atRisk).toBe(seen.filter((c) => c.risk.level !== 'none').length);
      // the tier distribution agrees with the existing report for the same person
      const dist = await as(userId, '/api/v1/reports/distribution');
      expect(body.tiers.map((t: { key: string; customers: number }) => [t.key, t.customers])).toEqual(dist.tiers.map((t: { key: string; count: number }) => [t.key, t.count]));
    });

    it.each(Object.keys(OWNERS_SEEN))('value at stake by team and owner for %s, with names', async (userId) => {
      const risky = seenBy(userId).filter((c) => c.risk.level !== 'none');
      const body = await as(userId, '/api/v1/reports/value-at-stake');
      expect(body.customers).toBe(risky.length);
      expect(body.valueAtStake).toBe(round2(risky.reduce((s, c) => s + valueAtStake(c.metrics), 0)));
      const owners = new Map<string, number>();
      for (const c of risky) owners.set(c.ownerId, (owners.get(c.ownerId) ?? 0) + valueAtStake(c.metrics));
      const name = (id: string) => org.users.find((u) => u.id === id)!.name;
      expect(body.byOwner.map((o: { name: string; valueAtStake: number }) => [o.name, o.valueAtStake]).sort()).toEqual([...owners].map(([id, v]) => [name(id), round2(v)]).sort());
      const teams = new Map<string, number>();
      for (const c of risky) teams.set(c.teamId!, (teams.get(c.teamId!) ?? 0) + valueAtStake(c.metrics));
      const teamName = (id: string) => org.teams.find((t) => t.id === id)!.name;
      expect(body.byTeam.map((t: { name: string; valueAtStake: number }) => [t.name, t.valueAtStake]).sort()).toEqual([...teams].map(([id, v]) => [teamName(id), round2(v)]).sort());
      if (userId !== 'u-admin') expect(JSON.stringify(body)).not.toContain('华西组');
    });

    it.each(Object.keys(OWNERS_SEEN))('the Pareto curve and the revenue share of its top fifth for %s', async (userId) => {
      const values = seenBy(userId).map((c) => c.metrics.monetary).sort((a, b) => b - a);
      const positive = values.filter((v) => v > 0);
      const total = positive.reduce((s, v) => s + v, 0);
      const top = positive.slice(0, Math.max(1, Math.ceil(values.length / 5))).reduce((s, v) => s + v, 0);
      const body = await as(userId, '/api/v1/reports/pareto');
      expect(body.customers).toBe(values.length);
      expect(body.totalRevenue).toBe(round2(total));
      expect(body.top20SharePct).toBe(pct(top, total));
      expect(body.points.at(-1)).toEqual({ topPct: 100, revenueSharePct: 100 });
    });

    it.each(Object.keys(OWNERS_SEEN))('the movement matrix since a date for %s counts only their customers', async (userId) => {
      const since = new Date(Date.parse(FIRST_RUN) + 1).toISOString();
      const expected: Record<string, Record<string, number>> = {};
      let changes = 0;
      for (const c of seenBy(userId)) {
        for (const h of c.history) {
          if (h.from === null || Date.parse(h.at) < Date.parse(since)) continue;
          expected[h.from] ??= {};
          expected[h.from][h.to] = (expected[h.from][h.to] ?? 0) + 1;
          changes++;
        }
      }
      const body = await as(userId, `/api/v1/reports/movements?since=${encodeURIComponent(since)}`);
      expect(body.matrix).toEqual(expected);
      expect(body.changes).toBe(changes);
    });

    it.each(Object.keys(OWNERS_SEEN))('the distribution after each run for %s, from the tier history', async (userId) => {
      const body = await as(userId, '/api/v1/reports/distribution/runs');
      expect(body.complete).toBe(true);
      expect(body.runs.map((r: { runId: string }) => r.runId)).toEqual(runs.map((r) => r.id));
      for (const [i, run] of runs.entries()) {
        const tiers: Record<string, number> = {};
        let unevaluated = 0;
        for (const c of seenBy(userId)) {
          const last = c.history.filter((h) => Date.parse(h.at) <= Date.parse(run.asOf)).at(-1);
          if (last) tiers[last.to] = (tiers[last.to] ?? 0) + 1;
          else unevaluated++;
        }
        expect(body.runs[i]).toMatchObject({ asOf: run.asOf, tiers, unevaluated });
      }
    });

    it('without a session the reports are refused', async () => {
      for (const path of ['/api/v1/reports/tiers', '/api/v1/reports/value-at-stake', '/api/v1/reports/distribution/runs', '/api/v1/reports/pareto']) {
        expect((await fetch(app.url + path)).status).toBe(401);
      }
    });
  });
}

describe('the dashboard page and its chart library', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(new MemoryStore(), { env: { TIERBOT_DEMO: '0' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('serves ECharts from node_modules with a long cache and answers a revalidation with 304', async () => {
    const installed = readFileSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'), 'utf8');
    const res = await fetch(`${app.url}/console/assets/echarts.min.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1])).toBeGreaterThanOrEqual(7 * 86_400);
    expect(await res.text()).toBe(installed);
    // as a browser revalidates its cached copy (fetch() would add cache-control: no-cache to a conditional request)
    const again = await fetch(`${app.url}/console/assets/echarts.min.js`, { headers: { 'if-none-match': res.headers.get('etag')!, 'cache-control': 'max-age=0' } });
    expect(again.status).toBe(304);
  });

  it('serves the dashboard page uncached, under the console CSP, loading the chart library from this server', async () => {
    const res = await fetch(`${app.url}/console/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    expect(html).toContain('<script src="/console/assets/echarts.min.js"></script>');
    expect(html).not.toMatch(/src="https?:/);
    // the console links to it
    expect(await (await fetch(`${app.url}/console`)).text()).toContain('href="/console/dashboard"');
  });
});
