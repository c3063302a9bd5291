// A recompute interrupted midway (SIGTERM after a batch, or a crash) is resumed from its checkpoint and
// gives exactly the result of an uninterrupted run; stability counters are not applied twice.
import { afterAll, describe, expect, it } from 'vitest';
import { EvalPool } from '../../src/app/eval-pool.ts';
import { Recomputer, RecomputeStopped } from '../../src/app/recompute.ts';
import type { Store } from '../../src/ports/store.ts';
import { hasMongo } from '../setup/mongo.ts';
import { seededDemoStore, type StoreKind } from '../helpers/app.ts';

const NOW = Date.parse('2026-06-30T02:00:00+08:00');
const clock = { now: () => NOW };

const seeded = (kind: StoreKind, count: number) => seededDemoStore(kind, 'resume', count, 7, clock);

async function snapshot(store: Store) {
  const out: Record<string, unknown> = {};
  for await (const batch of store.streamCustomers(500)) {
    for (const c of batch) {
      const { runId: _r, ...state } = c.state ?? ({ runId: '' } as never);
      out[c.id] = { ...state, explanation: c.state?.explanation };
    }
  }
  return out;
}

// batches looked at on a worker from the first customer (as large populations are), or in the thread
const workers = new EvalPool(1);
afterAll(() => workers.close());

for (const [kind, via] of [['memory', 'thread'], ['memory', 'pool'], ['mongo', 'thread']] as [StoreKind, 'thread' | 'pool'][]) {
  const pool = via === 'pool' ? { pool: workers, poolFrom: 0 } : {};
  describe.skipIf(kind === 'mongo' && !hasMongo)(`recompute resume (${kind} store, batches looked at in the ${via === 'pool' ? 'worker pool' : 'thread'})`, () => {
    const count = kind === 'memory' ? 1200 : 240;
    const batchSize = kind === 'memory' ? 100 : 40;

    it('stopped after a batch and resumed gives the same tiers, counts and history as one uninterrupted run', { timeout: 120_000 }, async () => {
      const a = await seeded(kind, count);
      const b = await seeded(kind, count);
      const asOfs = [NOW, NOW + 40 * 86_400_000, NOW + 200 * 86_400_000];

      const straight = new Recomputer({ store: a.store, policies: a.policies, clock, batchSize, ...pool });
      const straightRuns = [];
      for (const asOf of asOfs) straightRuns.push(await straight.start(asOf).done);

      const interrupted = new Recomputer({ store: b.store, policies: b.policies, clock, batchSize, ...pool });
      const resumedRuns = [];
      for (const asOf of asOfs) {
        // stop the run as soon as its third batch is written, then resume it twice over (the second resume must be a no-op)
        let batches = 0;
        const stopping = new Recomputer({
          store: b.store, policies: b.policies, clock, batchSize, ...pool,
          observers: [() => { if (++batches === 3) void stopping.stopAfterBatch(); }],
        });
        const started = stopping.start(asOf);
        await expect(started.done).rejects.toBeInstanceOf(RecomputeStopped);
        const run = (await b.store.getRun(started.runId))!;
        expect(run.status).toBe('running');
        expect(run.counts.evaluated).toBe(3 * batchSize);
        resumedRuns.push(await interrupted.resume(run));
      }

      for (let i = 0; i < asOfs.length; i++) {
        expect(resumedRuns[i].counts).toEqual(straightRuns[i].counts);
        expect(resumedRuns[i].status).toBe('done');
      }
      expect(straightRuns[2].counts.downgrades).toBeGreaterThan(0);
      expect(await snapshot(b.store)).toEqual(await snapshot(a.store));
      const histories = async (s: Store) => Promise.all(['c-0001', 'c-0007', 'c-0033', 'c-0101'].map((id) => s.getHistory(id).then((h) => h.map((x) => `${x.from}>${x.to}`))));
      expect(await histories(b.store)).toEqual(await histories(a.store));
      await a.store.close();
      await b.store.close();
    });

    it('a second run on unchanged data, and a third, write nothing', { timeout: 120_000 }, async () => {
      const a = await seeded(kind, count);
      const recomputer = new Recomputer({ store: a.store, policies: a.policies, clock, batchSize, ...pool });
      const first = await recomputer.start(NOW).done;
      expect(first.counts.changed).toBe(count);
      const written: number[] = [];
      const writeStates = a.store.writeStates.bind(a.store);
      a.store.writeStates = async (writes, history) => {
        written.push(writes.length);
        return writeStates(writes, history);
      };
      const second = await recomputer.start(NOW).done;
      const third = await recomputer.start(NOW).done;
      expect([second.counts.changed, third.counts.changed]).toEqual([0, 0]);
      expect(written).toEqual([]);
      await a.store.close();
    });
  });
}
