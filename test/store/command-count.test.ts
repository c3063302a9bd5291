// How many MongoDB commands a recompute of the composed app issues (createTierbot: Recomputer with
// Alerts.decide/collect/finish), counted at the driver (`monitorCommands`, `commandStarted`) on the mongo test
// server. A recompute streams the customers batch by batch (config/schedule.yaml recomputeBatchSize), so its
// commands may grow with the batches, not with the customers — apart from the writes of the customers whose
// evaluation changed, which are bulk writes; an unchanged run writes nobody and must stay under 0.01 commands
// per customer at 5,000 customers.
//
// Per size, over the demo org (2 teams, 4 reps, 2 managers) and demo customers with two years of orders: a
// first run, a second run and an unchanged third run, all at the same asOf, by the app's Recomputer;
// then one more unchanged run through a second app instance whose recomputeBatchSize is a fifth of the
// customers, which measures what one batch costs. The breakdowns are printed by command and collection.
// This counts commands; it is not a benchmark (nothing is timed). test/bench/mongo.bench.ts prints the same
// counts per customer at its sizes.
//
// Sizes. On FerretDB (SQLite) every update statement costs time proportional to the size of the collection
// (docs/storage.md, "FerretDB 1.24 facts" 2; bench probe rows), so loading n customers and a first run that
// writes all of them cost ~n²: 1,000 and 5,000 customers take many minutes there. CI therefore counts at 100
// and 500 customers (one batch each: what grows between them grows with customers) and projects the unchanged
// run to 5,000 customers with the measured cost of a batch; COMMAND_COUNT_FULL=1 counts at 1,000 and 5,000
// with the configured batch size (3 batches at 5,000) and checks the 5,000 figure as measured.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandStartedEvent, Document } from 'mongodb';
import { MongoStore } from '../../src/adapters/mongo/mongo-store.ts';
import { demoData } from '../../src/app/demo.ts';
import { orderSchema, toOrderInput } from '../../src/app/inputs.ts';
import { INSTANCES } from '../../src/app/instances.ts';
import { loadEnv } from '../../src/config/env.ts';
import { loadConfigFiles, type ConfigFiles } from '../../src/config/files.ts';
import { createLogger } from '../../src/logger.ts';
import type { OrderInput } from '../../src/ports/store.ts';
import { createTierbot } from '../../src/service.ts';
import { hasMongo, mongoTestDb, mongoUri } from '../setup/mongo.ts';
import { fixedClock, startApp, TEST_TOKEN, type TestApp } from '../helpers/app.ts';

const FULL = process.env.COMMAND_COUNT_FULL === '1';
const [SMALL, LARGE] = FULL ? [1_000, 5_000] : [100, 500];
/** the population the 0.01-per-customer target is stated for */
const TARGET = 5_000;
const NOW = '2026-06-30T02:00:00+08:00';
const AS_OF = new Date('2026-06-30T01:00:00+08:00').toISOString();

/**
 * The most commands one more batch may add, writes of changed customers aside. What a batch costs: a getMore
 * of each of the two passes over the customers (population statistics, then evaluation), at most one
 * checkpoint update of the run (the recomputer saves it at most once a second), and what the alert hooks may
 * read per batch (decide: the org and the snoozes of the batch's alert-worthy customers; collect reads the
 * run's org and policy once per run). That is 2 to 5; 6 leaves one of slack. A command per customer, or per
 * few hundred, exceeds it at once at the configured batch size (2,000).
 */
const PER_BATCH = 6;
/**
 * Update statements per command on FerretDB (FERRETDB_UPDATE_BATCH in mongo-store.ts; docs/storage.md,
 * "FerretDB 1.24 facts" 3: 100 statements hang it). There the changed customers of a batch cost one update
 * command per 25; on MongoDB the driver sends a batch's writes in one command (it splits at 100,000).
 */
const FERRETDB_UPDATE_BATCH = 25;

interface Command {
  name: string;
  collection: string;
  /** statements of a state write (writeStates: `update customers` of single-_id statements), else 0 */
  stateWrites: number;
}

/** The collection a command addresses (getMore names it in `collection`), or '-' for database commands. */
function collectionOf(e: CommandStartedEvent): string {
  const c = e.command as Document;
  if (e.commandName === 'getMore') return String(c.collection);
  const target = c[e.commandName];
  return typeof target === 'string' ? target : '-';
}

function stateWritesOf(e: CommandStartedEvent, collection: string): number {
  if (e.commandName !== 'update' || collection !== 'customers') return 0;
  const updates = (e.command as Document).updates as { q: Document; multi?: boolean }[];
  // writeStates: one statement per customer, filter {_id}; the run's end releases saved states with one multi update
  return updates.every((u) => !u.multi && Object.keys(u.q).length === 1 && typeof u.q._id === 'string') ? updates.length : 0;
}

/**
 * Records every command the store's client starts, except the instance lease's heartbeat: Instances.start()
 * sets a timer (HEARTBEAT_MS, 5 s) that updates this instance's document in `instances` whether or not a run
 * is going, so how many land inside a run depends on how long the run takes on this machine, not on what it
 * does. Those are exactly the `update` commands on `instances` (a run only reads that collection, to tell
 * whether a run's owner is alive). Everything else counts: the run's reads and writes, the policy and org
 * reads, and the cards the alert hooks queue at the end.
 */
class CommandLog {
  private log: Command[] = [];
  heartbeats = 0;

  constructor(store: MongoStore) {
    store.client.on('commandStarted', (e) => {
      const collection = collectionOf(e);
      if (e.commandName === 'update' && collection === INSTANCES) this.heartbeats++;
      else this.log.push({ name: e.commandName, collection, stateWrites: stateWritesOf(e, collection) });
    });
  }

  /** the commands `fn` caused, and how many heartbeats were left out meanwhile */
  async during(fn: () => Promise<void>): Promise<{ commands: Command[]; heartbeats: number }> {
    const [from, beats] = [this.log.length, this.heartbeats];
    await fn();
    return { commands: this.log.slice(from), heartbeats: this.heartbeats - beats };
  }
}

function breakdown(commands: Command[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of commands) {
    const k = `${c.name} ${c.collection}${c.stateWrites ? ' (state writes)' : ''}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

interface Run {
  label: string;
  batches: number;
  changed: number;
  commands: Command[];
  /** lease heartbeats during the run, not counted */
  heartbeats: number;
}

const stateWriteCommands = (r: Run) => r.commands.filter((c) => c.stateWrites > 0);
const others = (r: Run) => r.commands.filter((c) => c.stateWrites === 0);

interface Measured {
  customers: number;
  /** on FerretDB, else MongoDB */
  ferret: boolean;
  runs: Run[];
  /** an unchanged run at a fifth of the customers per batch */
  fine: Run;
}

const newStore = (dbName: string) => {
  const store = new MongoStore(mongoUri, dbName, { clientOptions: { monitorCommands: true } });
  return { store, log: new CommandLog(store) };
};

async function measure(files: ConfigFiles, count: number): Promise<Measured> {
  const { dbName } = mongoTestDb(`cmdcount${count}`)!;
  const clock = fixedClock(NOW);
  const main = newStore(dbName);
  let app: TestApp | null = null;
  try {
    app = await startApp(main.store, { clock });
    const store = main.store;
    const info = await store.db.admin().command({ buildInfo: 1 });
    // in chunks of customers with their orders: FerretDB's updates cost the collection's size
    const data = demoData(files.demoOrg!, clock.now(), count, 7);
    await store.putOrg(files.demoOrg!);
    const orders = new Map<string, OrderInput[]>();
    for (const o of data.orders.map((x) => toOrderInput(orderSchema.parse(x)))) {
      if (!orders.has(o.customerId)) orders.set(o.customerId, []);
      orders.get(o.customerId)!.push(o);
    }
    for (let i = 0; i < data.customers.length; i += 100) {
      const part = data.customers.slice(i, i + 100);
      await store.upsertCustomers(part);
      await store.ingestOrders(part.flatMap((c) => orders.get(c.id) ?? []));
    }

    const batchSize = files.schedule.recomputeBatchSize;
    const runs: Run[] = [];
    for (const label of ['first', 'second', 'unchanged']) {
      let changed = -1;
      // the app's own Recomputer (what POST /api/v1/tiering/recompute starts; the request itself reads nothing
      // from the store), awaited directly: on FerretDB a first run at 5,000 outlasts an HTTP client's timeout
      const counted = await main.log.during(async () => {
        const r = await app!.bot.recomputer.start(Date.parse(AS_OF)).done;
        expect(r.counts.evaluated).toBe(count);
        changed = r.counts.changed;
      });
      runs.push({ label, batches: Math.ceil(count / batchSize), changed, ...counted });
    }

    // the same app with a fifth of the customers per batch, on its own client, over the same database
    const fineBatch = Math.ceil(count / 5);
    const second = newStore(dbName);
    const env = loadEnv({ PORT: '0', ADMIN_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent' });
    const bot = await createTierbot({
      env, files: { ...files, schedule: { ...files.schedule, recomputeBatchSize: fineBatch } }, store: second.store, log: createLogger('silent'), clock,
    });
    let fine: Run;
    try {
      let changed = -1;
      const counted = await second.log.during(async () => {
        const r = await bot.recomputer.start(Date.parse(AS_OF)).done;
        expect(r.counts.evaluated).toBe(count);
        changed = r.counts.changed;
      });
      fine = { label: `unchanged, ${fineBatch} per batch`, batches: Math.ceil(count / fineBatch), changed, ...counted };
    } finally {
      await bot.close();
    }
    return { customers: count, ferret: 'ferretdbVersion' in info, runs, fine };
  } finally {
    await main.store.db.dropDatabase().catch(() => undefined);
    if (app) await app.close();
    else await main.store.close();
  }
}

function report(m: Measured): void {
  for (const r of [...m.runs, m.fine]) {
    const perCustomer = (r.commands.length / m.customers).toFixed(4);
    console.log(
      `${m.customers} customers, ${r.label} run (${r.batches} batch(es), ${r.changed} changed): ${r.commands.length} commands, ${perCustomer} per customer (${r.heartbeats} lease heartbeats left out)`,
      r.label === 'unchanged' || r.label.startsWith('unchanged,') ? breakdown(r.commands) : `(${stateWriteCommands(r).length} of them state writes)`,
    );
  }
}

describe.skipIf(!hasMongo)('MongoDB commands of a recompute through the composed app', () => {
  it(
    `grow with batches, not customers (${SMALL} and ${LARGE} customers); an unchanged run stays under 0.01 per customer at ${TARGET}`,
    { timeout: FULL ? 3 * 3_600_000 : 180_000 },
    async () => {
      const files = await loadConfigFiles(resolve(import.meta.dirname, '../../config'));
      const small = await measure(files, SMALL);
      report(small);
      const large = await measure(files, LARGE);
      report(large);
      const updateBatch = large.ferret ? FERRETDB_UPDATE_BATCH : Infinity;

      for (const m of [small, large]) {
        const [first, , unchanged] = m.runs;
        // a fresh store: the first run writes everyone; the third run at the same asOf (and the one with smaller
        // batches after it) finds nothing to write
        expect(first.changed).toBe(m.customers);
        expect(unchanged.changed).toBe(0);
        expect(m.fine.changed).toBe(0);
        for (const r of m.runs) {
          // every changed customer written once, in bulk: 25 statements per command on FerretDB, a batch's on MongoDB
          const writes = stateWriteCommands(r);
          expect(writes.reduce((n, c) => n + c.stateWrites, 0), `${m.customers}, ${r.label}: state-write statements`).toBe(r.changed);
          expect(writes.length, `${m.customers}, ${r.label}: state-write commands`).toBeLessThanOrEqual(Math.floor(r.changed / updateBatch) + r.batches);
        }
      }

      // the rest grows with batches only: same org, same kinds of notices, and at most PER_BATCH per extra batch
      for (let i = 0; i < large.runs.length; i++) {
        const [a, b] = [small.runs[i], large.runs[i]];
        const bound = others(a).length + PER_BATCH * (b.batches - a.batches);
        expect.soft(others(b).length, `${b.label} run, commands other than state writes: ${others(a).length} at ${SMALL} customers, ${others(b).length} at ${LARGE} (bound ${bound})`).toBeLessThanOrEqual(bound);
      }

      // what one more batch costs an unchanged run, measured at LARGE with a fifth of the customers per batch
      const unchanged = large.runs[2];
      const extra = large.fine.batches - unchanged.batches;
      const perBatch = (large.fine.commands.length - unchanged.commands.length) / extra;
      console.log(`an unchanged run at ${LARGE} customers: ${unchanged.commands.length} commands in ${unchanged.batches} batch(es), ${large.fine.commands.length} in ${large.fine.batches}: ${perBatch} per batch`);
      expect(perBatch).toBeLessThanOrEqual(PER_BATCH);

      // the target: an unchanged run over TARGET customers with the configured batch size. Measured in FULL mode;
      // in CI projected from LARGE with the measured cost of a batch. That projection is sound because between
      // SMALL and LARGE at the same number of batches the other commands may not grow at all (above), so a
      // per-customer cost would have to be under 1 command per (LARGE - SMALL) customers to hide.
      const batchesAtTarget = Math.ceil(TARGET / files.schedule.recomputeBatchSize);
      const atTarget = unchanged.commands.length + Math.max(0, batchesAtTarget - unchanged.batches) * perBatch;
      console.log(`an unchanged run at ${TARGET} customers (${batchesAtTarget} batches): ${FULL ? 'measured' : 'projected'} ${atTarget} commands, ${(atTarget / TARGET).toFixed(4)} per customer`);
      expect(atTarget).toBeLessThan(0.01 * TARGET);
      if (FULL) expect(unchanged.commands.length).toBeLessThan(0.01 * LARGE);
    },
  );
});
