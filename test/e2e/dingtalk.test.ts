// End to end on DingTalk (钉钉): the composed app (createTierbot, memory store) in Stream mode, with
// DINGTALK_API_BASE and DINGTALK_GATEWAY_URL pointing at the fake, and in webhook mode, where the app registers
// its card callback route at start and the fake delivers clicks as signed HTTP card callbacks. The fake is DingTalk's side: it hands out
// the Stream connection, pushes CALLBACK frames (robot messages, card callbacks) down the WebSocket and reads
// the ACK frames coming back, and records what the app sends over the OpenAPI.
// Two set-ups: with a card template (interactive cards, updated in place by PUT /v1.0/card/instances) and
// without one (robot markdown messages whose action links make the client send `/tb <k> <r>` to the bot,
// and the score form replaced by the `评分 <id> dim=… 备注=…` chat command; DingTalk cannot edit robot
// messages, so an "update" arrives as a new message — render.ts/messenger.ts).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryDocStore } from '../../src/adapters/memory/doc-store.ts';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { loadEnv } from '../../src/config/env.ts';
import { createLogger } from '../../src/logger.ts';
import { createDingtalkPlatform } from '../../src/platforms/dingtalk/index.ts';
import { CARD_TOPIC, cardCallbackData, FAKE_APP, FakeDingtalk, type FakeCard, ROBOT_TOPIC, robotMessageData, type RobotSend } from '../fakes/dingtalk.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';
import { auditKeys, CUSTOMER, eventually, EXPECTED_TOTAL, expectCleanOutbox, NOW, quiesce, seed, snapshot, type PlatformIds, expectOnlyLateConflict } from './helpers.ts';

const IDS: PlatformIds = {
  zhang: 'dt-zhang01',
  chen: 'dt-chen02',
  li: 'dt-li03',
  wang: 'dt-wang04',
  liu: 'dt-liu05',
  zhao: 'dt-zhao06',
  eastChat: 'cidEAST0000==',
  southChat: 'cidSOUTH0000==',
};
const STRANGER = 'dt-outsider99';
const clock = fixedClock(NOW);

function env(fake: FakeDingtalk, template: boolean): Record<string, string> {
  return {
    DINGTALK_CLIENT_ID: FAKE_APP.clientId,
    DINGTALK_CLIENT_SECRET: FAKE_APP.clientSecret,
    DINGTALK_ROBOT_CODE: FAKE_APP.robotCode,
    DINGTALK_API_BASE: fake.url,
    DINGTALK_GATEWAY_URL: `${fake.url}/v1.0/gateway/connections/open`,
    PLATFORM_TIMEOUT_MS: '2000',
    ...(template ? { DINGTALK_CARD_TEMPLATE_ID: FAKE_APP.templateId } : {}),
  };
}

/** A robot message as DingTalk pushes it; its sessionWebhook is live by the app's clock and served by the fake. */
function robotMessage(fake: FakeDingtalk, o: { userId: string; text: string; msgId?: string }) {
  return {
    ...robotMessageData({ ...o, sessionWebhook: `${fake.url}/robot/sendBySession?session=s-${o.userId}` }),
    sessionWebhookExpiredTime: clock.now() + 90 * 60_000,
  };
}

const ackResponse = (frame: { data?: string }) => (JSON.parse(frame.data ?? 'null') as { response: any }).response;

// the dingtalk-stream SDK prints "connect success", "Disconnecting." and socket notices on the console
beforeAll(() => {
  for (const level of ['log', 'info', 'warn'] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
});
afterAll(() => vi.restoreAllMocks());

describe('DingTalk end to end (Stream, card template): scoring with approval through the composed app', () => {
  let fake: FakeDingtalk;
  let app: TestApp;
  let form: FakeCard;
  let liCard: FakeCard;
  let wangCard: FakeCard;
  /** wang's approve button as first delivered (the update in place takes the buttons away) */
  let wangApprove: { k: string; r: string };
  let approveData: ReturnType<typeof cardCallbackData>;

  const cardsTo = (userId: string, kind?: string) => fake.delivered.filter((c) => c.target === userId && (!kind || c.cardParamMap.kind === kind));
  const actions = (c: FakeCard) => JSON.parse(c.cardParamMap.actions) as { k: string; r: string; v?: string }[];
  const action = (c: FakeCard, k: string) => {
    const a = actions(c).find((x) => x.k === k);
    if (!a) throw new Error(`no ${k} on ${JSON.stringify(c.cardParamMap).slice(0, 300)}`);
    return a;
  };
  /** A click as DingTalk delivers it: a CALLBACK frame; resolves with the ACK's response (the callback answer). */
  async function click(data: ReturnType<typeof cardCallbackData>) {
    const sent = Date.now();
    const messageId = fake.push('CALLBACK', CARD_TOPIC, data);
    const ack = await fake.waitForAck(messageId, 4000);
    return { ms: ack.at - sent, response: ackResponse(ack.frame) };
  }

  beforeAll(async () => {
    fake = await new FakeDingtalk().start();
    app = await startApp(new MemoryStore(), { clock, env: env(fake, true), connect: true });
    expect(fake.openConnections).toBe(1);
    await seed(app, 'dingtalk', IDS);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('1. a rep\'s chat command 评分 <name> (a Stream robot frame) gets a score form card to the rep', async () => {
    const messageId = fake.push('CALLBACK', ROBOT_TOPIC, robotMessage(fake, { userId: IDS.zhang, text: '评分 鼎盛' }));
    await fake.waitForAck(messageId);

    form = await eventually(app, () => cardsTo(IDS.zhang, 'score_form')[0], 'the score form');
    expect(form.space).toBe('IM_ROBOT');
    expect(form.callbackType).toBe('STREAM');
    // the native form component's variable: SELECTs of {value, text}, a TEXT for the comment
    const f = JSON.parse(form.cardParamMap.form);
    expect(f.submit.k).toBe('score.submit');
    expect(f.fields.map((x: { name: string; type: string }) => `${x.name}:${x.type}`)).toEqual(['profitability:SELECT', 'strength:SELECT', 'comment:TEXT']);
    expect(f.fields[0].options.map((o: { value: string }) => o.value)).toEqual(['0', '10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(f.fields[0].required).toBe(true);
    expect(JSON.stringify(form.cardParamMap)).toContain('鼎盛');
    expect(fake.delivered).toHaveLength(1);
    expect(fake.problems).toEqual([]);
  });

  it('2. submitting the native form (values nested under params.form) is answered in the ACK within 2 s and asks both managers', async () => {
    // the client refuses to submit a form whose required SELECTs are empty; it cannot send 101 either
    expect(() => fake.formSubmit(form.outTrackId, IDS.zhang, { profitability: '90' })).toThrow(/strength is required/);
    expect(() => fake.formSubmit(form.outTrackId, IDS.zhang, { profitability: '101', strength: '90' })).toThrow(/not an option/);
    // a template that still sends flat parameters gets the server's answer
    const { submit } = JSON.parse(form.cardParamMap.form);
    const bad = await click(cardCallbackData({ outTrackId: form.outTrackId, userId: IDS.zhang, params: { k: submit.k, r: submit.r, profitability: '101' } }));
    expect(bad.response.userPrivateData.cardParamMap.toastKind).toBe('warning');
    expect(bad.response.userPrivateData.cardParamMap.toast).toContain('经营实力');
    expect((await snapshot(app)).requests).toHaveLength(0);

    const ok = await click(fake.formSubmit(form.outTrackId, IDS.zhang, { profitability: '90', strength: '90', comment: '回款及时' }));
    expect(ok.ms).toBeLessThan(2000);
    expect(ok.response.userPrivateData.cardParamMap).toEqual({ toast: `已提交审批（总分 ${EXPECTED_TOTAL}）`, toastKind: 'success' });

    liCard = await eventually(app, () => cardsTo(IDS.li, 'approval_request')[0], 'li\'s approval request');
    wangCard = await eventually(app, () => cardsTo(IDS.wang, 'approval_request')[0], 'wang\'s approval request');
    expect(liCard.outTrackId).not.toBe(wangCard.outTrackId);
    wangApprove = action(wangCard, 'score.approve');
    for (const card of [liCard, wangCard]) {
      expect(card.cardParamMap.status).toBe('open');
      // reject is one button per preset reason (the generic template has no free-text input)
      expect(actions(card).filter((a) => a.k === 'score.reject').map((a) => a.v)).toEqual(['too_high', 'too_low', 'no_evidence']);
      expect(JSON.stringify(card.cardParamMap)).toContain('回款及时');
      expect(JSON.stringify(card.cardParamMap)).toContain('张三');
    }
    const s = await snapshot(app);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ status: 'pending', submittedBy: 'u-zhang', points: { profitability: 90, strength: 90 }, total: EXPECTED_TOTAL });
    for (const id of [IDS.chen, IDS.liu, IDS.zhao, IDS.eastChat]) expect(cardsTo(id), id).toEqual([]);
  });

  it('3. one manager approves: the other manager\'s card instance is updated in place, the rep gets the result, the customer changes, the audit has it', async () => {
    const approve = action(liCard, 'score.approve');
    approveData = cardCallbackData({ outTrackId: liCard.outTrackId, userId: IDS.li, params: { k: approve.k, r: approve.r }, actionIds: ['approve'] });
    const res = await click(approveData);
    expect(res.ms).toBeLessThan(2000);
    expect(res.response.userPrivateData.cardParamMap).toEqual({ toast: '已通过', toastKind: 'success' });

    await eventually(app, () => wangCard.updates.length > 0 && liCard.updates.length > 0, 'both request cards updated');
    expect(wangCard.cardParamMap).toMatchObject({ status: 'closed', statusText: '已通过', actions: '[]', form: '' });
    expect(JSON.stringify(wangCard.cardParamMap)).toContain('李经理');
    expect(liCard.cardParamMap).toMatchObject({ status: 'closed', actions: '[]' });
    expect(cardsTo(IDS.wang)).toHaveLength(1); // updated, not re-sent
    expect(cardsTo(IDS.li)).toHaveLength(1);

    const result = await eventually(app, () => cardsTo(IDS.zhang, 'approval_result')[0], 'the approval result');
    expect(JSON.stringify(result.cardParamMap)).toContain('李经理');
    expect(JSON.stringify(result.cardParamMap)).toContain(String(EXPECTED_TOTAL));

    const s = await snapshot(app);
    expect(s.requests[0].status).toBe('approved');
    expect(s.customer.score).toMatchObject({ points: { profitability: 90, strength: 90 }, approvedBy: 'u-li', submittedBy: 'u-zhang' });
    expect(s.customer.metrics.valueScore).toBe(EXPECTED_TOTAL);
    expect(s.audit).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'score.approve', outcome: 'ok', actor: 'u-li', platform: 'dingtalk', requestId: s.requests[0]._id })]));
    expectCleanOutbox(s);
    expect(fake.problems).toEqual([]);
  });

  it('4. the same callback delivered twice is handled once; a second manager clicking later is told who decided', async () => {
    await quiesce(app);
    const before = await snapshot(app);
    const counts = () => ({ delivered: fake.delivered.length, updates: fake.updates.length, robot: fake.robotSends.length });
    const was = counts();

    const again = await Promise.all([click(approveData), click(approveData)]);
    const later = await click(approveData);
    for (const r of [...again, later]) expect(r.response.userPrivateData.cardParamMap.toastKind).toBe('info');
    await quiesce(app);
    expect(counts()).toEqual(was);
    const after = await snapshot(app);
    expect(auditKeys(after)).toEqual(auditKeys(before));
    expect(after.requests).toEqual(before.requests);

    // 王经理 taps approve on his card as his client still showed it: told in the callback answer who decided
    const late = await click(cardCallbackData({ outTrackId: wangCard.outTrackId, userId: IDS.wang, params: { k: wangApprove.k, r: wangApprove.r }, actionIds: ['approve'] }));
    expect(late.response.userPrivateData.cardParamMap.toastKind).toBe('error');
    expect(late.response.userPrivateData.cardParamMap.toast).toContain('李经理');
    await quiesce(app);
    expect(counts()).toEqual(was);
    await expectOnlyLateConflict(app, before);
  });

  it('5. a user who is not in the org gets a polite reply and nothing changes', async () => {
    const before = await snapshot(app);
    const sent = fake.delivered.length;
    const messageId = fake.push('CALLBACK', ROBOT_TOPIC, robotMessage(fake, { userId: STRANGER, text: '评分 鼎盛' }));
    await fake.waitForAck(messageId);
    const reply = await eventually(app, () => cardsTo(STRANGER)[0], 'the polite reply');
    expect(JSON.stringify(reply.cardParamMap)).toContain('不在 tierbot 的组织名单中');
    expect(reply.cardParamMap.actions).toBe('[]');

    const { submit } = JSON.parse(form.cardParamMap.form);
    const tap = await click(cardCallbackData({ outTrackId: form.outTrackId, userId: STRANGER, params: { k: submit.k, r: submit.r, profitability: '10', strength: '10' } }));
    expect(tap.response.userPrivateData.cardParamMap.toastKind).toBe('warning');
    expect(tap.response.userPrivateData.cardParamMap.toast).toContain('不在 tierbot 的组织名单中');

    await quiesce(app);
    expect(fake.delivered).toHaveLength(sent + 1);
    const after = await snapshot(app);
    expect(after.requests).toEqual(before.requests);
    expect(after.audit).toEqual(before.audit);
    expect(after.customer.score).toEqual(before.customer.score);
    expect(fake.problems).toEqual([]);
  });
});

describe('DingTalk end to end (Stream, no card template): robot messages and /tb commands', () => {
  let fake: FakeDingtalk;
  let app: TestApp;
  let liRequest: RobotSend;
  let wangRequest: RobotSend;
  let liApprove: ReturnType<typeof robotMessage>;

  const sendsTo = (userId: string) => fake.robotSends.filter((s) => s.target === userId);
  const text = (s: RobotSend) => `${s.msgParam.title}\n${s.msgParam.text ?? ''}`;
  /** What tapping a dtmd link makes the user's client send to the bot: the decoded `content` of each link. */
  const linkCommands = (s: RobotSend) => [...(s.msgParam.text ?? '').matchAll(/dtmd:\/\/dingtalkclient\/sendMessage\?content=([^)\s]+)/g)].map((m) => decodeURIComponent(m[1]));
  const sessionTo = (userId: string) => fake.sessionReplies.filter((r) => r.session === `s-${userId}`);
  const say = async (userId: string, text: string, msgId?: string) => {
    const data = robotMessage(fake, { userId, text, msgId });
    await fake.waitForAck(fake.push('CALLBACK', ROBOT_TOPIC, data));
    return data;
  };
  const resend = async (data: ReturnType<typeof robotMessage>) => fake.waitForAck(fake.push('CALLBACK', ROBOT_TOPIC, data));

  beforeAll(async () => {
    fake = await new FakeDingtalk().start();
    app = await startApp(new MemoryStore(), { clock, env: env(fake, false), connect: true });
    await seed(app, 'dingtalk', IDS);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('1. 评分 <name> gets the form as a message naming each dimension and the command to send', async () => {
    await say(IDS.zhang, '评分 鼎盛');
    const form = await eventually(app, () => sendsTo(IDS.zhang)[0], 'the score form message');
    expect(form).toMatchObject({ api: 'otoBatchSend', msgKey: 'sampleMarkdown' });
    expect(text(form)).toContain('盈利状况');
    expect(text(form)).toContain('经营实力');
    expect(text(form)).toMatch(new RegExp(`评分 ${CUSTOMER.id} profitability=\\d+ strength=\\d+ 备注=`));
    expect(fake.delivered).toEqual([]); // no template: no card instances
    expect(fake.problems).toEqual([]);
  });

  it('2. the rep scores with the command; both managers get a request whose links send /tb commands', async () => {
    const [form] = sendsTo(IDS.zhang);
    const example = /(评分 \S+ profitability=\d+ strength=\d+ 备注=\S+)/.exec(text(form))![1];
    const command = example.replace(/profitability=\d+/, 'profitability=90').replace(/strength=\d+/, 'strength=90').replace(/备注=\S+/, '备注=回款及时');
    await say(IDS.zhang, command);

    const ack = await eventually(app, () => sendsTo(IDS.zhang).find((s) => s.msgParam.title.includes('评分已提交审批')), 'the submitted notice');
    expect(text(ack)).toContain(String(EXPECTED_TOTAL));
    liRequest = await eventually(app, () => sendsTo(IDS.li).find((s) => linkCommands(s).some((c) => c.includes('/tb score.approve '))), 'li\'s request');
    wangRequest = await eventually(app, () => sendsTo(IDS.wang).find((s) => linkCommands(s).some((c) => c.includes('/tb score.approve '))), 'wang\'s request');
    for (const r of [liRequest, wangRequest]) {
      expect(text(r)).toContain('回款及时');
      expect(linkCommands(r).some((c) => c.includes('/tb score.reject '))).toBe(true);
    }
    const s = await snapshot(app);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ status: 'pending', submittedBy: 'u-zhang', points: { profitability: 90, strength: 90 }, total: EXPECTED_TOTAL });
  });

  it('3. a manager taps approve (/tb command): answered in the session; the other manager gets the closed card as a new message; the rep the result; the customer changes', async () => {
    const command = linkCommands(liRequest).find((c) => c.includes('/tb score.approve '))!;
    liApprove = await say(IDS.li, command, 'msgLiApprove==');
    const answer = await eventually(app, () => sessionTo(IDS.li)[0], 'the answer in li\'s session');
    expect(answer.body).toMatchObject({ msgtype: 'text', text: { content: '已通过' } });

    // robot messages cannot be edited: the "update in place" arrives as a new message (messenger.ts)
    const closed = await eventually(app, () => sendsTo(IDS.wang).find((s) => s !== wangRequest), 'wang\'s closed card');
    expect(text(closed)).toContain('李经理');
    expect(text(closed)).toContain('已通过');
    expect(linkCommands(closed)).toEqual([]); // nothing to tap any more
    const result = await eventually(app, () => sendsTo(IDS.zhang).find((s) => text(s).includes('李经理')), 'the approval result');
    expect(text(result)).toContain(String(EXPECTED_TOTAL));

    const s = await snapshot(app);
    expect(s.requests[0].status).toBe('approved');
    expect(s.customer.score).toMatchObject({ points: { profitability: 90, strength: 90 }, approvedBy: 'u-li' });
    expect(s.customer.metrics.valueScore).toBe(EXPECTED_TOTAL);
    expect(s.audit).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'score.approve', outcome: 'ok', actor: 'u-li', platform: 'dingtalk' })]));
    expectCleanOutbox(s);
    expect(fake.problems).toEqual([]);
  });

  it('4. the same command delivered twice is handled once; the other manager tapping later is told who decided', async () => {
    await quiesce(app);
    const before = await snapshot(app);
    const sends = fake.robotSends.length;

    await Promise.all([resend(liApprove), resend(liApprove)]);
    await eventually(app, () => sessionTo(IDS.li).length === 3, 'the answers to the redeliveries');
    for (const r of sessionTo(IDS.li).slice(1)) expect(r.body.text.content).toBe('已收到，正在处理');
    await quiesce(app);
    expect(fake.robotSends).toHaveLength(sends);
    expect(auditKeys(await snapshot(app))).toEqual(auditKeys(before));

    await say(IDS.wang, linkCommands(wangRequest).find((c) => c.includes('/tb score.approve '))!);
    const told = await eventually(app, () => sessionTo(IDS.wang)[0], 'the answer to wang');
    expect(told.body.text.content).toContain('李经理');
    await quiesce(app);
    expect(fake.robotSends).toHaveLength(sends);
    const final = await snapshot(app);
    expect(final.requests).toEqual(before.requests);
    expect(final.audit.filter((a) => a.action === 'score.approve' && a.outcome === 'ok')).toHaveLength(1);
    expect(auditKeys(final)).toEqual([...auditKeys(before), 'score.approve:conflict:u-wang'].sort());
  });

  it('5. a user who is not in the org gets a polite reply and nothing changes', async () => {
    const before = await snapshot(app);
    const sends = fake.robotSends.length;
    await say(STRANGER, '评分 鼎盛');
    const reply = await eventually(app, () => sendsTo(STRANGER)[0], 'the polite reply');
    expect(text(reply)).toContain('不在 tierbot 的组织名单中');
    // a stranger sending a card's command is answered in the session, and nothing happens
    await say(STRANGER, linkCommands(wangRequest).find((c) => c.includes('/tb score.approve '))!);
    const answer = await eventually(app, () => sessionTo(STRANGER)[0], 'the answer to the stranger');
    expect(answer.body.text.content).toContain('不在 tierbot 的组织名单中');
    await quiesce(app);
    expect(fake.robotSends).toHaveLength(sends + 1);
    const after = await snapshot(app);
    expect(after.requests).toEqual(before.requests);
    expect(after.audit).toEqual(before.audit);
    expect(fake.problems).toEqual([]);
  });
});

describe('DingTalk end to end (webhook mode, card template): clicks as signed HTTP card callbacks', () => {
  const CALLBACK = { token: 'tierbot-callback-token', aesKey: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7' };
  let fake: FakeDingtalk;
  let app: TestApp;
  let base: string;
  let liCard: FakeCard;
  let wangCard: FakeCard;

  const cardsTo = (userId: string, kind?: string) => fake.delivered.filter((c) => c.target === userId && (!kind || c.cardParamMap.kind === kind));
  /** Signed timestamps by the app's (fixed) clock, each one different: every signature pair is single-use. */
  let n = 0;
  const stamp = () => String(clock.now() - ++n);
  const say = async (userId: string, text: string) => {
    const data = robotMessageData({ userId, text, sessionWebhook: `${fake.url}/robot/sendBySession?session=s-${userId}` });
    const res = await fake.postRobotMessage(`${base}/webhooks/dingtalk`, { ...data, sessionWebhookExpiredTime: clock.now() + 90 * 60_000 }, { timestamp: stamp() });
    expect(res.status).toBe(200);
  };
  const send = (data: ReturnType<typeof cardCallbackData>, sign: { timestamp?: string; signature?: string } = {}) => fake.httpCallback(data, { timestamp: stamp(), ...sign });

  beforeAll(async () => {
    fake = await new FakeDingtalk().start();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = await startApp(new MemoryStore(), {
      clock,
      connect: true,
      env: {
        ...env(fake, true),
        PORT: String(port),
        PUBLIC_BASE_URL: base,
        DINGTALK_MODE: 'webhook',
        DINGTALK_CALLBACK_TOKEN: CALLBACK.token,
        DINGTALK_CALLBACK_AES_KEY: CALLBACK.aesKey,
      },
    });
    await seed(app, 'dingtalk', IDS);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('1. the start registers the card callback route: this deployment\'s URL and a secret derived from the Client Secret', () => {
    expect(fake.openConnections).toBe(0); // no Stream in webhook mode
    expect(fake.registrations).toHaveLength(1);
    expect(fake.registrations[0].body).toMatchObject({ callbackUrl: `${base}/webhooks/dingtalk`, forceUpdate: false });
    const [route] = [...fake.routes.values()];
    expect(route.callbackRouteKey).toMatch(/^tierbot-[0-9a-f]{24}$/);
    expect(route.apiSecret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(route.apiSecret).not.toContain(FAKE_APP.clientSecret);
  });

  it('2. a rep\'s chat command (a signed robot HTTP message) gets a score form card created with callbackType HTTP and the route key', async () => {
    await say(IDS.zhang, '评分 鼎盛');
    const form = await eventually(app, () => cardsTo(IDS.zhang, 'score_form')[0], 'the score form');
    expect(form).toMatchObject({ callbackType: 'HTTP', callbackRouteKey: [...fake.routes.keys()][0] });
    expect(form.preview).toEqual({ ZH_CN: expect.stringContaining('鼎盛') });
    expect(fake.problems).toEqual([]);
  });

  it('3. the native form submit comes back as a signed HTTP callback: answered within 2 s, the chosen points stored, both managers asked', async () => {
    const [form] = cardsTo(IDS.zhang, 'score_form');
    const res = await send(fake.formSubmit(form.outTrackId, IDS.zhang, { profitability: '90', strength: '90', comment: '回款及时' }));
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(2000);
    expect(res.body.userPrivateData.cardParamMap).toEqual({ toast: `已提交审批（总分 ${EXPECTED_TOTAL}）`, toastKind: 'success' });
    expect(fake.privateDataOf(form.outTrackId, IDS.zhang).toast).toContain('已提交审批');

    liCard = await eventually(app, () => cardsTo(IDS.li, 'approval_request')[0], 'li\'s approval request');
    wangCard = await eventually(app, () => cardsTo(IDS.wang, 'approval_request')[0], 'wang\'s approval request');
    for (const c of [liCard, wangCard]) expect(c.callbackType).toBe('HTTP');
    const s = await snapshot(app);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ status: 'pending', submittedBy: 'u-zhang', points: { profitability: 90, strength: 90 }, total: EXPECTED_TOTAL });
  });

  it('4. a forged signature, a stale timestamp and a replayed signature are refused, and nothing changes', async () => {
    await quiesce(app);
    const before = await snapshot(app);
    const counts = () => ({ delivered: fake.delivered.length, updates: fake.updates.length, robot: fake.robotSends.length });
    const was = counts();
    const approve = fake.buttonClick(liCard.outTrackId, IDS.li, (a) => a.k === 'score.approve');

    const forged = await send(approve, { signature: Buffer.alloc(32, 7).toString('base64') });
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    const unsigned = await send(approve, { signature: '' });
    expect(unsigned.status).toBe(401);
    // signed correctly, but 5 minutes and 1 second old by the server's clock
    const stale = await send(approve, { timestamp: String(clock.now() - 5 * 60_000 - 1000) });
    expect(stale).toMatchObject({ status: 403, body: { error: { code: 'stale_timestamp' } } });
    // a genuine pair used once already (by a click on another card) cannot carry this click
    const ts = stamp();
    const other = await fake.httpCallback(fake.buttonClick(wangCard.outTrackId, IDS.wang, (a) => a.k === 'score.reject' && a.v === 'no_evidence'), { timestamp: ts, signature: 'x' });
    expect(other.status).toBe(401);
    const first = await fake.httpCallback(cardCallbackData({ outTrackId: liCard.outTrackId, userId: IDS.li, params: { k: 'tier.ack', r: 'nothing' } }), { timestamp: ts });
    expect(first.status).toBe(200);
    const replay = await fake.httpCallback(approve, { timestamp: ts });
    expect(replay).toMatchObject({ status: 403, body: { error: { code: 'replayed' } } });

    await quiesce(app);
    expect(counts()).toEqual(was);
    const after = await snapshot(app);
    expect(after.requests).toEqual(before.requests);
    expect(after.customer.score).toEqual(before.customer.score);
    expect(after.audit.filter((a) => a.action.startsWith('score.'))).toEqual(before.audit.filter((a) => a.action.startsWith('score.')));
    expect(liCard.cardParamMap.status).toBe('open');
    expect(wangCard.cardParamMap.status).toBe('open');
  });

  it('5. a manager\'s approve button round-trips: signed callback in, toast out, the other manager\'s card updated in place, the customer changed', async () => {
    const res = await send(fake.buttonClick(liCard.outTrackId, IDS.li, (a) => a.k === 'score.approve'));
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(2000);
    expect(res.body.userPrivateData.cardParamMap).toEqual({ toast: '已通过', toastKind: 'success' });
    expect(fake.privateDataOf(liCard.outTrackId, IDS.li)).toEqual({ toast: '已通过', toastKind: 'success' });

    await eventually(app, () => wangCard.updates.length > 0 && liCard.updates.length > 0, 'both request cards updated');
    expect(wangCard.cardParamMap).toMatchObject({ status: 'closed', statusText: '已通过', actions: '[]' });
    expect(cardsTo(IDS.wang)).toHaveLength(1);
    const result = await eventually(app, () => cardsTo(IDS.zhang, 'approval_result')[0], 'the approval result');
    expect(JSON.stringify(result.cardParamMap)).toContain('李经理');

    const s = await snapshot(app);
    expect(s.requests[0].status).toBe('approved');
    expect(s.customer.score).toMatchObject({ points: { profitability: 90, strength: 90 }, approvedBy: 'u-li', submittedBy: 'u-zhang' });
    expect(s.customer.metrics.valueScore).toBe(EXPECTED_TOTAL);
    expectCleanOutbox(s);
    expect(fake.problems).toEqual([]);
  });

  it('6. a later native form preselects the approved points; a submit that changes one keeps the other', async () => {
    await say(IDS.zhang, '评分 鼎盛');
    const form = await eventually(app, () => cardsTo(IDS.zhang, 'score_form')[1], 'the second score form');
    const fields = JSON.parse(form.cardParamMap.form).fields as { name: string; defaultValue?: unknown }[];
    expect(fields.find((f) => f.name === 'strength')!.defaultValue).toEqual({ index: 9, value: '90' });

    const res = await send(fake.formSubmit(form.outTrackId, IDS.zhang, { profitability: '70' }));
    expect(res.status).toBe(200);
    expect(res.body.userPrivateData.cardParamMap.toastKind).toBe('success');
    const s = await snapshot(app);
    const pending = s.requests.find((r) => r.status === 'pending');
    expect(pending?.points).toEqual({ profitability: 70, strength: 90 });
    expect(fake.problems).toEqual([]);
  });

  it('7. a restart registers nothing new: the route on file is already this deployment\'s', async () => {
    const again = createDingtalkPlatform({ env: loadEnv({ PORT: base.split(':')[2], PUBLIC_BASE_URL: base, LOG_LEVEL: 'silent', ...env(fake, true), DINGTALK_MODE: 'webhook', DINGTALK_CALLBACK_TOKEN: CALLBACK.token, DINGTALK_CALLBACK_AES_KEY: CALLBACK.aesKey }), sink: app.bot.chat.bot, clock, log: createLogger('silent'), docs: new MemoryDocStore() });
    await again.start!();
    await again.stop!();
    expect(fake.registrations).toHaveLength(2);
    expect(fake.registrations[1].body.forceUpdate).toBe(false);
    expect(fake.routes.size).toBe(1);
  });
});

/** A loopback port nothing listens on now (the app's PUBLIC_BASE_URL must name it before it starts). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
