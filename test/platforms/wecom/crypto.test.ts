import * as wecomSdk from '@wecom/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlatformConfigError } from '../../../src/platforms/shared/errors.ts';
import { createWecomCallbackCrypto, type WecomInbound } from '../../../src/platforms/wecom/crypto.ts';
import { parseWecomXml } from '../../../src/platforms/wecom/xml.ts';
import { expectRefused, fixtureJson, fixtureText } from '../fixtures.ts';

const vectors = fixtureJson('wecom', 'vectors.json');
const { A, B } = vectors;
const cryptoA = createWecomCallbackCrypto(A);
const cryptoB = createWecomCallbackCrypto(B);
const at = (timestamp: string, offsetS = 0) => Number(timestamp) * 1000 + offsetS * 1000;

const postQuery = (v: any) => ({ msg_signature: v.post.msg_signature, timestamp: v.post.timestamp, nonce: v.post.nonce });
const postBody = (encrypt: string) =>
  `<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[1]]></AgentID></xml>`;

/** A delivery signed and encrypted the way WeCom does it, for our own test inner XML. */
function deliver(inner: string, nowMs: number, corpId = A.corpId) {
  const sender = createWecomCallbackCrypto({ ...A, corpId });
  const timestamp = String(Math.floor(nowMs / 1000));
  const encrypt = sender.encrypt(inner);
  return { query: { msg_signature: sender.signature(timestamp, 'nonce1', encrypt), timestamp, nonce: 'nonce1' }, xml: postBody(encrypt) };
}

describe('WeCom official vectors', () => {
  it('A GET: signature matches and echostr decrypts to 1616140317555161061', () => {
    expect(cryptoA.signature(A.get.timestamp, A.get.nonce, A.get.echostr)).toBe(A.get.msg_signature);
    expect(cryptoA.verifyUrl(A.get)).toBe(A.get.plaintext);
  });

  it('A GET: the echostr as it appears in the URL decodes once (as Koa does) to the same value', () => {
    const query = Object.fromEntries(new URLSearchParams(`echostr=${A.get.echostrInUrl}`));
    expect(query.echostr).toBe(A.get.echostr);
  });

  it('A POST: signature matches; decrypts (pad 30 → 32-byte blocks) to the exact plaintext', () => {
    expect(Buffer.from(A.post.encrypt, 'base64').length).toBe(A.post.cipherBytes);
    expect(cryptoA.signature(A.post.timestamp, A.post.nonce, A.post.encrypt)).toBe(A.post.msg_signature);
    expect(cryptoA.decrypt(A.post.encrypt)).toBe(A.post.plaintext);
    expect(Buffer.byteLength(A.post.plaintext)).toBe(A.post.msgLen);
  });

  it('A POST through openEvent gives the normalised message', () => {
    const result = cryptoA.openEvent(postQuery(A), fixtureText('wecom', 'vector-a-post-body.xml'), at(A.post.timestamp, 5));
    expect(result).toEqual<WecomInbound>({
      kind: 'message',
      eventId: 'msg:4561255354251345929',
      msgType: 'text',
      event: undefined,
      fromUser: 'mycreate',
      createTime: '1409659813',
      agentId: '218',
      fields: {
        ToUserName: 'wx5823bf96d3bd56c7',
        FromUserName: 'mycreate',
        CreateTime: '1409659813',
        MsgType: 'text',
        Content: 'hello',
        MsgId: '4561255354251345929', // > 2^53: kept exact as a string
        AgentID: '218',
      },
    });
  });

  it('B GET and POST (ww corp id, Chinese content, msg_len counts bytes)', () => {
    expect(cryptoB.verifyUrl(B.get)).toBe(B.get.plaintext);
    expect(cryptoB.decrypt(B.post.encrypt)).toBe(B.post.plaintext);
    expect(Buffer.byteLength(B.post.plaintext)).toBe(B.post.msgLen);
    const result = cryptoB.openEvent(postQuery(B), postBody(B.post.encrypt), at(B.post.timestamp));
    expect(result).toMatchObject({ kind: 'message', eventId: 'msg:1456453720', fromUser: 'ChenJiaShun', agentId: '1000002' });
    expect(result.fields.Content).toBe('你好');
  });

  it('deterministic encrypt vector, byte for byte', () => {
    const d = vectors.deterministic;
    const crypto = createWecomCallbackCrypto({ token: 't', encodingAesKey: d.encodingAesKey, corpId: d.corpId });
    expect(crypto.encrypt(d.message, Buffer.from(d.random))).toBe(d.encrypt);
  });

  it('@wecom/crypto agrees on every vector', () => {
    expect(wecomSdk.getSignature(A.token, A.post.timestamp, A.post.nonce, A.post.encrypt)).toBe(A.post.msg_signature);
    expect(wecomSdk.getSignature(B.token, B.get.timestamp, B.get.nonce, B.get.echostr)).toBe(B.get.msg_signature);
    expect(wecomSdk.decrypt(A.encodingAesKey, A.post.encrypt)).toMatchObject({ message: A.post.plaintext, id: A.corpId });
    expect(wecomSdk.decrypt(B.encodingAesKey, B.post.encrypt)).toMatchObject({ message: B.post.plaintext, id: B.corpId });
    const d = vectors.deterministic;
    expect(wecomSdk.encrypt(d.encodingAesKey, d.message, d.corpId, Buffer.from(d.random))).toBe(d.encrypt);
  });
});

describe('WeCom refusals', () => {
  const now = at(A.post.timestamp);
  const xmlA = fixtureText('wecom', 'vector-a-post-body.xml');

  it('bad signature → 401 (GET and POST)', () => {
    expectRefused(() => cryptoA.verifyUrl({ ...A.get, nonce: '1' }), 401, 'bad_signature');
    expectRefused(() => cryptoA.openEvent({ ...postQuery(A), msg_signature: '0'.repeat(40) }, xmlA, now), 401, 'bad_signature');
    expectRefused(() => cryptoB.verifyUrl(A.get), 401, 'bad_signature'); // another app's token
  });

  it('stale POST (> 1 h) → 403; the GET handshake is answered whatever its age', () => {
    expectRefused(() => cryptoA.openEvent(postQuery(A), xmlA, now + 3601_000), 403, 'stale_timestamp');
    expectRefused(() => cryptoA.openEvent(postQuery(A), xmlA, now - 3601_000), 403, 'stale_timestamp');
    expect(cryptoA.openEvent(postQuery(A), xmlA, now + 3600_000).kind).toBe('message');
    expect(cryptoA.verifyUrl(A.get)).toBe(A.get.plaintext); // signed in 2014
  });

  it('wrong receive id (corp id) → 403', () => {
    const other = createWecomCallbackCrypto({ ...A, corpId: 'ww_OTHER_CORP' });
    expectRefused(() => other.verifyUrl(A.get), 403, 'wrong_receiver');
    const { query, xml } = deliver('<xml><MsgType>text</MsgType></xml>', now, 'ww_OTHER_CORP');
    expectRefused(() => cryptoA.openEvent(query, xml, now), 403, 'wrong_receiver');
  });

  it('malformed requests → 400', () => {
    expectRefused(() => cryptoA.verifyUrl({ ...A.get, echostr: undefined }), 400, 'malformed_request');
    expectRefused(() => cryptoA.openEvent({ ...postQuery(A), nonce: ['1', '2'] }, xmlA, now), 400, 'malformed_request');
    expectRefused(() => cryptoA.openEvent(postQuery(A), 'not xml', now), 400, 'malformed_body');
    expectRefused(() => cryptoA.openEvent(postQuery(A), '<xml><Encrypt>a</Encrypt>', now), 400, 'malformed_body');
    expectRefused(() => cryptoA.openEvent(postQuery(A), '<xml><ToUserName>x</ToUserName></xml>', now), 400, 'malformed_body');
    expectRefused(() => cryptoA.openEvent(postQuery(A), '<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>', now), 400);
    const doctype = `<!DOCTYPE x [<!ENTITY e "${A.post.encrypt}">]><xml><Encrypt>&e;</Encrypt></xml>`;
    expectRefused(() => cryptoA.openEvent(postQuery(A), doctype, now), 400, 'malformed_body');
  });

  it('a signed timestamp that is not an integer → 400', () => {
    const { query, xml } = deliver('<xml><MsgType>text</MsgType><FromUserName>u</FromUserName><CreateTime>1</CreateTime></xml>', now);
    const sender = createWecomCallbackCrypto(A);
    const encrypt = /<Encrypt><!\[CDATA\[(.*?)\]\]>/.exec(xml)![1];
    const bad = { ...query, timestamp: '14096598.13', msg_signature: sender.signature('14096598.13', query.nonce, encrypt) };
    expectRefused(() => cryptoA.openEvent(bad, xml, now), 400, 'malformed_request');
  });

  it('decrypted XML without MsgType/FromUserName/CreateTime → 400', () => {
    const { query, xml } = deliver('<xml><Content>x</Content></xml>', now);
    expectRefused(() => cryptoA.openEvent(query, xml, now), 400, 'malformed_body');
  });

  it('tampered ciphertext or padding (re-signed, so the crypto itself is tested) → VerificationError, never a crash', () => {
    const sender = createWecomCallbackCrypto(A);
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (pos, flip) => {
        const bytes = Buffer.from(A.post.encrypt, 'base64');
        bytes[pos % bytes.length] ^= flip;
        const encrypt = bytes.toString('base64');
        const query = { ...postQuery(A), msg_signature: sender.signature(A.post.timestamp, A.post.nonce, encrypt) };
        try {
          cryptoA.openEvent(query, postBody(encrypt), now); // a flipped middle block can still decrypt to valid XML
        } catch (e) {
          expect((e as { status?: number }).status).toBeOneOf([400, 401, 403]);
        }
      }),
    );
    // The last block decides the padding: a flip there must never decrypt.
    const bytes = Buffer.from(A.post.encrypt, 'base64');
    bytes[bytes.length - 1] ^= 0x5a;
    expectRefused(() => cryptoA.decrypt(bytes.toString('base64')), 401, 'decrypt_failed');
    expectRefused(() => cryptoA.decrypt(Buffer.alloc(48).toString('base64')), 401, 'decrypt_failed'); // not 32-aligned
  });

  it('a key of the right length but the wrong value: @wecom/crypto returns garbage, we refuse', () => {
    const wrongKey = B.encodingAesKey;
    const wrong = createWecomCallbackCrypto({ ...A, encodingAesKey: wrongKey });
    expectRefused(() => wrong.decrypt(A.post.encrypt), 401, 'decrypt_failed');
  });

  it('refuses to build with a malformed EncodingAESKey, empty token or corp id', () => {
    expect(() => createWecomCallbackCrypto({ ...A, encodingAesKey: A.encodingAesKey.slice(1) })).toThrow(PlatformConfigError);
    expect(() => createWecomCallbackCrypto({ ...A, encodingAesKey: A.encodingAesKey + '=' })).toThrow(PlatformConfigError);
    expect(() => createWecomCallbackCrypto({ ...A, token: '' })).toThrow(PlatformConfigError);
    expect(() => createWecomCallbackCrypto({ ...A, corpId: '' })).toThrow(PlatformConfigError);
  });
});

describe('WeCom events', () => {
  const now = 1_700_000_000_000;

  it('template_card_event: values stay strings, items are arrays, dedupe id from From+CreateTime+Event+TaskId+EventKey', () => {
    const inner = fixtureText('wecom', 'template-card-event.xml');
    const { query, xml } = deliver(inner, now);
    const result = cryptoA.openEvent(query, xml, now);
    expect(result).toMatchObject({ kind: 'event', msgType: 'event', event: 'template_card_event', fromUser: 'FromUser', agentId: '1' });
    expect(result.eventId).toMatch(/^evt:[0-9a-f]{32}$/);
    expect(result.fields.SelectedItems).toEqual({
      SelectedItem: [{ QuestionKey: 'QuestionKey1', OptionIds: { OptionId: ['OptionId1', 'OptionId2'] } }],
    });
    // a redelivery has the same id; another button or another task does not
    const idOf = (xmlInner: string) => {
      const again = deliver(xmlInner, now); // fresh random prefix, so a different ciphertext
      return cryptoA.openEvent(again.query, again.xml, now).eventId;
    };
    expect(idOf(inner)).toBe(result.eventId);
    expect(idOf(inner.replace('key111', 'key112'))).not.toBe(result.eventId);
    expect(idOf(inner.replace('taskid111', 'taskid112'))).not.toBe(result.eventId);
  });

  it('no number coercion: 00123 and 1e3 stay as sent', () => {
    const fields = parseWecomXml('<xml><FromUserName><![CDATA[00123]]></FromUserName><EventKey>1e3</EventKey><Content><![CDATA[ a&b ]]></Content></xml>');
    expect(fields).toEqual({ FromUserName: '00123', EventKey: '1e3', Content: ' a&b ' });
  });

  it('markup typed by a user inside CDATA is content, not a DOCTYPE', () => {
    const inner = '<xml><MsgType>text</MsgType><FromUserName>u</FromUserName><CreateTime>1700000000</CreateTime>' +
      '<Content><![CDATA[<!DOCTYPE html><b>x</b>]]></Content><MsgId>1</MsgId></xml>';
    const { query, xml } = deliver(inner, now);
    expect(cryptoA.openEvent(query, xml, now).fields.Content).toBe('<!DOCTYPE html><b>x</b>');
  });
});

describe('WeCom passive replies', () => {
  it('encryptReply wraps, signs and encrypts; it opens with our own code and with @wecom/crypto', () => {
    const reply = '<xml><MsgType><![CDATA[update_button]]></MsgType><Button><ReplaceName><![CDATA[已通过]]></ReplaceName></Button></xml>';
    const nowMs = 1_700_000_000_123;
    const xml = cryptoA.encryptReply(reply, { nowMs, nonce: 'abc' });
    const wrapper = parseWecomXml(xml);
    expect(wrapper).toMatchObject({ TimeStamp: '1700000000', Nonce: 'abc' });
    const { Encrypt, MsgSignature } = wrapper as Record<string, string>;
    expect(MsgSignature).toBe(wecomSdk.getSignature(A.token, '1700000000', 'abc', Encrypt));
    expect(cryptoA.decrypt(Encrypt)).toBe(reply);
    expect(wecomSdk.decrypt(A.encodingAesKey, Encrypt)).toMatchObject({ message: reply, id: A.corpId });
  });

  it('a nonce containing "]]>" keeps the wrapper well-formed', () => {
    const xml = cryptoA.encryptReply('<xml/>', { nowMs: 0, nonce: 'a]]>b' });
    expect(parseWecomXml(xml).Nonce).toBe('a]]>b');
  });
});

describe('WeCom round trip (property)', () => {
  const chinese = fc.string({ unit: fc.integer({ min: 0x4e00, max: 0x9fff }).map((c) => String.fromCharCode(c)) });

  it('encrypt → decrypt for random UTF-8, including Chinese, and @wecom/crypto reads ours and we read its', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), chinese), fc.uint8Array({ minLength: 16, maxLength: 16 }), (text, random) => {
        const ours = cryptoB.encrypt(text, random);
        expect(cryptoB.decrypt(ours)).toBe(text);
        expect(wecomSdk.decrypt(B.encodingAesKey, ours).message).toBe(text);
        expect(ours).toBe(wecomSdk.encrypt(B.encodingAesKey, text, B.corpId, Buffer.from(random)));
      }),
    );
  });
});
