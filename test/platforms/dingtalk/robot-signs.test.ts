// Single-use robot signatures: the claim is insert-wins on the shared store, and old claims are deleted in
// app code once no replay could use them (the window refuses their timestamp, plus one window of clock skew).
import { describe, expect, it } from 'vitest';
import { MemoryDocStore } from '../../../src/adapters/memory/doc-store.ts';
import { dingtalkRobotSign, ROBOT_SIGN_WINDOW_MS, type RobotSignature } from '../../../src/platforms/dingtalk/crypto.ts';
import { ROBOT_SIGN_COLLECTION, RobotSignClaims } from '../../../src/platforms/dingtalk/robot-signs.ts';

const W = ROBOT_SIGN_WINDOW_MS;
const T0 = 1_700_000_000_000;

function clockAt(ms: number) {
  return {
    ms,
    now() {
      return this.ms;
    },
  };
}

const sig = (ts: number): RobotSignature => ({ timestamp: String(ts), sign: dingtalkRobotSign(String(ts), 'app-secret'), timestampMs: ts });

describe('RobotSignClaims', () => {
  it('accepts a pair once, also across two instances sharing the store', async () => {
    const docs = new MemoryDocStore();
    const clock = clockAt(T0);
    const a = new RobotSignClaims(docs, clock);
    const b = new RobotSignClaims(docs, clock);
    expect(await Promise.all([a.claim(sig(T0)), b.claim(sig(T0))])).toEqual([true, false]);
    expect(await a.claim(sig(T0))).toBe(false);
    expect(await b.claim(sig(T0 + 1))).toBe(true);
    await Promise.all([a.idle(), b.idle()]);
  });

  it('keeps a claim while a replay could pass the window on any instance, then deletes it', async () => {
    const docs = new MemoryDocStore();
    const clock = clockAt(T0);
    const claims = new RobotSignClaims(docs, clock);
    expect(await claims.claim(sig(T0))).toBe(true);
    await claims.idle();
    clock.ms = T0 + 2 * W; // the window refuses T0 since T0 + W; one more window for another instance's clock
    expect(await claims.sweep()).toBe(0);
    expect(await claims.claim(sig(T0))).toBe(false);
    clock.ms = T0 + 2 * W + 1;
    expect(await claims.sweep()).toBe(1);
    expect(await docs.count(ROBOT_SIGN_COLLECTION, {})).toBe(0);
  });

  it('claims sweep in the background at most once per window, in batches, leaving live claims', async () => {
    const docs = new MemoryDocStore();
    const clock = clockAt(T0);
    const claims = new RobotSignClaims(docs, clock, { batch: 2 });
    for (let i = 0; i < 5; i++) expect(await claims.claim(sig(T0 + i))).toBe(true);
    await claims.idle();
    expect(await docs.count(ROBOT_SIGN_COLLECTION, {})).toBe(5);

    clock.ms = T0 + 3 * W;
    expect(await claims.claim(sig(clock.ms))).toBe(true); // starts a sweep: more than a window since the last
    await claims.idle();
    expect((await docs.find(ROBOT_SIGN_COLLECTION, {})).map((d) => d._id)).toEqual([`${clock.ms}:${sig(clock.ms).sign}`]);

    clock.ms += 1;
    await claims.claim(sig(T0 - 10 * W)); // a stale pair cannot get here through the route; no sweep within the window
    await claims.idle();
    expect(await docs.count(ROBOT_SIGN_COLLECTION, {})).toBe(2);
  });
});
