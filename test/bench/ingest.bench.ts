// Order ingest, orders per second (rollups are kept up to date at ingest):
//   1. straight into MemoryStore.ingestOrders, batches of 10,000 (time inside the store only; the batches are
//      generated between calls, outside the clock); the runner skips this part when store.bench.ts is there;
//   2. end to end through POST /api/v1/orders over real HTTP (loopback, the real app on an ephemeral port, memory
//      store): NDJSON bodies of 10,000 orders, sent one after another as a bulk importer would. The bodies are built
//      before the clock starts; the time covers upload, parsing, validation, ingest and the answer.
// Both take the same ~2,000,000 orders of 100,000 customers (~20 each), interleaved like a chronological import; the
// customers are created first (not timed).
// Run: npx tsx test/bench/ingest.bench.ts   (INGEST_CUSTOMERS=… to change the size)
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import type { CustomerInput } from '../../src/ports/store.ts';
import {
  ADMIN_TOKEN,
  customerInput,
  gc,
  numOpt,
  orderBatches,
  orderInput,
  orderRow,
  perSec,
  progress,
  round,
  standalone,
  startBenchApp,
  type BenchOptions,
  type BenchResult,
} from './common.ts';

const BATCH = 10_000;

async function withCustomers(store: MemoryStore, n: number): Promise<void> {
  for (let c = 0; c < n; c += BATCH) {
    const part: CustomerInput[] = [];
    for (let i = c; i < Math.min(n, c + BATCH); i++) part.push(customerInput(i));
    await store.upsertCustomers(part);
  }
}

export async function run(opts: BenchOptions = {}): Promise<BenchResult> {
  const n = numOpt(opts, 'customers', 'INGEST_CUSTOMERS', 100_000);

  // 1. the store alone (skipped when the runner has store.bench.ts, which measures the same)
  const direct = opts.direct !== false;
  let storeMs = 0;
  let storeOrders = 0;
  let againMs = 0;
  let duplicates = 0;
  if (direct) {
    progress(`ingest: ~${(n * 20).toLocaleString('en-US')} orders into MemoryStore.ingestOrders…`);
    const store = new MemoryStore();
    await withCustomers(store, n);
    for (const batch of orderBatches(n, BATCH, orderInput)) {
      const t0 = performance.now();
      const r = await store.ingestOrders(batch);
      storeMs += performance.now() - t0;
      storeOrders += r.inserted;
    }
    // the same orders again: every one a duplicate (an idempotent re-import)
    for (const batch of orderBatches(n, BATCH, orderInput)) {
      const t0 = performance.now();
      const r = await store.ingestOrders(batch);
      againMs += performance.now() - t0;
      duplicates += r.duplicates;
    }
  }
  gc();

  // 2. over HTTP
  progress('ingest: building NDJSON bodies…');
  const bodies: string[] = [];
  let httpOrders = 0;
  for (const batch of orderBatches(n, BATCH, orderRow)) {
    bodies.push(batch.map((o) => JSON.stringify(o)).join('\n') + '\n');
    httpOrders += batch.length;
  }
  const bytes = bodies.reduce((s, b) => s + Buffer.byteLength(b), 0);
  const store = new MemoryStore();
  const app = await startBenchApp(store);
  let inserted = 0;
  let httpMs = 0;
  let worstMs = 0;
  try {
    await withCustomers(store, n);
    gc();
    progress(`ingest: POST /api/v1/orders, ${bodies.length} bodies of ${BATCH.toLocaleString('en-US')} (${round(bytes / 1048576)} MB)…`);
    const t0 = performance.now();
    for (const body of bodies) {
      const s = performance.now();
      const res = await fetch(`${app.url}/api/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-ndjson' },
        body,
      });
      const answer = (await res.json()) as { inserted: number; rejected: unknown[] };
      if (res.status !== 200 || answer.rejected.length > 0) throw new Error(`POST /api/v1/orders: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
      inserted += answer.inserted;
      worstMs = Math.max(worstMs, performance.now() - s);
    }
    httpMs = performance.now() - t0;
  } finally {
    await app.close();
  }
  if (inserted !== httpOrders) throw new Error(`HTTP ingest inserted ${inserted} of ${httpOrders}`);

  const out: BenchResult = { customers: n, orders: httpOrders };
  if (direct) {
    out.storeOrdersPerSec = perSec(storeOrders, storeMs);
    out.storeS = round(storeMs / 1000, 2);
    out.storeDuplicatesPerSec = perSec(duplicates, againMs);
  }
  Object.assign(out, {
    httpOrdersPerSec: perSec(inserted, httpMs),
    httpS: round(httpMs / 1000, 2),
    httpRequests: bodies.length,
    httpMbPerSec: round(bytes / 1048576 / (httpMs / 1000), 1),
    httpSlowestRequestMs: Math.round(worstMs),
  });
  return out;
}

standalone(import.meta.url, run);
