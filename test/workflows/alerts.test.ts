// Churn alerts after recomputes (de-duplicated, snooze honoured), the baseline summary of a fresh store,
// quiet hours, and the daily digest's content for a known data set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasMongo } from '../setup/mongo.ts';
import { fixedClock, makeTestStore, startApp, type StoreKind, type TestApp } from '../helpers/app.ts';
import { click, command, inbox, ORG, recomputeAt } from './helpers.ts';

const NOON = '2026-06-30T12:00:00+08:00';

async function seed(app: TestApp) {
  await app.api('/api/v1/org', { method: 'PUT', json: ORG });
  await app.api('/api/v1/customers', {
    method: 'PUT',
    json: [
      { id: 'c-drop', name: '苏州恒瑞制造', ownerId: 'u-zhang' },
      { id: 'c-fine', name: '南京明泰食品', ownerId: 'u-zhang' },
      { id: 'c-south', name: '深圳安信电子', ownerId: 'u-liu' },
    ],
  });
  // c-drop spends less every month: Feb 10000, Mar 8000, Apr 6000, May 4000 (each ≥ 20% down) → spendDrop
  const drop = [['2026-02-10', 10000], ['2026-03-10', 8000], ['2026-04-10', 6000], ['2026-05-10', 4000]].map(([d, a], i) => ({
    orderId: `drop-${i}`, customerId: 'c-drop', amount: a, occurredAt: `${d}T10:00:00+08:00`,
  }));
  const fine = Array.from({ length: 8 }, (_, i) => ({ orderId: `fine-${i}`, customerId: 'c-fine', amount: 2000, occurredAt: new Date(Date.parse(NOON) - (2 + i * 20) * 86_400_000).toISOString() }));
  const south = [{ orderId: 'south-1', customerId: 'c-south', amount: 50000, occurredAt: '2025-01-05T10:00:00+08:00' }, { orderId: 'south-2', customerId: 'c-south', amount: 50000, occurredAt: '2025-02-05T10:00:00+08:00' }];
  const res = await app.api('/api/v1/orders', { method: 'POST', json: [...drop, ...fine, ...south] });
  expect(res.body.inserted).toBe(14);
}

const alertsFor = async (app: TestApp, user: string, customerName: string) =>
  (await inbox(app, user)).filter((i) => i.card.kind === 'churn_alert' && JSON.stringify(i.card).includes(customerName));

for (const kind of ['memory', 'mongo'] as StoreKind[]) {
  describe.skipIf(kind === 'mongo' && !hasMongo)(`alerts and digests (${kind} store)`, () => {
    let app: TestApp;
    const clock = fixedClock(NOON);
    beforeAll(async () => {
      app = await startApp(makeTestStore(kind, 'alerts'), { clock });
      await seed(app);
    });
    afterAll(async () => app?.close());

    const recompute = (asOf: string) => recomputeAt(app, asOf);

    const summaries = async (user: string) => (await inbox(app, user)).filter((i) => i.card.kind === 'alert_summary');

    it('the first run on a fresh store is a baseline: one summary per person and team, no individual alerts', async () => {
      // in mid-March 苏州恒瑞制造 still looks healthy; 深圳安信电子 has been quiet for a year
      const baseline = await recompute('2026-03-15T12:00:00+08:00');
      expect(baseline.atRisk).toBeGreaterThanOrEqual(1);
      expect((await inbox(app, 'u-liu')).filter((i) => i.card.kind === 'churn_alert')).toHaveLength(0);
      const [mine] = await summaries('u-liu');
      expect(mine.card.title).toMatch(/风险/);
      expect(JSON.stringify(mine.card)).toContain('深圳安信电子');
      // the manager gets the team's summary, not copies of the rep's cards
      const [team] = await summaries('u-zhao');
      expect(JSON.stringify(team.card)).toContain('深圳安信电子');
      expect(JSON.stringify(team.card)).toContain('刘洋');
      expect(await summaries('u-zhang')).toHaveLength(0); // nothing of theirs at risk
    });

    it('alerts the owner once for a risk state, not again on the next recomputes', async () => {
      const first = await recompute(NOON);
      expect(first.atRisk).toBeGreaterThanOrEqual(2);
      const alerts = await alertsFor(app, 'u-zhang', '苏州恒瑞制造');
      expect(alerts).toHaveLength(1);
      const text = JSON.stringify(alerts[0].card);
      expect(text).toContain('4,000'); // the numbers that made spendDrop fire
      expect((await alertsFor(app, 'u-zhang', '南京明泰食品'))).toHaveLength(0);
      expect((await alertsFor(app, 'u-liu', '苏州恒瑞制造'))).toHaveLength(0);

      await recompute(NOON);
      clock.set('2026-07-01T12:00:00+08:00');
      await recompute('2026-07-01T12:00:00+08:00');
      expect(await alertsFor(app, 'u-zhang', '苏州恒瑞制造')).toHaveLength(1);
    });

    it('snooze holds alerts for 7 days, even when the risk changes', async () => {
      const [alert] = await alertsFor(app, 'u-zhang', '苏州恒瑞制造');
      const snoozed = await click(app, 'u-zhang', alert, 'alert.snooze');
      expect(snoozed.toast?.kind).toBe('success');
      // a stranger cannot snooze: refused and audited
      const refused = await click(app, 'u-liu', alert, 'alert.snooze');
      expect(refused.toast?.kind).toBe('error');

      // 60 days on, the customer is also overdue: a new rule fires, but the snooze holds it...
      clock.set('2026-07-05T12:00:00+08:00');
      await recompute('2026-08-30T12:00:00+08:00');
      expect(await alertsFor(app, 'u-zhang', '苏州恒瑞制造')).toHaveLength(1);
      // ...until it ends
      clock.set('2026-07-08T12:00:00+08:00');
      await recompute('2026-08-31T12:00:00+08:00');
      expect(await alertsFor(app, 'u-zhang', '苏州恒瑞制造')).toHaveLength(2);
      const audit = (await app.api('/api/v1/audit?customerId=c-drop')).body.items.map((a: { action: string; outcome: string; actor: string }) => `${a.actor}:${a.action}:${a.outcome}`);
      expect(audit).toEqual(expect.arrayContaining(['u-zhang:alert.snooze:ok', 'u-liu:alert.snooze:refused']));
    });

    it('claims and logs contact outcomes from the alert, audited', async () => {
      const [alert] = await alertsFor(app, 'u-zhang', '苏州恒瑞制造');
      expect((await click(app, 'u-zhang', alert, 'followup.claim')).toast?.kind).toBe('success');
      const second = await click(app, 'u-li', alert, 'followup.claim');
      expect(second.toast?.text).toContain('张三');
      expect((await click(app, 'u-zhang', alert, 'contact.log', {}, 'won_back')).toast?.kind).toBe('success');
      const audit = (await app.api('/api/v1/audit?customerId=c-drop')).body.items;
      expect(audit.find((a: { action: string }) => a.action === 'contact.log').detail.outcome).toBe('won_back');
    });

    it('holds scheduled cards during quiet hours but answers a person at once', async () => {
      clock.set('2026-09-01T23:00:00+08:00');
      const before = (await app.api('/api/v1/outbox?status=pending')).body.items.length;
      await app.api('/api/v1/scores', { method: 'POST', json: { customerId: 'c-south', points: { profitability: 80, strength: 80 }, submittedBy: 'u-liu' } });
      await app.bot.chat.settle();
      // the approval card is an answer to a person's own action: delivered despite quiet hours
      expect((await inbox(app, 'u-zhao')).some((i) => i.card.kind === 'approval_request')).toBe(true);
      await command(app, 'u-zhang', 'atrisk');
      const reply = (await inbox(app, 'u-zhang'))[0];
      expect(JSON.stringify(reply.card)).toContain('苏州恒瑞制造');
      expect((await app.api('/api/v1/outbox?status=pending')).body.items.length).toBe(before);
    });

    it('sends the team digest with at-risk customers ranked by value, tier moves and pending approvals, once a day', async () => {
      clock.set('2026-09-02T09:07:00+08:00');
      const res = await app.api('/api/v1/digests/run', { method: 'POST', json: { teamId: 't-south' } });
      expect(res.status).toBe(200);
      expect(res.body.teams).toEqual([expect.objectContaining({ teamId: 't-south', pending: 1 })]);
      await app.bot.chat.settle();
      const [digest] = (await inbox(app, 't-south')).filter((i) => i.card.kind === 'daily_digest');
      const text = JSON.stringify(digest.card);
      expect(text).toContain('深圳安信电子');
      expect(text).not.toContain('苏州恒瑞制造'); // another team's customer
      const again = await app.api('/api/v1/digests/run', { method: 'POST', json: { teamId: 't-south' } });
      expect(again.body.teams[0].queued).toBe(0);
      expect((await inbox(app, 't-south')).filter((i) => i.card.kind === 'daily_digest')).toHaveLength(1);
      expect((await app.api('/api/v1/digests/run', { method: 'POST', json: { teamId: 't-none' } })).status).toBe(404);
    });
  });
}
