// The server as its own process, started exactly the way `npm start` runs it (package.json's start script: node
// and its flags, src/main.ts under tsx), memory store, TIERBOT_DEMO=0, LOG_LEVEL=warn, stdout/stderr to a log
// file under /tmp; its RSS and peak RSS from /proc. Shared by the benchmarks that measure what users run.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_TOKEN, REPO_ROOT, stopChild } from './common.ts';

export interface Server {
  pid: number;
  port: number;
  logPath: string;
  mem(): { rssMb: number; peakMb: number };
  stop(): Promise<void>;
}

function memOf(pid: number): { rssMb: number; peakMb: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
}

/**
 * The node arguments of package.json's start script; `heapMb` (BENCH_SERVER_HEAP_MB) replaces its heap limit and
 * BENCH_SERVER_NODE_ARGS adds flags in front (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the server).
 */
export function startArgs(heapMb: number | null): string[] {
  const script: string = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).scripts.start;
  const [cmd, ...args] = script.trim().split(/\s+/);
  if (cmd !== 'node') throw new Error(`the start script must run node directly, it runs: ${script}`);
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const own = heapMb === null ? args : [...args.filter((a) => !a.startsWith('--max-old-space-size=')), `--max-old-space-size=${heapMb}`];
  return [...extra, ...own];
}

export async function startServer(heapMb: number | null): Promise<Server> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(MONGODB_|FEISHU_|WECOM_|DINGTALK_|METRICS_TOKEN|PUBLIC_BASE_URL|TIERBOT_)/.test(k)) continue;
    env[k] = v;
  }
  Object.assign(env, { TIERBOT_DEMO: '0', PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN, LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL ?? 'warn' });
  const logPath = path.join(os.tmpdir(), `tierbot-bench-server-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${process.pid}.log`);
  const log = createWriteStream(logPath);
  // exactly what `npm start` runs (package.json), so /proc/<pid> is the server itself
  const child = spawn(process.execPath, startArgs(heapMb), { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const kill = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  process.once('exit', kill);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server printed no URL within 60 s (log: ${logPath})`)), 60_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /Console: http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${child.exitCode ?? child.signalCode} (log: ${logPath}): ${readFileSync(logPath, 'utf8').slice(-1000)}`));
    });
  });
  return {
    pid: child.pid!,
    port,
    logPath,
    mem: () => memOf(child.pid!),
    async stop() {
      process.removeListener('exit', kill);
      await stopChild(child, exited, 15_000);
      log.end();
    },
  };
}

// ------------------------------------------------------------------------------------------------ measurements

