// Who may read /metrics: anyone in embedded mode; with MONGODB_URI only this host unless METRICS_TOKEN is set.
// The app listens on every interface and is called both over loopback and over this machine's own
// non-loopback address, so the socket peer really differs.
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { metricsAccess } from '../../src/http/metrics.ts';
import { startApp, type TestApp } from '../helpers/app.ts';

const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

const MONGO_ENV = { MONGODB_URI: 'mongodb://db.invalid:27017' };
const METRICS_TOKEN = 'metrics-token-0123456789';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(env: Record<string, string>) {
  app = await startApp(new MemoryStore(), { env: { HOST: '0.0.0.0', ...env } });
  const port = new URL(app.url).port;
  return {
    local: (headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port}/metrics`, { headers }),
    remote: (headers: Record<string, string> = {}) => fetch(`http://${external}:${port}/metrics`, { headers }),
    remoteHealth: () => fetch(`http://${external}:${port}/healthz`),
  };
}

describe.skipIf(!external)('/metrics access', () => {
  it('is open in embedded mode (no MONGODB_URI, no METRICS_TOKEN)', async () => {
    const metrics = await start({});
    expect((await metrics.local()).status).toBe(200);
    expect((await metrics.remote()).status).toBe(200);
  });

  it('with MONGODB_URI and no METRICS_TOKEN answers only clients on this host, by socket address', async () => {
    const metrics = await start(MONGO_ENV);
    const local = await metrics.local();
    expect(local.status).toBe(200);
    expect(await local.text()).toContain('tierbot_http_request_duration_seconds');

    const remote = await metrics.remote();
    expect(remote.status).toBe(403);
    expect((await remote.json()).error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('METRICS_TOKEN') });
    // the app trusts proxy headers for ctx.ip: a remote client claiming to be local must not get in
    expect((await metrics.remote({ 'x-forwarded-for': '127.0.0.1' })).status).toBe(403);
    expect((await metrics.remote({ forwarded: 'for=127.0.0.1' })).status).toBe(403);
    // a proxy on this host forwarding an outside client is not "this host"
    expect((await metrics.local({ 'x-forwarded-for': '203.0.113.9' })).status).toBe(403);
    expect((await metrics.remoteHealth()).status).toBe(200);
  });

  it('with METRICS_TOKEN needs the token, from anywhere', async () => {
    const metrics = await start({ ...MONGO_ENV, METRICS_TOKEN });
    const without = await metrics.local();
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toBe('Bearer');
    expect((await metrics.remote({ authorization: `Bearer ${METRICS_TOKEN}x` })).status).toBe(401);
    const remote = await metrics.remote({ authorization: `Bearer ${METRICS_TOKEN}` });
    expect(remote.status).toBe(200);
    expect(await remote.text()).toContain('tierbot_orders_ingested_total');
  });

  it('with METRICS_TOKEN in embedded mode needs the token too', async () => {
    const metrics = await start({ METRICS_TOKEN });
    expect((await metrics.local()).status).toBe(401);
    expect((await metrics.local({ authorization: `Bearer ${METRICS_TOKEN}` })).status).toBe(200);
  });
});

describe('/metrics access by peer address (no second interface needed)', () => {
  const guard = metricsAccess({ MONGODB_URI: MONGO_ENV.MONGODB_URI, METRICS_TOKEN: undefined });
  const from = (remoteAddress: string, headers: Record<string, string> = {}) => {
    let served = false;
    const ctx = { req: { socket: { remoteAddress } }, get: (name: string) => headers[name] ?? '' };
    return Promise.resolve(guard(ctx as never, async () => void (served = true))).then(
      () => served,
      (err: { status?: number }) => err.status,
    );
  };

  it('serves loopback peers in IPv4, IPv6 and IPv4-mapped form, and refuses the rest', async () => {
    for (const local of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(await from(local)).toBe(true);
    for (const remote of ['10.0.0.7', '192.168.1.2', '::ffff:10.0.0.7', 'fd00::2', '1127.0.0.1', '']) expect(await from(remote)).toBe(403);
    expect(await from('127.0.0.1', { 'x-forwarded-for': '198.51.100.4' })).toBe(403);
  });
});
