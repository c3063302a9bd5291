// Store ingest throughput and memory. MemoryStore: 100,000 customers and ~2,000,000 orders (mean 20
// per customer) through ingestOrders in batches of 10,000, arriving interleaved the way a chronological import
// does (every batch touches ~10,000 different customers); then the same orders again (all duplicates), and one
// streamCustomers pass over everyone with their rollups (what each recompute pass reads).
// With BENCH_MONGO_URI (or opts.mongoUri): the same kind of load into MongoStore, smaller: 2,500 customers
// (~50,000 orders) on MongoDB, 500 (~10,000 orders) on FerretDB, whose SQLite backend scans the whole table for
// every query but {_id: x} and takes ms per update statement (its numbers measure FerretDB, not the store).
// Run: npx tsx test/bench/store.bench.ts
//      STORE_CUSTOMERS=1000000 node --expose-gc --import tsx test/bench/store.bench.ts   (the full target size)
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { MongoStore } from '../../src/adapters/mongo/mongo-store.ts';
import type { Store } from '../../src/ports/store.ts';
import {
  customerInput,
  gc,
  heapMb,
  mb,
  numOpt,
  orderBatches,
  orderInput,
  peakRssMb,
  perSec,
  progress,
  round,
  rssMb,
  standalone,
  type BenchOptions,
  type BenchResult,
} from './common.ts';

const BATCH = 10_000;

async function loadCustomers(store: Store, n: number): Promise<number> {
  const t0 = performance.now();
  for (let c = 0; c < n; c += BATCH) {
    const part = [];
    for (let i = c; i < Math.min(n, c + BATCH); i++) part.push(customerInput(i));
    await store.upsertCustomers(part);
  }
  return performance.now() - t0;
}

/** ingests every order of customers [0, n); only the time inside ingestOrders is counted */
async function ingestAll(store: Store, n: number, mean = 20): Promise<{ ms: number; inserted: number; duplicates: number; orders: number }> {
  let ms = 0;
  let inserted = 0;
  let duplicates = 0;
  let orders = 0;
  for (const part of orderBatches(n, BATCH, orderInput, mean)) {
    const t0 = performance.now();
    const r = await store.ingestOrders(part);
    ms += performance.now() - t0;
    inserted += r.inserted;
    duplicates += r.duplicates;
    orders += part.length;
  }
  return { ms, inserted, duplicates, orders };
}

async function streamAll(store: Store): Promise<{ ms: number; customers: number; rollupEntries: number }> {
  const t0 = performance.now();
  let customers = 0;
  let rollupEntries = 0;
  for await (const batch of store.streamCustomers(2000)) {
    customers += batch.length;
    for (const c of batch) rollupEntries += c.rollup.t.length;
  }
  return { ms: performance.now() - t0, customers, rollupEntries };
}

async function memoryBench(n: number): Promise<BenchResult> {
  const store = new MemoryStore();
  gc();
  const rss0 = rssMb();
  progress(`memory: ${n.toLocaleString('en-US')} customers…`);
  const customersMs = await loadCustomers(store, n);
  progress('memory: orders…');
  const first = await ingestAll(store, n);
  gc();
  const rssAfter = rssMb();
  const heapAfter = heapMb();
  progress('memory: the same orders again…');
  const again = await ingestAll(store, n);
  progress('memory: one stream pass…');
  const pass = await streamAll(store);
  return {
    'memory customers': n,
    'memory orders': first.orders,
    'memory upsert customers/s': perSec(n, customersMs),
    'memory ingest orders/s (new)': perSec(first.orders, first.ms),
    'memory ingest orders/s (duplicates)': perSec(again.orders, again.ms),
    'memory ingest µs/order': round((first.ms * 1000) / first.orders, 2),
    'memory duplicates on re-ingest': again.duplicates,
    'memory stream pass s': round(pass.ms / 1000, 2),
    'memory stream ns/order': Math.round((pass.ms * 1e6) / Math.max(1, pass.rollupEntries)),
    'memory rollup entries (non-cancelled)': pass.rollupEntries,
    'memory RSS after ingest MB': rssAfter,
    'memory RSS growth MB': rssAfter - rss0,
    'memory heap after ingest MB': heapAfter,
    'memory order index MB': mb(store.orderIndexBytes),
    'memory order index bytes/order': round(store.orderIndexBytes / Math.max(1, store.orderCount), 1),
    'memory peak RSS MB': peakRssMb(),
  };
}

async function mongoBench(uri: string, size: number | null): Promise<BenchResult> {
  const store = new MongoStore(uri, `bench_store_${randomBytes(4).toString('hex')}`);
  await store.init();
  const info = await store.db.admin().command({ buildInfo: 1 });
  const ferret = 'ferretdbVersion' in info;
  const n = size ?? (ferret ? 500 : 2_500);
  try {
    progress(`mongo: ${n.toLocaleString('en-US')} customers…`);
    const customersMs = await loadCustomers(store, n);
    progress('mongo: orders…');
    const first = await ingestAll(store, n);
    progress('mongo: the same orders again…');
    const again = await ingestAll(store, n);
    const pass = await streamAll(store);
    return {
      'mongo server': ferret ? 'FerretDB (SQLite)' : `MongoDB ${String(info.version)}`,
      'mongo customers': n,
      'mongo orders': first.orders,
      'mongo upsert customers/s': perSec(n, customersMs),
      'mongo ingest orders/s (new)': perSec(first.orders, first.ms),
      'mongo ingest orders/s (duplicates)': perSec(again.orders, again.ms),
      'mongo stream pass s': round(pass.ms / 1000, 2),
      'mongo stream customers/s': perSec(pass.customers, pass.ms),
    };
  } finally {
    await store.db.dropDatabase().catch(() => undefined);
    await store.close();
  }
}

export async function run(opts: BenchOptions = {}): Promise<Record<string, number | string>> {
  const n = numOpt(opts, 'customers', 'STORE_CUSTOMERS', 100_000);
  const result: BenchResult = await memoryBench(n);
  const uri = (opts.mongoUri as string | undefined) ?? process.env.BENCH_MONGO_URI;
  if (uri) {
    const size = numOpt(opts, 'mongoCustomers', 'STORE_MONGO_CUSTOMERS', 0);
    Object.assign(result, await mongoBench(uri, size > 0 ? size : null));
  }
  return result;
}

standalone(import.meta.url, run);
