// End to end on WeCom (企业微信): the composed app (createTierbot, memory store) with WECOM_* pointing at the
// fake WeCom. The fake plays WeCom's side of the callback URL — messages and template_card_event clicks,
// AES-encrypted and signed with the independent @wecom/crypto, POSTed to /webhooks/wecom — and records what
// the app sends (message/send template cards, update_template_card with a response_code, text notices).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import type { WecomPlatformModule } from '../../src/platforms/wecom/index.ts';
import { FakeWecom, type Delivery } from '../fakes/wecom.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';
import { auditKeys, eventually, EXPECTED_TOTAL, expectCleanOutbox, NOW, quiesce, seed, snapshot, type PlatformIds, expectOnlyLateConflict } from './helpers.ts';

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

const clock = fixedClock(NOW);
let fake: FakeWecom;
let app: TestApp;
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

describe('WeCom end to end: scoring with approval through the composed app', () => {
  let form: Delivery;
  let liCard: Delivery;
  let wangCard: Delivery;
  let approveXml: string;

  beforeAll(async () => {
    fake = new FakeWecom({ ...CONF, users: [...Object.values(IDS).filter((id) => !id.startsWith('chat-')), STRANGER], chats: [IDS.eastChat, IDS.southChat] });
    await fake.start();
    app = await startApp(new MemoryStore(), {
      clock,
      env: {
        WECOM_CORP_ID: CONF.corpId,
        WECOM_AGENT_ID: String(CONF.agentId),
        WECOM_SECRET: CONF.secret,
        WECOM_TOKEN: CONF.token,
        WECOM_ENCODING_AES_KEY: CONF.encodingAesKey,
        WECOM_API_BASE: fake.url,
        PLATFORM_TIMEOUT_MS: '2000',
      },
    });
    callbackUrl = `${app.url}/webhooks/wecom`;
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
    expect(card.select_list[0].option_list.map((o: { id: string }) => o.id)).toEqual(['10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(card.submit_button.key).toMatch(/^score\.submit\|/);
    expect(JSON.stringify(card)).toContain('鼎盛');
    expect(fake.delivered).toHaveLength(1);
    expect(fake.problems).toEqual([]);
  });

  it('2. submitting the form (SelectedItems) is answered at once and asks both managers', async () => {
    const submit = (selected: Record<string, string[]>) =>
      fake.clickXml({ user: 'zhangsan', taskId: tc(form).task_id, key: tc(form).submit_button.key, cardType: 'multiple_interaction', selected });

    // a selection missing a dimension: refused, told by a text (WeCom cards have no toast), nothing filed
    const bad = await post(submit({ profitability: ['90'] }));
    expect(bad).toMatchObject({ status: 200, text: '' });
    const warning = await eventually(app, () => texts(IDS.zhang)[0], 'the validation notice');
    expect(warning.body.text.content).toContain('经营实力');
    expect((await snapshot(app)).requests).toHaveLength(0);

    const res = await post(submit({ profitability: ['90'], strength: ['90'] }));
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
    expect(texts(IDS.zhang)).toHaveLength(1); // the success is not a message
    const s = await snapshot(app);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ status: 'pending', submittedBy: 'u-zhang', points: { profitability: 90, strength: 90 }, total: EXPECTED_TOTAL });
    for (const id of [IDS.chen, IDS.liu, IDS.zhao]) expect(fake.deliveredTo(id), id).toEqual([]);
    expect(fake.problems).toEqual([]);
  });

  it('3. one manager approves: the other manager\'s card is updated in place, the rep gets the result, the customer changes, the audit has it', async () => {
    approveXml = fake.clickXml({ user: 'lijingli', taskId: tc(liCard).task_id, key: buttonKey(liCard, 'score.approve'), cardType: 'button_interaction' });
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
    const late = await post(fake.clickXml({ user: 'wangjingli', taskId: tc(wangCard).task_id, key: buttonKey(wangCard, 'score.approve'), cardType: 'button_interaction' }));
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
    await post(fake.clickXml({ user: STRANGER, taskId: tc(form).task_id, key: tc(form).submit_button.key, cardType: 'multiple_interaction', selected: { profitability: ['10'], strength: ['10'] } }));
    await settle();
    const strangerGot = fake.deliveredTo(STRANGER);
    expect(fake.delivered.length - sent).toBe(strangerGot.length);
    const after = await snapshot(app);
    expect(after.requests).toEqual(before.requests);
    expect(after.audit).toEqual(before.audit);
    expect(after.customer.score).toEqual(before.customer.score);
    expect(fake.problems).toEqual([]);
  });
});

