// Vitest global setup: find or start a MongoDB-wire server for the MongoDB suites
// and provide its URI to every test file as `inject('mongoUri')` ('' = no server).
//
// Resolution order:
//   1. MONGODB_URI (used as is; must answer `ping`)
//   2. `mongod` on PATH, started on a free loopback port with a temp dbpath
//   3. the FerretDB test server at .cache/bin/mongo-server (built first by
//      test/mongo-server/build.sh when `go` is on PATH and the binary is missing/stale)
// If none works: TIERBOT_REQUIRE_MONGO=1 -> throw (CI must never skip);
// otherwise provide '' and print one line saying the MongoDB suites are skipped.
//
// Test files choose their own database on that server: see test/setup/mongo.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
  }
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FERRET_DIR = path.join(REPO_ROOT, 'test/mongo-server');
const FERRET_BIN = path.join(REPO_ROOT, '.cache/bin/mongo-server');
const BUILD_SH = path.join(FERRET_DIR, 'build.sh');
const START_TIMEOUT_MS = 60_000;
const TAG = '[tierbot:mongo]';

interface Started {
  uri: string;
  label: string;
  stop: () => Promise<void>;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const required = process.env.TIERBOT_REQUIRE_MONGO === '1';
  const failures: string[] = [];
  let started: Started | null = null;

  const envUri = process.env.MONGODB_URI?.trim();
  if (envUri) {
    // An explicit URI is an explicit intent: never fall back to something else.
    try {
      await waitForPing(envUri, Date.now() + 15_000);
    } catch (err) {
      throw new Error(`${TAG} MONGODB_URI is set but the server does not answer ping: ${msg(err)}`);
    }
    started = { uri: envUri, label: 'MONGODB_URI', stop: async () => {} };
  }

  if (!started) {
    const mongod = findOnPath('mongod');
    if (mongod) {
      try {
        started = await startLocal('mongod', mongod, (port, dir) => [
          '--dbpath', dir, '--bind_ip', '127.0.0.1', '--port', String(port),
          '--nounixsocket', '--quiet', '--wiredTigerCacheSizeGB', '0.25',
          '--setParameter', 'diagnosticDataCollectionEnabled=false',
        ]);
      } catch (err) {
        failures.push(`mongod (${mongod}): ${msg(err)}`);
      }
    } else {
      failures.push('no mongod on PATH');
    }
  }

  if (!started) {
    try {
      const bin = ensureFerretBinary();
      started = await startLocal('FerretDB', bin, (port, dir) => [
        '-dir', dir, '-addr', `127.0.0.1:${port}`,
      ]);
    } catch (err) {
      failures.push(`FerretDB test server: ${msg(err)}`);
    }
  }

  if (!started) {
    if (required) {
      throw new Error(
        `${TAG} TIERBOT_REQUIRE_MONGO=1 but no MongoDB-wire server could be found or started.\n` +
          'Set MONGODB_URI, put mongod on PATH, or install Go >= 1.24 so `npm run mongo-server` can build ' +
          'the FerretDB test server. Tried:\n' +
          failures.map((f) => `  - ${f}`).join('\n'),
      );
    }
    const why = failures.map((f) => f.split('\n')[0]).join('; ');
    console.warn(
      `${TAG} MongoDB suites SKIPPED (${why}). Enable them with MONGODB_URI=mongodb://…, a mongod on PATH, ` +
        'or Go >= 1.24 installed (`npm run mongo-server`); set TIERBOT_REQUIRE_MONGO=1 to make this an error.',
    );
    project.provide('mongoUri', '');
    return async () => {};
  }

  console.log(`${TAG} MongoDB suites use ${started.label} at ${started.uri}`);
  project.provide('mongoUri', started.uri);
  const stop = started.stop;
  return async () => {
    await stop();
  };
}

// ---------------------------------------------------------------------------

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    if (isExecutable(p)) return p;
  }
  return null;
}

function sourcesHash(): string {
  const h = createHash('sha256');
  for (const f of ['main.go', 'go.mod', 'go.sum']) h.update(readFileSync(path.join(FERRET_DIR, f)));
  return h.digest('hex');
}

function isFresh(): boolean {
  try {
    return isExecutable(FERRET_BIN) && readFileSync(`${FERRET_BIN}.stamp`, 'utf8').trim() === sourcesHash();
  } catch {
    return false;
  }
}

/** Returns the FerretDB binary path, building it when possible; throws when unavailable. */
function ensureFerretBinary(): string {
  const haveBin = isExecutable(FERRET_BIN);
  if (haveBin && isFresh()) return FERRET_BIN;
  if (!findOnPath('go')) {
    if (haveBin) {
      console.warn(`${TAG} ${FERRET_BIN} may be stale (no \`go\` on PATH to rebuild it); using it anyway`);
      return FERRET_BIN;
    }
    throw new Error(`${FERRET_BIN} is missing and \`go\` is not on PATH to build it`);
  }
  console.log(`${TAG} building the FerretDB test server (test/mongo-server/build.sh; about a minute on first run)…`);
  const r = spawnSync('bash', [BUILD_SH], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0 || !isExecutable(FERRET_BIN)) {
    throw new Error(`build.sh failed (exit ${r.status ?? r.signal}): ${tail(`${r.stderr ?? ''}${r.error ? msg(r.error) : ''}`)}`);
  }
  return FERRET_BIN;
}

function tail(s: string, max = 2000): string {
  const t = s.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

async function startLocal(
  label: string,
  bin: string,
  args: (port: number, dataDir: string) => string[],
): Promise<Started> {
  let lastErr: unknown;
  // A few attempts: the free port can be taken between probing and binding.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tierbot-mongo-'));
    const port = await freePort();
    const uri = `mongodb://127.0.0.1:${port}/?directConnection=true`;
    let output = '';
    const child = spawn(bin, args(port, dataDir), { cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (b: Buffer) => {
      output = (output + b.toString('utf8')).slice(-8000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let deathReason: string | null = null;
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve((deathReason = `exited with ${code ?? signal}`)));
      child.once('error', (err) => resolve((deathReason = `failed to spawn: ${err.message}`)));
    });

    // Last-resort cleanup if the runner dies without calling the teardown.
    const onExit = () => {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    };
    process.once('exit', onExit);

    const stop = async () => {
      process.removeListener('exit', onExit);
      await killChild(child, exited);
      rmSync(dataDir, { recursive: true, force: true });
    };

    try {
      await waitForPing(uri, Date.now() + START_TIMEOUT_MS, () =>
        deathReason === null ? null : `${label} ${deathReason} before answering ping`,
      );
      return { uri, label: `${label} (pid ${child.pid}, data ${dataDir})`, stop };
    } catch (err) {
      const diedEarly = deathReason !== null;
      lastErr = new Error(`${msg(err)}${output ? `\n--- ${label} output ---\n${tail(output)}` : ''}`);
      await stop();
      if (!diedEarly) break; // alive but never answered: retrying won't help
    }
  }
  throw lastErr;
}

async function killChild(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function waitForPing(uri: string, deadline: number, dead: () => string | null = () => null): Promise<void> {
  let lastErr: unknown;
  while (Date.now() < deadline) {
    const why = dead();
    if (why) throw new Error(why);
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      lastErr = err;
    } finally {
      await client.close().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`no ping answer from ${uri}: ${msg(lastErr)}`);
}
