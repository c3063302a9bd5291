// DingTalk Stream mode with the REAL dingtalk-stream DWClient (wrapped by SafeDWClient) against the fake
// gateway over WebSocket: robot messages and card callbacks round-trip, ACK frames are checked, and the
// connection survives drops without a reconnect storm.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Card } from '../../../cards/model.ts';
import { loadEnv } from '../../../src/config/env.ts';
import { createLogger } from '../../../src/logger.ts';
import { createDingtalkPlatform, type DingtalkTuning } from '../../../src/platforms/dingtalk/index.ts';
import { buildCallbackAck } from '../../../src/platforms/dingtalk/stream-frame.ts';
import type { PlatformModule } from '../../../src/platforms/module.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import { CARD_TOPIC, cardCallbackData, FAKE_APP, FakeDingtalk, RecordingSink, ROBOT_TOPIC, robotMessageData } from '../../fakes/dingtalk.ts';
import { requestCard } from './sample-cards.ts';

let fake: FakeDingtalk;
let sink: RecordingSink;
let mod: PlatformModule | null;

const fast: DingtalkTuning = { replyBudgetMs: 1500, stream: { backoffBaseMs: 100, backoffMaxMs: 400, idleMs: 60_000 } };

function platform(tuning: DingtalkTuning = fast, template = true): PlatformModule {
  const env = loadEnv({
    LOG_LEVEL: 'silent',
    DINGTALK_CLIENT_ID: FAKE_APP.clientId,
    DINGTALK_CLIENT_SECRET: FAKE_APP.clientSecret,
    DINGTALK_ROBOT_CODE: FAKE_APP.robotCode,
    DINGTALK_API_BASE: fake.url,
    DINGTALK_GATEWAY_URL: `${fake.url}/v1.0/gateway/connections/open`,
    PLATFORM_TIMEOUT_MS: '1000',
    ...(template ? { DINGTALK_CARD_TEMPLATE_ID: FAKE_APP.templateId } : {}),
  });
  mod = createDingtalkPlatform({ env, sink, clock: systemClock, log: createLogger('silent') }, tuning);
  return mod;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ackData = (frame: { data?: string }) => JSON.parse(frame.data ?? 'null');

beforeEach(async () => {
  // the SDK prints "connect success" / socket errors with console.info / console.warn
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  fake = await new FakeDingtalk().start();
  sink = new RecordingSink();
  mod = null;
});

afterEach(async () => {
  await mod?.stop?.();
  await fake.close();
  vi.restoreAllMocks();
});

describe('DingTalk Stream: connecting', () => {
  it('asks the gateway with the credentials and both CALLBACK topics, then opens one connection', async () => {
    await platform().start!();
    expect(fake.gatewayCalls).toHaveLength(1);
    expect(fake.gatewayCalls[0].body).toMatchObject({ clientId: FAKE_APP.clientId, clientSecret: FAKE_APP.clientSecret });
    expect(fake.gatewayCalls[0].body.subscriptions).toEqual(
      expect.arrayContaining([
        { type: 'CALLBACK', topic: ROBOT_TOPIC },
        { type: 'CALLBACK', topic: CARD_TOPIC },
      ]),
    );
    expect(fake.openConnections).toBe(1);
    expect(fake.problems).toEqual([]);
  });

  it('refused credentials make start() fail loudly, and nothing retries', async () => {
    fake.gatewayMode = 'refuse';
    await expect(platform().start!()).rejects.toThrow(/DINGTALK_CLIENT_ID\/DINGTALK_CLIENT_SECRET/);
    await sleep(400);
    expect(fake.gatewayCalls).toHaveLength(1);
  });
});

describe('DingTalk Stream: robot messages', () => {
  it('ACKs at once — before the sink has finished — and hands on an InboundMessage', async () => {
    await platform().start!();
    sink.holdMessages();
    const data = robotMessageData({ text: '客户 华东机电', userId: 'rep01', msgId: 'msgA==' });
    const sentAt = Date.now();
    const messageId = fake.push('CALLBACK', ROBOT_TOPIC, data);
    const ack = await fake.waitForAck(messageId);
    expect(ack.at - sentAt).toBeLessThan(500);
    expect(ack.frame).toEqual(buildCallbackAck(messageId, null));
    await fake.waitFor(() => sink.messages.length === 1);
    sink.release();
    expect(sink.messages[0]).toEqual({
      type: 'message',
      platform: 'dingtalk',
      eventId: 'msgA==',
      actor: { platform: 'dingtalk', platformUserId: 'rep01' },
      text: '客户 华东机电',
      chat: { id: 'cidP2P0001==', kind: 'p2p' },
    });
  });

  it('a group message (conversationType 2) is a group chat message', async () => {
    await platform().start!();
    fake.push('CALLBACK', ROBOT_TOPIC, robotMessageData({ text: 'atrisk', userId: 'rep01', group: true }));
    await fake.waitFor(() => sink.messages.length === 1);
    expect(sink.messages[0].chat).toEqual({ id: 'cidGROUP0001==', kind: 'group' });
  });

  it('a /tb command (a template-free card click) is an InboundAction answered through the sessionWebhook', async () => {
    await platform(fast, false).start!();
    sink.reply = { toast: { kind: 'success', text: '已通过，感谢' } };
    const data = robotMessageData({
      text: '通过 /tb score.approve ar_9f3k2',
      userId: 'manager4220',
      msgId: 'msgCmd==',
      sessionWebhook: `${fake.url}/robot/sendBySession?session=s-1`,
    });
    const messageId = fake.push('CALLBACK', ROBOT_TOPIC, data);
    await fake.waitForAck(messageId);
    await fake.waitFor(() => fake.sessionReplies.length === 1);
    expect(sink.actions[0]).toMatchObject({ type: 'action', eventId: 'msgCmd==', action: 'score.approve', ref: 'ar_9f3k2', actor: { platformUserId: 'manager4220' } });
    expect(sink.messages).toHaveLength(0);
    expect(fake.sessionReplies[0]).toMatchObject({ session: 's-1', body: { msgtype: 'text', text: { content: '已通过，感谢' } } });

    // a reject with a typed reason
    fake.push('CALLBACK', ROBOT_TOPIC, robotMessageData({ text: '/tb score.reject ar_9f3k2 other 证据不足，请补充', userId: 'manager4220' }));
    await fake.waitFor(() => sink.actions.length === 2);
    expect(sink.actions[1]).toMatchObject({ action: 'score.reject', option: 'other', values: { reason: '证据不足，请补充' } });
  });
});

describe('DingTalk Stream: card callbacks', () => {
  it('the sink reply comes back in the ACK: the new card data and the toast as the clicker’s private data', async () => {
    const m = platform();
    await m.start!();
    const sent = await m.messenger.send({ platform: 'dingtalk', kind: 'user', id: 'manager4220' }, requestCard(), 'key-1');
    const decided: Card = { ...requestCard(), closed: { text: '已通过' } };
    sink.reply = { toast: { kind: 'success', text: '已通过' }, card: decided };

    const data = cardCallbackData({ outTrackId: sent.messageId, userId: 'manager4220', params: { k: 'score.approve', r: 'ar_9f3k2' } });
    const sentAt = Date.now();
    const messageId = fake.push('CALLBACK', CARD_TOPIC, data);
    const ack = await fake.waitForAck(messageId);
    expect(ack.at - sentAt).toBeLessThan(2000);
    expect(ack.frame).toMatchObject({ code: 200, message: 'OK', headers: { messageId, contentType: 'application/json' } });
    const { response } = ackData(ack.frame);
    expect(response.cardUpdateOptions).toEqual({ updateCardDataByKey: true, updatePrivateDataByKey: true });
    expect(response.cardData.cardParamMap).toMatchObject({ status: 'closed', statusText: '已通过', actions: '[]' });
    expect(response.userPrivateData).toEqual({ cardParamMap: { toast: '已通过', toastKind: 'success' } });

    expect(sink.actions[0]).toEqual({
      type: 'action',
      platform: 'dingtalk',
      eventId: expect.stringMatching(new RegExp(`^${escape(JSON.stringify([sent.messageId, 'manager4220', ['btn-1']]))}#[\\w-]{16}$`)),
      actor: { platform: 'dingtalk', platformUserId: 'manager4220' },
      action: 'score.approve',
      ref: 'ar_9f3k2',
      values: {},
      message: { platform: 'dingtalk', messageId: sent.messageId, meta: { outTrackId: sent.messageId } },
    });
  });

  it('form values and options travel as values/option', async () => {
    await platform().start!();
    const params = { k: 'score.submit', r: 'sf_1', profitability: '90', strength: 80, comment: '很好' };
    const messageId = fake.push('CALLBACK', CARD_TOPIC, cardCallbackData({ outTrackId: 'tb-x', userId: 'rep01', params }));
    await fake.waitForAck(messageId);
    expect(sink.actions[0]).toMatchObject({ action: 'score.submit', ref: 'sf_1', values: { profitability: '90', strength: '80', comment: '很好' } });
    expect(sink.actions[0].option).toBeUndefined();
    const m2 = fake.push('CALLBACK', CARD_TOPIC, cardCallbackData({ outTrackId: 'tb-x', userId: 'rep01', params: { k: 'contact.log', r: 'ca_1', v: 'won_back' }, actionIds: ['b2'] }));
    const ack = await fake.waitForAck(m2);
    expect(ackData(ack.frame)).toEqual({ response: null });
    expect(sink.actions[1]).toMatchObject({ action: 'contact.log', option: 'won_back' });

    // a redelivery has the same eventId; a corrected re-submit of the same form has a new one
    const again = fake.push('CALLBACK', CARD_TOPIC, cardCallbackData({ outTrackId: 'tb-x', userId: 'rep01', params }));
    const fixed = fake.push('CALLBACK', CARD_TOPIC, cardCallbackData({ outTrackId: 'tb-x', userId: 'rep01', params: { ...params, strength: '70' } }));
    await fake.waitForAck(again);
    await fake.waitForAck(fixed);
    const [first, , redelivered, corrected] = sink.actions.map((a) => a.eventId);
    expect(redelivered).toBe(first);
    expect(corrected).not.toBe(first);
  });

  it('a slow sink: plain ACK at the reply budget, and the late card goes as an update in place', async () => {
    const m = platform({ ...fast, replyBudgetMs: 300 });
    await m.start!();
    const sent = await m.messenger.send({ platform: 'dingtalk', kind: 'user', id: 'manager4220' }, requestCard(), 'key-slow');
    sink.actionDelayMs = 1000;
    sink.reply = { toast: { kind: 'success', text: '已通过' }, card: { ...requestCard(), closed: { text: '已通过' } } };
    const sentAt = Date.now();
    const messageId = fake.push('CALLBACK', CARD_TOPIC, cardCallbackData({ outTrackId: sent.messageId, userId: 'manager4220', params: { k: 'score.approve', r: 'ar_9f3k2' } }));
    const ack = await fake.waitForAck(messageId);
    expect(ack.at - sentAt).toBeLessThan(800);
    expect(ackData(ack.frame)).toEqual({ response: null });
    await fake.waitFor(() => fake.updates.length === 1, 3000, 'the late update');
    expect(fake.updates[0]).toMatchObject({ outTrackId: sent.messageId });
    expect(fake.cards.get(sent.messageId)!.cardParamMap.status).toBe('closed');
  });

  it('a click without a known action key, or malformed data, is still ACKed (no redelivery) and reaches nobody', async () => {
    await platform().start!();
    const a = fake.push('CALLBACK', CARD_TOPIC, cardCallbackData({ outTrackId: 't', userId: 'u', params: { action: 'accept' } }));
    const b = fake.push('CALLBACK', CARD_TOPIC, '{"outTrackId":"t","userId":"u","content":"{not json"}');
    expect(ackData((await fake.waitForAck(a)).frame)).toEqual({ response: null });
    expect(ackData((await fake.waitForAck(b)).frame)).toEqual({ response: null });
    expect(sink.actions).toHaveLength(0);
  });
});

describe('DingTalk Stream: other frames', () => {
  it('EVENT frames are ACKed SUCCESS; ping is echoed; a malformed frame is dropped and the connection lives on', async () => {
    await platform().start!();
    const ev = fake.push('EVENT', '*', { userId: ['u1'] }, { eventType: 'user_add_org', eventId: 'ev-1' });
    expect(ackData((await fake.waitForAck(ev)).frame)).toMatchObject({ status: 'SUCCESS' });
    const ping = fake.push('SYSTEM', 'ping', { opaque: 'op-1' });
    expect((await fake.waitForAck(ping)).frame).toMatchObject({ code: 200, data: JSON.stringify({ opaque: 'op-1' }) });
    fake.pushRaw('{oops');
    fake.pushRaw(JSON.stringify({ type: 'CALLBACK', headers: {}, data: 1 }));
    fake.push('CALLBACK', ROBOT_TOPIC, robotMessageData({ text: 'help', userId: 'rep01' }));
    await fake.waitFor(() => sink.messages.length === 1);
    expect(fake.connectionsOpened).toBe(1);
  });
});

describe('DingTalk Stream: reconnects (dingtalk-stream-sdk-nodejs issues #16, #18)', () => {
  it('a dropped connection reconnects once (one new gateway call, one new socket) and no storm follows', async () => {
    await platform().start!();
    fake.dropConnections();
    await fake.waitFor(() => fake.openConnections === 1 && fake.connectionsOpened === 2, 3000, 'the reconnect');
    await sleep(800);
    expect(fake.gatewayCalls).toHaveLength(2);
    expect(fake.connectionsOpened).toBe(2);
    fake.push('CALLBACK', ROBOT_TOPIC, robotMessageData({ text: 'help', userId: 'rep01' }));
    await fake.waitFor(() => sink.messages.length === 1);
  });

  it('a normal server close also reconnects exactly once', async () => {
    await platform().start!();
    fake.closeConnections(1001);
    await fake.waitFor(() => fake.connectionsOpened === 2, 3000, 'the reconnect');
    await sleep(600);
    expect(fake.gatewayCalls).toHaveLength(2);
    expect(fake.openConnections).toBe(1);
  });

  it('the server’s disconnect frame reconnects at once, before the server closes', async () => {
    await platform().start!();
    const started = Date.now();
    fake.push('SYSTEM', 'disconnect', {});
    await fake.waitFor(() => fake.connectionsOpened === 2, 2000, 'the reconnect');
    expect(Date.now() - started).toBeLessThan(1000);
    await sleep(300);
    expect(fake.openConnections).toBe(1);
    expect(fake.gatewayCalls).toHaveLength(2);
  });

  it('a dead WebSocket endpoint: retries back off (no doubling storm), recover when it comes back, and stop() ends retries', async () => {
    fake.gatewayMode = 'dead-ws';
    const m = platform();
    await m.start!(); // resolves (logged), keeps retrying in the background
    await sleep(1500);
    // backoff 100, 200, 400, 400… ms: about 5 calls in 1.5 s; the 2.1.5 storm made 1→3→7→15… per second
    expect(fake.gatewayCalls.length).toBeGreaterThanOrEqual(3);
    expect(fake.gatewayCalls.length).toBeLessThanOrEqual(7);
    fake.gatewayMode = 'ok';
    await fake.waitFor(() => fake.openConnections === 1, 2000, 'recovery');
    const calls = fake.gatewayCalls.length;
    await sleep(500);
    expect(fake.gatewayCalls.length).toBe(calls);

    await m.stop!();
    fake.gatewayMode = 'dead-ws';
    await sleep(600);
    expect(fake.gatewayCalls.length).toBe(calls);
    expect(fake.openConnections).toBe(0);
    mod = null;
  });

  it('stop() while retries are pending ends them', async () => {
    fake.gatewayMode = 'dead-ws';
    const m = platform();
    await m.start!();
    await m.stop!();
    const calls = fake.gatewayCalls.length;
    await sleep(800);
    expect(fake.gatewayCalls.length).toBe(calls);
    mod = null;
  });

  it('idle watchdog: a zombie connection (no frames, no pongs) is replaced', async () => {
    await platform({ ...fast, stream: { ...fast.stream, idleMs: 300, pingEveryMs: 100 } }).start!();
    await sleep(500);
    expect(fake.connectionsOpened).toBe(1); // pongs keep it alive
    expect(fake.pingsSeen).toBeGreaterThan(2);
    fake.muted = true;
    await fake.waitFor(() => fake.connectionsOpened === 2, 3000, 'the watchdog reconnect');
    fake.muted = false;
    await sleep(500);
    expect(fake.connectionsOpened).toBe(2);
    expect(fake.openConnections).toBe(1);
  });
});
