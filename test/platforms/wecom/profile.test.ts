// WeCom's outbound profile: the errcode table (https://developer.work.weixin.qq.com/document/path/90313) and the
// limits (90236 and 90312 for app messages, 91770 for group robots).
import { describe, expect, it } from 'vitest';
import { classifyWecom, WECOM_RATE_LIMITS, wecomProfile, wecomRobotProfile } from '../../../src/platforms/wecom/profile.ts';

const ok200 = (body: object) => ({ status: 200, body });
const kindOf = (errcode: number, extra: object = {}) => classifyWecom(ok200({ errcode, errmsg: 'x', ...extra })).kind;

describe('classifyWecom', () => {
  it('0 is ok; a non-empty invalid list means the one recipient did not get it: give up with a clear reason', () => {
    expect(kindOf(0)).toBe('ok');
    expect(kindOf(0, { invaliduser: '' })).toBe('ok');
    const v = classifyWecom(ok200({ errcode: 0, errmsg: 'ok', invaliduser: 'lisi' }));
    expect(v).toMatchObject({ kind: 'give_up' });
    expect((v as { reason: string }).reason).toMatch(/invaliduser "lisi".*visible range/);
    expect(kindOf(0, { unlicenseduser: 'a' })).toBe('give_up');
  });

  it('40014 and 42001 refresh the token', () => {
    expect(kindOf(40014)).toBe('refresh_token');
    expect(kindOf(42001)).toBe('refresh_token');
  });

  it('-1, 45009 (≥ 60 s), 45033, 5xx, 429, network errors and non-JSON answers are retried', () => {
    expect(kindOf(-1)).toBe('retry');
    const limited = classifyWecom(ok200({ errcode: 45009, errmsg: 'api freq out of limit' }));
    expect(limited.kind).toBe('retry');
    expect((limited as { afterMs: number }).afterMs).toBeGreaterThanOrEqual(60_000);
    expect(kindOf(45033)).toBe('retry');
    expect(classifyWecom({ status: 502 }).kind).toBe('retry');
    expect(classifyWecom({ status: 429 }).kind).toBe('retry');
    expect(classifyWecom({ status: 200, body: undefined }).kind).toBe('retry');
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(classifyWecom({ error: refused }).kind).toBe('retry');
    expect(classifyWecom({ error: new DOMException('timed out', 'TimeoutError') }).kind).toBe('retry');
  });

  it('configuration and payload errors give up, naming what to fix', () => {
    for (const code of [40001, 81013, 60020, 48002, 42014, 45002, 42045, 93000, 40013, 41001]) expect(kindOf(code), String(code)).toBe('give_up');
    expect((classifyWecom(ok200({ errcode: 60020, errmsg: 'not allow to access from your ip' })) as { reason: string }).reason).toMatch(/trusted IP/);
    expect(kindOf(12345)).toBe('give_up'); // unknown codes are not retried blindly
    expect(classifyWecom({ status: 404 }).kind).toBe('give_up');
  });

  it('time scaling shortens the retry delay (tests)', () => {
    const v = classifyWecom(ok200({ errcode: 45009 }), 0.01);
    expect((v as { afterMs: number }).afterMs).toBeGreaterThanOrEqual(600);
    expect((v as { afterMs: number }).afterMs).toBeLessThan(1000);
  });
});

describe('limits', () => {
  it('per member 30/min and 1000/hour, app base limits, with windows no shorter than WeCom\'s', () => {
    const { limits } = wecomProfile();
    expect(limits).toEqual([
      { scope: 'recipient', max: 30, windowMs: expect.any(Number) },
      { scope: 'recipient', max: 1000, windowMs: expect.any(Number) },
      { scope: 'app', max: 10_000, windowMs: expect.any(Number) },
      { scope: 'app', max: 150_000, windowMs: expect.any(Number) },
    ]);
    expect(limits[0].windowMs).toBeGreaterThanOrEqual(60_000);
    expect(limits[1].windowMs).toBeGreaterThanOrEqual(3_600_000);
    // the shared limiter keys app windows by length: two app limits must not share one
    expect(new Set(limits.filter((l) => l.scope === 'app').map((l) => l.windowMs)).size).toBe(2);
  });

  it('the group robot has its own 20/min per key', () => {
    expect(wecomRobotProfile().limits).toEqual([{ scope: 'recipient', max: WECOM_RATE_LIMITS.robotPerMinute, windowMs: expect.any(Number) }]);
    expect(wecomRobotProfile().limits[0].windowMs).toBeGreaterThanOrEqual(60_000);
  });
});
