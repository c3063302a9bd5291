// Recompute against a MongoDB-wire server (target: cost grows about linearly with the population: 5x the customers
// ≈ 5x the time). MONGODB_URI when set, else the FerretDB test server (.cache/bin/mongo-server, SQLite backend) on a
// free loopback port and a temp dir (BENCH_MONGO_DIR=/dev/shm to keep its files in memory).
// Per size (~10 orders per customer): load through MongoStore.upsertCustomers / ingestOrders in batches of 10,000
// (orders customer by customer, a backfill), then one recompute through the real Recomputer, which writes everyone.
// Sizes: 10,000 and 50,000 customers on MongoDB. On FerretDB (told by buildInfo) an update that modifies a
// document costs time proportional to the collection's size (measured here by the "probe" rows), so load and
// recompute grow ~n²: 10,000/50,000 would take hours. There the sizes are 200 and 1,000 (BENCH_FULL=1: 500 and
// 2,500, ~15 min); the ratio still shows the growth. MONGO_SIZES=a,b overrides.
// Run: npx tsx test/bench/mongo.bench.ts
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoStore } from '../../src/adapters/mongo/mongo-store.ts';
import { PolicyService } from '../../src/app/policy-service.ts';
import { Recomputer } from '../../src/app/recompute.ts';
import { loadConfigFiles } from '../../src/config/files.ts';
import { systemClock } from '../../src/ports/clock.ts';
import {
  AS_OF,
  cpuMs,
  envFlag,
  loadStore,
  perSec,
  progress,
  REPO_ROOT,
  round,
  standalone,
  startMongoServer,
  type BenchOptions,
  type BenchResult,
  type MongoServer,
} from './common.ts';

async function one(server: MongoServer, n: number) {
  const dbName = `bench_${n}_${randomBytes(4).toString('hex')}`;
  const store = new MongoStore(server.uri, dbName);
  await store.init();
  try {
    const files = await loadConfigFiles(path.join(REPO_ROOT, 'config'));
    const policies = new PolicyService(store, systemClock);
    await policies.ensure(files.policy);
    const recomputer = new Recomputer({ store, policies, clock: systemClock });
    progress(`mongo: loading ${n.toLocaleString('en-US')} customers and ~${(n * 10).toLocaleString('en-US')} orders…`);
    const load = await loadStore(store, n, { mean: 10, byCustomer: true });
    progress(`mongo: loaded in ${round((load.customersMs + load.ordersMs) / 1000, 1)} s; recompute…`);
    const s0 = server.cpuSeconds();
    const c0 = cpuMs();
    const t0 = performance.now();
    const r = await recomputer.start(AS_OF).done;
    const ms = performance.now() - t0;
    const s1 = server.cpuSeconds();
    return { load, ms, cpu: cpuMs() - c0, serverCpu: s0 !== null && s1 !== null ? s1 - s0 : null, counts: r.counts };
  } finally {
    await store.db.dropDatabase().catch(() => undefined);
    await store.close();
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
