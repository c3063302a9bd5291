import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createDingtalkCallbackCrypto,
  dingtalkRobotSign,
  ROBOT_SIGN_WINDOW_MS,
  verifyDingtalkRobotRequest,
} from '../../../src/platforms/dingtalk/crypto.ts';
import { PlatformConfigError } from '../../../src/platforms/shared/errors.ts';
import { expectRefused, fixtureJson } from '../fixtures.ts';

const V = fixtureJson('dingtalk', 'vectors.json').callback;
const config = { token: V.token, aesKey: V.aesKey, clientId: V.ownerKey };
const dt = createDingtalkCallbackCrypto(config);
const vectorQuery = { signature: V.signature, timestamp: V.timestamp, nonce: V.nonce };
const vectorBody = JSON.stringify({ encrypt: V.encrypt });
const VECTOR_NOW = Number(V.timestamp);

/** A callback signed and encrypted as DingTalk sends it. */
function deliver(event: object, nowMs: number, ownerKey = V.ownerKey) {
  const sender = createDingtalkCallbackCrypto({ ...config, clientId: ownerKey });
  const timestamp = String(nowMs);
  const encrypt = sender.encrypt(JSON.stringify(event));
  const query = { signature: sender.signature(timestamp, 'n0nce', encrypt), timestamp, nonce: 'n0nce' };
  return { query, body: JSON.stringify({ encrypt }) };
}

describe('DingTalk official callback vector (DingCallbackCrypto3.py)', () => {
  it('signature = sha1(sorted token, timestamp, nonce, encrypt)', () => {
    expect(dt.signature(V.timestamp, V.nonce, V.encrypt)).toBe(V.signature);
  });

  it('decrypts to {"EventType":"check_url"} with owner key ding6ccabc44d2c8d38b', () => {
    expect(dt.decrypt(V.encrypt)).toBe(V.plaintext);
  });

  it('openCallback answers check_url', () => {
    expect(dt.openCallback(vectorQuery, vectorBody, VECTOR_NOW)).toEqual({ kind: 'check_url' });
  });

  it('check_url is answered even when its timestamp is years old (handshakes have no replay window)', () => {
    expect(dt.openCallback(vectorQuery, vectorBody, Date.UTC(2030, 0, 1))).toEqual({ kind: 'check_url' });
  });

  it('accepts the older parameter spellings msg_signature and timeStamp', () => {
    const query = { msg_signature: V.signature, timeStamp: V.timestamp, nonce: V.nonce };
    expect(dt.openCallback(query, vectorBody, VECTOR_NOW)).toEqual({ kind: 'check_url' });
  });

  it('the encrypted "success" response round-trips and is signed over its own timestamp and nonce', () => {
    const res = dt.successResponse({ nowMs: 1_700_000_000_123, nonce: 'abc' });
    expect(res.timeStamp).toBe('1700000000123');
    expect(res.nonce).toBe('abc');
    expect(res.msg_signature).toBe(dt.signature(res.timeStamp, res.nonce, res.encrypt));
    expect(dt.decrypt(res.encrypt)).toBe('success');
    expect(Object.keys(res).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
  });
});

describe('DingTalk callback refusals and events', () => {
  const now = 1_700_000_000_000;
  const event = { EventType: 'user_add_org', TimeStamp: '1700000000000', CorpId: 'ding6ccabc44d2c8d38b', UserId: ['u1'] };

  it('an event within the window is returned with a content-derived id, stable across re-encryption', () => {
    const first = deliver(event, now);
    const result = dt.openCallback(first.query, first.body, now);
    expect(result).toMatchObject({ kind: 'event', eventType: 'user_add_org', body: event });
    const again = deliver(event, now);
    expect(again.body).not.toBe(first.body);
    expect(dt.openCallback(again.query, again.body, now)).toMatchObject({ eventId: (result as { eventId: string }).eventId });
    const withId = deliver({ ...event, EventId: 'ev-1' }, now);
    expect(dt.openCallback(withId.query, withId.body, now)).toMatchObject({ eventId: 'ev-1' });
  });

  it('bad signature → 401', () => {
    expectRefused(() => dt.openCallback({ ...vectorQuery, nonce: 'other' }, vectorBody, VECTOR_NOW), 401, 'bad_signature');
    const other = createDingtalkCallbackCrypto({ ...config, token: 'not-mryue' });
    expectRefused(() => other.openCallback(vectorQuery, vectorBody, VECTOR_NOW), 401, 'bad_signature');
  });

  it('stale event (> 1 h; timestamps in ms) → 403', () => {
    const { query, body } = deliver(event, now);
    expect(dt.openCallback(query, body, now + 3_600_000).kind).toBe('event');
    expectRefused(() => dt.openCallback(query, body, now + 3_600_001), 403, 'stale_timestamp');
  });

  it('owner key other than our AppKey (clientId) → 403', () => {
    const other = createDingtalkCallbackCrypto({ ...config, clientId: 'dingOTHERAPPKEY' });
    expectRefused(() => other.openCallback(vectorQuery, vectorBody, VECTOR_NOW), 403, 'wrong_receiver');
    const { query, body } = deliver(event, now, 'ding_corp_id_not_app_key');
    expectRefused(() => dt.openCallback(query, body, now), 403, 'wrong_receiver');
  });

  it('malformed requests → 400', () => {
    expectRefused(() => dt.openCallback({ timestamp: V.timestamp, nonce: V.nonce }, vectorBody, VECTOR_NOW), 400, 'malformed_request');
    expectRefused(() => dt.openCallback(vectorQuery, 'encrypt=abc', VECTOR_NOW), 400, 'malformed_body');
    expectRefused(() => dt.openCallback(vectorQuery, '{"encrypt":""}', VECTOR_NOW), 400, 'malformed_body');
    expectRefused(() => dt.openCallback(vectorQuery, '{"encrypt":7}', VECTOR_NOW), 400, 'malformed_body');
    const noType = deliver({ hello: 'world' }, now);
    expectRefused(() => dt.openCallback(noType.query, noType.body, now), 400, 'malformed_body');
  });

  it('tampered ciphertext or padding → VerificationError, never a crash', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (pos, flip) => {
        const bytes = Buffer.from(V.encrypt, 'base64');
        bytes[pos % bytes.length] ^= flip;
        const encrypt = bytes.toString('base64');
        const query = { ...vectorQuery, signature: dt.signature(V.timestamp, V.nonce, encrypt) };
        try {
          dt.openCallback(query, JSON.stringify({ encrypt }), VECTOR_NOW);
        } catch (e) {
          expect((e as { status?: number }).status).toBeOneOf([400, 401, 403]);
        }
      }),
    );
    const bytes = Buffer.from(V.encrypt, 'base64');
    bytes[bytes.length - 1] ^= 0x01;
    expectRefused(() => dt.decrypt(bytes.toString('base64')), 401, 'decrypt_failed');
  });

  it('refuses to build with a malformed aes key', () => {
    expect(() => createDingtalkCallbackCrypto({ ...config, aesKey: 'short' })).toThrow(PlatformConfigError);
    expect(() => createDingtalkCallbackCrypto({ ...config, clientId: '' })).toThrow(/ownerKey/);
  });
});

describe('DingTalk round trip (property)', () => {
  const chinese = fc.string({ unit: fc.integer({ min: 0x4e00, max: 0x9fff }).map((c) => String.fromCharCode(c)) });
  it('encrypt → decrypt for random UTF-8, including Chinese', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), chinese), (text) => {
        expect(dt.decrypt(dt.encrypt(text))).toBe(text);
      }),
    );
  });
});

describe('DingTalk robot outgoing-message signature', () => {
  const secret = 'this-is-the-app-secret';
  const now = 1_700_000_000_000;
  const headersAt = (ts: number) => ({ timestamp: String(ts), sign: dingtalkRobotSign(String(ts), secret) });

  it('sign = base64(HMAC-SHA256(appSecret, timestamp + "\\n" + appSecret))', () => {
    const expected = createHmac('sha256', secret).update(`${now}\n${secret}`).digest('base64');
    expect(dingtalkRobotSign(String(now), secret)).toBe(expected);
    // No official vector; computed with the docs' Python snippet (hmac.new(secret, f"{ts}\n{secret}", sha256) → base64).
    expect(dingtalkRobotSign('1700000000000', 'this-is-the-app-secret')).toBe('tuhlyo3hScUpSKhnOYIuGkcw/0iJf8pwlSy6fNDP15E=');
  });

  it('accepts within 5 min either side (tighter than the documented 1 h), 403 beyond, 401 on a wrong or missing sign', () => {
    expect(ROBOT_SIGN_WINDOW_MS).toBe(300_000);
    expect(verifyDingtalkRobotRequest(headersAt(now - 300_000), secret, now)).toEqual({ ...headersAt(now - 300_000), timestampMs: now - 300_000 });
    expect(() => verifyDingtalkRobotRequest(headersAt(now + 300_000), secret, now)).not.toThrow();
    expectRefused(() => verifyDingtalkRobotRequest(headersAt(now - 300_001), secret, now), 403, 'stale_timestamp');
    expectRefused(() => verifyDingtalkRobotRequest(headersAt(now + 300_001), secret, now), 403, 'stale_timestamp');
    expectRefused(() => verifyDingtalkRobotRequest(headersAt(now - 3_000_000), secret, now), 403, 'stale_timestamp');
    expectRefused(() => verifyDingtalkRobotRequest({ ...headersAt(now), sign: 'AAAA' }, secret, now), 401, 'bad_signature');
    expectRefused(() => verifyDingtalkRobotRequest(headersAt(now), 'other-secret', now), 401, 'bad_signature');
    expectRefused(() => verifyDingtalkRobotRequest({ timestamp: String(now) }, secret, now), 401, 'missing_signature');
    expect(() => verifyDingtalkRobotRequest(headersAt(now), '', now)).toThrow(PlatformConfigError);
  });
});
