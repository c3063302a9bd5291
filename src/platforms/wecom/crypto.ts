// WeCom (企业微信) callback verification and crypto (https://developer.work.weixin.qq.com/document/path/90968):
// URL verification (GET with echostr), encrypted event/message POSTs, and encrypted passive replies. Mechanism
// shared with DingTalk (src/platforms/shared/callback-crypto.ts); what is WeCom's here is XML, the query names
// and the dedupe id.
import { createHash } from 'node:crypto';
import { createCallbackCrypto, type CallbackProfile } from '../shared/callback-crypto.ts';
import { VerificationError } from '../shared/errors.ts';
import { requiredQueryValue, type ParamBag } from '../shared/request-input.ts';
import { cdataElement, parseWecomXml, xmlText, type WecomXmlNode } from './xml.ts';

export const WECOM_PROFILE: CallbackProfile = { platform: 'wecom', receiverName: 'corpId', timestampUnit: 's' };

export interface WecomCallbackConfig {
  /** WECOM_TOKEN */
  token: string;
  /** WECOM_ENCODING_AES_KEY, 43 characters */
  encodingAesKey: string;
  /** WECOM_CORP_ID: the receiveid every message must carry */
  corpId: string;
}

export interface WecomInbound {
  kind: 'message' | 'event';
  /**
   * Dedupe key (WeCom doc 90238: MsgId for messages, FromUserName + CreateTime for events): `msg:<MsgId>` for
   * messages; for events (which have no MsgId)
   * `evt:` + sha256 of [FromUserName, CreateTime, Event, TaskId, EventKey, SelectedItems (when present)],
   * first 32 hex digits.
   */
  eventId: string;
  msgType: string;
  /** `Event` for events, e.g. template_card_event */
  event: string | undefined;
  fromUser: string;
  createTime: string;
  agentId: string | undefined;
  /** every element of the decrypted XML, all values strings (no coercion) */
  fields: WecomXmlNode;
}

export interface WecomReplyOptions {
  nowMs: number;
  nonce?: string;
  random?: Uint8Array;
}

export interface WecomCallbackCrypto {
  /**
   * GET `?msg_signature&timestamp&nonce&echostr` → the plaintext to answer with. No replay check: the handshake
   * has no side effect (docs/architecture.md, "Inbound verification").
   */
  verifyUrl(query: ParamBag): string;
  /** POST `?msg_signature&timestamp&nonce` + raw XML body → the verified, decrypted, normalised delivery. */
  openEvent(query: ParamBag, rawXml: string, nowMs: number): WecomInbound;
  /** Encrypts and signs a passive reply (`<xml><MsgType>update_button</MsgType>…</xml>`) into WeCom's wrapper. */
  encryptReply(replyXml: string, opts: WecomReplyOptions): string;
  /** base64 ciphertext of a message for our corp id (random prefix unless given) */
  encrypt(message: string, random?: Uint8Array): string;
  /** plaintext of a ciphertext, checking the corp id */
  decrypt(encrypt: string): string;
  signature(timestamp: string, nonce: string, encrypt: string): string;
}

function dedupeId(fields: WecomXmlNode, kind: WecomInbound['kind'], msgId: string | undefined): string {
  if (kind === 'message' && msgId) return `msg:${msgId}`;
  const parts: unknown[] = ['FromUserName', 'CreateTime', 'Event', 'TaskId', 'EventKey'].map((n) => xmlText(fields, n) ?? '');
  // CreateTime has 1 s resolution: a corrected re-submit of the same form (same task, same submit key) within
  // that second must not look like a redelivery, which repeats the event exactly, SelectedItems included.
  if (fields.SelectedItems !== undefined) parts.push(fields.SelectedItems);
  return `evt:${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32)}`;
}

function normalise(fields: WecomXmlNode): WecomInbound {
  const what = 'decrypted message';
  const msgType = xmlText(fields, 'MsgType', what);
  const fromUser = xmlText(fields, 'FromUserName', what);
  const createTime = xmlText(fields, 'CreateTime', what);
  if (!msgType || !fromUser || !createTime) {
    throw new VerificationError('malformed_body', `${what}: MsgType, FromUserName and CreateTime are required`);
  }
  const kind = msgType === 'event' ? 'event' : 'message';
  return {
    kind,
    eventId: dedupeId(fields, kind, xmlText(fields, 'MsgId', what)),
    msgType,
    event: xmlText(fields, 'Event', what),
    fromUser,
    createTime,
    agentId: xmlText(fields, 'AgentID', what),
    fields,
  };
}

export function createWecomCallbackCrypto(config: WecomCallbackConfig): WecomCallbackCrypto {
  const core = createCallbackCrypto(WECOM_PROFILE, {
    token: config.token,
    encodingAesKey: config.encodingAesKey,
    receiverId: config.corpId,
  });

  /** signature → decrypt → corp id; the order every request takes. */
  function open(query: ParamBag, encrypt: string): string {
    const signature = requiredQueryValue(query, 'msg_signature');
    const timestamp = requiredQueryValue(query, 'timestamp');
    const nonce = requiredQueryValue(query, 'nonce');
    core.verifySignature(signature, timestamp, nonce, encrypt);
    return core.decrypt(encrypt);
  }

  return {
    verifyUrl: (query) => open(query, requiredQueryValue(query, 'echostr')),

    openEvent(query, rawXml, nowMs) {
      const encrypt = xmlText(parseWecomXml(rawXml), 'Encrypt');
      if (!encrypt) throw new VerificationError('malformed_body', 'no <Encrypt> element');
      const inner = parseWecomXml(open(query, encrypt), 'decrypted message');
      core.assertFresh(requiredQueryValue(query, 'timestamp'), nowMs);
      return normalise(inner);
    },

    encryptReply(replyXml, opts) {
      const { encrypt, signature, timestamp, nonce } = core.seal(replyXml, opts);
      return (
        `<xml>${cdataElement('Encrypt', encrypt)}${cdataElement('MsgSignature', signature)}` +
        `<TimeStamp>${timestamp}</TimeStamp>${cdataElement('Nonce', nonce)}</xml>`
      );
    },

    encrypt: core.encrypt,
    decrypt: core.decrypt,
    signature: core.signature,
  };
}
