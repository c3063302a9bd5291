// The one inbound mechanism (src/inbound/): every platform's route reads its body within its profile's limit
// and refuses in one shape; a slow handler is answered at the platform's deadline and finishes in the
// background; shutdown waits for that background work. Unit tests of the pieces first, then each platform's
// real route over HTTP, then the composed app.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDocStore } from '../../../src/adapters/memory/doc-store.ts';
import { MemoryStore } from '../../../src/adapters/memory/memory-store.ts';
import { loadEnv } from '../../../src/config/env.ts';
import { Background, Inbound, within } from '../../../src/inbound/work.ts';
import { createLogger, type Logger } from '../../../src/logger.ts';
import { createDingtalkPlatform } from '../../../src/platforms/dingtalk/index.ts';
import type { DingtalkMessenger } from '../../../src/platforms/dingtalk/messenger.ts';
import type { DingtalkClient } from '../../../src/platforms/dingtalk/client.ts';
import { dingtalkInbound } from '../../../src/platforms/dingtalk/profile.ts';
import { DingtalkInbound } from '../../../src/platforms/dingtalk/receiver.ts';
import { feishuPlatform } from '../../../src/platforms/feishu/index.ts';
import { feishuInbound } from '../../../src/platforms/feishu/profile.ts';
import { FeishuInbound, feishuWebhookRouter } from '../../../src/platforms/feishu/receiver.ts';
import { wecomInbound } from '../../../src/platforms/wecom/profile.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import type { ActionReply, InboundAction, InboundMessage, InboundSink } from '../../../src/ports/messenger.ts';
import { cardCallbackData, FAKE_APP } from '../../fakes/dingtalk.ts';
import { cardActionEnvelope, deliverWebhook, messageEnvelope } from '../../fakes/feishu.ts';
import { startApp, type TestApp } from '../../helpers/app.ts';
import { APP_ID, ENCRYPT_KEY, feishuEnv, serveRoutes, silentLog, VERIFICATION_TOKEN } from '../feishu/helpers.ts';
import { startHarness } from '../wecom/harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A sink whose handlers take `delayMs` and say when they have finished. */
class SlowSink implements InboundSink {
  readonly actions: InboundAction[] = [];
  readonly messages: InboundMessage[] = [];
  finished = 0;
  constructor(
    public delayMs = 0,
    public reply: ActionReply = { toast: { kind: 'success', text: 'done' } },
  ) {}

  async handleAction(event: InboundAction): Promise<ActionReply> {
    this.actions.push(event);
    await sleep(this.delayMs);
    this.finished++;
    return this.reply;
  }

  async handleMessage(event: InboundMessage): Promise<void> {
    this.messages.push(event);
    await sleep(this.delayMs);
    this.finished++;
  }
}

/** The one refusal shape: exactly `{error: {code, message, details}}`. */
function expectRefusalShape(body: unknown, code?: string): void {
  expect(body).toEqual({ error: { code: code ?? expect.any(String), message: expect.any(String), details: [] } });
}

describe('the pieces', () => {
  it('Background: idle() waits for every piece of work, including work started by running work; failures are reported, not thrown', async () => {
    const failures: string[] = [];
    const bg = new Background((err, what) => failures.push(`${what}: ${(err as Error).message}`));
    const done: string[] = [];
    bg.run('outer', async () => {
      await sleep(30);
      bg.run('inner', async () => {
        await sleep(30);
        done.push('inner');
      });
      done.push('outer');
    });
    bg.run('broken', async () => {
      throw new Error('boom');
    });
    expect(bg.size).toBe(2);
    await bg.idle();
    expect(done).toEqual(['outer', 'inner']);
    expect(failures).toEqual(['broken: boom']);
    expect(bg.size).toBe(0);
  });

  it('within: the value when on time, the late value at the deadline (the work keeps running)', async () => {
    expect(await within(sleep(5).then(() => 'a'), 200, () => 'late')).toEqual({ value: 'a', onTime: true });
    const started = Date.now();
    let finished = false;
    const slow = sleep(150).then(() => (finished = true));
    expect(await within(slow, 40, () => false)).toEqual({ value: false, onTime: false });
    expect(Date.now() - started).toBeLessThan(140);
    expect(finished).toBe(false);
    await slow;
    await expect(within(Promise.reject(new Error('no')), 100, () => 'late')).rejects.toThrow('no');
  });

  it('Inbound.answer: on time → the value; late → the late answer at the deadline, the value handed on after, idle() waits for it', async () => {
    const warnings: string[] = [];
    const log = { warn: (_o: object, m: string) => void warnings.push(m), error: () => undefined } as unknown as Logger;
    const inbound = new Inbound({ name: 'test', maxBodyBytes: 10, answerWithinMs: 50 }, log);
    expect(await inbound.answer('click', Promise.resolve('fast'), () => 'late')).toBe('fast');
    expect(warnings).toEqual([]);

    const handedOn: string[] = [];
    const started = Date.now();
    const answer = await inbound.answer('click', sleep(200).then(() => 'slow'), () => 'late', async (v) => void handedOn.push(v));
    expect(answer).toBe('late');
    expect(Date.now() - started).toBeLessThan(190);
    expect(handedOn).toEqual([]);
    await inbound.idle();
    expect(handedOn).toEqual(['slow']);
    expect(warnings).toHaveLength(1);

    await expect(inbound.answer('click', Promise.reject(new Error('handler failed')), () => 'late')).rejects.toThrow('handler failed');
  });

  it('Inbound.answer with a deadline of 0 (WeCom): the late answer at once, all of the work after, no warning', async () => {
    const warnings: string[] = [];
    const log = { warn: (_o: object, m: string) => void warnings.push(m), error: () => undefined } as unknown as Logger;
    const inbound = new Inbound({ name: 'test', maxBodyBytes: 10, answerWithinMs: 0 }, log);
    const handedOn: string[] = [];
    expect(await inbound.answer('callback', sleep(50).then(() => 'done'), () => 'ack', async (v) => void handedOn.push(v))).toBe('ack');
    expect(handedOn).toEqual([]);
    await inbound.idle();
    expect(handedOn).toEqual(['done']);
    expect(warnings).toEqual([]);
  });
});

describe('each platform route: one body limit from its profile, one 413, one refusal shape', () => {
  const servers: { url: string; close: () => Promise<void> }[] = [];
  const routes: Record<'feishu' | 'wecom' | 'dingtalk', string> = { feishu: '', wecom: '', dingtalk: '' };
  const sinks: SlowSink[] = [];
  let wecomClose: () => Promise<void>;

  beforeAll(async () => {
    const feishuSink = new SlowSink();
    const feishu = await serveRoutes(feishuPlatform({ env: feishuEnv('http://127.0.0.1:9'), sink: feishuSink, clock: systemClock, log: silentLog }));
    servers.push(feishu);
    routes.feishu = `${feishu.url}/webhooks/feishu`;

    const wecom = await startHarness();
    wecomClose = () => wecom.close();
    routes.wecom = wecom.callbackUrl;

    const dingtalkSink = new SlowSink();
    const env = loadEnv({
      LOG_LEVEL: 'silent',
      DINGTALK_MODE: 'webhook',
      DINGTALK_CLIENT_ID: FAKE_APP.clientId,
      DINGTALK_CLIENT_SECRET: FAKE_APP.clientSecret,
      DINGTALK_ROBOT_CODE: FAKE_APP.robotCode,
      DINGTALK_API_BASE: 'http://127.0.0.1:9',
      DINGTALK_CALLBACK_TOKEN: 'tierbot-callback-token',
      DINGTALK_CALLBACK_AES_KEY: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7',
    });
    const mod = createDingtalkPlatform({ env, sink: dingtalkSink, clock: systemClock, log: createLogger('silent'), docs: new MemoryDocStore() });
    const server: Server = new Koa().use(mod.routes!.routes()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    servers.push({ url: base, close: async () => void (await mod.stop?.(), await new Promise((r) => server.close(r))) });
    routes.dingtalk = `${base}/webhooks/dingtalk`;
    sinks.push(feishuSink, dingtalkSink);
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await wecomClose?.();
  });

  const limits = { feishu: feishuInbound.maxBodyBytes, wecom: wecomInbound.maxBodyBytes, dingtalk: dingtalkInbound.maxBodyBytes };

  it.each(['feishu', 'wecom', 'dingtalk'] as const)('%s: one byte over its profile limit is 413 too_large in the one shape; at the limit the body is read and verified', async (name) => {
    const post = (body: string) => fetch(`${routes[name]}?timestamp=1&nonce=x&msg_signature=0&signature=0`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const over = await post('x'.repeat(limits[name] + 1));
    expect(over.status).toBe(413);
    expectRefusalShape(await over.json(), 'too_large');
    const at = await post('x'.repeat(limits[name]));
    expect([400, 401]).toContain(at.status); // read, then refused by verification
    expectRefusalShape(await at.json());
    for (const s of sinks) expect(s.actions.length + s.messages.length).toBe(0);
  });

  it('the limits are the profiles\' data: WeCom callbacks are small, Feishu and DingTalk carry up to 1 MiB', () => {
    expect(limits).toEqual({ feishu: 1 << 20, wecom: 64 * 1024, dingtalk: 1 << 20 });
  });

  it('a verification failure has the same shape on every platform', async () => {
    const feishu = await deliverWebhook(routes.feishu, cardActionEnvelope({ appId: APP_ID, verificationToken: VERIFICATION_TOKEN, openId: 'ou_x', value: { k: 'tier.ack', r: 'r' } }), { encryptKey: ENCRYPT_KEY, badSignature: true });
    expect(feishu.status).toBe(401);
    expectRefusalShape(feishu.body, 'bad_signature');
    const wecom = await fetch(`${routes.wecom}?msg_signature=${'0'.repeat(40)}&timestamp=${Math.floor(Date.now() / 1000)}&nonce=1`, { method: 'POST', body: '<xml><Encrypt><![CDATA[abcd]]></Encrypt></xml>' });
    expect(wecom.status).toBe(401);
    expectRefusalShape(await wecom.json(), 'bad_signature');
    const dingtalk = await fetch(`${routes.dingtalk}?signature=${'0'.repeat(40)}&timestamp=${Date.now()}&nonce=1`, { method: 'POST', body: JSON.stringify({ encrypt: 'abcd' }) });
    expect(dingtalk.status).toBe(401);
    expectRefusalShape(await dingtalk.json(), 'bad_signature');
  });
});

describe('a slow handler: answered at the platform\'s deadline, finished in the background, awaited on shutdown', () => {
  it('Feishu: a click is answered {} at the deadline; the handler finishes afterwards; idle() waits for it', async () => {
    const sink = new SlowSink(1200);
    const inbound = new FeishuInbound(sink, silentLog, { answerWithinMs: 200 });
    const env = feishuEnv('http://127.0.0.1:9');
    const server = await serveRoutes({ platform: 'feishu', messenger: undefined as never, routes: feishuWebhookRouter({ env, clock: systemClock, log: silentLog, inbound }) });
    try {
      const res = await deliverWebhook(`${server.url}/webhooks/feishu`, cardActionEnvelope({ appId: APP_ID, verificationToken: VERIFICATION_TOKEN, openId: 'ou_x', value: { k: 'tier.ack', r: 'r' } }), { encryptKey: ENCRYPT_KEY });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({});
      expect(res.elapsedMs).toBeGreaterThanOrEqual(190);
      expect(res.elapsedMs).toBeLessThan(1000);
      expect(sink.finished).toBe(0);
      await inbound.idle();
      expect(sink.finished).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('Feishu\'s deadline is its profile\'s: 2.5 s of its 3 s, DingTalk 1.5 s of its 2 s, WeCom answers at once', () => {
    expect([feishuInbound.answerWithinMs, dingtalkInbound.answerWithinMs, wecomInbound.answerWithinMs]).toEqual([2500, 1500, 0]);
  });

  it('DingTalk: a card click is a plain ACK at the deadline; the late reply is handed on when the handler finishes', async () => {
    const sink = new SlowSink(1000, { toast: { kind: 'success', text: 'ok' } });
    const updates: unknown[] = [];
    const messenger = { templateId: 'tpl', update: async (...args: unknown[]) => void updates.push(args), render: () => ({ type: 'robot' }) } as unknown as DingtalkMessenger;
    const inbound = new DingtalkInbound({ sink, messenger, client: {} as DingtalkClient, clock: systemClock, log: silentLog, replyBudgetMs: 150 });
    sink.reply = { card: { kind: 'notice', locale: 'en', title: 't', summary: 't', tone: 'info', blocks: [], actions: [], url: 'http://x' } };
    const started = Date.now();
    const answer = await inbound.cardCallback(JSON.stringify(cardCallbackData({ outTrackId: 'tb-1', userId: 'u1', params: { k: 'tier.ack', r: 'r1' } })));
    expect(answer).toBeNull();
    expect(Date.now() - started).toBeLessThan(800);
    expect(sink.finished).toBe(0);
    await inbound.idle();
    expect(sink.finished).toBe(1);
    expect(updates).toHaveLength(1); // the late card, as an update in place
  });

  it('WeCom: the callback is answered at once; stop() resolves only after the handler has finished', async () => {
    const h = await startHarness();
    try {
      let finished = false;
      h.sink.reply = async () => {
        await sleep(1000);
        finished = true;
        return {};
      };
      const res = await h.fake.postCallback(h.callbackUrl, h.fake.eventXml({ user: 'LiSi', taskId: 't1', key: 'tier.ack|ref1', cardType: 'button_interaction' }));
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(800);
      await sleep(20);
      expect(finished).toBe(false);
      await h.wecom.stop!();
      expect(finished).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('Feishu: stop() waits for a message still being handled after its {} acknowledgement', async () => {
    const sink = new SlowSink(1000);
    const mod = feishuPlatform({ env: feishuEnv('http://127.0.0.1:9'), sink, clock: systemClock, log: silentLog });
    const server = await serveRoutes(mod);
    try {
      const res = await deliverWebhook(`${server.url}/webhooks/feishu`, messageEnvelope({ appId: APP_ID, verificationToken: VERIFICATION_TOKEN, openId: 'ou_x', text: 'help' }), { encryptKey: ENCRYPT_KEY });
      expect(res.body).toEqual({});
      expect(sink.messages).toHaveLength(1);
      expect(sink.finished).toBe(0);
      await mod.stop!();
      expect(sink.finished).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('the composed app', () => {
  let app: TestApp | undefined;
  afterAll(async () => {
    await app?.close();
  });

  it('the console\'s act-as routes refuse an oversized body with the same 413 shape; close() waits for a command still running after its webhook was answered', async () => {
    app = await startApp(new MemoryStore(), { env: { FEISHU_APP_ID: APP_ID, FEISHU_APP_SECRET: 's', FEISHU_VERIFICATION_TOKEN: VERIFICATION_TOKEN, FEISHU_DOMAIN: 'http://127.0.0.1:9' } });
    const running = app;
    const big = await running.api('/api/v1/console/command', { method: 'POST', body: JSON.stringify({ as: 'u-1', text: 'x'.repeat((1 << 20) + 1) }), headers: { 'content-type': 'application/json' } });
    expect(big.status).toBe(413);
    expectRefusalShape(big.body, 'too_large');

    await running.api('/api/v1/org', { method: 'PUT', json: { users: [{ id: 'u-1', name: 'Rep', role: 'rep', feishu: { openId: 'ou_rep1' } }], teams: [] } });
    let finished = false;
    running.bot.chat.bot.command(['slow'], async () => {
      await sleep(1000);
      finished = true;
    });
    const res = await deliverWebhook(`${running.url}/webhooks/feishu`, messageEnvelope({ appId: APP_ID, verificationToken: VERIFICATION_TOKEN, openId: 'ou_rep1', text: 'slow' }));
    expect(res).toMatchObject({ status: 200, body: {} });
    expect(finished).toBe(false);
    app = undefined;
    await running.close();
    expect(finished).toBe(true);
  });
});
