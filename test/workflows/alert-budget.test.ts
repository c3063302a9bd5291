// The alert budget as a rep lives it: 20 customers turn risky on one night, the rep gets the 5 that matter
// most as cards and one summary of the rest; later runs that day add no cards; a new day has a new budget;
// a customer seen for the first time and a new policy version are baselines (summaries only); managers get
// their team's summary instead of copies; quiet hours hold the summary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasMongo } from '../setup/mongo.ts';
import { fixedClock, makeTestStore, startApp, type StoreKind, type TestApp } from '../helpers/app.ts';
import { inbox, ORG, recomputeAt, type InboxItem } from './helpers.ts';

const NOON = '2026-06-30T12:00:00+08:00';
const DAY = 86_400_000;
const SEVERITY: Record<string, number> = { high: 3, medium: 2, low: 1, none: 0 };

interface AtRiskRow {
  id: string;
  name: string;
  risk: string;
  valueAtStake: number;
}

/** 8 customers whose monthly spend falls ≥ 20% three months running (high risk by June), 12 that stop ordering in May (medium). */
function book() {
  const customers = [
    ...Array.from({ length: 8 }, (_, i) => ({ id: `h-${i}`, name: `高风险客户${i}`, ownerId: 'u-zhang' })),
    ...Array.from({ length: 12 }, (_, i) => ({ id: `m-${String(i).padStart(2, '0')}`, name: `中风险客户${i}`, ownerId: 'u-zhang' })),
    { id: 'late', name: '八月才沉默的客户', ownerId: 'u-zhang' },
    { id: 'chen-1', name: '陈晨的客户', ownerId: 'u-chen' },
  ];
  const orders: { orderId: string; customerId: string; amount: number; occurredAt: string }[] = [];
  for (let i = 0; i < 8; i++) {
    [10000, 8000, 6000, 4000].forEach((a, k) => orders.push({ orderId: `h-${i}-${k}`, customerId: `h-${i}`, amount: a * (1 + i / 4), occurredAt: `2026-0${2 + k}-10T10:00:00+08:00` }));
  }
  for (let i = 0; i < 12; i++) {
    for (let d = 0; d < 12; d++) {
      orders.push({ orderId: `m-${i}-${d}`, customerId: `m-${String(i).padStart(2, '0')}`, amount: 300 * (i + 1), occurredAt: new Date(Date.parse('2026-01-01T10:00:00+08:00') + d * 10 * DAY).toISOString() });
    }
  }
  for (let d = 0; d < 22; d++) orders.push({ orderId: `late-${d}`, customerId: 'late', amount: 800, occurredAt: new Date(Date.parse('2026-01-05T10:00:00+08:00') + d * 10 * DAY).toISOString() });
  for (let d = 0; d < 12; d++) orders.push({ orderId: `chen-${d}`, customerId: 'chen-1', amount: 900, occurredAt: new Date(Date.parse('2026-01-03T10:00:00+08:00') + d * 10 * DAY).toISOString() });
  return { customers, orders };
}

const ofKind = (items: InboxItem[], kind: string) => items.filter((i) => i.card.kind === kind);
const tableOf = (item: InboxItem) => item.card.blocks.find((b) => b.type === 'table') as { rows: string[][]; total?: number } | undefined;
const text = (item: InboxItem) => JSON.stringify(item.card);

for (const kind of ['memory', 'mongo'] as StoreKind[]) {
  describe.skipIf(kind === 'mongo' && !hasMongo)(`the alert budget (${kind} store)`, () => {
    let app: TestApp;
    const clock = fixedClock(NOON);
    const data = book();
    const nameOf = (id: string) => data.customers.find((c) => c.id === id)!.name;

    beforeAll(async () => {
      app = await startApp(makeTestStore(kind, 'budget'), { clock });
      await app.api('/api/v1/org', { method: 'PUT', json: ORG });
      // one tier only, so tier moves do not compete with the alerts this test ranks
      const { policy } = (await app.api('/api/v1/policy')).body;
      policy.tiers = [policy.tiers.find((t: { key: string }) => t.key === 'C')];
      policy.churn = policy.churn.filter((r: { key: string }) => r.key !== 'quietVip');
      expect((await app.api('/api/v1/policy', { method: 'PUT', json: policy })).status).toBe(200);
      await app.api('/api/v1/customers', { method: 'PUT', json: data.customers.filter((c) => c.id !== 'chen-1') });
      expect((await app.api('/api/v1/orders', { method: 'POST', json: data.orders.filter((o) => o.customerId !== 'chen-1') })).body.inserted).toBeGreaterThan(0);
    });
    afterAll(async () => app?.close());

    const recompute = (asOf: string) => recomputeAt(app, asOf);

    it('the first run on a fresh store records the book silently (nothing at risk yet: nothing sent)', async () => {
      const baseline = await recompute('2026-03-01T12:00:00+08:00');
      expect(baseline.atRisk).toBe(0);
      expect(await inbox(app, 'u-zhang')).toHaveLength(0);
    });

    it('20 customers turn risky: the 5 most severe and valuable are cards, the summary ranks the rest the same way', async () => {
      const run = await recompute(NOON);
      expect(run.atRisk).toBe(20);
      const report: AtRiskRow[] = (await app.api('/api/v1/reports/at-risk?ownerId=u-zhang')).body.items;
      const ranked = [...report].sort((a, b) => SEVERITY[b.risk] - SEVERITY[a.risk] || b.valueAtStake - a.valueAtStake || (a.id < b.id ? -1 : 1));
      expect(ranked.filter((r) => r.risk === 'high')).toHaveLength(8);

      const items = await inbox(app, 'u-zhang');
      const alerts = ofKind(items, 'churn_alert');
      expect(alerts).toHaveLength(5);
      const alerted = ranked.slice(0, 5).map((r) => r.name);
      for (const name of alerted) expect(alerts.filter((a) => text(a).includes(name))).toHaveLength(1);

      const [summary, ...more] = ofKind(items, 'alert_summary');
      expect(more).toHaveLength(0);
      const table = tableOf(summary)!;
      expect(table.rows.map((r) => r[1])).toEqual(ranked.slice(5, 15).map((r) => r.name));
      expect(table.total).toBe(15);
      expect(text(summary)).toContain('15');
      // the reason's numbers are on the row: the month whose spend fell
      expect(table.rows[0][5]).toMatch(/\d/);
      // its link signs 张三 in and opens their customers
      const link = summary.card.actions.find((a) => a.type === 'link') as { url: string };
      expect(await app.bot.links.openLink(new URL(link.url).searchParams.get('t')!)).toEqual({ userId: 'u-zhang', page: '/console?owner=u-zhang' });

      // managers: one team summary each, no copies of the rep's cards
      for (const manager of ['u-li', 'u-wang']) {
        const theirs = await inbox(app, manager);
        expect(ofKind(theirs, 'churn_alert')).toHaveLength(0);
        const [team] = ofKind(theirs, 'alert_summary');
        expect(tableOf(team)!.rows.map((r) => r[1])).toEqual(ranked.slice(0, 10).map((r) => r.name));
        expect(tableOf(team)!.rows[0][2]).toBe('张三');
      }
    });

    it('a second run the same day sends no new individual cards: risen risks go into its summary', async () => {
      // two months on every customer is also overdue: new rules fire for the 8 high-risk ones
      clock.set('2026-06-30T15:00:00+08:00');
      await recompute('2026-08-30T12:00:00+08:00');
      const items = await inbox(app, 'u-zhang');
      expect(ofKind(items, 'churn_alert')).toHaveLength(5);
      const summaries = ofKind(items, 'alert_summary');
      expect(summaries).toHaveLength(2);
      const latest = summaries.find((s) => tableOf(s)!.rows.some((r) => r[1] === nameOf('h-7')))!;
      expect(latest).toBeDefined();
      expect(tableOf(latest)!.total ?? tableOf(latest)!.rows.length).toBeGreaterThanOrEqual(8);
    });

    it('the next day has a new budget; a customer seen for the first time is a baseline', async () => {
      clock.set('2026-07-01T10:00:00+08:00');
      await app.api('/api/v1/customers', { method: 'PUT', json: data.customers.filter((c) => c.id === 'chen-1') });
      await app.api('/api/v1/orders', { method: 'POST', json: data.orders.filter((o) => o.customerId === 'chen-1') });
      // 'late' kept ordering every 10 days until mid-August and is overdue by the end of September; chen-1 is new and overdue
      await recompute('2026-09-30T12:00:00+08:00');
      const zhang = await inbox(app, 'u-zhang');
      const cards = ofKind(zhang, 'churn_alert');
      expect(cards).toHaveLength(6);
      expect(text(cards.find((c) => !alertedEarlier(c))!)).toContain(nameOf('late'));
      const chen = await inbox(app, 'u-chen');
      expect(ofKind(chen, 'churn_alert')).toHaveLength(0);
      const [first] = ofKind(chen, 'alert_summary');
      expect(tableOf(first)!.rows.map((r) => r[1])).toEqual([nameOf('chen-1')]);
    });

    it('a new policy version is a baseline, and quiet hours hold its summaries', async () => {
      clock.set('2026-07-01T23:00:00+08:00');
      const { policy } = (await app.api('/api/v1/policy')).body;
      policy.churn.push({ key: 'longQuiet', severity: 'low', when: { all: [{ metric: 'recencyDays', op: 'gt', value: 20 }] } });
      expect((await app.api('/api/v1/policy', { method: 'PUT', json: policy })).status).toBe(200);
      const before = ofKind(await inbox(app, 'u-zhang'), 'alert_summary').length;
      await recompute('2026-09-30T12:00:00+08:00');
      const pending = (await app.api('/api/v1/outbox?status=pending&limit=200')).body.items as { kind: string; recipient: { id: string }; card?: unknown }[];
      const held = pending.filter((p) => p.kind === 'alert_summary');
      expect(held.length).toBeGreaterThanOrEqual(1);
      expect(held.every((p) => p.kind !== 'churn_alert')).toBe(true);
      expect(pending.some((p) => p.kind === 'churn_alert')).toBe(false);
      expect(ofKind(await inbox(app, 'u-zhang'), 'alert_summary')).toHaveLength(before);
      // after 08:30 the held summary arrives; still no individual card for the new rule
      clock.set('2026-07-02T08:31:00+08:00');
      await app.bot.chat.settle();
      const zhang = await inbox(app, 'u-zhang');
      expect(ofKind(zhang, 'alert_summary')).toHaveLength(before + 1);
      expect(ofKind(zhang, 'churn_alert')).toHaveLength(6);
    });
  });
}

/** Cards sent before the third run name one of the 8 high-risk customers. */
function alertedEarlier(card: InboxItem): boolean {
  return /高风险客户/.test(JSON.stringify(card.card));
}
