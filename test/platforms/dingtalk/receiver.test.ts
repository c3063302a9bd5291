// DingTalk HTTP callbacks (DINGTALK_MODE=webhook): the event-subscription crypto (check_url, events), the
// robot's signed HTTP messages and the signed HTTP card callbacks, over real HTTP to the app route, with refusals
// that change nothing.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDocStore } from '../../../src/adapters/memory/doc-store.ts';
import { MemoryStore } from '../../../src/adapters/memory/memory-store.ts';
import { Bot } from '../../../src/app/bot.ts';
import { loadEnv } from '../../../src/config/env.ts';
import { Background } from '../../../src/inbound/work.ts';
import { createLogger } from '../../../src/logger.ts';
import { createDingtalkCallbackCrypto, dingtalkRobotSign, ROBOT_SIGN_WINDOW_MS } from '../../../src/platforms/dingtalk/crypto.ts';
import { cardCallbackRoute, cardCallbackSignature } from '../../../src/platforms/dingtalk/card-callback.ts';
import { createDingtalkPlatform } from '../../../src/platforms/dingtalk/index.ts';
import { cardCallbackToAction } from '../../../src/platforms/dingtalk/receiver.ts';
import { ROBOT_SIGN_COLLECTION } from '../../../src/platforms/dingtalk/robot-signs.ts';
import type { PlatformModule } from '../../../src/platforms/module.ts';
import type { DocStore } from '../../../src/ports/doc-store.ts';
import type { InboundSink } from '../../../src/ports/messenger.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import { platforms } from '../../../src/platforms/registry.ts';
import { cardCallbackData, FAKE_APP, FakeDingtalk, RecordingSink, robotMessageData } from '../../fakes/dingtalk.ts';

const CALLBACK = { token: 'tierbot-callback-token', aesKey: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7' };

/** One tierbot instance in webhook mode, listening on loopback. */
interface Instance {
  mod: PlatformModule;
  base: string;
  close(): Promise<void>;
}

function webhookEnv() {
  return loadEnv({
    LOG_LEVEL: 'silent',
    DINGTALK_MODE: 'webhook',
    DINGTALK_CLIENT_ID: FAKE_APP.clientId,
    DINGTALK_CLIENT_SECRET: FAKE_APP.clientSecret,
    DINGTALK_ROBOT_CODE: FAKE_APP.robotCode,
    DINGTALK_API_BASE: fake.url,
    DINGTALK_CALLBACK_TOKEN: CALLBACK.token,
    DINGTALK_CALLBACK_AES_KEY: CALLBACK.aesKey,
    PLATFORM_TIMEOUT_MS: '1000',
  });
}

async function startInstance(sink: InboundSink, docs: DocStore): Promise<Instance> {
  const mod = createDingtalkPlatform({ env: webhookEnv(), sink, clock: systemClock, log: createLogger('silent'), docs });
  expect(mod.start).toBeUndefined();
  const server: Server = new Koa().use(mod.routes!.routes()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    mod,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await mod.stop?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let fake: FakeDingtalk;
let sink: RecordingSink;
let docs: MemoryDocStore;
let instance: Instance;
const extra: Instance[] = [];

beforeEach(async () => {
  fake = await new FakeDingtalk().start();
  sink = new RecordingSink();
  docs = new MemoryDocStore();
  instance = await startInstance(sink, docs);
});

afterEach(async () => {
  for (const i of extra.splice(0)) await i.close();
  await instance.close();
  await fake.close();
});

/** What DingTalk sends: the event encrypted with our aes_key and owner key, signed with our token. */
function encrypted(event: object, opts: { ts?: number; ownerKey?: string; token?: string } = {}) {
  const dingtalk = createDingtalkCallbackCrypto({ token: opts.token ?? CALLBACK.token, aesKey: CALLBACK.aesKey, clientId: opts.ownerKey ?? FAKE_APP.clientId });
  const timestamp = String(opts.ts ?? Date.now());
  const encrypt = dingtalk.encrypt(JSON.stringify(event));
  const signature = dingtalk.signature(timestamp, 'nonce123', encrypt);
  return { query: `signature=${signature}&timestamp=${timestamp}&nonce=nonce123`, body: JSON.stringify({ encrypt }) };
}

async function post(query: string, body: string, headers: Record<string, string> = {}, to: Instance = instance) {
  const started = Date.now();
  const res = await fetch(`${to.base}/webhooks/dingtalk${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, ms: Date.now() - started };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ours = createDingtalkCallbackCrypto({ ...CALLBACK, clientId: FAKE_APP.clientId });

function expectEncryptedSuccess(body: { msg_signature: string; timeStamp: string; nonce: string; encrypt: string }) {
  expect(Object.keys(body).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
  expect(body.msg_signature).toBe(ours.signature(body.timeStamp, body.nonce, body.encrypt));
  expect(ours.decrypt(body.encrypt)).toBe('success');
}

describe('DingTalk HTTP callbacks: event subscription', () => {
  it('check_url is answered with the encrypted "success" well inside 1500 ms, even with an old timestamp', async () => {
    for (const ts of [Date.now(), Date.now() - 86_400_000]) {
      const { query, body } = encrypted({ EventType: 'check_url' }, { ts });
      const res = await post(query, body);
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(1500);
      expectEncryptedSuccess(res.body);
    }
    expect(sink.messages).toHaveLength(0);
  });

  it('an org event is acknowledged and not handed on; a robot-message-shaped event is', async () => {
    let res = await post(...Object.values(encrypted({ EventType: 'user_add_org', UserId: ['u1'], TimeStamp: String(Date.now()) })) as [string, string]);
    expect(res.status).toBe(200);
    expectEncryptedSuccess(res.body);
    const msg = { EventType: 'chat_bot_message', ...robotMessageData({ text: 'help', userId: 'rep01', msgId: 'msgE==' }) };
    res = await post(...(Object.values(encrypted(msg)) as [string, string]));
    expect(res.status).toBe(200);
    await fake.waitFor(() => sink.messages.length === 1);
    expect(sink.messages[0]).toMatchObject({ eventId: 'msgE==', text: 'help', actor: { platformUserId: 'rep01' } });
  });

  it('refusals: bad signature 401, stale timestamp 403, wrong owner key 403, malformed 400, too large 413 — the sink sees nothing and the next good request is answered', async () => {
    const event = { EventType: 'chat_bot_message', ...robotMessageData({ text: 'help', userId: 'rep01' }) };
    const good = encrypted(event);
    const cases: [string, string, number][] = [
      [good.query.replace(/signature=[0-9a-f]+/, 'signature=' + '0'.repeat(40)), good.body, 401],
      [encrypted(event, { token: 'not-our-token' }).query, encrypted(event, { token: 'not-our-token' }).body, 401],
      [...(Object.values(encrypted(event, { ts: Date.now() - 3_600_001 })) as [string, string]), 403],
      [...(Object.values(encrypted(event, { ownerKey: 'dingSOMEOTHERAPP' })) as [string, string]), 403],
      [good.query, 'not json', 400],
      [good.query, '{"notEncrypt":1}', 400],
      ['timestamp=1&nonce=x', good.body, 400],
      ['', good.body, 400],
    ];
    cases.push([good.query, JSON.stringify({ encrypt: 'A'.repeat(2 << 20) }), 413]);
    for (const [query, body, status] of cases) {
      const res = await post(query, body);
      expect({ status: res.status, query }).toEqual({ status, query });
      expect(res.body.error.code).toEqual(expect.any(String));
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.messages).toHaveLength(0);
    expect(sink.actions).toHaveLength(0);

    const res = await post(good.query, good.body);
    expect(res.status).toBe(200);
    await fake.waitFor(() => sink.messages.length === 1);
  });
});

describe('DingTalk HTTP callbacks: robot outgoing messages (timestamp + sign headers)', () => {
  /** The robot's signature headers: they sign the timestamp only, not the body
   * (https://open.dingtalk.com/document/orgapp/receive-message). */
  function signed(ts = Date.now(), secret: string = FAKE_APP.clientSecret) {
    return { timestamp: String(ts), sign: dingtalkRobotSign(String(ts), secret) };
  }

  it('a signed message reaches the sink; the answer is an empty 200 at once', async () => {
    sink.holdMessages();
    const data = robotMessageData({ text: '风险', userId: 'rep01', msgId: 'msgH==', group: true });
    const res = await post('', JSON.stringify(data), signed());
    expect(res).toMatchObject({ status: 200, body: {} });
    expect(res.ms).toBeLessThan(1000);
    await fake.waitFor(() => sink.messages.length === 1);
    sink.release();
    expect(sink.messages[0]).toMatchObject({ eventId: 'msgH==', text: '风险', chat: { kind: 'group', id: 'cidGROUP0001==' } });
  });

  it('a /tb command is an action whose toast goes back through the sessionWebhook', async () => {
    sink.reply = { toast: { kind: 'warning', text: '该申请已被王五通过' } };
    const data = robotMessageData({ text: '驳回 /tb score.reject ar_1 too_high', userId: 'mgr1', sessionWebhook: `${fake.url}/robot/sendBySession?session=h-1` });
    const res = await post('', JSON.stringify(data), signed());
    expect(res.status).toBe(200);
    await fake.waitFor(() => fake.sessionReplies.length === 1);
    expect(sink.actions[0]).toMatchObject({ action: 'score.reject', ref: 'ar_1', option: 'too_high' });
    expect(fake.sessionReplies[0].body).toEqual({ msgtype: 'text', text: { content: '该申请已被王五通过' } });
  });

  it('bad sign 401, stale 403 (past 5 min, though within DingTalk’s hour), another robot 403, malformed 400 — nothing reaches the sink, nothing is claimed', async () => {
    const data = robotMessageData({ text: 'help', userId: 'rep01' });
    const body = JSON.stringify(data);
    const cases: [string, Record<string, string>, number][] = [
      [body, signed(Date.now(), 'wrong-secret'), 401],
      [body, { timestamp: String(Date.now()), sign: '' }, 401],
      [body, signed(Date.now() - ROBOT_SIGN_WINDOW_MS - 1000), 403],
      [body, signed(Date.now() - 30 * 60_000), 403],
      [body, signed(Date.now() + ROBOT_SIGN_WINDOW_MS + 1000), 403],
      [JSON.stringify({ ...data, robotCode: 'dingOTHERROBOT' }), signed(), 403],
      ['{not json', signed(), 400],
      [JSON.stringify({ msgtype: 'text' }), signed(), 400],
      [body, { timestamp: 'yesterday', sign: dingtalkRobotSign('yesterday', FAKE_APP.clientSecret) }, 400],
    ];
    for (const [b, headers, status] of cases) expect((await post('', b, headers)).status).toBe(status);
    await sleep(50);
    expect(sink.messages).toHaveLength(0);
    expect(await docs.count(ROBOT_SIGN_COLLECTION, {})).toBe(0);
    expect((await post('', body, signed())).status).toBe(200);
    await fake.waitFor(() => sink.messages.length === 1);
  });
});

describe('DingTalk HTTP callbacks: each robot (timestamp, sign) pair is accepted once', () => {
  it('webhook mode does not start without the shared store the claims live in', () => {
    expect(() => createDingtalkPlatform({ env: webhookEnv(), sink, clock: systemClock, log: createLogger('silent') })).toThrow(/document store/);
  });


  // The robot's sign covers the timestamp only; one captured pair once carried a forged body and sender.
  const pairAt = (ts = Date.now()) => ({ timestamp: String(ts), sign: dingtalkRobotSign(String(ts), FAKE_APP.clientSecret) });
  const forgedApproval = () =>
    robotMessageData({ text: '通过 /tb score.approve ar_1', userId: 'mgr1', msgId: 'msgFORGED==', sessionWebhook: `${fake.url}/robot/sendBySession?session=forged` });

  it('the original delivery works; the pair replayed with another body and sender is refused 403 and reaches nothing', async () => {
    const pair = pairAt();
    // a malformed request under the pair does not use it up
    expect((await post('', '{not json', pair)).status).toBe(400);
    const original = robotMessageData({ text: 'help', userId: 'rep01', msgId: 'msgORIG==' });
    expect((await post('', JSON.stringify(original), pair)).status).toBe(200);
    await fake.waitFor(() => sink.messages.length === 1);

    const res = await post('', JSON.stringify(forgedApproval()), pair);
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'replayed' } } });
    // the very same request again is refused too (its msgId would be deduped anyway)
    expect((await post('', JSON.stringify(original), pair)).status).toBe(403);
    await sleep(50);
    expect(sink.actions).toHaveLength(0);
    expect(fake.sessionReplies).toHaveLength(0);
    expect(sink.messages.map((m) => m.eventId)).toEqual(['msgORIG==']);
  });

  it('two instances sharing one store accept a pair once between them', async () => {
    const sinkB = new RecordingSink();
    const b = await startInstance(sinkB, docs);
    extra.push(b);
    const pair = pairAt();
    const original = robotMessageData({ text: 'help', userId: 'rep01' });
    const [ra, rb] = await Promise.all([post('', JSON.stringify(original), pair), post('', JSON.stringify(forgedApproval()), pair, b)]);
    expect([ra.status, rb.status].sort()).toEqual([200, 403]);
    await sleep(50);
    const reached = [...sink.messages, ...sink.actions, ...sinkB.messages, ...sinkB.actions];
    expect(reached).toHaveLength(1);
    // the other instance still takes fresh pairs
    const before = sinkB.messages.length;
    expect((await post('', JSON.stringify(robotMessageData({ text: 'help', userId: 'rep01' })), pairAt(Number(pair.timestamp) + 1), b)).status).toBe(200);
    await fake.waitFor(() => sinkB.messages.length === before + 1);
  });
});

describe('DingTalk HTTP callbacks: event subscription binds the body and dedupes redeliveries', () => {
  it('the signature covers timestamp, nonce and encrypt: another body under a captured signature is refused 401', async () => {
    const captured = encrypted({ EventType: 'chat_bot_message', ...robotMessageData({ text: 'help', userId: 'rep01' }) });
    const other = encrypted({ EventType: 'chat_bot_message', ...robotMessageData({ text: '通过 /tb score.approve ar_1', userId: 'mgr1' }) });
    const res = await post(captured.query, other.body);
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    await sleep(50);
    expect([...sink.messages, ...sink.actions]).toHaveLength(0);
    expect((await post(captured.query, captured.body)).status).toBe(200);
    await fake.waitFor(() => sink.messages.length === 1);
  });

  it('the same delivery twice is answered both times and handled once by the core (event id)', async () => {
    const store = new MemoryStore();
    await store.putOrg({ users: [{ id: 'u-zhang', name: '张三', role: 'rep', dingtalk: { userId: 'rep01' } }], teams: [] });
    const bot = new Bot({ store, docs: store.docs, clock: systemClock, log: createLogger('silent'), platforms, background: new Background(() => undefined) });
    const handled: string[] = [];
    bot.command(['help'], async (ctx) => void handled.push(ctx.event.eventId));
    const withBot = await startInstance(bot, store.docs);
    extra.push(withBot);

    const delivery = encrypted({ EventType: 'chat_bot_message', ...robotMessageData({ text: 'help', userId: 'rep01', msgId: 'msgTWICE==' }) });
    for (let i = 0; i < 2; i++) {
      const res = await post(delivery.query, delivery.body, {}, withBot);
      expect(res.status).toBe(200);
      expectEncryptedSuccess(res.body);
    }
    await withBot.mod.stop?.();
    await bot.idle();
    expect(handled).toEqual(['msgTWICE==']);
  });
});

describe('DingTalk HTTP card callbacks (x-ddpaas-signature headers, card-callback.ts)', () => {
  /** The route a template instance registers: PUBLIC_BASE_URL defaults to http://127.0.0.1:3000 here. */
  const route = cardCallbackRoute({ clientId: FAKE_APP.clientId, clientSecret: FAKE_APP.clientSecret, callbackUrl: 'http://127.0.0.1:3000/webhooks/dingtalk' });
  const withTemplate = () => loadEnv({ ...Object.fromEntries(Object.entries(webhookEnv()).filter(([, v]) => typeof v === 'string')), DINGTALK_CARD_TEMPLATE_ID: FAKE_APP.templateId });
  const signedBy = (ts = Date.now(), secret = route.apiSecret) => ({ 'x-ddpaas-signature-timestamp': String(ts), 'x-ddpaas-signature': cardCallbackSignature(secret, String(ts)) });
  const click = (params: Record<string, unknown>, userId = 'mgr1') => JSON.stringify(cardCallbackData({ outTrackId: 'tb-card-1', userId, params }));

  async function templateInstance(s: InboundSink): Promise<Instance> {
    const mod = createDingtalkPlatform({ env: withTemplate(), sink: s, clock: systemClock, log: createLogger('silent'), docs }, { replyBudgetMs: 300 });
    const server: Server = new Koa().use(mod.routes!.routes()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const inst = {
      mod,
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      async close() {
        await mod.stop?.();
        await new Promise((resolve) => server.close(resolve));
      },
    };
    extra.push(inst);
    return inst;
  }

  it('webhook mode with a template starts by registering its route (and a plain webhook instance has no start)', async () => {
    const inst = await templateInstance(sink);
    await inst.mod.start!();
    expect([...fake.routes.values()]).toEqual([{ callbackRouteKey: route.routeKey, callbackUrl: route.callbackUrl, apiSecret: route.apiSecret }]);
    expect(instance.mod.start).toBeUndefined();
  });

  it('a signed click reaches the sink and is answered with the card callback response (JSON, within the budget)', async () => {
    const inst = await templateInstance(sink);
    sink.reply = { toast: { kind: 'success', text: '已通过' } };
    const res = await post('', click({ k: 'score.approve', r: 'ar_1' }), signedBy(), inst);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ userPrivateData: { cardParamMap: { toast: '已通过', toastKind: 'success' } }, cardUpdateOptions: { updatePrivateDataByKey: true } });
    expect(sink.actions[0]).toMatchObject({ action: 'score.approve', ref: 'ar_1', actor: { platformUserId: 'mgr1' }, message: { messageId: 'tb-card-1' } });
  });

  it('a slow handler: answered {} within the budget', async () => {
    const inst = await templateInstance(sink);
    sink.actionDelayMs = 800;
    const res = await post('', click({ k: 'tier.ack', r: 'tc_1' }), signedBy(), inst);
    expect(res).toMatchObject({ status: 200, body: {} });
    expect(res.ms).toBeLessThan(800);
  });

  it('missing or wrong signature 401, stale 403, replayed 403, malformed 400 — nothing reaches the sink; a malformed one does not use up its pair', async () => {
    const inst = await templateInstance(sink);
    const body = click({ k: 'score.approve', r: 'ar_1' });
    const pair = signedBy();
    const cases: [string, Record<string, string>, number][] = [
      [body, { 'x-ddpaas-signature': 'x' }, 401],
      [body, signedBy(Date.now(), 'not-the-api-secret'), 401],
      [body, signedBy(Date.now(), FAKE_APP.clientSecret), 401],
      [body, signedBy(Date.now() - 5 * 60_000 - 1000), 403],
      [body, signedBy(Date.now() + 5 * 60_000 + 1000), 403],
      ['{not json', pair, 400],
      [JSON.stringify({ type: 'actionCallback', outTrackId: 'x' }), pair, 400],
    ];
    for (const [b, headers, status] of cases) expect({ status: (await post('', b, headers, inst)).status, headers }).toEqual({ status, headers });
    expect(sink.actions).toHaveLength(0);
    expect((await post('', body, pair, inst)).status).toBe(200);
    // the pair again, with a forged body: refused
    const forged = await post('', click({ k: 'score.approve', r: 'ar_2' }, 'someone-else'), pair, inst);
    expect(forged).toMatchObject({ status: 403, body: { error: { code: 'replayed' } } });
    expect(sink.actions.map((a) => a.ref)).toEqual(['ar_1']);
  });

  it('without a template no route is registered, and signed card callbacks are refused', async () => {
    const res = await post('', click({ k: 'score.approve', r: 'ar_1' }), signedBy());
    expect(res.status).toBe(401);
    expect(sink.actions).toHaveLength(0);
  });

  it('a card-callback-shaped event inside the encrypted event subscription is acknowledged and not handed on', async () => {
    const { query, body } = encrypted({ EventType: 'card_callback', ...cardCallbackData({ outTrackId: 'tb-card-1', userId: 'mgr1', params: { k: 'score.approve', r: 'ar_1' } }) });
    const res = await post(query, body);
    expect(res.status).toBe(200);
    await sleep(50);
    expect(sink.actions).toHaveLength(0);
  });
});

describe('card callback data → InboundAction (native form values nested under params.form)', () => {
  const data = (params: Record<string, unknown>) => JSON.stringify(cardCallbackData({ outTrackId: 'tb-1', userId: 'rep01', params, actionIds: ['form'] }));
  const echo = { submit: { k: 'score.submit', r: 'sf_1' }, fields: [{ name: 'profitability', type: 'SELECT' }] };

  it('reads SELECT {index, value} and TEXT values, and k / r from the echoed form variable', () => {
    const a = cardCallbackToAction(data({ form: { profitability: { index: 9, value: '90' }, strength: { index: 0, value: '0' }, comment: '回款及时' }, current_form: echo }));
    expect(a).toMatchObject({ action: 'score.submit', ref: 'sf_1', values: { profitability: '90', strength: '0', comment: '回款及时' } });
    expect(a!.values).not.toHaveProperty('current_form');
    expect(a!.values).not.toHaveProperty('form');
  });

  it('the echo may come as a JSON string; explicit k / r parameters win', () => {
    expect(cardCallbackToAction(data({ form: { profitability: { index: 1, value: '10' } }, current_form: JSON.stringify(echo) }))).toMatchObject({ action: 'score.submit', ref: 'sf_1', values: { profitability: '10' } });
    expect(cardCallbackToAction(data({ k: 'score.submit', r: 'sf_2', form: { profitability: { index: 1, value: '10' } }, current_form: echo }))).toMatchObject({ ref: 'sf_2' });
  });

  it('a button click stays flat ({k, r, v}); no key, no action', () => {
    expect(cardCallbackToAction(data({ k: 'contact.log', r: 'ca_1', v: 'reached' }))).toMatchObject({ action: 'contact.log', ref: 'ca_1', option: 'reached', values: {} });
    expect(cardCallbackToAction(data({ form: { x: '1' }, current_form: { fields: [] } }))).toBeNull();
  });

  it('a corrected re-submit is a new event; a redelivery is the same one', () => {
    const one = cardCallbackToAction(data({ form: { profitability: { index: 9, value: '90' } }, current_form: echo }))!;
    const again = cardCallbackToAction(data({ form: { profitability: { index: 9, value: '90' } }, current_form: echo }))!;
    const other = cardCallbackToAction(data({ form: { profitability: { index: 8, value: '80' } }, current_form: echo }))!;
    expect(again.eventId).toBe(one.eventId);
    expect(other.eventId).not.toBe(one.eventId);
  });
});
