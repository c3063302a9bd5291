// POST /webhooks/feishu: the test plays Feishu (encrypted, signed deliveries over real HTTP) against the
// module's route in a tiny Koa app; a recording sink stands in for the core.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { feishuPlatform } from '../../../src/platforms/feishu/index.ts';
import { messageText, toInboundAction, toInboundMessage } from '../../../src/platforms/feishu/receiver.ts';
import { cardActionEnvelope, deliverWebhook, messageEnvelope } from '../../fakes/feishu.ts';
import { fixtureJson } from '../fixtures.ts';
import { APP_ID, ENCRYPT_KEY, feishuEnv, RecordingSink, serveRoutes, silentLog, VERIFICATION_TOKEN } from './helpers.ts';

const OPEN_ID = 'ou_3c55e1f8c9aa3b1f2c5b9e3e1a7b2c4d';
const asFeishu = { appId: APP_ID, verificationToken: VERIFICATION_TOKEN };

describe('Feishu webhook receiver (encrypt key + verification token)', () => {
  const sink = new RecordingSink();
  let server: { url: string; close: () => Promise<void> };
  let url: string;
  const deliver = (payload: object, o: Parameters<typeof deliverWebhook>[2] = {}) => deliverWebhook(url, payload, { encryptKey: ENCRYPT_KEY, ...o });

  beforeAll(async () => {
    const module = feishuPlatform({ env: feishuEnv('http://127.0.0.1:9'), sink, clock: { now: () => Date.now() }, log: silentLog });
    server = await serveRoutes(module);
    url = `${server.url}/webhooks/feishu`;
  });
  afterAll(() => server.close());
  beforeEach(() => {
    sink.actions.length = 0;
    sink.messages.length = 0;
    sink.reply = { toast: { kind: 'success', text: '已认领 / Claimed' } };
    sink.delayMs = 0;
    sink.fail = false;
  });

  it('answers the encrypted url_verification challenge (no signature headers, as Feishu sends it)', async () => {
    const res = await deliver({ challenge: 'ajls384kdjx98XX', token: VERIFICATION_TOKEN, type: 'url_verification' }, { sign: false });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ challenge: 'ajls384kdjx98XX' });
    expect(res.contentType).toMatch(/application\/json/);
  });

  it('a card click round-trips: InboundAction to the sink, toast back within the deadline', async () => {
    const envelope = cardActionEnvelope({
      ...asFeishu,
      eventId: 'evt-click-1',
      openId: OPEN_ID,
      value: { k: 'score.submit', r: 'ref-42' },
      formValue: { profitability: '90', strength: '80', comment: 'good' },
      messageId: 'om_card1',
    });
    const res = await deliver(envelope);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ toast: { type: 'success', content: '已认领 / Claimed' } });
    expect(res.elapsedMs).toBeLessThan(3000);
    expect(sink.actions).toEqual([
      {
        type: 'action',
        platform: 'feishu',
        eventId: 'evt-click-1',
        actor: { platform: 'feishu', platformUserId: OPEN_ID },
        action: 'score.submit',
        ref: 'ref-42',
        values: { profitability: '90', strength: '80', comment: 'good' },
        message: { platform: 'feishu', messageId: 'om_card1' },
      },
    ]);
  });

  it('an option button carries v; every toast kind maps to a Feishu toast type; a card reply is a raw 2.0 card', async () => {
    for (const kind of ['success', 'info', 'warning', 'error'] as const) {
      sink.reply = { toast: { kind, text: kind } };
      const res = await deliver(cardActionEnvelope({ ...asFeishu, openId: OPEN_ID, value: { k: 'contact.log', r: 'ref-1', v: 'reached' } }));
      expect(res.body).toEqual({ toast: { type: kind, content: kind } });
    }
    expect(sink.actions.map((a) => a.option)).toEqual(['reached', 'reached', 'reached', 'reached']);

    sink.reply = {};
    expect((await deliver(cardActionEnvelope({ ...asFeishu, openId: OPEN_ID, value: { k: 'tier.ack', r: 'ref-2' } }))).body).toEqual({});
  });

  it('a chat command round-trips: 200 {} at once, InboundMessage (mention stripped) to the sink', async () => {
    const res = await deliver(messageEnvelope({ ...asFeishu, eventId: 'evt-msg-1', openId: OPEN_ID, text: '@_user_1 客户 ACME', chatType: 'group', chatId: 'oc_team' }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    await sink.until(() => sink.messages.length === 1);
    expect(sink.messages[0]).toEqual({
      type: 'message',
      platform: 'feishu',
      eventId: 'evt-msg-1',
      actor: { platform: 'feishu', platformUserId: OPEN_ID },
      text: '客户 ACME',
      chat: { id: 'oc_team', kind: 'group' },
    });
  });

  it('a slow or failing core still gets Feishu an answer: {} by the deadline, an error toast on failure', async () => {
    sink.delayMs = 2800;
    const slow = await deliver(cardActionEnvelope({ ...asFeishu, openId: OPEN_ID, value: { k: 'followup.claim', r: 'r' } }));
    expect(slow.status).toBe(200);
    expect(slow.body).toEqual({});
    expect(slow.elapsedMs).toBeLessThan(2900);

    sink.delayMs = 0;
    sink.fail = true;
    const failed = await deliver(cardActionEnvelope({ ...asFeishu, openId: OPEN_ID, value: { k: 'followup.claim', r: 'r' } }));
    expect(failed.status).toBe(200);
    expect(failed.body.toast.type).toBe('error');
  });

  it('acknowledges what it does not handle: other events, bot messages, buttons not ours', async () => {
    const other = { schema: '2.0', header: { event_id: 'e-9', token: VERIFICATION_TOKEN, create_time: '1', event_type: 'im.chat.member.bot.added_v1', app_id: APP_ID }, event: {} };
    expect((await deliver(other)).body).toEqual({});
    expect((await deliver(messageEnvelope({ ...asFeishu, openId: OPEN_ID, text: 'hi', senderType: 'app' }))).body).toEqual({});
    expect((await deliver(messageEnvelope({ ...asFeishu, openId: OPEN_ID, text: 'x', messageType: 'image' }))).body).toEqual({});
    const foreign = await deliver(cardActionEnvelope({ ...asFeishu, openId: OPEN_ID, value: { action: 'approve', scoreId: 'sc_1' } }));
    expect(foreign.status).toBe(200);
    expect(foreign.body.toast.type).toBe('warning');
    await new Promise((r) => setTimeout(r, 30));
    expect(sink.actions).toEqual([]);
    expect(sink.messages).toEqual([]);
  });

  it('refuses forged, stale, malformed, misaddressed and oversized requests; the sink sees nothing; the next good one passes', async () => {
    const click = () => cardActionEnvelope({ ...asFeishu, openId: OPEN_ID, value: { k: 'score.approve', r: 'ref-1' } });
    const cases: [string, Promise<{ status: number; body: any }>, number][] = [
      ['bad signature', deliver(click(), { badSignature: true }), 401],
      ['no signature', deliver(click(), { sign: false }), 401],
      ['stale timestamp (> 1 h)', deliver(click(), { timestampS: Math.floor(Date.now() / 1000) - 3601 - 60 }), 403],
      ['future timestamp (> 1 h)', deliver(click(), { timestampS: Math.floor(Date.now() / 1000) + 3700 }), 403],
      ['malformed body', deliver(click(), { rawBody: '{"encrypt": ' }), 400],
      ['not base64', deliver(click(), { rawBody: JSON.stringify({ encrypt: '!!!' }) }), 400],
      ['wrong key', deliver(click(), { rawBody: JSON.stringify({ encrypt: 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=' }) }), 401],
      ['wrong verification token', deliver(cardActionEnvelope({ appId: APP_ID, verificationToken: 'other', openId: OPEN_ID, value: { k: 'score.approve', r: 'x' } })), 401],
      ['another app (wrong receiver)', deliver(cardActionEnvelope({ ...asFeishu, appId: 'cli_0000000000000000', openId: OPEN_ID, value: { k: 'score.approve', r: 'x' } })), 403],
      ['legacy v1 card callback', deliver(fixtureJson('feishu', 'card-action-trigger-v1-legacy.json')), 400],
      ['oversized', deliver(click(), { rawBody: JSON.stringify({ encrypt: 'A'.repeat(1_100_000) }) }), 413],
    ];
    for (const [label, pending, status] of cases) {
      const res = await pending;
      expect(res.status, label).toBe(status);
      expect(res.body?.error?.code, label).toBeTypeOf('string');
    }
    expect(sink.actions).toEqual([]);

    const good = await deliver(click());
    expect(good.status).toBe(200);
    expect(good.body.toast.type).toBe('success');
    expect(sink.actions).toHaveLength(1);
  });
});

describe('Feishu webhook receiver with only a verification token (no encrypt key)', () => {
  const sink = new RecordingSink();
  let server: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    const env = feishuEnv('http://127.0.0.1:9', { FEISHU_ENCRYPT_KEY: '' });
    server = await serveRoutes(feishuPlatform({ env, sink, clock: { now: () => Date.now() }, log: silentLog }));
  });
  afterAll(() => server.close());

  it('accepts plaintext events carrying our token and refuses others', async () => {
    const url = `${server.url}/webhooks/feishu`;
    const ok = await deliverWebhook(url, cardActionEnvelope({ ...asFeishu, openId: OPEN_ID, value: { k: 'tier.ack', r: 'r1' } }));
    expect(ok.status).toBe(200);
    expect(ok.body.toast.type).toBe('success');
    const forged = await deliverWebhook(url, cardActionEnvelope({ appId: APP_ID, verificationToken: 'guess', openId: OPEN_ID, value: { k: 'tier.ack', r: 'r1' } }));
    expect(forged.status).toBe(401);
    expect(sink.actions).toHaveLength(1);
  });
});

describe('mapping Feishu payloads', () => {
  it('maps the documented card.action.trigger shape (fixture) with a {k, r} value', () => {
    const fixture = fixtureJson('feishu', 'card-action-trigger.json');
    expect(toInboundAction('e1', fixture.event)).toBeNull(); // the docs' value is not one of our payloads
    fixture.event.action.value = { k: 'score.approve', r: 'ref-9' };
    expect(toInboundAction('e1', fixture.event)).toMatchObject({
      action: 'score.approve',
      ref: 'ref-9',
      actor: { platformUserId: 'ou_3c55e1f8c9aa3b1f2c5b9e3e1a7b2c4d' },
      values: { Input_x: '1234', Select_y: '1', multi: 'a,b' },
      message: { messageId: 'om_e5b2a4f8c1d3b6a9e7f0c2d4b6a8e0f1' },
    });
  });

  it('a select outside a form gives its option', () => {
    const event = { operator: { open_id: 'ou_1' }, action: { value: { k: 'contact.log', r: 'r' }, option: 'lost' } };
    expect(toInboundAction('e', event)?.option).toBe('lost');
  });

  it('strips @mentions from text messages and keeps p2p/group apart', () => {
    expect(messageText(JSON.stringify({ text: '@_user_1  score  ACME ' }), ['@_user_1'])).toBe('score ACME');
    expect(messageText(JSON.stringify({ text: '@_all 风险' }))).toBe('风险');
    expect(messageText('not json')).toBeNull();
    const p2p = messageEnvelope({ appId: APP_ID, openId: 'ou_1', text: 'help' });
    expect(toInboundMessage('e', p2p.event)).toMatchObject({ text: 'help', chat: { kind: 'p2p' } });
  });
});
