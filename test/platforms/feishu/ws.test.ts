// The long connection: the real SDK WSClient against the fake's /callback/ws/endpoint and WebSocket, with
// pbbp2 protobuf frames both ways.
import { afterEach, describe, expect, it } from 'vitest';
import { feishuPlatform } from '../../../src/platforms/feishu/index.ts';
import { FeishuInbound } from '../../../src/platforms/feishu/receiver.ts';
import { FeishuLongConnection } from '../../../src/platforms/feishu/ws.ts';
import { cardActionEnvelope, FakeFeishu, messageEnvelope, WS_ENDPOINT_PATH } from '../../fakes/feishu.ts';
import { APP_ID, APP_SECRET, feishuEnv, RecordingSink, silentLog } from './helpers.ts';

const OPEN_ID = 'ou_3c55e1f8c9aa3b1f2c5b9e3e1a7b2c4d';
const wsEnv = (domain: string, over: Record<string, string> = {}) =>
  feishuEnv(domain, { FEISHU_MODE: 'ws', FEISHU_ENCRYPT_KEY: '', FEISHU_VERIFICATION_TOKEN: '', ...over });

describe('Feishu long connection', () => {
  let fake: FakeFeishu;
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await fake?.close();
  });

  it('connects, then card clicks and chat commands round-trip over protobuf frames', async () => {
    fake = await new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET }).start();
    const sink = new RecordingSink();
    const module = feishuPlatform({ env: wsEnv(fake.url), sink, clock: { now: () => Date.now() }, log: silentLog });
    stops.push(() => module.stop!());
    await module.start!();

    expect(fake.calls.filter((c) => c.path === WS_ENDPOINT_PATH)).toHaveLength(1);
    expect(fake.wsConnections[0]).toMatchObject({ deviceId: 'dev-1', serviceId: '77' });

    const click = await fake.pushEvent(cardActionEnvelope({ appId: APP_ID, eventId: 'ws-evt-1', openId: OPEN_ID, value: { k: 'followup.claim', r: 'ref-7' }, messageId: 'om_ws' }));
    expect(click.code).toBe(200);
    expect(click.data).toEqual({ toast: { type: 'success', content: '已认领 / Claimed' } });
    expect(click.elapsedMs).toBeLessThan(3000);
    expect(sink.actions).toEqual([
      {
        type: 'action',
        platform: 'feishu',
        eventId: 'ws-evt-1',
        actor: { platform: 'feishu', platformUserId: OPEN_ID },
        action: 'followup.claim',
        ref: 'ref-7',
        values: {},
        message: { platform: 'feishu', messageId: 'om_ws' },
      },
    ]);

    // split into fragments, as Feishu does for large payloads
    const msg = await fake.pushEvent(messageEnvelope({ appId: APP_ID, eventId: 'ws-evt-2', openId: OPEN_ID, text: '@_user_1 atrisk', chatType: 'group', chatId: 'oc_team' }), { fragments: 3 });
    expect(msg.code).toBe(200);
    expect(msg.data).toEqual({}); // an ACK with data, never without (the SDK's ws-client/index.ts sets data only for a truthy result)
    await sink.until(() => sink.messages.length === 1);
    expect(sink.messages[0]).toMatchObject({ eventId: 'ws-evt-2', text: 'atrisk', chat: { id: 'oc_team', kind: 'group' } });

    // a button that is not ours still gets an object back
    const foreign = await fake.pushEvent(cardActionEnvelope({ appId: APP_ID, openId: OPEN_ID, value: { action: 'x' } }));
    expect(foreign).toMatchObject({ code: 200, data: { toast: { type: 'warning' } } });
  });

  it('sets the ping watchdog: a server that stops answering pings is dropped and the client reconnects', async () => {
    fake = await new FakeFeishu({
      appId: APP_ID,
      appSecret: APP_SECRET,
      // the watchdog is re-armed by every ping, so it must be shorter than the ping interval (10 s vs Feishu's 120 s)
      wsClientConfig: { PingInterval: 0.4, ReconnectCount: -1, ReconnectInterval: 0.1, ReconnectNonce: 0 },
    }).start();
    const sink = new RecordingSink();
    const connection = new FeishuLongConnection({ env: wsEnv(fake.url), log: silentLog, inbound: new FeishuInbound(sink, silentLog), pingTimeoutS: 0.3 });
    stops.push(() => connection.stop());
    await connection.start();
    await new Promise((r) => setTimeout(r, 900));
    expect(fake.wsConnections[0].pings).toBeGreaterThan(0);
    expect(fake.wsConnections).toHaveLength(1); // pongs answered: stays up

    fake.answerPings = false;
    const deadline = Date.now() + 3000;
    while (fake.wsConnections.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fake.wsConnections.length).toBeGreaterThanOrEqual(2);
    fake.answerPings = true;

    while (connection.connectionState() !== 'connected' && Date.now() < deadline + 2000) await new Promise((r) => setTimeout(r, 50));
    const click = await fake.pushEvent(cardActionEnvelope({ appId: APP_ID, openId: OPEN_ID, value: { k: 'tier.ack', r: 'r' } }));
    expect(click.code).toBe(200);
    expect(sink.actions).toHaveLength(1);
  });

  it('start() fails loudly when Feishu refuses the credentials', async () => {
    fake = await new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET }).start();
    const module = feishuPlatform({ env: wsEnv(fake.url, { FEISHU_APP_SECRET: 'wrong' }), sink: new RecordingSink(), clock: { now: () => Date.now() }, log: silentLog });
    stops.push(() => module.stop!());
    await expect(module.start!()).rejects.toThrow(/514|auth/);
    expect(fake.wsConnections).toHaveLength(0);
  });
});
