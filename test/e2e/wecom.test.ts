// End to end on WeCom (企业微信): the composed app (createTierbot, memory store) with WECOM_* pointing at the
// fake WeCom. The fake plays WeCom's side of the callback URL — messages and template_card_event clicks,
// AES-encrypted and signed with the independent @wecom/crypto, POSTed to /webhooks/wecom — and records what
// the app sends (message/send template cards, update_template_card with a response_code, text notices).
// Clicks are made on the cards the fake delivered, as WeCom makes them: every selector reports its option,
// the preselected one (selected_id, else the first) unless the member picks another (test/fakes/wecom.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { SCORE_DECISIONS } from '../../src/app/workflows/scoring.ts';
import type { WecomPlatformModule } from '../../src/platforms/wecom/index.ts';
import { FakeWecom, type Delivery } from '../fakes/wecom.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';
import { AS_OF, auditKeys, CUSTOMER, eventually, EXPECTED_TOTAL, expectCleanOutbox, NOW, orgFor, quiesce, seed, snapshot, type PlatformIds, expectOnlyLateConflict } from './helpers.ts';

const CONF = {
  corpId: 'wwe2e0c0ffee0b0t01',
  secret: 'e2e-corp-secret-for-tests',
  agentId: 1000017,
  token: 'TierbotE2eCallbackToken',
  encodingAesKey: Buffer.alloc(32, 0x3c).toString('base64').replace(/=+$/, ''),
} as const;

// WeCom userids are case-insensitive; the org writes them as the admin console shows them
const IDS: PlatformIds = {
  zhang: 'ZhangSan',
  chen: 'chenchen',
  li: 'LiJingli',
  wang: 'wangjingli',
  liu: 'liuyang',
  zhao: 'zhaojingli',
  eastChat: 'chat-east',
  southChat: 'chat-south',
};
/** a member of the corp (in the app's visible range) who is not in tierbot's org */
const STRANGER = 'outsider';

const ENV = (fakeUrl: string) => ({
  WECOM_CORP_ID: CONF.corpId,
  WECOM_AGENT_ID: String(CONF.agentId),
  WECOM_SECRET: CONF.secret,
  WECOM_TOKEN: CONF.token,
  WECOM_ENCODING_AES_KEY: CONF.encodingAesKey,
  WECOM_API_BASE: fakeUrl,
  PLATFORM_TIMEOUT_MS: '2000',
});
const MEMBERS = [...Object.values(IDS).filter((id) => !id.startsWith('chat-')), STRANGER];

const clock = fixedClock(NOW);
let fake: FakeWecom;
let app: TestApp;
let store: MemoryStore;
let callbackUrl: string;

const wecom = () => app.bot.chat.platforms.find((p) => p.platform === 'wecom') as WecomPlatformModule;
/** POSTs like WeCom, timestamped by the app's (fixed) clock so the replay window holds. */
const post = (xml: string) => fake.postCallback(callbackUrl, xml, { timestampMs: clock.now() });
/** Lets the receiver's handed-off work (it answers first) and the app's outbox finish. */
const settle = () => quiesce(app, () => wecom().idle());

const cards = (user: string, type?: string) =>
  fake.deliveredTo(user).filter((d) => d.msgtype === 'template_card' && (!type || d.body.template_card.card_type === type));
const texts = (user: string) => fake.deliveredTo(user).filter((d) => d.msgtype === 'text');
const tc = (d: Delivery) => d.body.template_card;
const buttonKey = (d: Delivery, k: string): string => {
  const key = tc(d).button_list?.find((b: { key: string }) => b.key.startsWith(`${k}|`))?.key;
  if (!key) throw new Error(`no ${k} button on ${JSON.stringify(tc(d)).slice(0, 300)}`);
  return key;
};
const updatesOf = (d: Delivery) => fake.updates.filter((u) => u.taskId === tc(d).task_id);
/** A member's click on a delivered card; `choose`: what they pick in its selectors (the rest stay as preselected). */
const click = (user: string, d: Delivery, key: string, choose?: Record<string, string>) => post(fake.clickXml({ user, taskId: tc(d).task_id, key, choose }));
const auditOf = async (customerId: string) => (await app.api(`/api/v1/audit?customerId=${customerId}`)).body.items as { action: string; outcome: string; actor: string; detail: any }[];
/** The reason select of an approval card and the options of a score form's select. */
const REASON = 'sel:score.reject';
/** A fresh WeCom fake and the composed app pointed at it (memory store). */
async function startOnFake() {
  fake = new FakeWecom({ ...CONF, users: MEMBERS, chats: [IDS.eastChat, IDS.southChat] });
  await fake.start();
  store = new MemoryStore();
  app = await startApp(store, { clock, env: ENV(fake.url) });
  callbackUrl = `${app.url}/webhooks/wecom`;
}

const optionIds = (d: Delivery, i: number) => tc(d).select_list[i].option_list.map((o: { id: string }) => o.id);

describe('WeCom end to end: scoring with approval through the composed app', () => {
  let form: Delivery;
  let liCard: Delivery;
  let wangCard: Delivery;
  let approveXml: string;

  beforeAll(async () => {
    await startOnFake();
    await seed(app, 'wecom', IDS);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('0. the callback URL passes WeCom\'s verification GET', async () => {
    expect(await fake.verifyUrl(callbackUrl, '8642097531')).toEqual({ status: 200, text: '8642097531' });
  });

  it('1. a rep\'s chat command 评分 <name> gets a multiple_interaction score form', async () => {
    const res = await post(fake.textXml({ user: 'zhangsan', content: '评分 鼎盛', msgId: '7310000000000000001' }));
    expect(res).toMatchObject({ status: 200, text: '' });

    form = await eventually(app, () => cards(IDS.zhang, 'multiple_interaction')[0], 'the score form');
    const card = tc(form);
    expect(card.select_list.map((s: { question_key: string }) => s.question_key)).toEqual(['profitability', 'strength']);
    // no approved score yet: each select starts with a preselected "not scored", then 20 … 100
    for (const i of [0, 1]) {
      expect(optionIds(form, i)).toEqual(['_none', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
      expect(card.select_list[i].selected_id).toBe('_none');
    }
    expect(card.submit_button.key).toMatch(/^score\.submit\|/);
    expect(JSON.stringify(card)).toContain('鼎盛');
    expect(fake.delivered).toHaveLength(1);
    expect(fake.problems).toEqual([]);
  });

  it('2. submitting the form (SelectedItems) is answered at once and asks both managers; a dimension left unscored is asked for', async () => {
    const submit = (choose?: Record<string, string>) => click('zhangsan', form, tc(form).submit_button.key, choose);

    // nothing touched: WeCom reports both selects as "not scored"; refused, told by a text (WeCom cards have no toast), nothing filed
    expect(await post(fake.clickXml({ user: 'zhangsan', taskId: tc(form).task_id, key: tc(form).submit_button.key }))).toMatchObject({ status: 200, text: '' });
    const both = await eventually(app, () => texts(IDS.zhang)[0], 'the validation notice');
    expect(both.body.text.content).toContain('盈利状况');
    expect(both.body.text.content).toContain('经营实力');
    // one dimension touched: the other is still unscored and named
    const bad = await submit({ profitability: '90' });
    expect(bad).toMatchObject({ status: 200, text: '' });
    const warning = await eventually(app, () => texts(IDS.zhang)[1], 'the second validation notice');
    expect(warning.body.text.content).toContain('经营实力');
    expect(warning.body.text.content).not.toContain('盈利状况');
    expect((await snapshot(app)).requests).toHaveLength(0);

    const res = await submit({ profitability: '90', strength: '90' });
    expect(res).toMatchObject({ status: 200, text: '' });
    expect(res.ms).toBeLessThan(5000);

    liCard = await eventually(app, () => cards(IDS.li, 'button_interaction')[0], 'li\'s approval request');
    wangCard = await eventually(app, () => cards(IDS.wang, 'button_interaction')[0], 'wang\'s approval request');
    for (const card of [liCard, wangCard]) {
      expect(buttonKey(card, 'score.approve')).toBeTruthy();
      expect(buttonKey(card, 'score.reject')).toBeTruthy();
      expect(JSON.stringify(tc(card))).toContain('张三');
    }
    expect(tc(liCard).task_id).not.toBe(tc(wangCard).task_id);
    await settle();
    expect(texts(IDS.zhang)).toHaveLength(2); // the success is not a message
    const s = await snapshot(app);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ status: 'pending', submittedBy: 'u-zhang', points: { profitability: 90, strength: 90 }, total: EXPECTED_TOTAL });
    for (const id of [IDS.chen, IDS.liu, IDS.zhao]) expect(fake.deliveredTo(id), id).toEqual([]);
    expect(fake.problems).toEqual([]);
  });

  it('3. a manager approves without touching the reason select: stored with no reason; the other manager\'s card is updated in place, the rep gets the result, the customer changes, the audit has it', async () => {
    // li does not touch the reason select; WeCom reports it with the click all the same
    approveXml = fake.clickXml({ user: 'lijingli', taskId: tc(liCard).task_id, key: buttonKey(liCard, 'score.approve') });
    expect(approveXml).toContain('<SelectedItems>');
    const res = await post(approveXml);
    expect(res).toMatchObject({ status: 200, text: '' });

    const wangUpdate = await eventually(app, () => updatesOf(wangCard)[0], 'wang\'s card updated');
    expect(wangUpdate.userids.map((u) => u.toLowerCase())).toEqual([IDS.wang]);
    expect(wangUpdate.body.template_card.task_id).toBe(tc(wangCard).task_id);
    expect(wangUpdate.body.template_card.replace_text).toBeTruthy(); // buttons greyed out
    expect(JSON.stringify(wangUpdate.body.template_card)).toContain('李经理');
    const liUpdate = await eventually(app, () => updatesOf(liCard)[0], 'li\'s card updated');
    expect(liUpdate.body.template_card.replace_text).toBeTruthy();
    // updated, not re-sent
    expect(cards(IDS.wang)).toHaveLength(1);
    expect(cards(IDS.li)).toHaveLength(1);

    const result = await eventually(app, () => cards(IDS.zhang).find((d) => d !== form && JSON.stringify(tc(d)).includes('李经理')), 'the approval result');
    expect(JSON.stringify(tc(result))).toContain('通过');

    const s = await snapshot(app);
    expect(s.requests[0].status).toBe('approved');
    expect(s.customer.score).toMatchObject({ points: { profitability: 90, strength: 90 }, approvedBy: 'u-li', submittedBy: 'u-zhang' });
    expect(s.customer.metrics.valueScore).toBe(EXPECTED_TOTAL);
    expect(s.audit).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'score.approve', outcome: 'ok', actor: 'u-li', platform: 'wecom', requestId: s.requests[0]._id })]));
    // no reason: not in the decision, not in the audit, not on the result card
    expect(await store.docs.get(SCORE_DECISIONS, s.requests[0]._id)).toMatchObject({ outcome: 'approved', reason: null });
    expect(s.audit.find((a) => a.action === 'score.approve' && a.outcome === 'ok')).toMatchObject({ detail: { reason: null } });
    expect(JSON.stringify(tc(result))).not.toContain('评分偏高');
    // because the reason select starts with a preselected, neutral "—" that belongs to reject
    expect(tc(liCard).button_selection).toMatchObject({ question_key: REASON, selected_id: '_none' });
    expect(tc(liCard).button_selection.option_list[0]).toEqual({ id: '_none', text: '—' });
    expectCleanOutbox(s);
    expect(fake.problems).toEqual([]);
  });

  it('4. the same callback delivered twice is handled once; a second manager clicking later is told who decided', async () => {
    await settle();
    const before = await snapshot(app);
    const counts = () => ({ delivered: fake.delivered.length, updates: fake.updates.length });
    const was = counts();

    // WeCom retries a delivery it got no answer to in time: the very same encrypted event, twice at once and later
    const again = await Promise.all([post(approveXml), post(approveXml)]);
    const later = await post(approveXml);
    for (const r of [...again, later]) expect(r).toMatchObject({ status: 200, text: '' });
    await settle();
    expect(counts()).toEqual(was);
    const after = await snapshot(app);
    expect(auditKeys(after)).toEqual(auditKeys(before));
    expect(after.requests).toEqual(before.requests);

    // 王经理 clicks approve on his card: a new event; he is told (a text) who decided; nothing else changes
    const late = await click('wangjingli', wangCard, buttonKey(wangCard, 'score.approve'));
    expect(late).toMatchObject({ status: 200, text: '' });
    const told = await eventually(app, () => texts(IDS.wang)[0], 'the notice to wang');
    expect(told.body.text.content).toContain('李经理');
    await settle();
    expect(counts()).toEqual({ ...was, delivered: was.delivered + 1 });
    await expectOnlyLateConflict(app, before);
    expect(fake.problems).toEqual([]);
  });

  it('5. a member who is not in the org gets a polite reply and nothing changes', async () => {
    await settle();
    const before = await snapshot(app);
    const sent = fake.delivered.length;

    const res = await post(fake.textXml({ user: STRANGER, content: '评分 鼎盛', msgId: '7310000000000000099' }));
    expect(res).toMatchObject({ status: 200, text: '' });
    const reply = await eventually(app, () => fake.deliveredTo(STRANGER)[0], 'the polite reply');
    expect(JSON.stringify(reply.body)).toContain('不在 tierbot 的组织名单中');

    // a stranger's click on a real card changes nothing either
    await click(STRANGER, form, tc(form).submit_button.key, { profitability: '20', strength: '20' });
    await settle();
    const strangerGot = fake.deliveredTo(STRANGER);
    expect(fake.delivered.length - sent).toBe(strangerGot.length);
    const after = await snapshot(app);
    expect(after.requests).toEqual(before.requests);
    expect(after.audit).toEqual(before.audit);
    expect(after.customer.score).toEqual(before.customer.score);
    expect(fake.problems).toEqual([]);
  });

  it('6. a rep submits a form touching one of two dimensions: the other keeps its current points, on the grid (90) or off it (85)', async () => {
    // an approved score with an off-grid value (85 is not one of the form's options)
    const filed = await app.api('/api/v1/scores', { method: 'POST', json: { customerId: CUSTOMER.id, points: { profitability: 85, strength: 90 }, submittedBy: 'u-zhang' } });
    expect(filed.status).toBe(201);
    expect((await app.api(`/api/v1/scores/${filed.body.requestId}/decision`, { method: 'POST', json: { decidedBy: 'u-li', outcome: 'approved' } })).status).toBe(200);
    await settle();
    expect((await snapshot(app)).customer.score.points).toEqual({ profitability: 85, strength: 90 });

    const forms = cards(IDS.zhang, 'multiple_interaction').length;
    await post(fake.textXml({ user: 'zhangsan', content: '评分 鼎盛', msgId: '7310000000000000002' }));
    const again = await eventually(app, () => cards(IDS.zhang, 'multiple_interaction')[forms], 'the second score form');
    const latest = async () => (await snapshot(app)).requests.find((r) => r.status === 'pending');
    // profitability touched, strength (90, on the grid) left alone
    await click('zhangsan', again, tc(again).submit_button.key, { profitability: '60' });
    expect(await eventually(app, async () => (await latest())?.points.profitability === 60 && latest(), 'the first request')).toMatchObject({ points: { profitability: 60, strength: 90 } });
    // strength touched, profitability (85, off the grid) left alone: a newer submission supersedes the first
    await click('zhangsan', again, tc(again).submit_button.key, { strength: '70' });
    expect(await eventually(app, async () => (await latest())?.points.strength === 70 && latest(), 'the second request')).toMatchObject({ points: { profitability: 85, strength: 70 }, submittedBy: 'u-zhang' });
    await settle();
    expect((await snapshot(app)).requests.filter((r) => r.status === 'pending')).toHaveLength(1);
    // because each select starts with "unchanged (current points)", preselected
    expect(tc(again).select_list.map((s: { selected_id: string }) => s.selected_id)).toEqual(['keep:85', 'keep:90']);
    expect(tc(again).select_list[0].option_list[0]).toEqual({ id: 'keep:85', text: '不变（85）' });
    expect(optionIds(again, 0).slice(1)).toEqual(['20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(fake.problems).toEqual([]);
  });

  it('7. rejecting without a reason asks for one (a text to the manager) and stores nothing; with a reason chosen it is rejected with it', async () => {
    const pending = (await snapshot(app)).requests.find((r) => r.status === 'pending')!;
    expect(pending.points).toEqual({ profitability: 85, strength: 70 });
    // li's newest approval card is the one of the pending request
    const card = cards(IDS.li, 'button_interaction').at(-1)!;
    expect(JSON.stringify(tc(card))).toContain('70');
    const before = await snapshot(app);
    const told = texts(IDS.li).length;
    const updates = fake.updates.length;

    await click('lijingli', card, buttonKey(card, 'score.reject'));
    const ask = await eventually(app, () => texts(IDS.li)[told], 'the request for a reason');
    expect(ask.body.text.content).toContain('驳回需要填写原因');
    await settle();
    const after = await snapshot(app);
    expect(after.requests).toEqual(before.requests);
    expect(auditKeys(after)).toEqual(auditKeys(before));
    expect(await store.docs.get(SCORE_DECISIONS, pending._id)).toBeNull();
    expect(fake.updates).toHaveLength(updates); // no card changed

    await click('lijingli', card, buttonKey(card, 'score.reject'), { [REASON]: 'too_high' });
    await eventually(app, async () => (await snapshot(app)).requests.find((r) => r._id === pending._id)?.status === 'rejected', 'the rejection');
    expect(await store.docs.get(SCORE_DECISIONS, pending._id)).toMatchObject({ outcome: 'rejected', by: 'u-li', reason: 'too_high' });
    expect(fake.problems).toEqual([]);
  });
});

describe('WeCom end to end: a churn alert\'s buttons through the composed app', () => {
  const DROP = { id: 'c-drop', name: '苏州恒瑞制造' };
  let alert: Delivery;

  beforeAll(async () => {
    await startOnFake();
    expect((await app.api('/api/v1/org', { method: 'PUT', json: orgFor('wecom', IDS) })).status).toBe(200);
    expect((await app.api('/api/v1/customers', { method: 'PUT', json: [{ ...DROP, ownerId: 'u-zhang' }] })).status).toBe(200);
    // spend falls every month, Feb 10000 → May 4000 (each ≥ 20 % down): healthy in mid-March, spendDrop by the end of June
    const orders = [['2026-02-10', 10000], ['2026-03-10', 8000], ['2026-04-10', 6000], ['2026-05-10', 4000]].map(([d, amount], i) => ({
      orderId: `drop-${i}`, customerId: DROP.id, amount, occurredAt: `${d}T10:00:00+08:00`,
    }));
    expect((await app.api('/api/v1/orders', { method: 'POST', json: orders })).status).toBe(200);
    for (const asOf of ['2026-03-15T12:00:00+08:00', AS_OF]) {
      expect((await app.api('/api/v1/tiering/recompute', { method: 'POST', json: { asOf } })).status).toBe(200);
      await app.bot.chat.settle();
    }
    alert = await eventually(app, () => cards(IDS.zhang, 'button_interaction').find((d) => JSON.stringify(tc(d)).includes(DROP.name)), 'the churn alert');
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('the outcome select belongs to 记录联系 and starts with a preselected "—"', () => {
    expect(tc(alert).button_selection).toMatchObject({ question_key: 'sel:contact.log', selected_id: '_none' });
    expect(tc(alert).button_selection.option_list.map((o: { id: string }) => o.id)).toEqual(['_none', 'reached', 'no_answer', 'won_back', 'lost']);
    expect(fake.problems).toEqual([]);
  });

  it('one click on 记录联系 with no selection does not log "reached": the rep is asked to pick an outcome', async () => {
    await click('zhangsan', alert, buttonKey(alert, 'contact.log'));
    const ask = await eventually(app, () => texts(IDS.zhang)[0], 'the request for an outcome');
    expect(ask.body.text.content).toContain('请先选择联系结果');
    await settle();
    expect((await auditOf(DROP.id)).filter((a) => a.action === 'contact.log')).toEqual([]);
  });

  it('an outcome picked in the select goes with 记录联系 only, not with another button', async () => {
    await click('zhangsan', alert, buttonKey(alert, 'followup.claim'), { 'sel:contact.log': 'lost' });
    await eventually(app, async () => (await auditOf(DROP.id)).some((a) => a.action === 'followup.claim'), 'the claim');
    await settle();
    expect((await auditOf(DROP.id)).filter((a) => a.action === 'contact.log')).toEqual([]);

    await click('zhangsan', alert, buttonKey(alert, 'contact.log'), { 'sel:contact.log': 'no_answer' });
    const logged = await eventually(app, async () => (await auditOf(DROP.id)).find((a) => a.action === 'contact.log'), 'the contact log');
    expect(logged).toMatchObject({ actor: 'u-zhang', outcome: 'ok', detail: { outcome: 'no_answer' } });
    expect(fake.problems).toEqual([]);
  });
});
