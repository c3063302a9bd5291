// 1,000 cards to 50 members through the persistent Outbox + the WeCom messenger + the fake, under injected
// failures (10 % 5xx — half of them after WeCom did the work —, 45009/-1/45033, one token expiry, one hang).
// Each card arrives exactly once, in order per member, and no member ever gets more than WeCom's 30 per
// (scaled) minute: the excess would have been silently dropped by WeCom. Time runs 100× fast (a minute = 600 ms).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDocStore } from '../../../src/adapters/memory/doc-store.ts';
import { Outbox, type OutboxItem } from '../../../src/app/outbox.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import type { Messenger, Platform } from '../../../src/ports/messenger.ts';
import type { Fault } from '../../fakes/wecom.ts';
import { approvalCard, type Harness, noticeCard, startHarness } from './harness.ts';

const MEMBERS = Array.from({ length: 50 }, (_, i) => `user${String(i).padStart(2, '0')}`);
/** 10 busy members get 60 cards each (twice WeCom's per-minute limit), 40 get 10: 1,000 in all */
const countFor = (i: number) => (i < 10 ? 60 : 10);

/** A small deterministic PRNG, so a failing run can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ fake: { users: MEMBERS }, timeoutMs: 300 });
});
afterAll(async () => {
  await h?.close();
});

describe('WeCom: 1,000 messages through the outbox under failures', () => {
  // timing windows are scaled down for speed, so a stall of the shared test machine can bunch arrivals at
  // the fake: one retry separates such jitter from a limiter that is really missing (which fails every run)
  it('delivers each exactly once, in order per member, never over the per-member limit', { retry: 1, timeout: 20_000 }, async () => {
    const random = mulberry32(20261122);
    const injected = { before5xx: 0, after5xx: 0, codes: 0, hang: 0, expiry: 0 };
    h.fake.fault = ({ api, n }): Fault | undefined => {
      if (api !== 'message/send') return undefined;
      if (n === 137) return (injected.hang++, { hang: true, after: true });
      if (n === 300) {
        injected.expiry++;
        h.fake.expireToken(); // this and the following calls with the old token get 42001
        return undefined;
      }
      const x = random();
      if (x < 0.05) return (injected.before5xx++, { status: 502 });
      if (x < 0.1) return (injected.after5xx++, { status: 500, after: true });
      if (x < 0.12) return (injected.codes++, { errcode: 45009, errmsg: 'api freq out of limit' });
      if (x < 0.13) return (injected.codes++, { errcode: -1, errmsg: 'system busy' });
      if (x < 0.14) return (injected.codes++, { errcode: 45033, errmsg: 'api concurrent out of limit' });
      return undefined;
    };

    const docs = new MemoryDocStore();
    const outbox = new Outbox(docs, new Map<Platform, Messenger>([['wecom', h.wecom.messenger]]), systemClock, {
      concurrency: 16,
      baseBackoffMs: 10,
      maxBackoffMs: 200,
      maxAttempts: 25,
    });
    await outbox.init();

    const started = Date.now();
    let total = 0;
    for (let seq = 0; seq < 60; seq++) {
      for (let i = 0; i < MEMBERS.length; i++) {
        if (seq >= countFor(i)) continue;
        const member = MEMBERS[i];
        const tag = `${member}#${String(seq).padStart(2, '0')}`;
        // every third card is interactive (button_interaction with its own task_id), the rest text_notice
        const card = seq % 3 === 0 ? { ...approvalCard(`r${i}x${seq}`), title: tag } : noticeCard(tag);
        const { created } = await outbox.enqueue({ kind: 'load', recipient: { platform: 'wecom', kind: 'user', id: member }, card, subject: tag, period: 'p' });
        expect(created).toBe(true);
        total++;
      }
    }
    expect(total).toBe(1000);

    // drain() returns when nothing is *due*; items backing off are still pending
    while ((await docs.count('outbox', { status: 'pending' })) > 0) {
      expect(Date.now() - started, 'drained within 15 s').toBeLessThan(15_000);
      await outbox.drain(1000);
      await new Promise((r) => setTimeout(r, 5));
    }
    const elapsed = Date.now() - started;

    const items = await docs.find<OutboxItem>('outbox', {});
    expect(items.filter((i) => i.status !== 'sent').map((i) => `${i._id}: ${i.lastError}`)).toEqual([]);

    // exactly once, in order, per member
    for (let i = 0; i < MEMBERS.length; i++) {
      const titles = h.fake.deliveredTo(MEMBERS[i]).map((d) => d.body.template_card.main_title.title);
      const expected = Array.from({ length: countFor(i) }, (_, s) => `${MEMBERS[i]}#${String(s).padStart(2, '0')}`);
      expect(titles, MEMBERS[i]).toEqual(expected);
    }
    expect(h.fake.delivered).toHaveLength(1000);
    expect(h.fake.rateViolations).toEqual([]);
    expect(h.fake.problems).toEqual([]);

    // the failures really happened and were survived
    expect(injected.hang).toBe(1);
    expect(injected.expiry).toBe(1);
    expect(injected.before5xx + injected.after5xx).toBeGreaterThan(60);
    expect(injected.after5xx).toBeGreaterThan(20);
    expect(injected.codes).toBeGreaterThan(10);
    expect(h.fake.calls.filter((c) => c.errcode === 42001).length).toBeGreaterThanOrEqual(1);
    expect(h.fake.tokenCalls).toBe(2);
    const retried = items.filter((i) => i.attempts > 1).length;
    expect(retried).toBeGreaterThan(100);
    console.log(
      `[wecom load] 1000 delivered in ${elapsed} ms; ${h.fake.calls.filter((c) => c.api === 'message/send').length} message/send answers, ` +
        `${retried} items retried, injected ${JSON.stringify(injected)}`,
    );
  });
});
