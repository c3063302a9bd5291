// Full recompute on the embedded store (target: one instance on 2 cores, 1,000,000 customers, 20,000,000 orders,
// recompute < 20 s, memory < 2 GB). Customers and ~20 orders each over two years (deterministic, common.ts) are
// loaded through MemoryStore.upsertCustomers / ingestOrders in batches of 10,000, interleaved like a chronological
// import; then the real Recomputer (PolicyService over the store, the policy of config/policy.yaml) runs twice:
// the first run writes every customer, the second (same asOf, nothing changed) writes almost nothing.
// The Recomputer is built the way createTierbot builds it, without the chat observers (alerts need an org and
// platforms; they are not part of the recompute's own cost).
// Run: npx tsx test/bench/recompute.bench.ts   (RECOMPUTE_CUSTOMERS=… for another size; the runner passes --expose-gc and
// a 4 GB heap limit and runs it in its own process, so peak RSS is this benchmark's alone)
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { PolicyService } from '../../src/app/policy-service.ts';
import { Recomputer } from '../../src/app/recompute.ts';
import { loadConfigFiles } from '../../src/config/files.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { RunRecord } from '../../src/ports/store.ts';
import { AS_OF, cpuMs, gc, heapMb, loadStore, mb, numOpt, peakRssMb, perSec, progress, REPO_ROOT, round, rssMb, standalone, type BenchOptions, type BenchResult } from './common.ts';

export async function run(opts: BenchOptions = {}): Promise<BenchResult> {
  const n = numOpt(opts, 'customers', 'RECOMPUTE_CUSTOMERS', 1_000_000);
  const store = new MemoryStore();
  await store.init();
  const files = await loadConfigFiles(path.join(REPO_ROOT, 'config'));
  const policies = new PolicyService(store, systemClock);
  await policies.ensure(files.policy);
  const recomputer = new Recomputer({ store, policies, clock: systemClock });

  progress(`loading ${n.toLocaleString('en-US')} customers and their orders into the memory store…`);
  const load = await loadStore(store, n);
  gc();
  const afterLoad = { peak: peakRssMb(), rss: rssMb(), heap: heapMb(), heapBytes: process.memoryUsage().heapUsed, orderIndex: mb(store.orderIndexBytes) };
  progress(`loaded ${load.orders.toLocaleString('en-US')} orders in ${round(load.ordersMs / 1000, 1)} s; recompute…`);

  // time spent in garbage collection, from V8's gc performance entries
  let gcMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const timed = async () => {
    const c0 = cpuMs();
    await new Promise((r) => setTimeout(r, 100)); // let pending gc entries arrive before the clock starts
    const g0 = gcMs;
    const t0 = performance.now();
    const r: RunRecord = await recomputer.start(AS_OF).done;
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
    return { run: r, ms, cpu: cpuMs() - c0, gc: gcMs - g0 };
  };
  const first = await timed();
  const afterFirst = { peak: peakRssMb(), rss: rssMb(), heap: 0 };
  gc(); // live heap only: what the stored states cost
  afterFirst.heap = heapMb();
  const heapLoadBytes = afterLoad.heapBytes;
  const runBytes = Math.round((process.memoryUsage().heapUsed - heapLoadBytes) / n);
  progress(`first recompute ${round(first.ms / 1000, 1)} s; second and third…`);
  // The second run still rewrites everyone: previousTierRank goes from 0 (no tier before the first run) to the
  // tier's rank. The third is the steady state of a nightly run over unchanged data.
  const second = await timed();
  const afterSecond = peakRssMb();
  const third = await timed();

  gcObserver.disconnect();
  const c = first.run.counts;
  return {
    customers: n,
    orders: load.orders,
    loadCustomersS: round(load.customersMs / 1000, 1),
    loadOrdersS: round(load.ordersMs / 1000, 1),
    loadOrdersStoreS: round(load.ordersStoreMs / 1000, 1),
    ingestOrdersPerSec: perSec(load.orders, load.ordersStoreMs),
    orderIndexMb: afterLoad.orderIndex,
    rssAfterLoadMb: afterLoad.rss,
    heapAfterLoadMb: afterLoad.heap,
    peakRssLoadMb: afterLoad.peak,
    recomputeS: round(first.ms / 1000, 2),
    recomputeCpuS: round(first.cpu / 1000, 2),
    recomputeGcS: round(first.gc / 1000, 2),
    recomputePerSec: perSec(c.evaluated, first.ms),
    evaluated: c.evaluated,
    changed: c.changed,
    upgrades: c.upgrades,
    downgrades: c.downgrades,
    atRisk: c.atRisk,
    peakRssFirstRunMb: afterFirst.peak,
    liveHeapAfterFirstRunMb: afterFirst.heap,
    heapBytesPerCustomerAfterRun: runBytes,
    secondRecomputeS: round(second.ms / 1000, 2),
    secondRecomputeGcS: round(second.gc / 1000, 2),
    secondEvaluated: second.run.counts.evaluated,
    secondChanged: second.run.counts.changed,
    peakRssSecondRunMb: afterSecond,
    thirdRecomputeS: round(third.ms / 1000, 2),
    thirdRecomputeGcS: round(third.gc / 1000, 2),
    thirdChanged: third.run.counts.changed,
    peakRssMb: peakRssMb(),
  };
}

standalone(import.meta.url, run);
