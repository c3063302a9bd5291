// Verification of inbound Feishu/Lark webhook requests (events and card callbacks on one URL).
// It closes the gaps of the SDK's own checks (@larksuiteoapi/node-sdk dispatcher/request-handle.ts: the signature
// is computed over JSON.stringify of the parsed body, and nothing at all is checked without an encrypt key):
//  - the signature is computed over the raw body as received, not a re-serialised JSON;
//  - without an encrypt key the verification token is compared (constant time), for v2 events too, and read
//    from the envelope before anything flattens it (a card callback's `event.token` is not the app's token);
//  - the url_verification token is checked when a verification token is configured;
//  - events and card actions whose signed timestamp is more than 1 h from now are rejected as replays.
// url_verification carries no signature headers: it is answered when it is proven by whatever it can carry —
// valid signature headers if present, a body our encrypt key decrypts, and the verification token if configured.
import { z } from 'zod';
import { safeEqual } from '../shared/compare.ts';
import { PlatformConfigError, VerificationError } from '../shared/errors.ts';
import { assertFresh } from '../shared/replay-window.ts';
import { headerValue, parseJsonObject, type JsonObject, type ParamBag } from '../shared/request-input.ts';
import { parseWith } from '../shared/schema.ts';
import { feishuDecrypt, feishuSignature } from './crypto.ts';

export const FEISHU_HEADERS = {
  timestamp: 'x-lark-request-timestamp',
  nonce: 'x-lark-request-nonce',
  signature: 'x-lark-signature',
} as const;

export interface FeishuVerifyConfig {
  /** FEISHU_ENCRYPT_KEY: turns on the signature check and decryption */
  encryptKey?: string;
  /** FEISHU_VERIFICATION_TOKEN: compared with the token inside every body when set */
  verificationToken?: string;
}

export interface FeishuRequest {
  /** the body exactly as received, not re-serialised */
  rawBody: string;
  headers: ParamBag;
}

export type FeishuInbound =
  | { kind: 'url_verification'; challenge: string }
  | {
      kind: 'event';
      /** dedupe key: v2 `header.event_id` (events and card.action.trigger), v1 `uuid` */
      eventId: string;
      eventType: string;
      schema: '1.0' | '2.0';
      /** the decrypted envelope */
      body: JsonObject;
    };

export type FeishuVerifier = (req: FeishuRequest, nowMs: number) => FeishuInbound;

const challengeSchema = z.looseObject({
  type: z.literal('url_verification'),
  challenge: z.string().min(1),
  token: z.string().optional(),
});

const v2Schema = z.looseObject({
  schema: z.literal('2.0'),
  header: z.looseObject({
    event_id: z.string().min(1),
    event_type: z.string().min(1),
    token: z.string().optional(),
  }),
});

const v1Schema = z.looseObject({
  type: z.literal('event_callback'),
  uuid: z.string().min(1),
  token: z.string().optional(),
  event: z.looseObject({ type: z.string().min(1) }),
});

interface ParsedEvent {
  eventId: string;
  eventType: string;
  schema: '1.0' | '2.0';
  token: string | undefined;
}

function parseEvent(payload: JsonObject): ParsedEvent {
  if (payload.schema === '2.0') {
    const { header } = parseWith(v2Schema, payload, 'v2 event');
    return { eventId: header.event_id, eventType: header.event_type, schema: '2.0', token: header.token };
  }
  if (payload.type === 'event_callback') {
    const v1 = parseWith(v1Schema, payload, 'v1 event');
    return { eventId: v1.uuid, eventType: v1.event.type, schema: '1.0', token: v1.token };
  }
  // The legacy flat card callback (card.action.trigger_v1) and anything else: not accepted (400;
  // docs/platforms/feishu.md §3b).
  throw new VerificationError('unsupported_payload', 'neither a v2 event, a v1 event nor url_verification');
}

export function createFeishuVerifier(config: FeishuVerifyConfig): FeishuVerifier {
  const encryptKey = config.encryptKey || undefined;
  const verificationToken = config.verificationToken || undefined;
  if (!encryptKey && !verificationToken) {
    throw new PlatformConfigError('feishu', 'set FEISHU_ENCRYPT_KEY or FEISHU_VERIFICATION_TOKEN (or both)');
  }

  /** The signed timestamp when signature headers are present and valid, null when there are none. */
  function signedTimestamp(req: FeishuRequest, key: string): string | null {
    const signature = headerValue(req.headers, FEISHU_HEADERS.signature);
    if (signature === undefined) return null;
    const timestamp = headerValue(req.headers, FEISHU_HEADERS.timestamp);
    const nonce = headerValue(req.headers, FEISHU_HEADERS.nonce);
    if (timestamp === undefined || nonce === undefined) {
      throw new VerificationError('malformed_request', 'signature without timestamp or nonce header');
    }
    if (!safeEqual(signature, feishuSignature(timestamp, nonce, key, req.rawBody))) {
      throw new VerificationError('bad_signature', 'x-lark-signature does not match');
    }
    return timestamp;
  }

  function checkToken(token: string | undefined): void {
    if (verificationToken === undefined) return;
    if (token === undefined || !safeEqual(token, verificationToken)) {
      throw new VerificationError('bad_token', 'verification token does not match');
    }
  }

  return (req, nowMs) => {
    const outer = parseJsonObject(req.rawBody);
    const signedTs = encryptKey ? signedTimestamp(req, encryptKey) : null;

    let payload = outer;
    const encrypted = 'encrypt' in outer;
    if (encrypted) {
      if (typeof outer.encrypt !== 'string') throw new VerificationError('malformed_body', 'encrypt is not a string');
      if (!encryptKey) throw new VerificationError('decrypt_failed', 'encrypted body but no encrypt key configured');
      payload = parseJsonObject(feishuDecrypt(encryptKey, outer.encrypt), 'decrypted body');
    }

    if (payload.type === 'url_verification') {
      const { challenge, token } = parseWith(challengeSchema, payload, 'url_verification');
      checkToken(token);
      // Proven by a valid signature, by decrypting with our key, or by the token just checked.
      if (signedTs === null && !encrypted && verificationToken === undefined) {
        throw new VerificationError('missing_signature', 'unsigned plaintext url_verification');
      }
      return { kind: 'url_verification', challenge };
    }

    if (encryptKey && signedTs === null) throw new VerificationError('missing_signature', 'no x-lark-signature');
    const event = parseEvent(payload);
    checkToken(event.token);
    // Without an encrypt key nothing is signed; a timestamp header that is there is still held to the window.
    const timestamp = signedTs ?? headerValue(req.headers, FEISHU_HEADERS.timestamp);
    if (timestamp !== undefined) assertFresh(timestamp, 's', nowMs);
    return { kind: 'event', eventId: event.eventId, eventType: event.eventType, schema: event.schema, body: payload };
  };
}
