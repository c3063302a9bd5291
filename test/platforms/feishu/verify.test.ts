import * as lark from '@larksuiteoapi/node-sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { feishuDecrypt, feishuEncrypt, feishuSignature } from '../../../src/platforms/feishu/crypto.ts';
import { createFeishuVerifier, FEISHU_HEADERS, type FeishuInbound } from '../../../src/platforms/feishu/verify.ts';
import { PlatformConfigError } from '../../../src/platforms/shared/errors.ts';
import { expectRefused, fixtureJson } from '../fixtures.ts';

const vectors = fixtureJson('feishu', 'vectors.json');
const KEY = 'encrypt-key-for-tests';
const TOKEN = 'verification-token-for-tests';
const NOW = 1_700_000_000_000;
const NOW_S = String(NOW / 1000);

/** A request the way Feishu sends it: body = JSON.stringify({encrypt}) or plaintext, signed over that exact string. */
function request(payload: object, opts: { encrypt?: boolean; sign?: boolean; ts?: string; rawBody?: string } = {}) {
  const { encrypt = true, sign = true, ts = NOW_S } = opts;
  const rawBody =
    opts.rawBody ?? JSON.stringify(encrypt ? { encrypt: feishuEncrypt(KEY, JSON.stringify(payload)) } : payload);
  const nonce = 'n0nce';
  const headers: Record<string, string> = {};
  if (sign) {
    headers[FEISHU_HEADERS.timestamp] = ts;
    headers[FEISHU_HEADERS.nonce] = nonce;
    headers[FEISHU_HEADERS.signature] = feishuSignature(ts, nonce, KEY, rawBody);
  }
  return { rawBody, headers };
}

function withToken<T extends object>(fixture: T, token = TOKEN): T {
  const copy = structuredClone(fixture) as any;
  if (copy.header) copy.header.token = token;
  else copy.token = token;
  return copy;
}

const v2Event = withToken(fixtureJson('feishu', 'event-v2-im-message-receive.json'));
const cardAction = withToken(fixtureJson('feishu', 'card-action-trigger.json'));
const challenge = withToken(fixtureJson('feishu', 'url-verification.json'));
const v1Event = withToken(fixtureJson('feishu', 'event-v1-user-status-change.json'));

describe('Feishu official crypto vectors', () => {
  it('"test key" decrypts P37w… to "hello world", and re-encrypting with its iv gives the same bytes', () => {
    const v = vectors.helloWorld;
    expect(feishuDecrypt(v.encryptKey, v.encrypt)).toBe(v.plaintext);
    expect(Buffer.from(v.encrypt, 'base64').subarray(0, 16).toString('hex')).toBe(v.iv);
    expect(feishuEncrypt(v.encryptKey, v.plaintext, Buffer.from(v.iv, 'hex'))).toBe(v.encrypt);
    expect(new lark.AESCipher(v.encryptKey).decrypt(v.encrypt)).toBe(v.plaintext);
  });

  it('"kudryavka" decrypts the docs ciphertext to the v1 user_status_change event', () => {
    const v = vectors.userStatusChange;
    expect(JSON.parse(feishuDecrypt(v.encryptKey, v.encrypt))).toEqual(fixtureJson('feishu', v.plaintextFixture));
  });

  it('the signature is sha256(ts + nonce + key + rawBody) hex, and the SDK agrees on compact bodies', async () => {
    const rawBody = JSON.stringify({ encrypt: vectors.helloWorld.encrypt });
    const sig = feishuSignature('1700000000', 'n0nce', 'test key', rawBody);
    // No official signature vector exists; this value was computed once with node:crypto from the algorithm on
    // Feishu's encrypt-key page: hex(sha256(timestamp + nonce + encryptKey + rawBody)).
    expect(sig).toBe('bed8fdd3e4bbc581364c140b572ec676edff3db612d57bbc07a24d062c40ddf3');

    const dispatcher = new lark.EventDispatcher({ encryptKey: KEY, loggerLevel: lark.LoggerLevel.error }).register({
      'im.message.receive_v1': async () => 'handled',
    });
    const { rawBody: body, headers } = request(v2Event);
    const sdkInput = (h: Record<string, string>) => Object.assign(Object.create({ headers: h }), JSON.parse(body));
    expect(await dispatcher.invoke(sdkInput(headers))).toBe('handled');
    const forged = { ...headers, [FEISHU_HEADERS.nonce]: 'other' };
    expect(await dispatcher.invoke(sdkInput(forged))).toBeUndefined();
    expectRefused(() => createFeishuVerifier({ encryptKey: KEY })({ rawBody: body, headers: forged }, NOW), 401);
  });
});

describe('createFeishuVerifier with an encrypt key (and a verification token)', () => {
  const verify = createFeishuVerifier({ encryptKey: KEY, verificationToken: TOKEN });

  it('accepts a signed encrypted v2 event and returns its event id, type and envelope', () => {
    const result = verify(request(v2Event), NOW);
    expect(result).toEqual<FeishuInbound>({
      kind: 'event',
      eventId: 'f7984f25108f8137722bb63cee927e66',
      eventType: 'im.message.receive_v1',
      schema: '2.0',
      body: v2Event as any,
    });
  });

  it('accepts a card.action.trigger; its event.token (card update token) is not mistaken for the app token', () => {
    const result = verify(request(cardAction), NOW);
    expect(result).toMatchObject({ kind: 'event', eventId: cardAction.header.event_id, eventType: 'card.action.trigger' });
  });

  it('accepts a signed plaintext card callback (cards may come unencrypted)', () => {
    expect(verify(request(cardAction, { encrypt: false }), NOW)).toMatchObject({ eventType: 'card.action.trigger' });
  });

  it('accepts a v1 event and uses its uuid as event id', () => {
    expect(verify(request(v1Event), NOW)).toMatchObject({
      eventId: '5226cd85b4d843dccee2e279d93f3ed3',
      eventType: 'user_status_change',
      schema: '1.0',
    });
  });

  it('signs the raw body: a pretty-printed body with a valid raw signature passes (the SDK rejects it)', () => {
    const rawBody = JSON.stringify({ encrypt: feishuEncrypt(KEY, JSON.stringify(v2Event)) }, null, 2);
    expect(verify(request(v2Event, { rawBody }), NOW)).toMatchObject({ kind: 'event' });
  });

  it('bad signature → 401; any change to the body after signing → 401', () => {
    const req = request(v2Event);
    expectRefused(() => verify({ ...req, headers: { ...req.headers, [FEISHU_HEADERS.signature]: '0'.repeat(64) } }, NOW), 401, 'bad_signature');
    expectRefused(() => verify({ ...req, rawBody: req.rawBody.replace('{', '{ ') }, NOW), 401, 'bad_signature');
  });

  it('an event without signature headers → 401', () => {
    expectRefused(() => verify(request(v2Event, { sign: false }), NOW), 401, 'missing_signature');
  });

  it('signature without timestamp/nonce → 400', () => {
    const req = request(v2Event);
    const { [FEISHU_HEADERS.nonce]: _, ...headers } = req.headers;
    expectRefused(() => verify({ ...req, headers }, NOW), 400, 'malformed_request');
  });

  it('a stale event (> 1 h) → 403, at exactly 1 h it passes', () => {
    const hourAgo = String(NOW / 1000 - 3600);
    expect(verify(request(v2Event, { ts: hourAgo }), NOW)).toMatchObject({ kind: 'event' });
    expectRefused(() => verify(request(v2Event, { ts: String(NOW / 1000 - 3601) }), NOW), 403, 'stale_timestamp');
    expectRefused(() => verify(request(cardAction, { ts: String(NOW / 1000 + 7200) }), NOW), 403, 'stale_timestamp');
  });

  it('wrong verification token inside a validly signed body → 401', () => {
    expectRefused(() => verify(request(withToken(v2Event, 'other')), NOW), 401, 'bad_token');
    expectRefused(() => verify(request(withToken(v1Event, 'other')), NOW), 401, 'bad_token');
  });

  it('url_verification: encrypted without signature headers is answered; old timestamps do not matter', () => {
    expect(verify(request(challenge, { sign: false }), NOW)).toEqual({ kind: 'url_verification', challenge: 'ajls384kdjxxxx' });
    const ancient = request(challenge, { ts: '1000000000' });
    expect(verify(ancient, NOW)).toEqual({ kind: 'url_verification', challenge: 'ajls384kdjxxxx' });
  });

  it('url_verification with a wrong token or a bad signature → 401', () => {
    expectRefused(() => verify(request(withToken(challenge, 'other'), { sign: false }), NOW), 401, 'bad_token');
    const req = request(challenge);
    expectRefused(() => verify({ ...req, headers: { ...req.headers, [FEISHU_HEADERS.signature]: 'x' } }, NOW), 401);
  });

  it('malformed bodies → 400', () => {
    const signed = (rawBody: string) => request({}, { rawBody });
    expectRefused(() => verify(signed('not json'), NOW), 400, 'malformed_body');
    expectRefused(() => verify(signed('[1]'), NOW), 400, 'malformed_body');
    expectRefused(() => verify(signed('{"encrypt":42}'), NOW), 400, 'malformed_body');
    expectRefused(() => verify(signed('{"encrypt":"not base64!"}'), NOW), 400, 'malformed_body');
    expectRefused(() => verify(request({ schema: '2.0', header: { token: TOKEN } }), NOW), 400, 'malformed_body');
    expectRefused(() => verify(request({ type: 'url_verification', token: TOKEN }), NOW), 400, 'malformed_body');
    expectRefused(() => verify(request({ hello: 'world' }), NOW), 400, 'unsupported_payload');
  });

  it('the legacy flat card callback (card.action.trigger_v1) is refused as unsupported → 400', () => {
    const legacy = withToken(fixtureJson('feishu', 'card-action-trigger-v1-legacy.json'));
    expectRefused(() => verify(request(legacy, { encrypt: false }), NOW), 400, 'unsupported_payload');
  });

  it('tampered ciphertext is refused with a VerificationError, never a crash', () => {
    const encrypt = feishuEncrypt(KEY, JSON.stringify(v2Event));
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (pos, flip) => {
        const bytes = Buffer.from(encrypt, 'base64');
        bytes[pos % bytes.length] ^= flip;
        const req = request({}, { rawBody: JSON.stringify({ encrypt: bytes.toString('base64') }) });
        try {
          verify(req, NOW); // a flip in the iv or a middle block may still decrypt: then the token/JSON checks run
        } catch (e) {
          expect((e as { status?: number }).status).toBeOneOf([400, 401]);
        }
      }),
    );
    expectRefused(() => verify(request({}, { rawBody: JSON.stringify({ encrypt: 'AAAA' }) }), NOW), 401, 'decrypt_failed');
  });

  it('a key of the wrong value cannot decrypt → 401', () => {
    const other = createFeishuVerifier({ encryptKey: 'another key', verificationToken: TOKEN });
    const rawBody = JSON.stringify({ encrypt: feishuEncrypt(KEY, JSON.stringify(challenge)) });
    expectRefused(() => other({ rawBody, headers: {} }, NOW), 401);
  });
});

describe('createFeishuVerifier with a verification token only', () => {
  const verify = createFeishuVerifier({ verificationToken: TOKEN });

  it('checks header.token of v2 events (the SDK does not) and token of v1 events', () => {
    expect(verify(request(v2Event, { encrypt: false, sign: false }), NOW)).toMatchObject({ kind: 'event' });
    expectRefused(() => verify(request(withToken(v2Event, 'x'), { encrypt: false, sign: false }), NOW), 401, 'bad_token');
    const { header, ...noHeaderToken } = structuredClone(v2Event) as any;
    const withoutToken = { ...noHeaderToken, header: { ...header, token: undefined } };
    expectRefused(() => verify(request(withoutToken, { encrypt: false, sign: false }), NOW), 401, 'bad_token');
    expectRefused(() => verify(request(withToken(v1Event, TOKEN + 'x'), { encrypt: false, sign: false }), NOW), 401);
  });

  it('answers a plaintext url_verification with the right token, refuses a wrong one', () => {
    expect(verify(request(challenge, { encrypt: false, sign: false }), NOW)).toEqual({
      kind: 'url_verification',
      challenge: 'ajls384kdjxxxx',
    });
    expectRefused(() => verify(request(withToken(challenge, 'x'), { encrypt: false, sign: false }), NOW), 401, 'bad_token');
  });

  it('an encrypted body without a configured key → 401', () => {
    expectRefused(() => verify(request(v2Event, { sign: false }), NOW), 401, 'decrypt_failed');
  });

  it('a timestamp header that is present is still held to the window (unsigned here)', () => {
    const stale = { rawBody: JSON.stringify(v2Event), headers: { [FEISHU_HEADERS.timestamp]: String(NOW / 1000 - 4000) } };
    expectRefused(() => verify(stale, NOW), 403, 'stale_timestamp');
  });
});

describe('configuration', () => {
  it('refuses to build without an encrypt key and without a token', () => {
    expect(() => createFeishuVerifier({})).toThrow(PlatformConfigError);
    expect(() => createFeishuVerifier({ encryptKey: '', verificationToken: '' })).toThrow(/FEISHU_ENCRYPT_KEY/);
  });

  it('encrypt key only: a plaintext unsigned url_verification has no proof → 401', () => {
    const verify = createFeishuVerifier({ encryptKey: KEY });
    expectRefused(() => verify(request(challenge, { encrypt: false, sign: false }), NOW), 401, 'missing_signature');
    expect(verify(request(challenge, { sign: false }), NOW)).toMatchObject({ kind: 'url_verification' });
  });
});

describe('round trip', () => {
  it('feishuEncrypt → feishuDecrypt for any UTF-8 text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), (text, key) => {
        expect(feishuDecrypt(key, feishuEncrypt(key, text))).toBe(text);
      }),
    );
  });
});
