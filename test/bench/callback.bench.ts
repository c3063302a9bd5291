// Card-callback latency at a fixed 500 requests/s on loopback (goal: p99 < 50 ms), with autocannon in its own
// process (loadgen.ts) so it does not share the app's event loop. The real app (memory store) has an org of 220 users,
// 1,000 customers with orders and one recompute behind it (its alert cards delivered before measuring), and the
// outbox worker running. Clicks alternate `tier.ack` (an audit row) and `followup.claim` (a claim insert + an audit
// row) over 1,000 customers, each by the customer's owner, each with its own ref and event id:
//   1. POST /api/v1/console/action (the console messenger; the endpoint mints the event id);
//   2. POST /webhooks/feishu with Feishu's card.action.trigger, AES-encrypted and signed as Feishu sends it
//      (test/fakes/feishu.ts helpers; the app's Feishu settings point at the fake). BENCH_FEISHU=0 skips it.
// Latency is autocannon's, corrected for coordinated omission (a late answer delays the requests behind it).
// Run: npx tsx test/bench/callback.bench.ts   (CALLBACK_RATE, CALLBACK_SECONDS, CALLBACK_CONNECTIONS to change)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { cardActionEnvelope, encryptForFeishu, FakeFeishu, signForFeishu } from '../fakes/feishu.ts';
import {
  ADMIN_TOKEN,
  AS_OF,
  benchOrg,
  envFlag,
  loadStore,
  numOpt,
  OWNERS,
  progress,
  standalone,
  startBenchApp,
  type BenchOptions,
  type BenchResult,
} from './common.ts';
import type { LoadJob, LoadSummary } from './loadgen.ts';

const FEISHU = {
  appId: 'cli_bench0123456789ab',
  appSecret: 'bench-app-secret',
  encryptKey: 'bench-encrypt-key',
  verificationToken: 'bench-verification-token',
};
const CUSTOMERS = 1000;

/** Runs one autocannon job in a child process and returns its summary. */
export async function callbackLoad(job: LoadJob): Promise<LoadSummary> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./loadgen.ts', import.meta.url))], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<LoadSummary>((resolve, reject) => {
    let settled = false;
    child.once('message', (m: { ok: boolean; summary?: LoadSummary; error?: string }) => {
      settled = true;
      if (m.ok) resolve(m.summary!);
      else reject(new Error(`load generator: ${m.error}`));
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`load generator exited with ${code} before answering`));
    });
    child.once('error', reject);
    child.send(job);
  });
}

export async function run(opts: BenchOptions = {}): Promise<BenchResult> {
  const rate = numOpt(opts, 'rate', 'CALLBACK_RATE', 500);
  const seconds = numOpt(opts, 'seconds', 'CALLBACK_SECONDS', 10);
  const connections = numOpt(opts, 'connections', 'CALLBACK_CONNECTIONS', 20);
  const withFeishu = opts.feishu !== undefined ? Boolean(opts.feishu) : process.env.BENCH_FEISHU === undefined || envFlag('BENCH_FEISHU');

  const fake = await new FakeFeishu({ appId: FEISHU.appId, appSecret: FEISHU.appSecret }).start();
  const store = new MemoryStore();
  const app = await startBenchApp(store, {
    env: {
      FEISHU_APP_ID: FEISHU.appId,
      FEISHU_APP_SECRET: FEISHU.appSecret,
      FEISHU_ENCRYPT_KEY: FEISHU.encryptKey,
      FEISHU_VERIFICATION_TOKEN: FEISHU.verificationToken,
      FEISHU_DOMAIN: fake.url,
      FEISHU_MODE: 'webhook',
    },
  });
  const out: BenchResult = { rate, seconds, connections };
  try {
    progress('callback: seeding org, 1,000 customers, a recompute and its alert cards…');
    await store.putOrg(benchOrg());
    await loadStore(store, CUSTOMERS);
    await app.bot.chat.start(); // the outbox worker, as in production
    const first = await app.bot.recomputer.start(AS_OF).done;
    out.alertsQueued = (await app.bot.chat.outbox.list('pending', 5000)).length;
    await app.bot.chat.outbox.drain(120_000);
    out.atRisk = first.counts.atRisk;

    // one ref per (customer, action), as the cards would carry
    const clicks: { customer: number; action: string; ref: string }[] = [];
    for (let c = 0; c < CUSTOMERS; c++) {
      for (const action of ['tier.ack', 'followup.claim']) {
        const kind = action === 'tier.ack' ? 'tier' : 'alert';
        clicks.push({ customer: c, action, ref: await app.bot.chat.bot.mintRef({ kind, customerId: `c${String(c).padStart(8, '0')}`, audience: [] }) });
      }
    }
    const total = Math.ceil(rate * seconds * 1.2) + 100;
    const pick = (i: number) => clicks[i % clicks.length];

    const consoleRequests = Array.from({ length: clicks.length }, (_, i) => {
      const k = pick(i);
      return {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ as: `u-${k.customer % OWNERS}`, action: k.action, ref: k.ref, values: {} }),
      };
    });
    const job = (path: string, requests: LoadJob['requests'], r = rate, s = seconds): LoadJob => ({ url: app.url, path, connections, overallRate: r, duration: s, requests });

    // every click must do its work (not end in a "stale card" or "unknown user" toast)
    for (const r of consoleRequests.slice(0, 2)) {
      const res = await app.api('/api/v1/console/action', { method: 'POST', headers: { 'content-type': 'application/json' }, body: r.body });
      if (res.status !== 200 || res.body?.toast?.kind !== 'success') throw new Error(`console click answered ${res.status} ${JSON.stringify(res.body)}`);
    }

    progress('callback: warm-up…');
    await callbackLoad(job('/api/v1/console/action', consoleRequests, 200, 3));
    progress(`callback: console action at ${rate}/s for ${seconds} s…`);
    const con = await callbackLoad(job('/api/v1/console/action', consoleRequests));
    for (const [k, v] of Object.entries(con)) out[`console.${k}`] = v;

    if (withFeishu) {
      const feishuRequests = (n: number) =>
        Array.from({ length: n }, (_, i) => {
          const k = pick(i);
          const payload = cardActionEnvelope({
            appId: FEISHU.appId,
            verificationToken: FEISHU.verificationToken,
            eventId: randomBytes(16).toString('hex'),
            openId: `ou_rep${k.customer % OWNERS}`,
            value: { k: k.action, r: k.ref },
          });
          const body = JSON.stringify({ encrypt: encryptForFeishu(FEISHU.encryptKey, JSON.stringify(payload)) });
          const ts = String(Math.floor(Date.now() / 1000));
          const nonce = randomBytes(8).toString('hex');
          return {
            headers: {
              'content-type': 'application/json; charset=utf-8',
              'x-lark-request-timestamp': ts,
              'x-lark-request-nonce': nonce,
              'x-lark-signature': signForFeishu(ts, nonce, FEISHU.encryptKey, body),
            },
            body,
          };
        });
      for (const r of feishuRequests(2)) {
        const res = await fetch(`${app.url}/webhooks/feishu`, { method: 'POST', headers: r.headers, body: r.body });
        const body = (await res.json()) as { toast?: { type: string } };
        if (res.status !== 200 || body.toast?.type !== 'success') throw new Error(`Feishu click answered ${res.status} ${JSON.stringify(body)}`);
      }
      progress('callback: Feishu webhook warm-up…');
      await callbackLoad(job('/webhooks/feishu', feishuRequests(1000), 200, 3));
      progress(`callback: Feishu card.action.trigger at ${rate}/s for ${seconds} s…`);
      const fs = await callbackLoad(job('/webhooks/feishu', feishuRequests(total)));
      for (const [k, v] of Object.entries(fs)) out[`feishu.${k}`] = v;
    }
    out.target = 'p99 < 50 ms';
    return out;
  } finally {
    await app.close();
    await fake.close();
  }
}

standalone(import.meta.url, run);
