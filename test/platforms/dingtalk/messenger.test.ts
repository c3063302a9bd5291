// DingTalk messenger against the fake OpenAPI: card shapes for users and group chats, updates in place,
// template-free robot messages, token handling and the profile's verdicts.
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Card } from '../../../cards/model.ts';
import { DingtalkClient } from '../../../src/platforms/dingtalk/client.ts';
import { DingtalkMessenger, outTrackIdFor } from '../../../src/platforms/dingtalk/messenger.ts';
import { createDingtalkProfile } from '../../../src/platforms/dingtalk/profile.ts';
import { DeliveryFailure } from '../../../src/platforms/shared/outbound.ts';
import type { Recipient } from '../../../src/ports/messenger.ts';
import { FAKE_APP, FakeDingtalk } from '../../fakes/dingtalk.ts';
import { digestCard, requestCard } from './sample-cards.ts';

/** A loopback URL nothing listens on (connection refused). */
async function closedPortUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const user: Recipient = { platform: 'dingtalk', kind: 'user', id: 'manager4220' };
const chat: Recipient = { platform: 'dingtalk', kind: 'chat', id: 'cidTEAM0001==' };

let fake: FakeDingtalk;
let client: DingtalkClient;

function makeMessenger(templateId?: string, timeoutMs = 2000) {
  client = new DingtalkClient({ apiBase: fake.url, ...FAKE_APP, timeoutMs });
  return new DingtalkMessenger(client, { templateId });
}

beforeEach(async () => {
  fake = await new FakeDingtalk().start();
});
afterEach(async () => {
  await fake.close();
});

describe('DingTalk messenger with a card template (interactive cards)', () => {
  it('delivers a card to a user (IM_ROBOT) and to a group chat (IM_GROUP) with outTrackIds from the idempotency keys', async () => {
    const messenger = makeMessenger(FAKE_APP.templateId);
    const a = await messenger.send(user, requestCard(), 'approval_request|dingtalk:user:manager4220|c-001|r1');
    const b = await messenger.send(chat, digestCard(), 'daily_digest|dingtalk:chat:cidTEAM0001==|team-1|2026-03-02');

    expect(fake.problems).toEqual([]);
    expect(fake.delivered.map((c) => [c.space, c.target])).toEqual([
      ['IM_ROBOT', 'manager4220'],
      ['IM_GROUP', 'cidTEAM0001=='],
    ]);
    expect(a).toEqual({ platform: 'dingtalk', messageId: a.meta!.outTrackId, meta: { outTrackId: outTrackIdFor('approval_request|dingtalk:user:manager4220|c-001|r1') } });
    expect(b.meta!.outTrackId).toHaveLength(50);
    const card = fake.cards.get(a.messageId)!;
    expect(card.cardParamMap).toMatchObject({ kind: 'approval_request', status: 'open', title: expect.any(String) });
    // approve, then one reject button per preset reason
    expect(JSON.parse(card.cardParamMap.actions).map((x: { k: string; v?: string }) => [x.k, x.v])).toEqual([
      ['score.approve', undefined],
      ['score.reject', 'too_high'],
      ['score.reject', 'too_low'],
      ['score.reject', 'no_evidence'],
    ]);
    expect(card.callbackType).toBe('STREAM');
    expect(fake.tokenCalls).toBe(1);
  });

  it('puts the chat-list preview under the language key of the card\'s locale (ZH_CN, EN_US)', async () => {
    const messenger = makeMessenger(FAKE_APP.templateId);
    await messenger.send(user, requestCard(), 'zh');
    await messenger.send(chat, { ...digestCard(), locale: 'en', summary: '3 customers at risk' }, 'en');
    expect(fake.problems).toEqual([]);
    expect(fake.delivered.map((c) => c.preview)).toEqual([{ ZH_CN: requestCard().summary }, { EN_US: '3 customers at risk' }]);
  });

  it('with HTTP card callbacks: cards carry callbackType HTTP and the registered route key; an unregistered key is refused', async () => {
    client = new DingtalkClient({ apiBase: fake.url, ...FAKE_APP, timeoutMs: 2000, cardCallback: { type: 'HTTP', routeKey: 'tierbot-route-1' } });
    const messenger = new DingtalkMessenger(client, { templateId: FAKE_APP.templateId });
    const refused = await messenger.send(user, requestCard(), 'before').catch((e) => e);
    expect(refused).toMatchObject({ name: 'DeliveryFailure', retryable: false });
    expect(fake.problems).toEqual(['cardCreate: callbackRouteKey tierbot-route-1 is not registered']);
    fake.problems.length = 0;

    await client.registerCardCallback({ callbackRouteKey: 'tierbot-route-1', callbackUrl: 'https://tierbot.example.com/webhooks/dingtalk', apiSecret: 's3cret', forceUpdate: false });
    const sent = await messenger.send(user, requestCard(), 'after');
    expect(fake.cards.get(sent.messageId)).toMatchObject({ callbackType: 'HTTP', callbackRouteKey: 'tierbot-route-1' });
    expect(fake.problems).toEqual([]);
  });

  it('a retried create with the same idempotency key is deduped by outTrackId', async () => {
    const messenger = makeMessenger(FAKE_APP.templateId);
    await messenger.send(user, requestCard(), 'key-1');
    await messenger.send(user, requestCard(), 'key-1');
    expect(fake.delivered).toHaveLength(1);
    expect(fake.duplicateCreates).toBe(1);
  });

  it('updates a sent card in place (PUT /v1.0/card/instances, by key)', async () => {
    const messenger = makeMessenger(FAKE_APP.templateId);
    const sent = await messenger.send(user, requestCard(), 'key-upd');
    const decided: Card = { ...requestCard(), closed: { text: '已通过' } };
    await messenger.update(sent, decided, user);
    expect(fake.problems).toEqual([]);
    expect(fake.delivered).toHaveLength(1);
    expect(fake.updates).toHaveLength(1);
    expect(fake.updates[0]).toMatchObject({ outTrackId: sent.messageId, options: { updateCardDataByKey: true } });
    expect(fake.cards.get(sent.messageId)!.cardParamMap).toMatchObject({ status: 'closed', statusText: '已通过', actions: '[]' });
  });
});

describe('DingTalk messenger without a template (robot messages)', () => {
  it('sends markdown with command links to a user (batchSend) and an ActionCard to a group', async () => {
    const messenger = makeMessenger();
    const a = await messenger.send(user, requestCard(), 'k1');
    const b = await messenger.send(chat, digestCard(), 'k2');
    expect(fake.problems).toEqual([]);
    expect(fake.robotSends.map((s) => [s.api, s.target, s.msgKey])).toEqual([
      ['otoBatchSend', 'manager4220', 'sampleMarkdown'],
      ['groupSend', 'cidTEAM0001==', 'sampleActionCard'],
    ]);
    expect(fake.robotSends[0].msgParam.text).toContain('dtmd://dingtalkclient/sendMessage?content=');
    expect(fake.robotSends[1].msgParam).toMatchObject({ singleURL: 'https://tierbot.example.com/reports/at-risk' });
    expect(a.meta).toEqual({ processQueryKey: fake.robotSends[0].processQueryKey });
    expect(b.messageId).toBe(fake.robotSends[1].processQueryKey);
  });

  it('an update cannot be made in place: the new content arrives as a new message', async () => {
    const messenger = makeMessenger();
    const sent = await messenger.send(user, requestCard(), 'k1');
    await messenger.update(sent, { ...requestCard(), closed: { text: '已通过' } }, user);
    expect(fake.robotSends).toHaveLength(2);
    expect(fake.robotSends[1].msgParam.text).toContain('已通过');
    expect(fake.updates).toHaveLength(0);
  });

  it('an unknown userId (invalidStaffIdList) is final', async () => {
    const messenger = makeMessenger();
    fake.unknownUsers.add('ghost');
    const err = await messenger.send({ ...user, id: 'ghost' }, requestCard(), 'k').catch((e) => e);
    expect(err).toBeInstanceOf(DeliveryFailure);
    expect(err.retryable).toBe(false);
  });

  it('a custom-robot recipient is refused without a call', async () => {
    const messenger = makeMessenger();
    const err = await messenger.send({ platform: 'dingtalk', kind: 'robot', id: 'x' }, digestCard(), 'k').catch((e) => e);
    expect(err).toMatchObject({ name: 'DeliveryFailure', retryable: false });
    expect(fake.arrivals).toHaveLength(0);
  });
});

describe('DingTalk outbound: tokens and failures', () => {
  it('sends the token in x-acs-dingtalk-access-token, caches it, and refreshes it once on InvalidAuthentication', async () => {
    const messenger = makeMessenger(FAKE_APP.templateId);
    await messenger.send(user, requestCard('r1'), 'a');
    await messenger.send(user, requestCard('r2'), 'b');
    expect(fake.tokenCalls).toBe(1);
    fake.expireTokens();
    await messenger.send(user, requestCard('r3'), 'c');
    expect(fake.tokenCalls).toBe(2);
    expect(fake.arrivals.map((a) => a.status)).toEqual([200, 200, 400, 200]);
    expect(fake.delivered).toHaveLength(3);
  });

  it('QpsLimit and 5xx are retryable (QpsLimit after ~1 s); ApiCountLimitForOrg and 403 permission are final', async () => {
    const messenger = makeMessenger(FAKE_APP.templateId);
    fake.failNext('qps', '5xx', 'count', 'forbidden');
    const results = [];
    for (const key of ['a', 'b', 'c', 'd']) results.push(await messenger.send(user, requestCard(key), key).catch((e: DeliveryFailure) => e));
    expect(results.map((e) => (e as DeliveryFailure).retryable)).toEqual([true, true, false, false]);
    expect((results[0] as DeliveryFailure).retryAfterMs).toBe(1000);
    expect((results[2] as DeliveryFailure).message).toContain('ApiCountLimitForOrg');
    expect(fake.delivered).toHaveLength(0);
  });

  it('a request that never answers times out (PLATFORM_TIMEOUT_MS) and is retryable; the retry is deduped', async () => {
    const messenger = makeMessenger(FAKE_APP.templateId, 200);
    fake.failNext('hang');
    const started = Date.now();
    const err = await messenger.send(user, requestCard(), 'hang-key').catch((e) => e);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(err).toMatchObject({ name: 'DeliveryFailure', retryable: true });
    await messenger.send(user, requestCard(), 'hang-key');
    expect(fake.delivered).toHaveLength(1);
    expect(fake.duplicateCreates).toBe(1);
  });

  it('a refused AppSecret fails every send with a final error naming the token', async () => {
    client = new DingtalkClient({ apiBase: fake.url, ...FAKE_APP, clientSecret: 'wrong', timeoutMs: 1000 });
    const err = await new DingtalkMessenger(client).send(user, requestCard(), 'k').catch((e) => e);
    expect(err).toMatchObject({ name: 'DeliveryFailure', retryable: false });
    expect(err.message).toContain('access token');
  });

  it('network errors are retryable', async () => {
    client = new DingtalkClient({ apiBase: await closedPortUrl(), ...FAKE_APP, timeoutMs: 1000 });
    const err = await new DingtalkMessenger(client).send(user, requestCard(), 'k').catch((e) => e);
    expect(err).toMatchObject({ name: 'DeliveryFailure', retryable: true });
  });
});

describe('DingTalk profile verdicts (API throttling and error codes)', () => {
  const p = createDingtalkProfile();
  const v = (status: number, body: unknown) => p.classify({ status, body }).kind;
  it('classifies the documented codes', () => {
    expect(v(200, { processQueryKey: 'x' })).toBe('ok');
    expect(v(403, { code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi' })).toBe('retry');
    expect(v(403, { code: 'Forbidden.AccessDenied.QpsLimitForApi' })).toBe('retry');
    expect(v(403, { code: 'Forbidden.AccessDenied.ApiCountLimitForOrg' })).toBe('give_up');
    expect(v(400, { code: 'invalidParameter.msgParam.invalid' })).toBe('give_up');
    expect(v(403, { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied' })).toBe('give_up');
    expect(v(400, { code: 'InvalidAuthentication', message: '不合法的access_token' })).toBe('refresh_token');
    expect(v(401, {})).toBe('refresh_token');
    expect(v(500, {})).toBe('retry');
    expect(v(503, { code: 'ServiceUnavailable' })).toBe('retry');
    expect(v(200, { status: 1111, wait: 5 })).toBe('retry');
    expect(v(200, { success: true, result: { deliverResults: [{ success: false, errorMsg: 'no robot' }] } })).toBe('give_up');
    expect(v(200, { processQueryKey: 'x', flowControlledStaffIdList: ['u1'] })).toBe('retry');
    expect(p.classify({ error: Object.assign(new Error('t'), { name: 'TimeoutError' }) }).kind).toBe('retry');
    expect(p.limits).toEqual([{ scope: 'app', max: 20, windowMs: 1200 }]);
  });
});
