import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aes256CbcDecrypt,
  aes256CbcEncrypt,
  decodeBase64,
  pkcs7Pad,
  pkcs7Unpad,
} from '../../../src/platforms/shared/aes-cbc.ts';
import { safeEqual, safeEqualBytes } from '../../../src/platforms/shared/compare.ts';
import { STATUS_BY_REASON, VerificationError } from '../../../src/platforms/shared/errors.ts';
import { assertFresh, parseTimestamp, REPLAY_WINDOW_MS } from '../../../src/platforms/shared/replay-window.ts';
import { headerValue, parseJsonObject, queryValue, requiredQueryValue } from '../../../src/platforms/shared/request-input.ts';
import { expectRefused } from '../fixtures.ts';

describe('VerificationError', () => {
  it('takes its status from the reason', () => {
    expect(new VerificationError('malformed_body').status).toBe(400);
    expect(new VerificationError('bad_signature').status).toBe(401);
    expect(new VerificationError('decrypt_failed').status).toBe(401);
    expect(new VerificationError('stale_timestamp').status).toBe(403);
    expect(new VerificationError('wrong_receiver').status).toBe(403);
    expect(new Set(Object.values(STATUS_BY_REASON))).toEqual(new Set([400, 401, 403]));
  });
});

describe('constant-time compare', () => {
  it('compares strings and bytes, false on different lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('你好', '你好')).toBe(true);
    expect(safeEqualBytes(Buffer.from([1, 2]), Buffer.from([1, 2]))).toBe(true);
    expect(safeEqualBytes(Buffer.from([1, 2]), Buffer.from([1]))).toBe(false);
  });
});

describe('replay window', () => {
  const now = 1_700_000_000_000;
  it('accepts |now − ts| ≤ 1 h in seconds and in ms, both directions', () => {
    expect(assertFresh(String(now / 1000), 's', now)).toBe(now);
    expect(assertFresh(String((now - REPLAY_WINDOW_MS) / 1000), 's', now)).toBe(now - REPLAY_WINDOW_MS);
    expect(assertFresh(String(now + REPLAY_WINDOW_MS), 'ms', now)).toBe(now + REPLAY_WINDOW_MS);
  });
  it('rejects more than 1 h away with 403', () => {
    expectRefused(() => assertFresh(String(now - REPLAY_WINDOW_MS - 1), 'ms', now), 403, 'stale_timestamp');
    expectRefused(() => assertFresh(String((now + REPLAY_WINDOW_MS) / 1000 + 1), 's', now), 403, 'stale_timestamp');
  });
  it('a non-integer timestamp is malformed (400)', () => {
    for (const bad of ['', '12.5', '-1', '1e9', ' 1', '0x10', '12345678901234567']) {
      expectRefused(() => parseTimestamp(bad, 's'), 400, 'malformed_request');
    }
  });
});

describe('PKCS#7 with 16- and 32-byte blocks', () => {
  it('pads 1..block bytes, a full block when already aligned', () => {
    expect(pkcs7Pad(Buffer.alloc(31), 32).subarray(31)).toEqual(Buffer.from([1]));
    expect(pkcs7Pad(Buffer.alloc(32), 32)).toEqual(Buffer.concat([Buffer.alloc(32), Buffer.alloc(32, 32)]));
    expect(pkcs7Pad(Buffer.alloc(5), 16).length).toBe(16);
  });
  it('rejects bad padding instead of returning garbage', () => {
    const block = (last: number[]) => Buffer.concat([Buffer.alloc(32 - last.length, 7), Buffer.from(last)]);
    expectRefused(() => pkcs7Unpad(block([0]), 32), 401, 'decrypt_failed');
    expectRefused(() => pkcs7Unpad(block([33]), 32), 401, 'decrypt_failed');
    expectRefused(() => pkcs7Unpad(block([2, 3, 3]), 32), 401, 'decrypt_failed');
    expectRefused(() => pkcs7Unpad(Buffer.alloc(16, 16), 32), 401, 'decrypt_failed'); // not a 32-byte multiple
    expectRefused(() => pkcs7Unpad(Buffer.alloc(16, 17), 16), 401, 'decrypt_failed'); // 17 > 16
    expect(pkcs7Unpad(Buffer.alloc(32, 32), 32)).toEqual(Buffer.alloc(0));
  });
  it('round-trips for any bytes and both block sizes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(16, 32), (bytes, block) => {
        const padded = pkcs7Pad(bytes, block);
        expect(padded.length % block).toBe(0);
        expect(pkcs7Unpad(padded, block)).toEqual(Buffer.from(bytes));
      }),
    );
  });
});

describe('AES-256-CBC', () => {
  const key = randomBytes(32);
  const iv = randomBytes(16);
  it('with a 16-byte pad block matches node auto-padding', () => {
    const text = Buffer.from('hello world, 你好');
    const node = createCipheriv('aes-256-cbc', key, iv);
    const expected = Buffer.concat([node.update(text), node.final()]);
    expect(aes256CbcEncrypt(text, { key, iv, padBlock: 16 })).toEqual(expected);
    expect(aes256CbcDecrypt(expected, { key, iv, padBlock: 16 })).toEqual(text);
  });
  it('refuses ciphertext that is not whole blocks', () => {
    expectRefused(() => aes256CbcDecrypt(Buffer.alloc(15), { key, iv, padBlock: 16 }), 401, 'decrypt_failed');
    expectRefused(() => aes256CbcDecrypt(Buffer.alloc(0), { key, iv, padBlock: 32 }), 401, 'decrypt_failed');
  });
  it('throws on a wrong key size (a programming error, not a request error)', () => {
    expect(() => aes256CbcEncrypt(Buffer.alloc(1), { key: Buffer.alloc(16), iv, padBlock: 16 })).toThrow(RangeError);
  });
  it('strict base64', () => {
    expect(decodeBase64('aGk=', 'x')).toEqual(Buffer.from('hi'));
    for (const bad of ['', 'aGk', 'a Gk=', 'aGk=\n', 'a*k=']) expectRefused(() => decodeBase64(bad, 'x'), 400);
  });
});

describe('request input', () => {
  it('reads headers case-insensitively and refuses repeated values', () => {
    expect(headerValue({ 'x-a': '1' }, 'X-A')).toBe('1');
    expect(headerValue({ 'X-A': '1' }, 'x-a')).toBe('1');
    expect(headerValue({ 'x-a': ['1'] }, 'x-a')).toBe('1');
    expect(headerValue({}, 'x-a')).toBeUndefined();
    expectRefused(() => headerValue({ 'x-a': ['1', '2'] }, 'x-a'), 400, 'malformed_request');
  });
  it('reads the first present of alternative query names', () => {
    expect(queryValue({ timeStamp: '2' }, 'timestamp', 'timeStamp')).toBe('2');
    expectRefused(() => requiredQueryValue({ nonce: '' }, 'nonce'), 400, 'malformed_request');
  });
  it('parses only JSON objects', () => {
    expect(parseJsonObject('{"a":1}')).toEqual({ a: 1 });
    for (const bad of ['', '[]', 'null', '"x"', '{']) expectRefused(() => parseJsonObject(bad), 400, 'malformed_body');
  });
});
