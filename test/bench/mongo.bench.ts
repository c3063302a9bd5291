// Recompute against a MongoDB-wire server (target: cost grows about linearly with the population: 5x the customers
// ≈ 5x the time). MONGODB_URI when set, else the FerretDB test server (.cache/bin/mongo-server, SQLite backend) on a
// free loopback port and a temp dir (BENCH_MONGO_DIR=/dev/shm to keep its files in memory).
// Per size (~10 orders per customer): load through MongoStore.upsertCustomers / ingestOrders in batches of 10,000
// (orders customer by customer, a backfill), then recomputes through the composed app (createTierbot: the
// Recomputer with the alert hooks, over an org of 200 reps in 20 teams): a first run, which writes everyone and is
// timed, then a second and an unchanged third run at the same asOf. Of each run the MongoDB commands the store's
// client issued are counted (monitorCommands, commandStarted) as in test/store/command-count.test.ts: all of
// them but the lease heartbeat (`update` on `instances`, on a 5 s timer, so its count depends on the run's
// duration); `commandsPerCustomer.first` / `.unchanged` are those counts over the customers. That test checks
// the counts at 1,000 and 5,000 customers (MONGO_SIZES=1000,5000 here gives the same sizes).
// Sizes: 10,000 and 50,000 customers on MongoDB. On FerretDB (told by buildInfo) an update that modifies a
// document costs time proportional to the collection's size (measured here by the "probe" rows), so load and
// recompute grow ~n²: 10,000/50,000 would take hours. There the sizes are 200 and 1,000 (BENCH_FULL=1: 500 and
// 2,500, ~15 min); the ratio still shows the growth. MONGO_SIZES=a,b overrides.
// Run: npx tsx test/bench/mongo.bench.ts
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoStore } from '../../src/adapters/mongo/mongo-store.ts';
import { INSTANCES } from '../../src/app/instances.ts';
import {
  AS_OF,
  benchOrg,
  cpuMs,
  envFlag,
  loadStore,
  perSec,
  progress,
  round,
  standalone,
  startBenchApp,
  startMongoServer,
  type BenchOptions,
  type BenchResult,
  type MongoServer,
} from './common.ts';

/**
 * Counts the commands a MongoStore's client starts (it must have monitorCommands), leaving out the instance
 * lease's heartbeat: `update` commands on `instances`, sent by a timer whether a run is going or not.
 */
function commandCounter(store: MongoStore) {
  let count = 0;
  store.client.on('commandStarted', (e) => {
    if (!(e.commandName === 'update' && (e.command as { update?: unknown }).update === INSTANCES)) count++;
  });
  return async <T>(fn: () => Promise<T>): Promise<{ result: T; commands: number }> => {
    const from = count;
    const result = await fn();
    return { result, commands: count - from };
  };
}

async function one(server: MongoServer, n: number) {
  const dbName = `bench_${n}_${randomBytes(4).toString('hex')}`;
  const store = new MongoStore(server.uri, dbName, { clientOptions: { monitorCommands: true } });
  const counted = commandCounter(store);
  const app = await startBenchApp(store); // init()s the store and installs config/policy.yaml
  try {
    await store.putOrg(benchOrg());
    progress(`mongo: loading ${n.toLocaleString('en-US')} customers and ~${(n * 10).toLocaleString('en-US')} orders…`);
    const load = await loadStore(store, n, { mean: 10, byCustomer: true });
    progress(`mongo: loaded in ${round((load.customersMs + load.ordersMs) / 1000, 1)} s; recompute…`);
    const s0 = server.cpuSeconds();
    const c0 = cpuMs();
    const t0 = performance.now();
    const first = await counted(() => app.bot.recomputer.start(AS_OF).done);
    const ms = performance.now() - t0;
    const s1 = server.cpuSeconds();
    const cpu = cpuMs() - c0;
    progress(`mongo: first run in ${round(ms / 1000, 1)} s; a second and an unchanged run…`);
    const second = await counted(() => app.bot.recomputer.start(AS_OF).done);
    const unchanged = await counted(() => app.bot.recomputer.start(AS_OF).done);
    return {
      load, ms, cpu, serverCpu: s0 !== null && s1 !== null ? s1 - s0 : null, counts: first.result.counts,
      commands: { first: first.commands, second: second.commands, unchanged: unchanged.commands, unchangedChanged: unchanged.result.counts.changed },
    };
  } finally {
    await store.db.dropDatabase().catch(() => undefined);
    await app.close(); // closes the store
  }
}

/** Cost of one updateOne({_id}) that modifies a document, and of one findOne({_id}), at a collection size. */
async function probe(uri: string, sizes: number[]): Promise<BenchResult> {
  const client = new MongoClient(uri);
  await client.connect();
  const db = client.db(`bench_probe_${randomBytes(4).toString('hex')}`);
  const out: BenchResult = {};
  try {
    const col = db.collection<{ _id: string; v: number; pad: string }>('probe');
    let have = 0;
    for (const size of sizes) {
      for (let i = have; i < size; i += 5000) {
        await col.insertMany(Array.from({ length: Math.min(5000, size - i) }, (_, k) => ({ _id: `p${String(i + k).padStart(8, '0')}`, v: 0, pad: 'x'.repeat(400) })));
      }
      have = size;
      const ops = 20;
      const id = (i: number) => `p${String(Math.floor(((i + 0.5) * size) / ops)).padStart(8, '0')}`;
      let t0 = performance.now();
      for (let i = 0; i < ops; i++) await col.updateOne({ _id: id(i) }, { $set: { v: size + i } });
      out[`probe.updateById@${size / 1000}k ms`] = round((performance.now() - t0) / ops, 2);
      t0 = performance.now();
      for (let i = 0; i < ops; i++) await col.findOne({ _id: id(i) });
      out[`probe.findById@${size / 1000}k ms`] = round((performance.now() - t0) / ops, 2);
    }
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
  return out;
}

export async function run(opts: BenchOptions = {}): Promise<BenchResult> {
  const server = await startMongoServer();
  const probeClient = new MongoClient(server.uri);
  const info = await probeClient.db('admin').command({ buildInfo: 1 }).finally(() => probeClient.close());
  const ferret = 'ferretdbVersion' in info;
  const fallback = !ferret ? '10000,50000' : envFlag('BENCH_FULL') ? '500,2500' : '200,1000';
  const sizes = String(opts.sizes ?? process.env.MONGO_SIZES ?? fallback)
    .split(',')
    .map(Number)
    .filter((x) => x > 0);
  const fv = /^v?\d/.test(String(info.ferretdbVersion)) ? ` ${String(info.ferretdbVersion)}` : '';
  const out: BenchResult = { server: ferret ? `FerretDB${fv} (SQLite)${server.ferret ? ', test server' : ''}` : `MongoDB ${String(info.version)}` };
  try {
    const times: number[] = [];
    for (const n of sizes) {
      const r = await one(server, n);
      const k = n >= 1000 ? `${n / 1000}k` : String(n);
      out[`${k}.orders`] = r.load.orders;
      out[`${k}.loadS`] = round((r.load.customersMs + r.load.ordersMs) / 1000, 1);
      out[`${k}.loadOrdersPerSec`] = perSec(r.load.orders, r.load.ordersStoreMs);
      out[`${k}.recomputeS`] = round(r.ms / 1000, 2);
      out[`${k}.recomputeMsPerCustomer`] = round(r.ms / n, 2);
      out[`${k}.recomputeAppCpuS`] = round(r.cpu / 1000, 2);
      if (r.serverCpu !== null) out[`${k}.recomputeServerCpuS`] = round(r.serverCpu, 2);
      out[`${k}.changed`] = r.counts.changed;
      out[`${k}.commands first / second / unchanged`] = `${r.commands.first} / ${r.commands.second} / ${r.commands.unchanged}${r.commands.unchangedChanged ? ` (unchanged run wrote ${r.commands.unchangedChanged})` : ''}`;
      // text: the summary table rounds numbers to 2 decimals, and 0.01 is the target of an unchanged run
      out[`${k}.commandsPerCustomer.first`] = (r.commands.first / n).toFixed(4);
      out[`${k}.commandsPerCustomer.unchanged`] = (r.commands.unchanged / n).toFixed(4);
      times.push(r.ms);
    }
    if (sizes.length >= 2) {
      out.customerRatio = round(sizes[sizes.length - 1] / sizes[0], 2);
      out.recomputeTimeRatio = round(times[times.length - 1] / times[0], 2);
    }
    if (ferret) {
      progress('mongo: probing FerretDB update/find by _id at 1k, 10k, 50k documents…');
      Object.assign(out, await probe(server.uri, [1000, 10_000, 50_000]));
    }
    return out;
  } finally {
    await server.stop();
  }
}

standalone(import.meta.url, run);
