// The running server against DuckDB (issue 9). The real server as its own process, started the way `npm start` does
// (src/main.ts under tsx, memory store, TIERBOT_DEMO=0, LOG_LEVEL=warn, stdout/stderr to a log file under /tmp), an
// org of 50 reps in 2 teams (+ 2 managers) through PUT /api/v1/org, then, over HTTP with one client:
//   1. ingest: BENCH_SERVER_CUSTOMERS customers (default 1,000,000) through PUT /api/v1/customers and their ~20
//      orders each (server-data.ts: deterministic, refunds and cancelled orders included) through POST
//      /api/v1/orders, NDJSON, 10,000 rows per request, generated chunk by chunk (the time is the requests' own);
//      the same orders go to a CSV file for DuckDB;
//   2. first, second and unchanged third POST /api/v1/tiering/recompute (asOf fixed; ?wait=false, then GET
//      /api/v1/tiering/runs/:id every 100 ms) and POST /api/v1/tiering/simulate with tier A's monetary threshold
//      changed; during each, GET /healthz at a fixed 50 ms rate (each request on its own clock, so a blocked event
//      loop shows in every request that waited); the server's RSS and peak RSS (VmHWM) from /proc after each step;
//   3. DuckDB (duckdb.ts, its own process, 2 threads) loads the CSV and computes the same metrics, RFM scores and
//      tiers; its query time is the yardstick of every ratio. The tier distributions (tierbot's after the first run,
//      and the simulations') must be identical, and a sample of customers must have identical metrics: a mismatch
//      is reported in the result (and on stderr), never thrown.
// Run: npx tsx test/bench/server.bench.ts   (BENCH_SERVER_CUSTOMERS=20000 for a quick run; BENCH_SERVER_HEAP_MB replaces
// the server's --max-old-space-size of package.json's start script)
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parsePolicy, type Policy } from '../../src/domain/policy.ts';
import { ADMIN_TOKEN, AS_OF, AS_OF_ISO, customerId, numOpt, progress, REPO_ROOT, round, standalone, type BenchOptions, type BenchResult } from './common.ts';
import type { DuckAnswer, DuckJob, DuckSample } from './duckdb.ts';
import { startArgs, startServer } from './server-process.ts';
import { customerRow, isEdgeCustomer, orderChunks, orderCsv, orderJson, serverOrg, REPS, TEAMS } from './server-data.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BATCH = 10_000;
const NDJSON = 'application/x-ndjson';
const RUN_DEADLINE_MS = 30 * 60_000;

// ------------------------------------------------------------------------------------------------ HTTP

interface Answer {
  status: number;
  text: string;
  ms: number;
}

/** node:http rather than fetch: no headers/body timeouts on long requests (simulate at 1M takes minutes). */
class Client {
  private readonly agent: http.Agent;
  constructor(
    private readonly port: number,
    keepAlive = true,
  ) {
    this.agent = new http.Agent({ keepAlive });
  }

  send(method: string, p: string, body?: string, type = 'application/json', auth = true): Promise<Answer> {
    const t0 = performance.now();
    const headers: Record<string, string | number> = {};
    if (auth) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
    if (body !== undefined) {
      headers['content-type'] = type;
      headers['content-length'] = Buffer.byteLength(body);
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path: p, headers, agent: this.agent }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (b: Buffer) => parts.push(b));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8'), ms: performance.now() - t0 }));
        res.on('error', reject);
      });
      req.on('error', (err: Error) => reject(Object.assign(new Error(`${method} ${p}: ${err.message}`), { cause: err })));
      req.end(body);
    });
  }

  async json<T = any>(method: string, p: string, body?: unknown, type?: string): Promise<T & { ms: number }> {
    const a = await this.send(method, p, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), type);
    if (a.status < 200 || a.status >= 300) throw new Error(`${method} ${p}: ${a.status} ${a.text.slice(0, 500)}`);
    return Object.assign(JSON.parse(a.text), { ms: a.ms });
  }

  close(): void {
    this.agent.destroy();
  }
}

// ------------------------------------------------------------------------------------------------ the server

/**
 * GET /healthz at a fixed rate, each request timed from its own tick (no coordinated omission). A new connection
 * each, like a liveness probe (and no keep-alive socket that the server closes just as it is reused).
 */
function healthPoller(port: number, everyMs = 50) {
  const client = new Client(port, false);
  const latencies: number[] = [];
  let failed = 0;
  let firstError = '';
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    if (pending.size >= 2000) return void (failed++, (firstError ||= '2,000 requests outstanding'));
    const p: Promise<void> = client
      .send('GET', '/healthz', undefined, undefined, false)
      .then(
        (a) => void (a.status === 200 ? latencies.push(a.ms) : (failed++, (firstError ||= `status ${a.status}`))),
        (err: Error) => void (failed++, (firstError ||= err.message)),
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      client.close();
      const s = latencies.sort((a, b) => a - b);
      const at = (q: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]);
      return { n: s.length, failed, firstError, p50: at(0.5), p99: at(0.99), max: s.length ? s[s.length - 1] : NaN };
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunRecord {
  id: string;
  status: string;
  error: string | null;
  durationMs: number | null;
  counts: { evaluated: number; changed: number; upgrades: number; downgrades: number; atRisk: number };
}

/** A full recompute: started with ?wait=false, finished when its run record says so. */
async function recompute(client: Client): Promise<RunRecord> {
  const { runId } = await client.json<{ runId: string }>('POST', '/api/v1/tiering/recompute?wait=false', { asOf: AS_OF_ISO });
  const deadline = Date.now() + RUN_DEADLINE_MS;
  while (Date.now() < deadline) {
    await sleep(100);
    const run = await client.json<RunRecord>('GET', `/api/v1/tiering/runs/${encodeURIComponent(runId)}`);
    if (run.status === 'running') continue;
    if (run.status !== 'done') throw new Error(`recompute ${runId} ended ${run.status}: ${run.error}`);
    return run;
  }
  throw new Error(`recompute ${runId} not done after ${RUN_DEADLINE_MS / 60_000} min`);
}

// ------------------------------------------------------------------------------------------------ comparisons

type Distribution = Record<string, number>;

const fmtN = (x: number) => x.toLocaleString('en-US');
const showDist = (d: Distribution, keys: string[]) => keys.map((k) => `${k} ${fmtN(d[k] ?? 0)}`).join(' · ');
const sameDist = (a: Distribution, b: Distribution) => [...new Set([...Object.keys(a), ...Object.keys(b)])].every((k) => (a[k] ?? 0) === (b[k] ?? 0));

/** The what-if: tier A needs twice the monetary of the default policy. */
function whatIf(raw: any): { raw: any; label: string } {
  const sim = structuredClone(raw);
  const leaf = sim.tiers?.[0]?.when?.all?.find((l: any) => l.metric === 'monetary' && l.op === 'gt');
  if (!leaf) throw new Error('config/policy.yaml: the first tier has no {metric: monetary, op: gt} leaf to change');
  const was = leaf.value as number;
  leaf.value = was * 2;
  return { raw: sim, label: `tier ${sim.tiers[0].key}: monetary > ${fmtN(leaf.value)} (default ${fmtN(was)})` };
}

function policyOf(raw: unknown): Policy {
  const p = parsePolicy(raw);
  if (!p.ok) throw new Error(`policy: ${JSON.stringify(p.issues)}`);
  return p.policy;
}

const SAMPLE_FIELDS = ['recencyDays', 'frequency', 'monetary', 'lifetimeValue', 'orderCount', 'r', 'f', 'm', 'rfmTotal'] as const;

/** Each sampled customer's metrics and tier, tierbot (GET /api/v1/customers/:id) against DuckDB. */
async function compareSamples(client: Client, samples: DuckSample[]): Promise<string[]> {
  const diffs: string[] = [];
  for (const d of samples) {
    const c = await client.json<any>('GET', `/api/v1/customers/${encodeURIComponent(d.id)}`);
    for (const k of SAMPLE_FIELDS) if (c.metrics?.[k] !== d[k]) diffs.push(`${d.id} ${k}: tierbot ${c.metrics?.[k]}, DuckDB ${d[k]}`);
    if (c.tier?.key !== d.tier) diffs.push(`${d.id} tier: tierbot ${c.tier?.key}, DuckDB ${d.tier}`);
  }
  return diffs;
}

/** After a distribution mismatch: every customer's tier against DuckDB's, the first `max` that differ. */
async function findDifferences(client: Client, tiersCsv: string, max = 20): Promise<string[]> {
  const duck = new Map<string, string>();
  for (const line of readFileSync(tiersCsv, 'utf8').split('\n')) {
    const [id, tier] = line.split(',');
    if (id) duck.set(id, tier);
  }
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: any[]; nextCursor: string | null } = await client.json('GET', `/api/v1/customers?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const c of page.items) {
      const theirs = duck.get(c.id);
      if (c.tier?.key === theirs) continue;
      const m = c.metrics ?? {};
      out.push(`${c.id}: tierbot ${c.tier?.key} (recency ${m.recencyDays}, frequency ${m.frequency}, monetary ${m.monetary}, lifetime ${m.lifetimeValue}), DuckDB ${theirs}`);
      if (out.length >= max) return out;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

async function runDuckChild(job: DuckJob): Promise<DuckAnswer> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'duckdb.ts'), JSON.stringify(job)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`duckdb.ts exited with ${code}: ${err}`);
  return JSON.parse(out.trim().split('\n').pop()!) as DuckAnswer;
}

// ------------------------------------------------------------------------------------------------ the benchmark

export async function run(opts: BenchOptions = {}): Promise<BenchResult> {
  const n = numOpt(opts, 'customers', 'BENCH_SERVER_CUSTOMERS', 1_000_000);
  const heapMb = process.env.BENCH_SERVER_HEAP_MB || opts.heapMb ? numOpt(opts, 'heapMb', 'BENCH_SERVER_HEAP_MB', 0) : null;
  const rawPolicy = parseYaml(readFileSync(path.join(REPO_ROOT, 'config/policy.yaml'), 'utf8'));
  const policy = policyOf(rawPolicy);
  const sim = whatIf(rawPolicy);
  const tierKeys = policy.tiers.map((t) => t.key);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tierbot-bench-server-'));
  const customersCsv = path.join(dir, 'customers.csv');
  const ordersCsv = path.join(dir, 'orders.csv');

  progress(`server: starting node ${startArgs(heapMb).join(' ')} (memory store)…`);
  const server = await startServer(heapMb);
  const client = new Client(server.port);
  const out: BenchResult = {};
  const mems = new Map<string, string>();
  const memRow = (label: string) => {
    const m = server.mem();
    mems.set(label, `${fmtN(m.rssMb)} / ${fmtN(m.peakMb)}`);
  };
  const memKey = (label: string) => `server RSS / peak RSS after ${label}, MB`;
  try {
    await client.json('PUT', '/api/v1/org', serverOrg());

    // 1. ingest
    progress(`server: PUT /api/v1/customers, ${fmtN(n)} customers…`);
    let customersMs = 0;
    const cfd = openSync(customersCsv, 'w');
    for (let c0 = 0; c0 < n; c0 += BATCH) {
      const lines: string[] = [];
      let csv = '';
      for (let c = c0; c < Math.min(n, c0 + BATCH); c++) {
        lines.push(JSON.stringify(customerRow(c)));
        csv += `${customerId(c)}\n`;
      }
      writeSync(cfd, csv);
      const a = await client.json<{ upserted: number; rejected: unknown[] }>('PUT', '/api/v1/customers', `${lines.join('\n')}\n`, NDJSON);
      if (a.upserted !== lines.length || a.rejected.length > 0) throw new Error(`PUT /api/v1/customers: ${JSON.stringify(a).slice(0, 500)}`);
      customersMs += a.ms;
    }
    closeSync(cfd);
    memRow('customers');

    progress('server: POST /api/v1/orders…');
    const ofd = openSync(ordersCsv, 'w');
    let orders = 0;
    let cancelled = 0;
    let refunds = 0;
    let ordersMs = 0;
    let slowestMs = 0;
    let bytes = 0;
    const wall0 = performance.now();
    for (const chunk of orderChunks(n, BATCH)) {
      let body = '';
      let csv = '';
      for (const o of chunk) {
        body += `${orderJson(o)}\n`;
        csv += orderCsv(o);
        if (o.status?.toLowerCase() === 'cancelled') cancelled++;
        else if (o.amount < 0) refunds++;
      }
      writeSync(ofd, csv);
      bytes += Buffer.byteLength(body);
      const a = await client.json<{ inserted: number; rejected: unknown[] }>('POST', '/api/v1/orders', body, NDJSON);
      if (a.inserted !== chunk.length || a.rejected.length > 0) throw new Error(`POST /api/v1/orders: ${JSON.stringify(a).slice(0, 500)}`);
      orders += chunk.length;
      ordersMs += a.ms;
      slowestMs = Math.max(slowestMs, a.ms);
      if (orders % 2_000_000 < BATCH) progress(`server: ${fmtN(orders)} orders in…`);
    }
    closeSync(ofd);
    const ingestWallMs = performance.now() - wall0;

    Object.assign(out, {
      customers: n,
      [`org`]: `${REPS} reps in ${TEAMS} teams + ${TEAMS} managers`,
      'orders (cancelled / refunds)': `${fmtN(orders)} (${fmtN(cancelled)} / ${fmtN(refunds)})`,
      'ingest customers/s (PUT /api/v1/customers, NDJSON, 10,000 per request)': Math.round(n / (customersMs / 1000)),
      'ingest orders/s (POST /api/v1/orders, NDJSON, 10,000 per request)': Math.round(orders / (ordersMs / 1000)),
      'ingest orders: s in requests / s wall (with generation and CSV)': `${round(ordersMs / 1000, 1)} / ${round(ingestWallMs / 1000, 1)}`,
      'ingest orders: MB sent / slowest request ms': `${fmtN(Math.round(bytes / 1048576))} / ${fmtN(Math.round(slowestMs))}`,
    });
    memRow('ingest');
    out[memKey('customers')] = mems.get('customers')!;
    out[memKey('ingest')] = mems.get('ingest')!;

    // 2. the server's runs, /healthz polled meanwhile
    const steps: { label: string; ms: number; health: Awaited<ReturnType<ReturnType<typeof healthPoller>['stop']>>; detail: string }[] = [];
    const timed = async (label: string, fn: () => Promise<string>) => {
      progress(`server: ${label}…`);
      const poll = healthPoller(server.port);
      const t0 = performance.now();
      const detail = await fn();
      const ms = performance.now() - t0;
      const health = await poll.stop();
      steps.push({ label, ms, health, detail });
      memRow(label);
      progress(`server: ${label} ${round(ms / 1000, 1)} s; /healthz p99 ${round(health.p99)} ms, max ${round(health.max)} ms`);
    };
    const runDetail = (r: RunRecord) => `${fmtN(r.counts.evaluated)} / ${fmtN(r.counts.changed)} (server ${round((r.durationMs ?? NaN) / 1000, 1)} s)`;
    let firstDist: Distribution = {};
    await timed('first recompute', async () => runDetail(await recompute(client)));
    const d = await client.json<{ tiers: { key: string; count: number }[]; unevaluated: number }>('GET', '/api/v1/reports/distribution');
    firstDist = Object.fromEntries(d.tiers.map((t) => [t.key, t.count]));
    await timed('second recompute', async () => runDetail(await recompute(client)));
    await timed('third recompute (unchanged)', async () => runDetail(await recompute(client)));
    let simDist: Distribution = {};
    await timed('simulate', async () => {
      const r = await client.json<{ evaluated: number; distribution: Distribution }>('POST', '/api/v1/tiering/simulate', { policy: sim.raw, asOf: AS_OF_ISO });
      simDist = r.distribution;
      return `${fmtN(r.evaluated)} / –`;
    });

    // 3. DuckDB, while the server idles
    const sampleIds = Array.from({ length: 30 }, (_, i) => customerId(Math.floor((i * n) / 30)));
    for (let c = 0, found = 0; c < n && found < 10; c++) if (isEdgeCustomer(c)) (sampleIds.push(customerId(c)), found++);
    progress('server: DuckDB…');
    const duck = await runDuckChild({
      customersCsv,
      ordersCsv,
      asOf: AS_OF,
      policy,
      simulatePolicy: policyOf(sim.raw),
      sampleIds,
      tiersCsv: path.join(dir, 'duck-tiers.csv'),
      threads: 2,
    });
    if (duck.orders !== orders) throw new Error(`DuckDB loaded ${duck.orders} orders of ${orders}`);

    const duckS = duck.queryMs / 1000;
    for (const s of steps) {
      out[`${s.label}, s (× DuckDB)`] = `${round(s.ms / 1000, 2)} (${round(s.ms / duck.queryMs, 1)}×)`;
      out[`${s.label}: evaluated / changed`] = s.detail;
      out[`${s.label}: /healthz p50 / p99 / max ms (polls)`] = `${round(s.health.p50, 1)} / ${round(s.health.p99, 1)} / ${round(s.health.max, 1)} (${fmtN(s.health.n)}${s.health.failed ? `, ${s.health.failed} failed: ${s.health.firstError}` : ''})`;
      out[memKey(s.label)] = mems.get(s.label)!;
    }
    const distOk = sameDist(firstDist, duck.distribution);
    const simOk = sameDist(simDist, duck.simulateDistribution);
    const sampleDiffs = await compareSamples(client, duck.samples);
    let differing: string[] = [];
    if (!distOk || !simOk) differing = await findDifferences(client, path.join(dir, 'duck-tiers.csv'));
    memRow('the comparisons');
    out[memKey('the comparisons')] = mems.get('the comparisons')!;

    Object.assign(out, {
      'tiers, tierbot (first recompute)': showDist(firstDist, tierKeys),
      'tiers, DuckDB': showDist(duck.distribution, tierKeys),
      'tier distribution identical': distOk ? 'yes' : '**NO — MISMATCH**',
      [`simulate (${sim.label}), tierbot`]: showDist(simDist, tierKeys),
      'simulate, DuckDB': showDist(duck.simulateDistribution, tierKeys),
      'simulate distribution identical': simOk ? 'yes' : '**NO — MISMATCH**',
      [`metrics of ${duck.samples.length} sampled customers (recency, frequency, monetary, lifetime value, order count, r, f, m, tier) identical`]: sampleDiffs.length === 0 ? 'yes' : `**NO — ${sampleDiffs.length} differences**: ${sampleDiffs.slice(0, 10).join('; ')}`,
    });
    if (differing.length > 0) out['customers whose tier differs (first 20)'] = differing.join('; ');
    if (!distOk || !simOk || sampleDiffs.length > 0) {
      console.error(`\n  !!! server bench: tierbot and DuckDB DISAGREE\n  ${[...sampleDiffs, ...differing].slice(0, 40).join('\n  ')}\n`);
    }
    Object.assign(out, {
      'DuckDB load s (CSV → customers + orders tables)': round(duck.loadMs / 1000, 2),
      'DuckDB query s (metrics + RFM + tiers, per customer table + distribution)': round(duckS, 2),
      'DuckDB simulate query s (what-if distribution)': round(duck.simulateMs / 1000, 2),
      'DuckDB process RSS after load / peak RSS, MB': `${fmtN(duck.rssAfterLoadMb)} / ${fmtN(duck.peakRssMb)}`,
      'DuckDB version, threads': `${duck.version}, ${duck.threads}`,
      'server process': `node ${startArgs(heapMb).join(' ')}, pid ${server.pid}, log ${server.logPath}`,
    });
  } finally {
    client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

standalone(import.meta.url, run);
