// "Not at risk" on a churn alert: audited with the alert's run and rules, counted by the detector feedback
// report as rejected, the customer's alerts snoozed, idempotent, refused for someone who may not act.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, makeTestStore, startApp, type TestApp } from '../helpers/app.ts';
import { click, command, inbox, ORG, recomputeAt } from './helpers.ts';

const NOON = '2026-06-30T12:00:00+08:00';

describe('not at risk on a churn alert', () => {
  let app: TestApp;
  let runId: string;
  const clock = fixedClock(NOON);
  beforeAll(async () => {
    app = await startApp(makeTestStore('memory', 'not-at-risk'), { clock });
    await app.api('/api/v1/org', { method: 'PUT', json: ORG });
    await app.api('/api/v1/customers', { method: 'PUT', json: [{ id: 'c-drop', name: '苏州恒瑞制造', ownerId: 'u-zhang' }] });
    // spends less every month (each >= 20% down): spendDrop fires on 30 June
    const drop = [['2026-02-10', 10000], ['2026-03-10', 8000], ['2026-04-10', 6000], ['2026-05-10', 4000]].map(([d, a], i) => ({ orderId: `drop-${i}`, customerId: 'c-drop', amount: a, occurredAt: `${d}T10:00:00+08:00` }));
    await app.api('/api/v1/orders', { method: 'POST', json: drop });
    await recomputeAt(app, '2026-03-15T12:00:00+08:00'); // the baseline: no single alerts
    runId = (await recomputeAt(app, NOON)).runId;
  }, 60_000);
  afterAll(async () => app?.close());

  const alerts = async () => (await inbox(app, 'u-zhang')).filter((i) => i.card.kind === 'churn_alert');
  const report = async () => (await app.api('/api/v1/reports/detector-feedback?from=2026-06-01T00:00:00Z&to=2026-07-31T00:00:00Z&bucket=week')).body;
  const audit = async () =>
    ((await app.api('/api/v1/audit?customerId=c-drop')).body.items as { action: string; outcome: string; actor: string; customerId: string; detail: Record<string, unknown> }[]).filter(
      (a) => a.action === 'alert.notAtRisk',
    );

  it('refuses a rep of another team, records the owner\'s answer once, and the report counts it as rejected', async () => {
    const [alert] = await alerts();
    expect(alert.card.actions.some((a) => a.type === 'callback' && a.key === 'alert.notAtRisk')).toBe(true);
    // one lost outcome first: precision goes from 1 to 0.5 once the rejection is in
    await click(app, 'u-zhang', alert, 'contact.log', {}, 'lost');
    expect((await report()).items[0]).toMatchObject({ detector: 'spendDrop', notAtRisk: 0, rejected: 0, confirmed: 1, precision: 1 });

    const refused = await click(app, 'u-liu', alert, 'alert.notAtRisk');
    expect(refused.toast?.kind).toBe('error');
    expect((await audit()).map((a) => `${a.actor}:${a.outcome}`)).toEqual(['u-liu:refused']);
    expect((await report()).items[0].notAtRisk).toBe(0);

    const done = await click(app, 'u-zhang', alert, 'alert.notAtRisk');
    expect(done.toast?.kind).toBe('success');
    expect(done.toast?.text).toBe('已由 张三 于 2026-06-30 12:00 标记为无流失风险，7 天内不再提醒');
    const ok = (await audit()).filter((a) => a.outcome === 'ok');
    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatchObject({ actor: 'u-zhang', customerId: 'c-drop', detail: { rules: ['spendDrop'], level: expect.any(String) } });
    expect(typeof runId).toBe('string');
    expect(ok[0].detail.runId).toBe(runId);

    expect((await report()).items).toEqual([
      { detector: 'spendDrop', bucket: '2026-06-29', alertsSent: 1, notAtRisk: 1, wonBack: 0, lost: 1, otherOutcomes: 0, noOutcome: 0, confirmed: 1, rejected: 1, precision: 0.5 },
    ]);

    // a second click changes nothing, and says so
    const again = await click(app, 'u-zhang', alert, 'alert.notAtRisk');
    expect(again.toast?.kind).toBe('info');
    expect(again.toast?.text).toContain('无需重复操作');
    expect(again.toast?.text).toContain('张三');
    expect((await audit()).filter((a) => a.outcome === 'ok')).toHaveLength(1);
    expect((await report()).items[0]).toMatchObject({ notAtRisk: 1, rejected: 1, precision: 0.5 });
  });

  it('the customer card (the console customer page) offers the same action through the same handler', async () => {
    await command(app, 'u-li', '客户 c-drop');
    const [profile] = (await inbox(app, 'u-li')).filter((i) => i.card.kind === 'customer_profile');
    const r = await click(app, 'u-li', profile, 'alert.notAtRisk');
    expect(r.toast?.kind).toBe('info');
    expect(r.toast?.text).toContain('已由 张三 于 2026-06-30 12:00');
    expect((await audit()).filter((a) => a.outcome === 'ok')).toHaveLength(1);
  });

  it('holds the next alerts for the customer while the snooze lasts', async () => {
    // 60 days on, the customer is also overdue: a new rule fires, but the "not at risk" snooze holds it
    clock.set('2026-07-05T12:00:00+08:00');
    await recomputeAt(app, '2026-08-30T12:00:00+08:00');
    expect(await alerts()).toHaveLength(1);
    // ...until it ends (SNOOZE_DAYS after the answer)
    clock.set('2026-07-08T12:00:00+08:00');
    await recomputeAt(app, '2026-08-31T12:00:00+08:00');
    expect(await alerts()).toHaveLength(2);
  });
});
