// Crash tests: a real tierbot process on FerretDB, killed with SIGKILL at random moments while it ingests
// orders (loaded through the API by a client that retries), recomputes, and delivers cards to the Feishu
// fake; then restarted. Everything is compared with a clean run of the same data that nobody killed:
// every customer's rollup and state, and the cards delivered. Nothing may be lost, counted or sent twice,
// and no stale run may be resumed. The seed of the random kill points is printed; TIERBOT_CRASH_SEED=<n>
// replays one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { MongoStore } from '../../src/adapters/mongo/mongo-store.ts';
import { demoData, prng } from '../../src/app/demo.ts';
import { loadConfigFiles } from '../../src/config/files.ts';
import { feishuUuid } from '../../src/platforms/feishu/messenger.ts';
import type { Org, Store } from '../../src/ports/store.ts';
import { FakeFeishu } from '../fakes/feishu.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { hasMongo, mongoTestDb } from '../setup/mongo.ts';
import { configDir, freePort, ServerProcess } from './server.ts';

const SEED = Number(process.env.TIERBOT_CRASH_SEED ?? Date.now() % 1_000_000_007);
const rand = prng(SEED);
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

const TOKEN = 'crash-test-admin-token-0123456789';
const APP_ID = 'cli_crash0a1b2c3d4e5f';
const APP_SECRET = 'crash-app-secret-for-tests';
const ENCRYPT_KEY = 'crash-encrypt-key-for-tests';
const VERIFICATION_TOKEN = 'crash-verification-token';
const NOW = Date.parse('2026-06-30T10:00:00+08:00');
const AS_OF = ['2026-06-30T02:00:00+08:00', '2026-08-29T02:00:00+08:00'];
const CUSTOMERS = 240;
const ORDER_CHUNK = 1000;
const BATCH = 30;

const openId = (userId: string) => `ou_${userId.replace(/[^a-z0-9]/g, '').padEnd(30, '0')}`;

const describeCrash = describe.skipIf(!hasMongo);

describeCrash(`SIGKILL during ingest, recompute and delivery (FerretDB, seed ${SEED})`, () => {
  let fake: FakeFeishu;
  let referenceFake: FakeFeishu;
  let server: ServerProcess;
  let reference: TestApp;
  let client: MongoClient;
  let db: Db;
  let reader: MongoStore;
  let org: Org;
  let data: ReturnType<typeof demoData>;
  const policy: { value: unknown } = { value: null };

  const feishuEnv = (url: string) => ({
    FEISHU_APP_ID: APP_ID,
    FEISHU_APP_SECRET: APP_SECRET,
    FEISHU_ENCRYPT_KEY: ENCRYPT_KEY,
    FEISHU_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
    FEISHU_DOMAIN: url,
    PLATFORM_TIMEOUT_MS: '2000',
  });

  async function call(base: string, path: string, init: { method?: string; json?: unknown; ndjson?: unknown[] } = {}) {
    const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
    let body: string | undefined;
    if (init.ndjson) {
      headers['content-type'] = 'application/x-ndjson';
      body = init.ndjson.map((r) => JSON.stringify(r)).join('\n');
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const res = await fetch(`${base}${path}`, { method: init.method ?? 'GET', headers, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
  const api = (path: string, init?: Parameters<typeof call>[2]) => call(server.url, path, init);

  async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 90_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${server.output.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    const target = mongoTestDb('crash')!;
    fake = await new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET }).start();
    referenceFake = await new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET }).start();
    const files = await loadConfigFiles(new URL('../../config', import.meta.url).pathname);
    org = {
      users: files.demoOrg!.users.map((u) => ({ ...u, feishu: { openId: openId(u.id) } })),
      teams: files.demoOrg!.teams,
    };
    data = demoData(org, NOW, CUSTOMERS, 11);
    // downgrades need two runs agreeing, so a run counted twice would show
    policy.value = { ...files.policy, stability: { downgradeAfterRuns: 2 } };

    server = new ServerProcess(await freePort(), {
      MONGODB_URI: target.uri,
      MONGODB_DB: target.dbName,
      ADMIN_TOKEN: TOKEN,
      METRICS_TOKEN: 'crash-metrics-token-0123456789',
      TIERBOT_CONFIG_DIR: configDir(BATCH),
      ...feishuEnv(fake.url),
    });
    client = new MongoClient(target.uri);
    await client.connect();
    db = client.db(target.dbName);
    reader = new MongoStore(target.uri, target.dbName);

    // the clean run: the same data through the same API, nobody kills it
    reference = await startApp(new MemoryStore(), { env: feishuEnv(referenceFake.url) });
    await reference.api('/api/v1/org', { method: 'PUT', json: org });
    await reference.api('/api/v1/policy', { method: 'PUT', json: policy.value });
    await reference.api('/api/v1/customers', { method: 'PUT', json: data.customers });
    const loaded = await reference.api('/api/v1/orders', { method: 'POST', json: data.orders });
    expect(loaded.body.rejected).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await server?.kill();
    await reference?.close();
    await reader?.close();
    await client?.close();
    await fake?.close();
    await referenceFake?.close();
  });

  async function rollups(store: Store) {
    const out: Record<string, unknown> = {};
    for await (const batch of store.streamCustomers(500)) for (const c of batch) out[c.id] = { t: Array.from(c.rollup.t), a: Array.from(c.rollup.a), g: Array.from(c.rollup.g) };
    return out;
  }

  async function states(store: Store) {
    const out: Record<string, unknown> = {};
    for await (const batch of store.streamCustomers(500)) {
      for (const c of batch) {
        const s = c.state;
        out[c.id] = s && {
          tier: s.tier, since: s.since, previous: s.previous, downgradeStreak: s.downgradeStreak, lifecycle: s.lifecycle, metrics: s.metrics,
          risk: { level: s.risk.level, rules: s.risk.reasons.map((r) => r.rule) }, alerted: s.alerted ? { level: s.alerted.level, rules: s.alerted.rules } : null,
        };
      }
    }
    return out;
  }

  /** outbox keys with the run ids taken out (runs are named differently in the two deployments) */
  const keyOf = (id: string) => id.replace(/run-[0-9A-Za-z]+-[0-9a-f]{8}/g, 'RUN');

  async function compareDeliveries() {
    const items = await db.collection<{ _id: string; status: string; op: string }>('outbox').find({}).toArray();
    expect(items.filter((i) => i.status !== 'sent').map((i) => `${i._id}: ${i.status}`)).toEqual([]);
    const ref = await reference.bot.chat.outbox.list(undefined, 100_000);
    expect(items.map((i) => keyOf(i._id)).sort()).toEqual(ref.map((i) => keyOf(i._id)).sort());
    // at the platform: exactly one message per outbox item, none extra (the uuid is derived from the key)
    const sends = items.filter((i) => i.op === 'send');
    expect(fake.messages.map((m) => m.uuid).sort()).toEqual(sends.map((i) => feishuUuid(i._id)).sort());
    expect(fake.invalid).toEqual([]);
  }

  it('ingest: orders sent by a client that retries after each kill end up in the rollups exactly once', { timeout: 240_000 }, async () => {
    await server.start();
    await reader.init(); // (also a second start-up on the database the server just set up)
    expect((await api('/api/v1/org', { method: 'PUT', json: org })).status).toBe(200);
    expect((await api('/api/v1/policy', { method: 'PUT', json: policy.value })).status).toBe(200);
    expect((await api('/api/v1/customers', { method: 'PUT', json: data.customers })).body.rejected).toEqual([]);

    const chunks: unknown[][] = [];
    for (let i = 0; i < data.orders.length; i += ORDER_CHUNK) chunks.push(data.orders.slice(i, i + ORDER_CHUNK));
    const killAt = new Set<number>();
    while (killAt.size < Math.min(3, chunks.length)) killAt.add(between(0, chunks.length - 1));
    let lastMs = 2000;
    let duplicatesOnRetry = 0;
    for (let i = 0; i < chunks.length; i++) {
      const t0 = Date.now();
      if (killAt.has(i)) {
        const delay = between(0, lastMs);
        const killer = new Promise<void>((r) => setTimeout(() => void server.kill().then(r), delay));
        const first = await api('/api/v1/orders', { method: 'POST', ndjson: chunks[i] }).catch(() => null);
        await killer;
        await server.start();
        // the client did not get an answer (or got it just before the kill): it sends the batch again
        const again = await api('/api/v1/orders', { method: 'POST', ndjson: chunks[i] });
        expect(again.status).toBe(200);
        if (!first) duplicatesOnRetry += again.body.duplicates;
      } else {
        const res = await api('/api/v1/orders', { method: 'POST', ndjson: chunks[i] });
        expect(res.status).toBe(200);
        expect(res.body.rejected).toEqual([]);
        lastMs = Date.now() - t0;
      }
    }
    expect(server.kills).toBe(killAt.size);
    console.log(`[crash seed ${SEED}] ingest: ${data.orders.length} orders in ${chunks.length} requests, ${server.kills} kills, ${duplicatesOnRetry} orders already stored when retried`);
    await waitFor('the ingest journals of the killed instances to be repaired', async () => (await db.collection('ingestJournal').countDocuments({})) === 0);
    expect(await rollups(reader)).toEqual(await rollups(reference.bot.store));
    expect(await db.collection('orders').countDocuments({})).toBe(data.orders.length);
  });

  async function killDuringRun(runId: string, count: number) {
    const threshold = between(1, count - 1);
    await waitFor(`run ${runId} to pass ${threshold} customers`, async () => {
      const run = await db.collection<{ counts: { evaluated: number }; status: string }>('runs').findOne({ _id: runId as never });
      return run && (run.counts.evaluated >= threshold || run.status !== 'running');
    });
    const before = await db.collection<{ counts: { evaluated: number }; status: string }>('runs').findOne({ _id: runId as never });
    await server.kill();
    return { threshold, evaluatedAtKill: before!.counts.evaluated, statusAtKill: before!.status };
  }

  async function killDuringDelivery() {
    const total = await db.collection('outbox').countDocuments({});
    const threshold = between(0, Math.max(0, total - 1));
    await waitFor(`${threshold} cards to be delivered`, async () => (await db.collection('outbox').countDocuments({ status: 'sent' })) >= threshold);
    const sent = await db.collection('outbox').countDocuments({ status: 'sent' });
    await server.kill();
    return { total, sentAtKill: sent };
  }

  for (const [n, asOf] of AS_OF.entries()) {
    it(`recompute ${n + 1}: killed midway and during delivery, resumed at once on restart; states and cards equal the clean run`, { timeout: 240_000 }, async () => {
      if (!server.running) await server.start();
      const started = await api('/api/v1/tiering/recompute?wait=false', { method: 'POST', json: { asOf } });
      expect(started.status).toBe(202);
      const runId: string = started.body.runId;

      const during = await killDuringRun(runId, CUSTOMERS);
      const restartedAt = Date.now();
      await server.start();
      const done = await waitFor(`run ${runId} to finish after the restart`, async () => {
        const r = await api(`/api/v1/tiering/runs/${runId}`);
        return r.body?.status === 'done' ? r.body : null;
      });
      const resumeMs = Date.now() - restartedAt;
      const delivery = await killDuringDelivery();
      await server.start();
      await waitFor('the outbox to drain', async () => (await db.collection('outbox').countDocuments({ status: { $ne: 'sent' } })) === 0);

      const clean = await reference.api('/api/v1/tiering/recompute', { method: 'POST', json: { asOf } });
      expect(clean.status).toBe(200);
      console.log(`[crash seed ${SEED}] recompute ${n + 1}: killed at ${during.evaluatedAtKill}/${CUSTOMERS} evaluated (${during.statusAtKill}), done ${resumeMs} ms after the restart; delivery killed at ${delivery.sentAtKill}/${delivery.total} sent; ${fake.calls.filter((c) => c.kind === 'create').length} create calls for ${fake.messages.length} messages`);

      const { runId: _a, durationMs: _b, ...counts } = clean.body;
      expect(done.counts).toEqual(counts);
      expect(await states(reader)).toEqual(await states(reference.bot.store));
      await compareDeliveries();
      // one run per recompute asked for, each finished; nothing abandoned, nothing resumed twice
      const runs = await db.collection<{ _id: string; status: string }>('runs').find({}).toArray();
      expect(runs.map((r) => r.status)).toEqual(Array(n + 1).fill('done'));
    });
  }

  it('a plain restart on the same database changes nothing', { timeout: 120_000 }, async () => {
    const before = await states(reader);
    const outbox = await db.collection('outbox').countDocuments({});
    await server.stop();
    await server.start();
    await server.stop();
    await server.start();
    expect((await api('/api/v1/customers?limit=1')).status).toBe(200);
    expect(await states(reader)).toEqual(before);
    expect(await db.collection('outbox').countDocuments({})).toBe(outbox);
  });
});
