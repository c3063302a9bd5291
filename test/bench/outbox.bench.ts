// Outbox delivery throughput: 10,000 cards to 200 recipients (180 users, 20 team chats; 50 each) through the real
// Outbox (memory doc store) and the real Feishu messenger (Lark SDK, token cache, rate limiter, card rendering)
// against the fake Feishu open platform on loopback (test/fakes/feishu.ts).
//   a. limits off (a profile with huge limits, the limiter still in the path): messages/s;
//   b. Feishu's real limits (50/s and 1,000/min per app, 5/s per recipient, plus our 100 ms margins): the wall time.
//      10,000 cards need at least 9 full minutes at 1,000/min, so by default 1,000 cards are measured (5 per
//      recipient) and the 10,000-card time is the limit-bound estimate; BENCH_FULL=1 measures the 10,000 (~10 min).
// Every card must reach the fake exactly once (checked).
// Run: npx tsx test/bench/outbox.bench.ts
import type { Card } from '../../cards/model.ts';
import { MemoryDocStore } from '../../src/adapters/memory/doc-store.ts';
import { Outbox } from '../../src/app/outbox.ts';
import { loadEnv } from '../../src/config/env.ts';
import { createLogger } from '../../src/logger.ts';
import { FeishuMessenger } from '../../src/platforms/feishu/messenger.ts';
import { feishuProfile } from '../../src/platforms/feishu/profile.ts';
import type { PlatformProfile, RateLimit } from '../../src/platforms/shared/outbound.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Recipient } from '../../src/ports/messenger.ts';
import { FakeFeishu } from '../fakes/feishu.ts';
import { envFlag, numOpt, perSec, progress, round, standalone, type BenchOptions, type BenchResult } from './common.ts';

const APP_ID = 'cli_bench0123456789ab';
const APP_SECRET = 'bench-app-secret';
const RECIPIENTS = 200;

function card(title: string, ref: string): Card {
  return {
    kind: 'churn_alert',
    locale: 'zh-CN',
    title,
    tone: 'warning',
    summary: title,
    blocks: [
      { type: 'text', text: '**上海鼎盛科技有限公司** 已 45 天未下单，平均下单间隔 21 天。' },
      { type: 'fields', fields: [{ label: '等级', value: 'A 高价值客户' }, { label: '风险', value: '高', tone: 'danger' }, { label: '负责人', value: '张三' }] },
    ],
    actions: [
      { type: 'callback', key: 'followup.claim', label: '认领跟进', style: 'primary', ref },
      { type: 'callback', key: 'alert.snooze', label: '暂停 7 天', ref },
      { type: 'link', key: 'console.open', label: '查看客户', url: 'http://127.0.0.1:3000/console/customers/c-1' },
    ],
    url: 'http://127.0.0.1:3000/console/customers/c-1',
  };
}

const recipients: Recipient[] = Array.from({ length: RECIPIENTS }, (_, i) =>
  i < 180 ? { platform: 'feishu', kind: 'user', id: `ou_user${String(i).padStart(3, '0')}` } : { platform: 'feishu', kind: 'chat', id: `oc_team${i}` },
);

/** Enqueues `messages` cards round-robin over the recipients and delivers them all; times in ms. */
async function deliver(messages: number, profile: PlatformProfile) {
  const fake = await new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET }).start();
  try {
    const env = loadEnv({ FEISHU_APP_ID: APP_ID, FEISHU_APP_SECRET: APP_SECRET, FEISHU_DOMAIN: fake.url, FEISHU_ENCRYPT_KEY: 'bench-encrypt-key', PLATFORM_TIMEOUT_MS: '5000', LOG_LEVEL: 'silent' });
    const messenger = new FeishuMessenger({ env, log: createLogger('silent'), profile });
    const outbox = new Outbox(new MemoryDocStore(), new Map([['feishu', messenger]]), systemClock);
    await outbox.init();
    const t0 = performance.now();
    for (let n = 0; n < messages; n++) {
      const to = recipients[n % RECIPIENTS];
      const k = Math.floor(n / RECIPIENTS);
      const { created } = await outbox.enqueue({ kind: 'churn_alert', recipient: to, card: card(`${to.id}#${k}`, `ref-${n}`), subject: `c-${n}`, period: '2026-06-30' });
      if (!created) throw new Error('duplicate enqueue');
    }
    const enqueueMs = performance.now() - t0;
    await messenger.outbound.tokens!.get(); // a running app holds a token already
    const t1 = performance.now();
    while ((await outbox.list('pending', 1)).length > 0) {
      await outbox.drain(60_000);
      await new Promise((r) => setTimeout(r, 10));
    }
    const deliverMs = performance.now() - t1;
    const dead = (await outbox.list('dead', 10)).length;
    if (dead > 0 || fake.messages.length !== messages || fake.invalid.length > 0) {
      throw new Error(`delivered ${fake.messages.length} of ${messages}, ${dead} dead, ${fake.invalid.length} refused by the fake`);
    }
    const api = fake.calls.filter((c) => c.kind === 'create').length;
    return { enqueueMs, deliverMs, apiCalls: api };
  } finally {
    await fake.close();
  }
}

/**
 * Earliest time the n-th of `messages` calls can leave under sliding-window limits (calls round-robin over
 * `recipients`): t[i] = max(t[i-1], t[i-max] + window) for app limits, t[i-max·recipients] + window per recipient.
 */
export function limitBoundMs(messages: number, limits: RateLimit[], recipientCount: number): number {
  const t = new Float64Array(messages);
  for (let i = 1; i < messages; i++) {
    let at = t[i - 1];
    for (const l of limits) {
      const back = l.scope === 'app' ? l.max : l.max * recipientCount;
      if (i - back >= 0) at = Math.max(at, t[i - back] + l.windowMs);
    }
    t[i] = at;
  }
  return t[messages - 1];
}

export async function run(opts: BenchOptions = {}): Promise<BenchResult> {
  const messages = numOpt(opts, 'messages', 'OUTBOX_MESSAGES', 10_000);
  const full = opts.full !== undefined ? Boolean(opts.full) : envFlag('BENCH_FULL');
  const limited = full ? messages : numOpt(opts, 'limitedMessages', 'OUTBOX_LIMITED_MESSAGES', 1000);
  const out: BenchResult = { recipients: RECIPIENTS };

  const huge: PlatformProfile = {
    ...feishuProfile,
    limits: [
      { scope: 'app', max: 1e9, windowMs: 1000 },
      { scope: 'recipient', max: 1e9, windowMs: 1000 },
    ],
  };
  progress(`outbox: ${messages.toLocaleString('en-US')} cards, limits off…`);
  const free = await deliver(messages, huge);
  out['unlimited.messages'] = messages;
  out['unlimited.enqueuePerSec'] = perSec(messages, free.enqueueMs);
  out['unlimited.deliverS'] = round(free.deliverMs / 1000, 2);
  out['unlimited.messagesPerSec'] = perSec(messages, free.deliverMs);

  progress(`outbox: ${limited.toLocaleString('en-US')} cards with Feishu's real limits${full ? ' (BENCH_FULL, ~10 min)' : ''}…`);
  const real = await deliver(limited, feishuProfile);
  out['limited.messages'] = limited;
  out['limited.deliverS'] = round(real.deliverMs / 1000, 1);
  out['limited.messagesPerSec'] = round(limited / (real.deliverMs / 1000), 1);
  out['limited.boundS'] = round(limitBoundMs(limited, feishuProfile.limits, RECIPIENTS) / 1000, 1);
  out['limited.estimateMessages'] = messages;
  out['limited.estimateS'] = round(limitBoundMs(messages, feishuProfile.limits, RECIPIENTS) / 1000, 1);
  out['limited.measuredAll'] = full ? 'yes' : `no (BENCH_FULL=1 measures ${messages.toLocaleString('en-US')})`;
  return out;
}

standalone(import.meta.url, run);
