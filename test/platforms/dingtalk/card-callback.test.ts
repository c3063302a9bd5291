// HTTP card callbacks (https://open.dingtalk.com/document/development/event-callback-card, "HTTP 模式"): the
// signature, its timestamp window, the derived route, and the registration at start against the fake.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import {
  CARD_CALLBACK_WINDOW_MS,
  CardCallbackRegistrar,
  cardCallbackRoute,
  cardCallbackSignature,
  registerCardCallbackRoute,
  verifyCardCallbackRequest,
} from '../../../src/platforms/dingtalk/card-callback.ts';
import { DingtalkClient } from '../../../src/platforms/dingtalk/client.ts';
import { createDingtalkProfile } from '../../../src/platforms/dingtalk/profile.ts';
import { FAKE_APP, FakeDingtalk } from '../../fakes/dingtalk.ts';

const NOW = 1_800_000_000_000;
const SECRET = 'mySecret';
const headers = (timestamp: string, signature = cardCallbackSignature(SECRET, timestamp)) => ({
  'x-ddpaas-signature-timestamp': timestamp,
  'x-ddpaas-signature': signature,
});

describe('card callback signature', () => {
  it('is base64(HMAC-SHA256(key = apiSecret, the timestamp as sent))', () => {
    // computed independently: printf 1595925864847 | openssl dgst -sha256 -hmac mySecret -binary | base64
    expect(cardCallbackSignature('mySecret', '1595925864847')).toBe('xnBENZKoYbPiEX7TzjTy35B2Dv4RlEs6ks4/GYlmGOY=');
  });

  it('accepts a good signature within the window and returns the pair', () => {
    for (const ts of [NOW, NOW - CARD_CALLBACK_WINDOW_MS, NOW + CARD_CALLBACK_WINDOW_MS]) {
      expect(verifyCardCallbackRequest(headers(String(ts)), SECRET, NOW)).toEqual({ timestamp: String(ts), sign: cardCallbackSignature(SECRET, String(ts)), timestampMs: ts });
    }
    expect(CARD_CALLBACK_WINDOW_MS).toBe(5 * 60_000);
  });

  it('refuses a missing (401), wrong (401), malformed (400) or stale (403) one', () => {
    const err = (h: Record<string, string>) => {
      try {
        verifyCardCallbackRequest(h, SECRET, NOW);
      } catch (e) {
        return e as { reason: string; status: number };
      }
      throw new Error('accepted');
    };
    expect(err({})).toMatchObject({ reason: 'missing_signature', status: 401 });
    expect(err({ 'x-ddpaas-signature-timestamp': String(NOW) })).toMatchObject({ status: 401 });
    expect(err(headers(String(NOW), cardCallbackSignature('other', String(NOW))))).toMatchObject({ reason: 'bad_signature', status: 401 });
    // the signature of another timestamp does not carry this one
    expect(err(headers(String(NOW), cardCallbackSignature(SECRET, String(NOW - 1))))).toMatchObject({ reason: 'bad_signature' });
    expect(err(headers('17e11'))).toMatchObject({ reason: 'malformed_request', status: 400 });
    expect(err(headers(String(NOW - CARD_CALLBACK_WINDOW_MS - 1)))).toMatchObject({ reason: 'stale_timestamp', status: 403 });
    expect(err(headers(String(NOW + CARD_CALLBACK_WINDOW_MS + 1)))).toMatchObject({ reason: 'stale_timestamp', status: 403 });
  });
});

describe('card callback route (derived, nothing to configure)', () => {
  const url = 'https://tierbot.example.com/webhooks/dingtalk';
  it('is stable, one per app and URL, with a secret that is not the Client Secret', () => {
    const a = cardCallbackRoute({ clientId: FAKE_APP.clientId, clientSecret: FAKE_APP.clientSecret, callbackUrl: url });
    expect(cardCallbackRoute({ clientId: FAKE_APP.clientId, clientSecret: FAKE_APP.clientSecret, callbackUrl: url })).toEqual(a);
    expect(a.routeKey).toMatch(/^tierbot-[0-9a-f]{24}$/);
    expect(a.apiSecret).toHaveLength(32);
    expect(a.apiSecret).not.toBe(FAKE_APP.clientSecret);
    const staging = cardCallbackRoute({ clientId: FAKE_APP.clientId, clientSecret: FAKE_APP.clientSecret, callbackUrl: 'https://staging.example.com/webhooks/dingtalk' });
    expect(staging.routeKey).not.toBe(a.routeKey);
    const otherApp = cardCallbackRoute({ clientId: 'dingother', clientSecret: FAKE_APP.clientSecret, callbackUrl: url });
    expect(otherApp.routeKey).not.toBe(a.routeKey);
    const rotated = cardCallbackRoute({ clientId: FAKE_APP.clientId, clientSecret: 'a-new-client-secret', callbackUrl: url });
    expect(rotated.routeKey).toBe(a.routeKey);
    expect(rotated.apiSecret).not.toBe(a.apiSecret);
  });
});

describe('card callback registration against the fake', () => {
  let fake: FakeDingtalk;
  const log = createLogger('silent');
  const url = 'https://tierbot.example.com/webhooks/dingtalk';
  const client = (clientSecret: string = FAKE_APP.clientSecret) =>
    new DingtalkClient({ apiBase: fake.url, ...FAKE_APP, clientSecret, timeoutMs: 1000, profile: createDingtalkProfile({ qpsRetryMs: 10 }) });

  beforeEach(async () => {
    fake = await new FakeDingtalk().start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('registers once; a second start finds its route on file and changes nothing', async () => {
    const route = cardCallbackRoute({ clientId: FAKE_APP.clientId, clientSecret: FAKE_APP.clientSecret, callbackUrl: url });
    expect(await registerCardCallbackRoute(client(), route)).toBe('registered');
    expect(await registerCardCallbackRoute(client(), route)).toBe('registered');
    expect(fake.registrations.map((r) => r.body)).toEqual([
      { callbackRouteKey: route.routeKey, callbackUrl: url, apiSecret: route.apiSecret, forceUpdate: false },
      { callbackRouteKey: route.routeKey, callbackUrl: url, apiSecret: route.apiSecret, forceUpdate: false },
    ]);
    expect([...fake.routes.values()]).toEqual([{ callbackRouteKey: route.routeKey, callbackUrl: url, apiSecret: route.apiSecret }]);
    expect(fake.problems).toEqual([]);
  });

  it('a new Client Secret (so a new apiSecret) overwrites the old registration with forceUpdate', async () => {
    const old = cardCallbackRoute({ clientId: FAKE_APP.clientId, clientSecret: 'the-old-secret', callbackUrl: url });
    await registerCardCallbackRoute(client(), old);
    const now = cardCallbackRoute({ clientId: FAKE_APP.clientId, clientSecret: FAKE_APP.clientSecret, callbackUrl: url });
    expect(await registerCardCallbackRoute(client(), now)).toBe('updated');
    expect(fake.registrations.map((r) => r.body.forceUpdate)).toEqual([false, false, true]);
    expect(fake.routes.get(now.routeKey)?.apiSecret).toBe(now.apiSecret);
  });

  it('at start: a refused registration stops the start; network trouble does not, and it is retried until it succeeds', async () => {
    const route = cardCallbackRoute({ clientId: FAKE_APP.clientId, clientSecret: FAKE_APP.clientSecret, callbackUrl: url });
    fake.failNext('forbidden');
    const refused = new CardCallbackRegistrar({ client: client(), route, log });
    await expect(refused.start()).rejects.toThrow(/card callback registration refused/);
    expect(fake.routes.size).toBe(0);

    fake.failNext('5xx', '5xx');
    const registrar = new CardCallbackRegistrar({ client: client(), route, log, backoffBaseMs: 20, backoffMaxMs: 40 });
    await registrar.start();
    expect(registrar.outcome).toBeNull();
    await fake.waitFor(() => registrar.outcome, 3000, 'the retried registration');
    expect(fake.routes.get(route.routeKey)?.callbackUrl).toBe(url);
    await registrar.stop();
  });

  it('stop() ends the retries', async () => {
    const route = cardCallbackRoute({ clientId: FAKE_APP.clientId, clientSecret: FAKE_APP.clientSecret, callbackUrl: url });
    fake.failNext('5xx', '5xx', '5xx', '5xx', '5xx', '5xx');
    const registrar = new CardCallbackRegistrar({ client: client(), route, log, backoffBaseMs: 30, backoffMaxMs: 30 });
    await registrar.start();
    await registrar.stop();
    const calls = fake.registrations.length + fake.arrivals.filter((a) => a.api === 'cardRegister' && a.status === 503).length;
    await new Promise((r) => setTimeout(r, 150));
    expect(fake.registrations.length + fake.arrivals.filter((a) => a.api === 'cardRegister' && a.status === 503).length).toBe(calls);
  });
});
