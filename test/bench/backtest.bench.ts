// The backtest at 100,000 customers (~20 orders each) on the memory store: config/policy.yaml as of 90 days
// before the data's asOf, a 90-day horizon; one policy, then two side by side. Nothing is written.
// Run: npx tsx test/bench/backtest.bench.ts   (BACKTEST_CUSTOMERS=… to change the population size)
import path from 'node:path';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { backtest } from '../../src/app/backtest.ts';
import { loadConfigFiles } from '../../src/config/files.ts';
import { AS_OF, DAY, loadStore, numOpt, peakRssMb, progress, REPO_ROOT, round, standalone, type BenchOptions, type BenchResult } from './common.ts';

export async function run(opts: BenchOptions = {}): Promise<BenchResult> {
  const n = numOpt(opts, 'customers', 'BACKTEST_CUSTOMERS', 100_000);
  const store = new MemoryStore();
  await store.init();
  const files = await loadConfigFiles(path.join(REPO_ROOT, 'config'));
  progress(`loading ${n.toLocaleString('en-US')} customers…`);
  const load = await loadStore(store, n);
  const o = { asOf: AS_OF - 90 * DAY, horizonDays: 90, dropBelowPct: 50 };
  let t = performance.now();
  const one = await backtest(store, files.policy, o);
  const oneMs = performance.now() - t;
  t = performance.now();
  for (const p of [files.policy, files.policy]) await backtest(store, p, o);
  const twoMs = performance.now() - t;
  progress(`backtest of ${one.customers} customers: ${round(oneMs / 1000, 2)} s; two policies ${round(twoMs / 1000, 2)} s`);
  return {
    customers: n,
    orders: load.orders,
    evaluated: one.customers,
    alerted: one.alerts.alerted,
    precision: round(one.alerts.precision ?? 0, 3),
    recall: round(one.alerts.recall ?? 0, 3),
    backtestS: round(oneMs / 1000, 2),
    twoPoliciesS: round(twoMs / 1000, 2),
    peakRssMb: peakRssMb(),
  };
}

standalone(import.meta.url, run);
