// 1,000 cards to 50 recipients through Outbox + the Feishu module's messenger + the fake, under injected
// failures: each is delivered exactly once, in order per recipient, and the fake never sees more than Feishu's
// limits in any window. Time runs 10× faster for the limiter (a dilated Timer, as PlatformDeps.timer would pass), so
// Feishu's real limits (50/s, 1000/min per app; 5/s per recipient) are checked in 100 ms / 6 s real windows.
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../../src/app/outbox.ts';
import { MemoryDocStore } from '../../../src/adapters/memory/doc-store.ts';
import { FeishuMessenger, feishuUuid } from '../../../src/platforms/feishu/messenger.ts';
import { feishuProfile } from '../../../src/platforms/feishu/profile.ts';
import type { Timer } from '../../../src/platforms/shared/outbound.ts';
import type { Recipient } from '../../../src/ports/messenger.ts';
import { FakeFeishu, maxInWindow, type Fault } from '../../fakes/feishu.ts';
import { APP_ID, APP_SECRET, feishuEnv, silentLog, testCard } from './helpers.ts';

const SCALE = 10;
const MESSAGES = 1000;
const PER_RECIPIENT = 20;
/**
 * Feishu's limits as they are (same maxima and windows) but a wider safety margin on each window. The profile's
 * 100 ms margin absorbs the delay between our limiter granting a call and Feishu counting it. Here time runs 10×
 * faster, and client, outbox and fake share one process (and the CPU with other test files), whose scheduling
 * delays reach a few hundred ms under load; 3 s of margin is 300 ms of real time.
 */
const JITTER_MARGIN_MS = 3000;
const testProfile = { ...feishuProfile, limits: feishuProfile.limits.map((l) => ({ ...l, windowMs: l.windowMs + JITTER_MARGIN_MS })) };

function dilatedTimer(scale: number): Timer {
  const t0 = performance.now();
  return {
    now: () => (performance.now() - t0) * scale,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(1, ms / scale))),
  };
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Feishu delivery under load and injected failures', () => {
  // timing windows are scaled down for speed, so a stall of the shared test machine can bunch arrivals at
  // the fake: one retry separates such jitter from a limiter that is really missing (which fails every run)
  it('1,000 messages to 50 recipients: exactly once, in order, within the rate limits', { retry: 1, timeout: 25_000 }, async () => {
    const fake = await new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET }).start();
    try {
      const random = prng(20260630);
      let creates = 0;
      fake.injector = (call): Fault | null => {
        if (call.kind !== 'create') return null;
        creates++;
        if (creates === 150) return { kind: 'token_expired' };
        if (creates === 400) return { kind: 'hang', process: true }; // created, but the answer never comes
        const r = random();
        if (r < 0.1) return { kind: 'http_5xx', status: r < 0.05 ? 500 : 503 };
        if (r < 0.12) return { kind: 'rate_limit', resetS: 1 };
        if (r < 0.14) return { kind: 'im_rate_limit' };
        return null;
      };

      const messenger = new FeishuMessenger({ env: feishuEnv(fake.url), log: silentLog, timer: dilatedTimer(SCALE), profile: testProfile });
      const outbox = new Outbox(new MemoryDocStore(), new Map([['feishu', messenger]]), { now: () => Date.now() }, {
        concurrency: 8,
        baseBackoffMs: 20,
        maxBackoffMs: 200,
        maxAttempts: 10,
      });
      await outbox.init();

      const recipients: Recipient[] = Array.from({ length: MESSAGES / PER_RECIPIENT }, (_, i) =>
        i < 45 ? { platform: 'feishu', kind: 'user', id: `ou_user${String(i).padStart(2, '0')}` } : { platform: 'feishu', kind: 'chat', id: `oc_team${i}` },
      );
      const ids: string[] = [];
      for (let n = 0; n < MESSAGES; n++) {
        const to = recipients[n % recipients.length];
        const k = Math.floor(n / recipients.length);
        const { id, created } = await outbox.enqueue({ kind: 'churn_alert', recipient: to, card: testCard(`${to.id}#${k}`), subject: `c-${n}`, period: '2026-06-30' });
        expect(created).toBe(true);
        ids.push(id);
      }

      // An app that has been running holds a token already. (A cold fetch happens after the limiter has granted the
      // first calls, and its latency would count against the margin; see the report on Outbound.call.)
      await messenger.outbound.tokens!.get();

      const started = performance.now();
      // drain() returns when nothing is due; an item waiting out a rate-limit reset is still pending
      while ((await outbox.list('pending', 1)).length > 0 && performance.now() - started < 18_000) {
        await outbox.drain(18_000);
        await new Promise((r) => setTimeout(r, 20));
      }
      const elapsed = performance.now() - started;

      // every outbox item sent, none dead
      expect(await outbox.list('dead')).toEqual([]);
      expect(await outbox.list('pending')).toEqual([]);
      expect(fake.invalid).toEqual([]);

      // exactly once: one message per idempotency key, with that key's content
      expect(fake.messages).toHaveLength(MESSAGES);
      expect(new Set(fake.messages.map((m) => m.uuid)).size).toBe(MESSAGES);
      const byUuid = new Map(fake.messages.map((m) => [m.uuid, m]));
      for (const id of ids) {
        const item = (await outbox.get(id))!;
        const msg = byUuid.get(feishuUuid(id))!;
        const card = (typeof item.card === 'string' ? JSON.parse(item.card) : item.card) as { title: string };
        expect(msg.card.header.title.content).toBe(card.title);
        expect(item.sent?.messageId).toBe(msg.messageId);
      }

      // in order per recipient
      for (const to of recipients) {
        const titles = fake.messagesTo(to.id).map((m) => m.card.header.title.content);
        expect(titles).toEqual(Array.from({ length: PER_RECIPIENT }, (_, k) => `${to.id}#${k}`));
        expect(fake.messagesTo(to.id)[0].receiveIdType).toBe(to.kind === 'chat' ? 'chat_id' : 'open_id');
      }

      // the failures did happen, and were recovered from
      const faults = fake.calls.filter((c) => c.fault).map((c) => c.fault);
      expect(faults.filter((f) => f === 'http_5xx').length).toBeGreaterThan(50);
      expect(faults).toContain('rate_limit');
      expect(faults).toContain('im_rate_limit');
      expect(faults).toContain('token_expired');
      expect(faults).toContain('hang');
      expect(fake.tokensIssued).toHaveLength(2);

      // never more than Feishu's limits in any window (every request counts, failed ones too)
      const api = fake.calls.filter((c) => c.kind === 'create' || c.kind === 'patch');
      const second = 1000 / SCALE;
      const minute = 60_000 / SCALE;
      expect(maxInWindow(api.map((c) => c.at), second)).toBeLessThanOrEqual(50);
      expect(maxInWindow(api.map((c) => c.at), minute)).toBeLessThanOrEqual(1000);
      const perTarget = new Map<string, number[]>();
      for (const c of api) perTarget.set(c.target!, [...(perTarget.get(c.target!) ?? []), c.at]);
      expect(Math.max(...[...perTarget.values()].map((t) => maxInWindow(t, second)))).toBeLessThanOrEqual(5);
      // and the limiter was the bottleneck: ~1,100 requests need more than one (scaled) minute
      expect(api.length).toBeGreaterThan(1000);
      expect(elapsed).toBeGreaterThan(minute);
      console.log(`feishu load: ${api.length} API calls, ${faults.length} injected faults, ${Math.round(elapsed)} ms`);
    } finally {
      await fake.close();
    }
  });
});
