// A tierbot server as its own process (the `npm start` path), for tests that SIGKILL it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A config dir: the repository's policy, a schedule without quiet hours and with small batches. */
export function configDir(batchSize: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tierbot-crash-config-'));
  copyFileSync(path.join(REPO, 'config/policy.yaml'), path.join(dir, 'policy.yaml'));
  writeFileSync(path.join(dir, 'schedule.yaml'), `quietHours: null\nrecomputeBatchSize: ${batchSize}\n`);
  return dir;
}

export class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** the last lines the server wrote to stderr/stdout, for failure messages */
  readonly output: string[] = [];
  starts = 0;
  kills = 0;
  readonly url: string;

  constructor(
    private readonly port: number,
    private readonly env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('already running');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(this.port), LOG_LEVEL: 'warn', TIERBOT_DEMO: '0', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    const keep = (b: Buffer) => {
      this.output.push(...b.toString('utf8').split('\n').filter(Boolean));
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => {
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.child !== child) throw new Error(`the server exited during start-up:\n${this.output.slice(-30).join('\n')}`);
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the server did not answer /healthz within 60 s:\n${this.output.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** kill -9: no shutdown hook runs */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.kills++;
    child.kill('SIGKILL');
    await this.exited;
    this.child = null;
  }

  /** SIGTERM and wait */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    await this.exited;
    this.child = null;
  }
}
