// Who finishes what a dead instance left: instance leases, recompute runs taken over (at once, once,
// never after a newer run finished), stability counted over finished runs only, scheduled slots
// recovered, and start-up that is idempotent on an existing database.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryDocStore } from '../../src/adapters/memory/doc-store.ts';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { MongoStore } from '../../src/adapters/mongo/mongo-store.ts';
import { Instances, INSTANCES } from '../../src/app/instances.ts';
import { PolicyService } from '../../src/app/policy-service.ts';
import { RecomputeBusyError, Recomputer, RecomputeStopped } from '../../src/app/recompute.ts';
import { loadConfigFiles } from '../../src/config/files.ts';
import { loadEnv } from '../../src/config/env.ts';
import { JOB_SLOTS, Scheduler, type JobSlot } from '../../src/jobs/scheduler.ts';
import { createLogger } from '../../src/logger.ts';
import type { Liveness } from '../../src/ports/liveness.ts';
import type { Store } from '../../src/ports/store.ts';
import { createTierbot } from '../../src/service.ts';
import { hasMongo, mongoTestDb } from '../setup/mongo.ts';
import { TEST_TOKEN, seededDemoStore, type StoreKind } from '../helpers/app.ts';

const NOW = Date.parse('2026-06-30T02:00:00+08:00');
const DAY = 86_400_000;
const clock = { now: () => NOW };
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const CONFIG = resolve(import.meta.dirname, '../../config');

/** A liveness where `self` is alive and so is everyone in `alive`; everyone else is dead. */
const lease = (self: string, alive: string[] = []): Liveness => ({ self, isDead: async (o) => o !== self && !alive.includes(o ?? '') });

const seeded = (kind: StoreKind, count: number) => seededDemoStore(kind, 'recovery', count, 3, clock);

async function snapshot(store: Store) {
  const out: Record<string, unknown> = {};
  for await (const batch of store.streamCustomers(500)) {
    for (const c of batch) out[c.id] = c.state && { tier: c.state.tier, streak: c.state.downgradeStreak, since: c.state.since, metrics: c.state.metrics, risk: c.state.risk.level };
  }
  return out;
}

/** A run of instance `owner` that dies (stops) once `batches` batches are written. */
async function dyingRun(s: { store: Store; policies: PolicyService }, owner: string, asOf: number, batches: number, batchSize: number) {
  let written = 0;
  const r: Recomputer = new Recomputer({
    ...s, clock, batchSize, liveness: lease(owner),
    observers: [() => void (++written === batches && r.stopAfterBatch())],
  });
  const started = r.start(asOf);
  await expect(started.done).rejects.toBeInstanceOf(RecomputeStopped);
  return (await s.store.getRun(started.runId))!;
}

for (const kind of ['memory', 'mongo'] as StoreKind[]) {
  describe.skipIf(kind === 'mongo' && !hasMongo)(`recompute runs of dead instances (${kind} store)`, () => {
    const count = kind === 'memory' ? 400 : 120;
    const batchSize = kind === 'memory' ? 50 : 20;

    it('a live owner keeps its run; once it is dead the run is resumed once, by one instance, with the clean result', { timeout: 120_000 }, async () => {
      const clean = await seeded(kind, count);
      const straight = await new Recomputer({ ...clean, clock, batchSize }).start(NOW).done;

      const s = await seeded(kind, count);
      const orphan = await dyingRun(s, 'a', NOW, 3, batchSize);
      expect(orphan).toMatchObject({ status: 'running', owner: 'a', counts: { evaluated: 3 * batchSize } });

      // while `a` is alive nobody takes its run, and nobody starts another one over it
      const b = new Recomputer({ ...s, clock, batchSize, liveness: lease('b', ['a']) });
      expect(await b.recoverOrphans()).toBeNull();
      const refused = b.start(NOW);
      await expect(refused.created).rejects.toBeInstanceOf(RecomputeBusyError);
      await expect(refused.done).rejects.toBeInstanceOf(RecomputeBusyError);

      // `a` died: two instances race for its run, exactly one resumes it
      const c = new Recomputer({ ...s, clock, batchSize, liveness: lease('c', ['d']) });
      const d = new Recomputer({ ...s, clock, batchSize, liveness: lease('d', ['c']) });
      const [rc, rd] = await Promise.all([c.recoverOrphans(), d.recoverOrphans()]);
      const resumed = [rc, rd].filter((x) => x !== null);
      expect(resumed.map((x) => x!.runId)).toEqual([orphan.id]);
      const finished = await resumed[0]!.done;
      expect(finished).toMatchObject({ id: orphan.id, status: 'done', counts: straight.counts });
      expect((await s.store.getRun(orphan.id))!.owner).toBe(rc ? 'c' : 'd');
      expect(await snapshot(s.store)).toEqual(await snapshot(clean.store));
      expect(await c.recoverOrphans()).toBeNull();
      await clean.store.close();
      await s.store.close();
    });

    it('a dead run is never resumed after a newer one finished: it is abandoned and changes nothing', { timeout: 120_000 }, async () => {
      const s = await seeded(kind, count);
      const r = new Recomputer({ ...s, clock, batchSize, liveness: lease('b') });
      await r.start(NOW).done;
      const newer = await r.start(NOW + 40 * DAY).done;
      const before = await snapshot(s.store);
      // a run that died long ago, found only now (as after a restart of an old deployment)
      await s.store.createRun({ ...newer, id: 'run-stale', status: 'running', owner: 'ghost', asOf: new Date(NOW).toISOString(), startedAt: new Date(NOW - DAY).toISOString(), finishedAt: null, checkpoint: null, durationMs: null });
      expect(await r.recoverOrphans()).toBeNull();
      expect(await s.store.getRun('run-stale')).toMatchObject({ status: 'abandoned' });
      expect(await snapshot(s.store)).toEqual(before);
      await s.store.close();
    });

    it('stability counts finished runs only: a run that died and was superseded adds nothing to a downgrade streak', { timeout: 120_000 }, async () => {
      const later = NOW + 200 * DAY; // many customers rank lower by then: downgrades are pending
      const clean = await seeded(kind, count);
      const cr = new Recomputer({ ...clean, clock, batchSize });
      await cr.start(NOW).done;
      const cleanLater = await cr.start(later).done;

      const s = await seeded(kind, count);
      await new Recomputer({ ...s, clock, batchSize, liveness: lease('a') }).start(NOW).done;
      const dead = await dyingRun(s, 'a', later, 4, batchSize); // dies with 4 batches of streaks written
      const next = await new Recomputer({ ...s, clock, batchSize, liveness: lease('b') }).start(later).done;
      // the clean run leaves downgrades pending (streak 1 of 2): counting the dead run would complete them
      expect(Object.values(await snapshot(clean.store)).filter((c) => (c as { streak: number } | null)?.streak === 1).length).toBeGreaterThan(0);
      // every tier change is announced once: by the dead run for its batches, by the next one for the rest
      expect(dead.counts.upgrades + next.counts.upgrades).toBe(cleanLater.counts.upgrades);
      expect(dead.counts.upgrades).toBeGreaterThan(0);
      expect(next.counts.evaluated).toBe(cleanLater.counts.evaluated);
      expect(await snapshot(s.store)).toEqual(await snapshot(clean.store));
      const runs = await s.store.listRuns(10);
      expect(runs.map((r) => r.status).sort()).toEqual(['abandoned', 'done', 'done']);
      await clean.store.close();
      await s.store.close();
    });
  });
}

describe('scheduled slots of dead instances', () => {
  function scheduler(docs: MemoryDocStore, self: string, alive: string[], ran: string[], now = NOW) {
    return new Scheduler({ docs, clock: { now: () => now }, timezone: 'Asia/Shanghai', liveness: lease(self, alive), log: quiet }).add({
      name: 'recompute',
      cron: '0 2 * * *',
      run: async (slot) => void ran.push(slot.toISOString()),
    });
  }
  const slot = (instance: string, at: string): JobSlot => ({
    _id: `recompute:${at}`, job: 'recompute', slot: at, instance, status: 'running', startedAt: at, finishedAt: null, error: null, catchUp: false,
  });

  it('runs a dead instance\'s slot again exactly once, leaves a live one alone, and fails one too old to run', async () => {
    const docs = new MemoryDocStore();
    await docs.insert(JOB_SLOTS, slot('dead', '2026-06-29T18:00:00.000Z'));
    await docs.insert(JOB_SLOTS, slot('alive', '2026-06-28T18:00:00.000Z'));
    await docs.insert(JOB_SLOTS, slot('dead', '2026-06-20T18:00:00.000Z'));
    const ran: string[] = [];
    const [x, y] = [scheduler(docs, 'x', ['alive', 'y'], ran), scheduler(docs, 'y', ['alive', 'x'], ran)];
    const recovered = await Promise.all([x.recoverSlots(), y.recoverSlots()]);
    expect(recovered[0] + recovered[1]).toBe(2);
    expect(ran).toEqual(['2026-06-29T18:00:00.000Z']);
    const ledger = await x.ledger('recompute');
    expect(ledger.map((s) => [s.slot, s.status, s.recoveredFrom ?? null])).toEqual([
      ['2026-06-29T18:00:00.000Z', 'done', 'dead'],
      ['2026-06-28T18:00:00.000Z', 'running', null],
      ['2026-06-20T18:00:00.000Z', 'failed', 'dead'],
    ]);
    expect(await x.recoverSlots()).toBe(0);
  });
});

describe('instance leases', () => {
  const base = { clock: { now: () => NOW }, host: 'h1', heartbeatMs: 60_000, ttlMs: 30_000 };

  it('tells a dead owner at once on the same host, and by its heartbeat elsewhere', async () => {
    const docs = new MemoryDocStore();
    const me = new Instances({ ...base, docs, id: 'me', pid: 100, processStart: 1, pidAlive: (pid) => pid === 100 || pid === 200 });
    await me.start();
    const put = (id: string, host: string, pid: number, processStart: number, heartbeatMs: number) =>
      docs.put(INSTANCES, { _id: id, host, pid, processStart, startedAt: '', heartbeatMs });
    await put('sibling', 'h1', 100, 1, NOW); // another instance in this very process
    await put('previous', 'h1', 100, 0, NOW); // this pid in an earlier process (restarted container)
    await put('gone', 'h1', 300, 1, NOW); // its process no longer exists
    await put('neighbour', 'h1', 200, 1, NOW);
    await put('remote', 'h2', 300, 1, NOW - 10_000);
    await put('silent', 'h2', 300, 1, NOW - 31_000);
    const dead = async (id: string | null) => me.isDead(id);
    expect(await dead('me')).toBe(false);
    expect(await dead('sibling')).toBe(false);
    expect(await dead('previous')).toBe(true);
    expect(await dead('gone')).toBe(true);
    expect(await dead('neighbour')).toBe(false);
    expect(await dead('remote')).toBe(false);
    expect(await dead('silent')).toBe(true);
    expect(await dead('never-seen')).toBe(true);
    expect(await dead(null)).toBe(true);
    // a clean stop releases the lease: its work can be taken over at once
    const other = new Instances({ ...base, docs, id: 'other', host: 'h2', pid: 1 });
    await other.start();
    expect(await dead('other')).toBe(false);
    await other.stop();
    expect(await dead('other')).toBe(true);
    await me.stop();
  });
});

for (const kind of ['memory', 'mongo'] as StoreKind[]) {
  describe.skipIf(kind === 'mongo' && !hasMongo)(`start-up on an existing database (${kind} store)`, () => {
    it('starts, stops and starts again on the same data, three times, keeping everything', { timeout: 60_000 }, async () => {
      const t = kind === 'mongo' ? mongoTestDb('restart')! : null;
      const memory = new MemoryStore();
      const open = () => (t ? new MongoStore(t.uri, t.dbName) : memory);
      const env = loadEnv({ PORT: '0', ADMIN_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent' });
      const files = await loadConfigFiles(CONFIG);
      const log = createLogger('silent');
      for (let i = 0; i < 3; i++) {
        const store = open();
        const bot = await createTierbot({ env, files, store, log, clock });
        if (i === 0) {
          await store.putOrg(files.demoOrg!);
          await bot.recomputer.start(NOW).done;
        }
        await bot.scheduler.start(); // declares its indexes too
        expect((await store.getOrg())?.users.length).toBe(files.demoOrg!.users.length);
        expect((await store.listRuns(5)).map((r) => r.status)).toEqual(['done']);
        expect(await store.getPolicy()).toMatchObject({ version: 1 });
        if (kind === 'memory') await bot.scheduler.stop();
        else await bot.close();
      }
    });
  });
}
