// CSV import end to end (issue: 1,000,000 orders in under a minute, memory flat in the file size): `npm run import`
// as its own process (under GNU time, for its peak RSS) against the server as `npm start` runs it (memory store),
// 50,000 customers and IMPORT_ORDERS orders (default 1,000,000; ¥ amounts with separators, local times, some
// 已取消) written to CSV files first. Run twice, at a fifth of the size and at the full size, the importer under a
// 64 MB heap limit: its memory must not grow with the file.
// Run: npx tsx test/bench/import.bench.ts
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, numOpt, perSec, progress, REPO_ROOT, round, standalone, type BenchOptions, type BenchResult } from './common.ts';
import { startServer } from './server-process.ts';

const exec = promisify(execFile);
const CUSTOMERS = 50_000;
const TIME = '/usr/bin/time';
const IMPORTER_HEAP_MB = 64;

async function writeFiles(dir: string, orders: number): Promise<{ customers: string; orders: string }> {
  const customers = path.join(dir, 'customers.csv');
  const lines = ['客户编号,客户名称,负责人'];
  for (let i = 0; i < CUSTOMERS; i++) lines.push(`c-${i},客户${i},u-zhang`);
  writeFileSync(customers, `${lines.join('\n')}\n`);
  const file = path.join(dir, `orders-${orders}.csv`);
  const out = createWriteStream(file);
  out.write('订单号,客户编号,金额,下单时间,状态\n');
  for (let i = 0; i < orders; i++) {
    const ok = out.write(`SO-${i},c-${i % CUSTOMERS},"¥1,${String(i % 1000).padStart(3, '0')}.50",2026-0${1 + (i % 6)}-${String(1 + (i % 28)).padStart(2, '0')} 10:00,${i % 50 === 0 ? '已取消' : ''}\n`);
    if (!ok) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
  return { customers, orders: file };
}

/** The importer as a user runs it; wall seconds and its peak RSS (GNU time's %M, KiB). */
async function importer(url: string, args: string[]): Promise<{ s: number; rssMb: number; stdout: string }> {
  // a 64 MB heap: an importer whose memory grew with the file would run out of it
  const cmd = [process.execPath, `--max-old-space-size=${IMPORTER_HEAP_MB}`, '--import', 'tsx', 'src/cli/import.ts', ...args, '--url', url, '--token', ADMIN_TOKEN];
  const t0 = performance.now();
  const useTime = existsSync(TIME);
  const { stdout, stderr } = await exec(useTime ? TIME : cmd[0], useTime ? ['-f', 'peak-kb %M', ...cmd] : cmd.slice(1), { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
  const s = (performance.now() - t0) / 1000;
  const kb = Number(/peak-kb (\d+)/.exec(stderr)?.[1] ?? NaN);
  return { s, rssMb: Math.round(kb / 1024), stdout };
}

export async function run(opts: BenchOptions = {}): Promise<BenchResult> {
  const n = numOpt(opts, 'orders', 'IMPORT_ORDERS', 1_000_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'tierbot-import-bench-'));
  try {
    const small = Math.round(n / 5);
    progress(`writing ${CUSTOMERS.toLocaleString('en-US')} customers and ${small.toLocaleString('en-US')} + ${n.toLocaleString('en-US')} orders as CSV…`);
    const a = await writeFiles(dir, small);
    const b = await writeFiles(dir, n);
    const result: BenchResult = {};
    for (const [label, files, count] of [['small', a, small], ['full', b, n]] as const) {
      const server = await startServer(null);
      const url = `http://127.0.0.1:${server.port}`;
      try {
        progress(`npm run import: ${count.toLocaleString('en-US')} orders…`);
        const c = await importer(url, ['--customers', files.customers]);
        const o = await importer(url, ['--orders', files.orders]);
        if (!o.stdout.includes(`orders: ${count} rows from`) || !o.stdout.includes(`, ${count} stored, 0 rejected`)) throw new Error(`import did not store all ${count} rows: ${o.stdout}`);
        result[`${label}.orders`] = count;
        result[`${label}.fileMb`] = round(statSync(files.orders).size / 1048576, 1);
        result[`${label}.customersS`] = round(c.s, 2);
        result[`${label}.ordersS`] = round(o.s, 2);
        result[`${label}.ordersPerSec`] = perSec(count, o.s * 1000);
        result[`${label}.importerPeakRssMb`] = o.rssMb;
        result[`${label}.importerHeapLimitMb`] = IMPORTER_HEAP_MB;
        result[`${label}.serverPeakRssMb`] = server.mem().peakMb;
      } finally {
        await server.stop();
      }
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

standalone(import.meta.url, run);
