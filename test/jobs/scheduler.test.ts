// Schedules: each slot runs exactly once across instances sharing one store; missed slots catch up.
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryDocStore } from '../../src/adapters/memory/doc-store.ts';
import { MongoDocStore } from '../../src/adapters/mongo/doc-store.ts';
import { JOB_SLOTS, Scheduler, type JobSlot } from '../../src/jobs/scheduler.ts';
import type { DocStore } from '../../src/ports/doc-store.ts';
import { hasMongo, mongoTestDb } from '../setup/mongo.ts';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const clock = { now: () => Date.now() };

describe.skipIf(!hasMongo)('scheduler on a MongoDB-wire store', () => {
  const clients: MongoClient[] = [];
  afterAll(async () => {
    await clients[0]?.db(dbName).dropDatabase();
    await Promise.all(clients.map((c) => c.close()));
  });
  let dbName = '';

  it('runs every slot of a per-second cron exactly once across two instances for 10 s', { timeout: 30_000 }, async () => {
    const t = mongoTestDb('sched')!;
    dbName = t.dbName;
    const instances: { scheduler: Scheduler; runs: string[] }[] = [];
    for (const name of ['a', 'b']) {
      const client = new MongoClient(t.uri);
      await client.connect();
      clients.push(client);
      const docs = new MongoDocStore(client.db(t.dbName));
      const runs: string[] = [];
      const scheduler = new Scheduler({ docs, clock, timezone: 'Asia/Shanghai', instance: name, log: quiet }).add({
        name: 'tick',
        cron: '* * * * * *',
        run: async (slot) => {
          runs.push(slot.toISOString());
          await new Promise((r) => setTimeout(r, 50));
        },
      });
      instances.push({ scheduler, runs });
    }
    await Promise.all(instances.map((i) => i.scheduler.start()));
    await new Promise((r) => setTimeout(r, 10_000));
    await Promise.all(instances.map((i) => i.scheduler.stop()));

    const all = [...instances[0].runs, ...instances[1].runs].sort();
    expect(all.length).toBeGreaterThanOrEqual(8);
    expect(new Set(all).size).toBe(all.length); // no slot ran twice
    const ledger = await new MongoDocStore(clients[0].db(t.dbName)).find<JobSlot>(JOB_SLOTS, { job: 'tick' });
    expect(ledger.map((s) => s.slot).sort()).toEqual(all);
    expect(ledger.every((s) => s.status === 'done')).toBe(true);
    // consecutive seconds: nothing skipped between the first and the last slot
    const first = Date.parse(all[0]);
    const last = Date.parse(all[all.length - 1]);
    expect(all.length).toBe((last - first) / 1000 + 1);
  });
});

describe('scheduler catch-up and ledger', () => {
  function scheduler(docs: DocStore, now: () => number, runs: string[]) {
    return new Scheduler({ docs, clock: { now }, timezone: 'Asia/Shanghai', instance: 'x', log: quiet }).add({
      name: 'nightly',
      cron: '0 2 * * *',
      run: async (slot) => void runs.push(slot.toISOString()),
    });
  }

  it('runs a slot missed while everything was down once at the next start, in the policy time zone', async () => {
    const docs = new MemoryDocStore();
    const runs: string[] = [];
    // the job ran at 02:00 Shanghai on the 20th (18:00Z on the 19th)...
    await docs.insert(JOB_SLOTS, { _id: 'nightly:2026-11-19T18:00:00.000Z', job: 'nightly', slot: '2026-11-19T18:00:00.000Z', status: 'done' });
    // ...and everything was down over the next two nights; it starts again on the 22nd at 10:00 Shanghai
    const s = scheduler(docs, () => Date.parse('2026-11-22T02:00:00Z'), runs);
    await s.start();
    await s.stop();
    expect(runs).toEqual(['2026-11-21T18:00:00.000Z']); // only the latest missed slot, once
    const again = scheduler(docs, () => Date.parse('2026-11-22T02:30:00Z'), runs);
    await again.start();
    await again.stop();
    expect(runs).toHaveLength(1);
    expect((await again.ledger('nightly')).map((l) => [l.slot, l.catchUp ?? false])).toEqual([
      ['2026-11-21T18:00:00.000Z', true],
      ['2026-11-19T18:00:00.000Z', false],
    ]);
  });

  it('does not invent a catch-up on a store where the job never ran', async () => {
    const runs: string[] = [];
    const s = scheduler(new MemoryDocStore(), () => Date.parse('2026-11-22T02:00:00Z'), runs);
    await s.start();
    await s.stop();
    expect(runs).toEqual([]);
  });

  it('records a failing run as failed with its error, and the slot is not run again', async () => {
    const docs = new MemoryDocStore();
    const s = new Scheduler({ docs, clock, timezone: 'Asia/Shanghai', instance: 'x', log: quiet });
    const def = { name: 'boom', cron: '0 3 * * *', run: async () => { throw new Error('disk full'); } };
    const when = new Date('2026-11-21T19:00:00Z');
    expect(await s.fire(def, when, false)).toBe(true);
    expect(await s.fire(def, when, false)).toBe(false);
    expect((await s.ledger('boom'))[0]).toMatchObject({ status: 'failed', error: 'disk full' });
  });
});
