// Shared by the benchmarks: a deterministic data set, the app on an ephemeral port, machine facts, memory
// readings and the "run me standalone" glue. Nothing here is measured itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { loadEnv } from '../../src/config/env.ts';
import { loadConfigFiles } from '../../src/config/files.ts';
import { createLogger } from '../../src/logger.ts';
import { createTierbot, type Tierbot } from '../../src/service.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { CustomerInput, OrderInput, Store } from '../../src/ports/store.ts';

export type BenchResult = Record<string, number | string>;
export type BenchOptions = Record<string, unknown>;

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DAY = 86_400_000;
/** every data set is evaluated as of this instant */
export const AS_OF = Date.parse('2026-06-30T02:00:00+08:00');
export const AS_OF_ISO = '2026-06-30T02:00:00+08:00';
export const ADMIN_TOKEN = 'bench-admin-token-0123456789';

// ------------------------------------------------------------------------------------------- the data set

/** A stateless 32-bit hash of (a, b, salt) → [0, 1): the data set is a pure function of its indexes. */
export function u01(a: number, b: number, salt: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35) ^ Math.imul(salt, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

export const customerId = (c: number) => `c${String(c).padStart(8, '0')}`;
export const orderId = (c: number, j: number) => `o${c}-${j}`;

export const OWNERS = 200;
export const TEAMS = 20;
const INDUSTRIES = ['制造', '零售', '服务', '科技'];
const REGIONS = ['east', 'south', 'north', 'west'];

/** How many orders customer `c` has. `mean` ≈ 20: 10 % have 1–4 orders, the rest mean·1.1 ± 50 %. */
export function orderCountOf(c: number, mean = 20): number {
  if (u01(c, 0, 1) < 0.1) return 1 + Math.floor(u01(c, 0, 2) * 4);
  const m = (mean - 0.25) / 0.9;
  const lo = Math.max(1, Math.round(m * 0.5));
  const hi = Math.max(lo, Math.round(m * 1.5));
  return lo + Math.floor(u01(c, 0, 2) * (hi - lo + 1));
}

export function customerInput(c: number): CustomerInput {
  const owner = c % OWNERS;
  return {
    id: customerId(c),
    name: `客户${c}号商贸有限公司`,
    ownerId: `u-${owner}`,
    teamId: `t-${owner % TEAMS}`,
    attributes: { industry: INDUSTRIES[Math.floor(u01(c, 0, 3) * 4)], region: REGIONS[Math.floor(u01(c, 0, 4) * 4)] },
  };
}

/**
 * Order j of customer c (0 ≤ j < orderCountOf(c)), in time order per customer, over two years before AS_OF.
 * 70 % of customers are active up to the last few weeks, 30 % lapsed months ago; amounts vary per customer
 * (a few big spenders), 70 % of orders carry a margin, 2 % are cancelled.
 */
export function orderOf(c: number, j: number, k: number): { t: number; amountFen: number; marginFen: number | null; cancelled: boolean } {
  const first = AS_OF - 730 * DAY + Math.floor(u01(c, 0, 5) * 60 * DAY);
  const end = u01(c, 0, 6) < 0.7 ? AS_OF - Math.floor(u01(c, 0, 7) * 20 * DAY) : AS_OF - Math.floor((60 + u01(c, 0, 7) * 540) * DAY);
  const spacing = Math.max(DAY, (end - first) / k);
  const t = Math.floor(first + (j + 0.8 * u01(c, j, 8)) * spacing);
  const base = 20_000 + Math.floor(u01(c, 0, 9) ** 3 * 2_000_000); // fen
  const amountFen = Math.round(base * (0.5 + u01(c, j, 10)));
  const marginFen = u01(c, j, 11) < 0.7 ? Math.round(amountFen * 0.3) : null;
  return { t, amountFen, marginFen, cancelled: u01(c, j, 12) < 0.02 };
}

export function orderInput(c: number, j: number, k: number): OrderInput {
  const o = orderOf(c, j, k);
  return { orderId: orderId(c, j), customerId: customerId(c), amountFen: o.amountFen, marginFen: o.marginFen, occurredAt: o.t, occurredAtText: new Date(o.t).toISOString(), cancelled: o.cancelled };
}

/** The same order as a row of POST /api/v1/orders (yuan, ISO text with offset). */
export function orderRow(c: number, j: number, k: number): Record<string, unknown> {
  const o = orderOf(c, j, k);
  const row: Record<string, unknown> = { orderId: orderId(c, j), customerId: customerId(c), amount: o.amountFen / 100, occurredAt: new Date(o.t).toISOString() };
  if (o.marginFen !== null) row.margin = o.marginFen / 100;
  if (o.cancelled) row.status = 'cancelled';
  return row;
}

/**
 * All orders of customers [0, n) in batches. By default interleaved the way a chronological import arrives: round j
 * carries the j-th order of every customer that has one, so a batch holds orders of thousands of different customers
 * (the hard case for a store that keeps orders per customer). `byCustomer`: all orders of a customer together (a
 * backfill customer by customer; each customer's rollup changes once per batch). `make` builds one order.
 */
export function* orderBatches<T>(n: number, batchSize: number, make: (c: number, j: number, k: number) => T, mean = 20, byCustomer = false): Generator<T[]> {
  if (!byCustomer) {
    yield* interleavedBatches(n, batchSize, (c) => orderCountOf(c, mean), make);
    return;
  }
  let batch: T[] = [];
  for (let c = 0; c < n; c++) {
    const k = orderCountOf(c, mean);
    for (let j = 0; j < k; j++) {
      batch.push(make(c, j, k));
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/** Orders of customers [0, n) interleaved like a chronological import: round j carries the j-th order of every customer that has one. */
export function* interleavedBatches<T>(n: number, batchSize: number, countOf: (c: number) => number, make: (c: number, j: number, k: number) => T): Generator<T[]> {
  const counts = new Uint8Array(n);
  let maxK = 0;
  for (let c = 0; c < n; c++) {
    counts[c] = countOf(c);
    if (counts[c] > maxK) maxK = counts[c];
  }
  let batch: T[] = [];
  for (let j = 0; j < maxK; j++) {
    for (let c = 0; c < n; c++) {
      if (counts[c] <= j) continue;
      batch.push(make(c, j, counts[c]));
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

export function totalOrders(n: number, mean = 20): number {
  let s = 0;
  for (let c = 0; c < n; c++) s += orderCountOf(c, mean);
  return s;
}

/** The org of the data set: OWNERS reps in TEAMS teams, one manager per team. */
export function benchOrg() {
  const users = [
    ...Array.from({ length: OWNERS }, (_, i) => ({ id: `u-${i}`, name: `销售${i}`, role: 'rep' as const, teamId: `t-${i % TEAMS}`, feishu: { openId: `ou_rep${i}` } })),
    ...Array.from({ length: TEAMS }, (_, i) => ({ id: `m-${i}`, name: `经理${i}`, role: 'manager' as const, teamId: `t-${i}`, feishu: { openId: `ou_mgr${i}` } })),
  ];
  const teams = Array.from({ length: TEAMS }, (_, i) => ({ id: `t-${i}`, name: `销售${i}组`, managerIds: [`m-${i}`] }));
  return { users, teams };
}

/** Customers [0, n) and their orders into a store through its own bulk calls; times in ms. */
export async function loadStore(store: Store, n: number, opts: { batch?: number; mean?: number; byCustomer?: boolean } = {}) {
  const batch = opts.batch ?? 10_000;
  const t0 = performance.now();
  for (let c = 0; c < n; c += batch) {
    const part: CustomerInput[] = [];
    for (let i = c; i < Math.min(n, c + batch); i++) part.push(customerInput(i));
    await store.upsertCustomers(part);
  }
  const customersMs = performance.now() - t0;
  let orders = 0;
  let storeMs = 0;
  const t1 = performance.now();
  for (const part of orderBatches(n, batch, orderInput, opts.mean, opts.byCustomer)) {
    const s = performance.now();
    const r = await store.ingestOrders(part);
    storeMs += performance.now() - s;
    orders += r.inserted;
  }
  return { customersMs, ordersMs: performance.now() - t1, ordersStoreMs: storeMs, orders };
}

// ----------------------------------------------------------------------------------------------- the app

export interface BenchApp {
  bot: Tierbot;
  url: string;
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** The real app on an ephemeral loopback port, built the way test/helpers/app.ts does (that file needs vitest). */
export async function startBenchApp(store: Store, opts: { clock?: Clock; env?: Record<string, string> } = {}): Promise<BenchApp> {
  const env = loadEnv({ PORT: '0', ADMIN_TOKEN, LOG_LEVEL: 'silent', ...opts.env });
  const files = await loadConfigFiles(path.join(REPO_ROOT, 'config'));
  const bot = await createTierbot({ env, files, store, log: createLogger('silent'), clock: opts.clock });
  const { url } = await bot.listen();
  return {
    bot,
    url,
    async api(p, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${ADMIN_TOKEN}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      const res = await fetch(url + p, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body };
    },
    close: () => bot.close(),
  };
}

// ----------------------------------------------------------------------------------- a MongoDB-wire server

export interface MongoServer {
  uri: string;
  label: string;
  /** true for the FerretDB test server we started (not for MONGODB_URI) */
  ferret: boolean;
  /** CPU seconds the server process has used so far (null when it is not ours or not on Linux) */
  cpuSeconds(): number | null;
  stop(): Promise<void>;
}

function processCpuSeconds(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

async function ping(uri: string, deadline: number, dead: () => string | null): Promise<void> {
  let last: unknown;
  while (Date.now() < deadline) {
    const why = dead();
    if (why) throw new Error(why);
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      last = err;
    } finally {
      await client.close().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`no ping answer from ${uri}: ${(last as Error)?.message}`);
}

/** MONGODB_URI when set, else the FerretDB test server (.cache/bin/mongo-server) on a free port and a temp dir. */
export async function startMongoServer(): Promise<MongoServer> {
  const envUri = process.env.MONGODB_URI?.trim();
  if (envUri) {
    await ping(envUri, Date.now() + 15_000, () => null);
    return { uri: envUri, label: 'MONGODB_URI', ferret: false, cpuSeconds: () => null, stop: async () => undefined };
  }
  const bin = path.join(REPO_ROOT, '.cache/bin/mongo-server');
  const dir = mkdtempSync(path.join(process.env.BENCH_MONGO_DIR ?? os.tmpdir(), 'tierbot-bench-mongo-'));
  const port = await freePort();
  const uri = `mongodb://127.0.0.1:${port}/?directConnection=true`;
  const child: ChildProcess = spawn(bin, ['-dir', dir, '-addr', `127.0.0.1:${port}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-4000)));
  let died: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => ((died = `exited with ${code ?? signal}`), resolve()));
    child.once('error', (err) => ((died = `failed to spawn: ${err.message}`), resolve()));
  });
  const cleanup = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  const stop = async () => {
    process.removeListener('exit', cleanup);
    await stopChild(child, exited, 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ping(uri, Date.now() + 60_000, () => (died ? `FerretDB test server ${died}: ${output.slice(-500)}` : null));
  } catch (err) {
    await stop();
    throw err;
  }
  return { uri, label: `FerretDB test server (${path.relative(REPO_ROOT, bin)}, pid ${child.pid})`, ferret: true, cpuSeconds: () => processCpuSeconds(child.pid), stop };
}

// --------------------------------------------------------------------------------------- measurements

export const mb = (bytes: number) => Math.round(bytes / 1048576);
/** peak resident set size of this process so far, MB */
export const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
export const rssMb = () => mb(process.memoryUsage().rss);
export const heapMb = () => mb(process.memoryUsage().heapUsed);
export const round = (x: number, digits = 0) => Number(x.toFixed(digits));
export const perSec = (count: number, ms: number) => Math.round(count / (ms / 1000));

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopChild(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    ramGb: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

export function envFlag(name: string): boolean {
  const v = process.env[name];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export function numOpt(opts: BenchOptions, key: string, envName: string, fallback: number): number {
  const v = opts[key] ?? process.env[envName];
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
}

/** Progress on stderr (the result tables go to stdout). */
export function progress(msg: string): void {
  if (!envFlag('BENCH_QUIET')) process.stderr.write(`  · ${msg}\n`);
}

/** When the file is run directly (`npx tsx test/bench/x.bench.ts`): run it and print its numbers. */
export function standalone(metaUrl: string, run: (opts: BenchOptions) => Promise<BenchResult>): void {
  if (!process.argv[1] || fileURLToPath(metaUrl) !== path.resolve(process.argv[1])) return;
  const m = machine();
  console.log(`${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, Node ${m.node}, load ${m.load}`);
  run({}).then(
    (r) => {
      const width = Math.max(...Object.keys(r).map((k) => k.length));
      for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(width)}  ${typeof v === 'number' ? v.toLocaleString('en-US') : v}`);
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
