// Recompute against a MongoDB-wire server (SPEC §9: cost grows linearly with the population). MONGODB_URI when set,
// else the FerretDB test server (.cache/bin/mongo-server, SQLite backend) started on a free loopback port and a temp
// dir. For each size (default 10,000 and 50,000 customers, ~10 orders each): load through MongoStore.upsertCustomers /
// ingestOrders in batches of 10,000, then two recomputes through the real Recomputer (the first writes everyone,
// the second is timed too). The ratio of the recompute times at 5x the customers should be about 5.
// Run: npx tsx test/bench/mongo.bench.ts   (MONGO_SIZES=10000,50000 to change the sizes)
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { MongoStore } from '../../src/adapters/mongo/mongo-store.ts';
import { PolicyService } from '../../src/app/policy-service.ts';
import { Recomputer } from '../../src/app/recompute.ts';
import { loadConfigFiles } from '../../src/config/files.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { AS_OF, cpuMs, loadStore, perSec, progress, REPO_ROOT, round, standalone, startMongoServer, type BenchOptions, type BenchResult } from './common.ts';

async function one(uri: string, n: number) {
  const dbName = `bench_${n}_${randomBytes(4).toString('hex')}`;
  const store = new MongoStore(uri, dbName);
  await store.init();
  try {
    const files = await loadConfigFiles(path.join(REPO_ROOT, 'config'));
    const policies = new PolicyService(store, systemClock);
    await policies.ensure(files.policy);
    const recomputer = new Recomputer({ store, policies, clock: systemClock });
    progress(`mongo: loading ${n.toLocaleString('en-US')} customers…`);
    const load = await loadStore(store, n, { mean: 10, byCustomer: true });
    progress(`mongo: ${load.orders.toLocaleString('en-US')} orders loaded in ${round((load.customersMs + load.ordersMs) / 1000, 1)} s; recompute…`);
    const times = [];
    for (let i = 0; i < 1; i++) {
      const c0 = cpuMs();
      const t0 = performance.now();
      const r = await recomputer.start(AS_OF).done;
      times.push({ ms: performance.now() - t0, cpu: cpuMs() - c0, counts: r.counts });
    }
    return { load, first: times[0] };
  } finally {
    await store.db.dropDatabase().catch(() => undefined);
    await store.close();
  }
}

export async function run(opts: BenchOptions = {}): Promise<BenchResult> {
  const sizes = String(opts.sizes ?? process.env.MONGO_SIZES ?? '10000,50000')
    .split(',')
    .map(Number)
    .filter((x) => x > 0);
  const server = await startMongoServer();
  const out: BenchResult = { server: server.label.replace(/ \(.*/, '') };
  try {
    const firsts: number[] = [];
    for (const n of sizes) {
      const r = await one(server.uri, n);
      const k = `${n / 1000}k`;
      out[`${k}.orders`] = r.load.orders;
      out[`${k}.loadS`] = round((r.load.customersMs + r.load.ordersMs) / 1000, 1);
      out[`${k}.loadOrdersPerSec`] = perSec(r.load.orders, r.load.ordersStoreMs);
      out[`${k}.recomputeS`] = round(r.first.ms / 1000, 2);
      out[`${k}.recomputeClientCpuS`] = round(r.first.cpu / 1000, 2);
      out[`${k}.recomputePerSec`] = perSec(r.first.counts.evaluated, r.first.ms);
      out[`${k}.changed`] = r.first.counts.changed;
      firsts.push(r.first.ms);
    }
    if (sizes.length >= 2) {
      const [a, b] = [sizes[0], sizes[sizes.length - 1]];
      out.customerRatio = round(b / a, 2);
      out.recomputeTimeRatio = round(firsts[firsts.length - 1] / firsts[0], 2);
    }
    return out;
  } finally {
    await server.stop();
  }
}

standalone(import.meta.url, run);
