// The Feishu messenger: the real SDK against the fake open platform.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeishuMessenger, feishuUuid } from '../../../src/platforms/feishu/messenger.ts';
import { classifyFeishu, FEISHU_RATE_LIMITS, feishuDomain } from '../../../src/platforms/feishu/profile.ts';
import { feishuPlatform } from '../../../src/platforms/feishu/index.ts';
import { render } from '../../../src/platforms/feishu/render.ts';
import { DeliveryFailure } from '../../../src/platforms/shared/outbound.ts';
import { PlatformConfigError } from '../../../src/platforms/shared/errors.ts';
import { samples } from '../../cards/fixtures.ts';
import { FakeFeishu, MESSAGES_PATH, TOKEN_PATH } from '../../fakes/feishu.ts';
import { APP_ID, APP_SECRET, feishuEnv, RecordingSink, silentLog, testCard } from './helpers.ts';

const USER = { platform: 'feishu' as const, kind: 'user' as const, id: 'ou_3c55e1f8c9aa3b1f2c5b9e3e1a7b2c4d' };
const CHAT = { platform: 'feishu' as const, kind: 'chat' as const, id: 'oc_a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6' };

async function failure(p: Promise<unknown>): Promise<DeliveryFailure> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DeliveryFailure);
  return e as DeliveryFailure;
}

describe('Feishu profile', () => {
  it('classifies answers by the documented codes (message create, frequency control, generic error codes)', () => {
    expect(classifyFeishu({ status: 200, body: { code: 0 } }).kind).toBe('ok');
    for (const code of [99991663, 99991661, 99991664, 99991665]) {
      expect(classifyFeishu({ status: 400, body: { code } }).kind).toBe('refresh_token');
    }
    expect(classifyFeishu({ status: 429, body: { code: 99991400 }, headers: { 'x-ogw-ratelimit-reset': '3' } })).toMatchObject({ kind: 'retry', afterMs: 3000 });
    expect(classifyFeishu({ status: 400, body: { code: 99991400 } })).toMatchObject({ kind: 'retry', afterMs: 1000 });
    expect(classifyFeishu({ status: 400, body: { code: 230020 } }).kind).toBe('retry');
    expect(classifyFeishu({ status: 502, body: '<html>bad gateway</html>' }).kind).toBe('retry');
    for (const code of [230001, 230002, 230013, 230025, 230027]) expect(classifyFeishu({ status: 400, body: { code } }).kind).toBe('give_up');
    expect(classifyFeishu({ status: 200, body: { code: 230002 } }).kind).toBe('give_up');
    expect(classifyFeishu({ error: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) }).kind).toBe('retry');
    expect(classifyFeishu({ error: Object.assign(new Error('timeout of 500ms exceeded'), { code: 'ECONNABORTED', isAxiosError: true }) }).kind).toBe('retry');
    // an AxiosError as the SDK throws it for a non-2xx answer
    const axiosLike = Object.assign(new Error('Request failed with status code 429'), {
      isAxiosError: true,
      response: { status: 429, data: { code: 99991400 }, headers: { 'X-Ogw-Ratelimit-Reset': '2' } },
    });
    expect(classifyFeishu({ error: axiosLike })).toMatchObject({ kind: 'retry', afterMs: 2000 });
    expect(classifyFeishu({ error: new TypeError('bug') }).kind).toBe('give_up');
  });

  it('limits: 50/s and 1000/min per app, 5/s per recipient (with a small margin)', () => {
    expect(FEISHU_RATE_LIMITS.map((l) => [l.scope, l.max, Math.round(l.windowMs / 1000)])).toEqual([
      ['app', 50, 1],
      ['app', 1000, 60],
      ['recipient', 5, 1],
    ]);
  });

  it('the domain loses its trailing slash; the uuid is short and stable', () => {
    expect(feishuDomain('http://127.0.0.1:9/')).toBe('http://127.0.0.1:9');
    expect(feishuDomain(undefined)).toBe(0); // lark.Domain.Feishu
    expect(feishuUuid('churn_alert|feishu:user:ou_1|c-1|2026-06-30')).toHaveLength(32);
    expect(feishuUuid('a')).toBe(feishuUuid('a'));
    expect(feishuUuid('a')).not.toBe(feishuUuid('b'));
  });
});

describe('FeishuMessenger against the fake', () => {
  let fake: FakeFeishu;
  let messenger: FeishuMessenger;

  beforeEach(async () => {
    fake = await new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET }).start();
    messenger = new FeishuMessenger({ env: feishuEnv(fake.url + '/'), log: silentLog });
  });
  afterEach(() => fake.close());

  it('sends a card to a user (open_id) and to a team chat (chat_id), then updates one in place', async () => {
    const toUser = await messenger.send(USER, testCard('Churn risk: ACME'), 'churn_alert|feishu:user:ou_3c|c-1|2026-06-30');
    const toChat = await messenger.send(CHAT, testCard('Daily digest'), 'daily_digest|feishu:chat:oc_a1|t-east|2026-06-30');
    expect(toUser.platform).toBe('feishu');
    expect(toUser.messageId).toMatch(/^om_/);
    expect(fake.invalid).toEqual([]);

    const [m1, m2] = fake.messages;
    expect(m1).toMatchObject({ receiveIdType: 'open_id', receiveId: USER.id, messageId: toUser.messageId, uuid: feishuUuid('churn_alert|feishu:user:ou_3c|c-1|2026-06-30') });
    expect(m2).toMatchObject({ receiveIdType: 'chat_id', receiveId: CHAT.id, messageId: toChat.messageId });
    expect(m1.card).toEqual(JSON.parse(JSON.stringify(render(testCard('Churn risk: ACME')))));
    expect(m1.card.body.elements.some((e: any) => JSON.stringify(e).includes('"k":"followup.claim"'))).toBe(true);

    await messenger.update(toUser, { ...testCard('Churn risk: ACME'), closed: { text: 'Claimed' } });
    expect(fake.invalid).toEqual([]);
    expect(m1.updates).toHaveLength(1);
    expect(m1.updates[0].schema).toBe('2.0');

    // one token for all three calls, sent as a Bearer token; the domain's trailing slash did not leak into URLs
    const api = fake.calls.filter((c) => c.kind !== 'token');
    expect(fake.calls.filter((c) => c.kind === 'token')).toHaveLength(1);
    expect(api.map((c) => `${c.method} ${c.path}`)).toEqual([`POST ${MESSAGES_PATH}`, `POST ${MESSAGES_PATH}`, `PATCH ${MESSAGES_PATH}/${toUser.messageId}`]);
    expect(new Set(api.map((c) => c.authorization))).toEqual(new Set([`Bearer ${fake.tokensIssued[0]}`]));
    expect(fake.calls[0].path).toBe(TOKEN_PATH);
  });

  it('every card kind renders to Card JSON 2.0 the fake accepts', async () => {
    // one recipient each: five cards a second to one person is Feishu's limit, and our limiter keeps it
    await Promise.all(samples('zh-CN').map((s, i) => messenger.send({ ...USER, id: `ou_sample${i}` }, s.card, `sample-${i}`)));
    expect(fake.invalid).toEqual([]);
    expect(fake.messages).toHaveLength(samples('zh-CN').length);
  });

  it('a retried send carries the same uuid, so Feishu keeps one message', async () => {
    fake.inject({ kind: 'hang', process: true }, 'create');
    const first = await failure(messenger.send(USER, testCard('once'), 'key-1'));
    expect(first.retryable).toBe(true); // timed out after PLATFORM_TIMEOUT_MS
    const again = await messenger.send(USER, testCard('once'), 'key-1');
    expect(fake.messages).toHaveLength(1);
    expect(again.messageId).toBe(fake.messages[0].messageId);
  });

  it('refreshes the token once on 99991663 and carries on', async () => {
    await messenger.send(USER, testCard('a'), 'k-a');
    fake.inject({ kind: 'token_expired' }, 'create');
    await messenger.send(USER, testCard('b'), 'k-b');
    expect(fake.tokensIssued).toHaveLength(2);
    const creates = fake.calls.filter((c) => c.kind === 'create');
    expect(creates.map((c) => c.code)).toEqual([0, 99991663, 0]);
    expect(creates[2].authorization).toBe(`Bearer ${fake.tokensIssued[1]}`);
  });

  it('turns failures into DeliveryFailure: retry with the reset time, or give up', async () => {
    fake.inject({ kind: 'rate_limit', resetS: 2 }, 'create');
    const limited = await failure(messenger.send(USER, testCard('a'), 'k1'));
    expect(limited).toMatchObject({ retryable: true, retryAfterMs: 2000 });

    fake.inject({ kind: 'im_rate_limit' }, 'create');
    expect((await failure(messenger.send(USER, testCard('a'), 'k1'))).retryable).toBe(true);

    fake.inject({ kind: 'http_5xx', status: 503 }, 'create');
    expect((await failure(messenger.send(USER, testCard('a'), 'k1'))).retryable).toBe(true);

    fake.inject({ kind: 'code', status: 400, code: 230002, msg: 'Bot/User can NOT be out of the chat.' }, 'create');
    const outOfChat = await failure(messenger.send(CHAT, testCard('a'), 'k2'));
    expect(outOfChat.retryable).toBe(false);
    expect(outOfChat.message).toContain('230002');

    expect((await failure(messenger.send({ ...USER, kind: 'robot' }, testCard('a'), 'k3'))).retryable).toBe(false);
    expect(fake.messages).toHaveLength(0);
  });

  it('logs what failed, never the app secret or a token (the SDK logs whole AxiosErrors otherwise)', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
    const wrong = new FeishuMessenger({ env: feishuEnv(fake.url, { FEISHU_APP_SECRET: 'super-secret-value' }), log });
    await failure(wrong.send(USER, testCard('a'), 'k'));
    const right = new FeishuMessenger({ env: feishuEnv(fake.url), log });
    fake.inject({ kind: 'code', status: 400, code: 230002 }, 'create');
    await failure(right.send(CHAT, testCard('a'), 'k'));
    const text = lines.join('');
    expect(text).toContain('10014');
    expect(text).toContain('230002');
    for (const secret of ['super-secret-value', APP_SECRET, 'Bearer', ...fake.tokensIssued]) expect(text).not.toContain(secret);
  });

  it('a wrong app secret fails without sending; an unreachable platform is retryable', async () => {
    const wrong = new FeishuMessenger({ env: feishuEnv(fake.url, { FEISHU_APP_SECRET: 'nope' }), log: silentLog });
    const e = await failure(wrong.send(USER, testCard('a'), 'k'));
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('10014');
    expect(e.message).not.toContain('nope');

    const down = new FeishuMessenger({ env: feishuEnv('http://127.0.0.1:9'), log: silentLog });
    expect((await failure(down.send(USER, testCard('a'), 'k'))).retryable).toBe(true);
  });
});

describe('feishuPlatform factory', () => {
  const deps = { sink: new RecordingSink(), clock: { now: () => Date.now() }, log: silentLog };

  it('webhook mode: a messenger and POST /webhooks/feishu, no long connection', () => {
    const module = feishuPlatform({ ...deps, env: feishuEnv('http://127.0.0.1:9') });
    expect(module.platform).toBe('feishu');
    expect(module.messenger.platform).toBe('feishu');
    expect(module.routes?.stack.map((l) => [l.methods, l.path])).toEqual([[['POST'], '/webhooks/feishu']]);
    expect(module.start).toBeUndefined();
  });

  it('ws mode without webhook secrets: a long connection and no routes', () => {
    const env = feishuEnv('http://127.0.0.1:9', { FEISHU_MODE: 'ws', FEISHU_ENCRYPT_KEY: '', FEISHU_VERIFICATION_TOKEN: '' });
    const module = feishuPlatform({ ...deps, env });
    expect(module.routes).toBeUndefined();
    expect(typeof module.start).toBe('function');
  });

  it('refuses a half configuration, naming what is missing', () => {
    const env = { ...feishuEnv('http://127.0.0.1:9'), FEISHU_APP_SECRET: undefined };
    expect(() => feishuPlatform({ ...deps, env })).toThrow(PlatformConfigError);
    expect(() => feishuPlatform({ ...deps, env })).toThrow(/FEISHU_APP_SECRET/);
    const wsEnv = feishuEnv('http://127.0.0.1:9', { FEISHU_MODE: 'ws', FEISHU_APP_ID: 'cli_short' });
    expect(() => feishuPlatform({ ...deps, env: wsEnv })).toThrow(/FEISHU_APP_ID/);
  });
});
