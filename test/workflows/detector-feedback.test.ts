// The per-detector feedback report, from alerts a recompute sent and outcomes logged through the card's actions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieBrowser } from '../helpers/cookie-browser.ts';
import { fixedClock, makeTestStore, startApp, type TestApp } from '../helpers/app.ts';
import { click, inbox, ORG, recomputeAt } from './helpers.ts';

const NOON = '2026-06-30T12:00:00+08:00';

describe('detector feedback report', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(makeTestStore('memory', 'feedback'), { clock: fixedClock(NOON) });
    await app.api('/api/v1/org', { method: 'PUT', json: ORG });
    await app.api('/api/v1/customers', { method: 'PUT', json: [{ id: 'c-drop', name: '苏州恒瑞制造', ownerId: 'u-zhang' }] });
    // spends less every month (each >= 20% down): spendDrop fires on 30 June
    const drop = [['2026-02-10', 10000], ['2026-03-10', 8000], ['2026-04-10', 6000], ['2026-05-10', 4000]].map(([d, a], i) => ({ orderId: `drop-${i}`, customerId: 'c-drop', amount: a, occurredAt: `${d}T10:00:00+08:00` }));
    await app.api('/api/v1/orders', { method: 'POST', json: drop });
    await recomputeAt(app, '2026-03-15T12:00:00+08:00'); // the baseline: no single alerts
    await recomputeAt(app, NOON);
  }, 60_000);
  afterAll(async () => app?.close());

  it('counts the alerts sent and the outcomes logged from the card, per detector and week', async () => {
    const alerts = (await inbox(app, 'u-zhang')).filter((i) => i.card.kind === 'churn_alert');
    expect(alerts).toHaveLength(1);
    const report = async () => (await app.api('/api/v1/reports/detector-feedback?from=2026-06-01T00:00:00Z&to=2026-07-31T00:00:00Z&bucket=week')).body;
    const before = (await report()).items;
    expect(before).toEqual([expect.objectContaining({ detector: 'spendDrop', bucket: '2026-06-29', alertsSent: 1, noOutcome: 1, lost: 0, wonBack: 0, notAtRisk: 0, precision: null })]);
    expect((await click(app, 'u-zhang', alerts[0], 'contact.log', {}, 'reached')).toast?.kind).toBe('success');
    expect((await click(app, 'u-zhang', alerts[0], 'contact.log', {}, 'lost')).toast?.kind).toBe('success');
    // a refused action (a rep of another team) is not feedback
    await click(app, 'u-liu', alerts[0], 'contact.log', {}, 'won_back');
    const r = await report();
    expect(r.items).toEqual([{ detector: 'spendDrop', bucket: '2026-06-29', alertsSent: 1, notAtRisk: 0, wonBack: 0, lost: 1, otherOutcomes: 1, noOutcome: 0, confirmed: 1, rejected: 0, precision: 1 }]);
    expect(r.precision).toMatch(/won back \+ lost/);
    // by month; and a range without alerts is empty
    expect((await app.api('/api/v1/reports/detector-feedback?from=2026-06-01T00:00:00Z&to=2026-07-31T00:00:00Z&bucket=month')).body.items[0].bucket).toBe('2026-06');
    expect((await app.api('/api/v1/reports/detector-feedback?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z')).body.items).toEqual([]);
    expect((await app.api('/api/v1/reports/detector-feedback?from=x&to=2026-02-01T00:00:00Z')).status).toBe(422);
  });

  it('shows managers their teams, refuses reps', async () => {
    const as = async (userId: string) => {
      const b = cookieBrowser(app.url);
      const link = new URL(await app.bot.links.url(userId, { customer: 'c-drop' }));
      await b.get(link.pathname + link.search);
      return b.get('/api/v1/reports/detector-feedback?from=2026-06-01T00:00:00Z&to=2026-07-31T00:00:00Z');
    };
    const east = await as('u-li');
    expect(east.status).toBe(200);
    expect((await east.json()).items.map((r: { detector: string; alertsSent: number }) => [r.detector, r.alertsSent])).toEqual([['spendDrop', 1]]);
    const south = await as('u-zhao');
    expect(south.status).toBe(200);
    expect((await south.json()).items).toEqual([]);
    expect((await as('u-zhang')).status).toBe(403);
  });
});
