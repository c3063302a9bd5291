// DingTalk HTTP-mode inbound verification: the event-subscription callback crypto (same mechanism as WeCom,
// src/platforms/shared/callback-crypto.ts, with JSON instead of XML and the AppKey as owner key) and the robot
// outgoing-message signature.
import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { createCallbackCrypto, type CallbackProfile } from '../shared/callback-crypto.ts';
import { safeEqual } from '../shared/compare.ts';
import { PlatformConfigError, VerificationError } from '../shared/errors.ts';
import { assertFresh } from '../shared/replay-window.ts';
import {
  headerValue,
  parseJsonObject,
  requiredQueryValue,
  type JsonObject,
  type ParamBag,
} from '../shared/request-input.ts';
import { parseWith } from '../shared/schema.ts';

export const DINGTALK_PROFILE: CallbackProfile = { platform: 'dingtalk', receiverName: 'ownerKey', timestampUnit: 'ms' };

export interface DingtalkCallbackConfig {
  /** DINGTALK_CALLBACK_TOKEN */
  token: string;
  /** DINGTALK_CALLBACK_AES_KEY, 43 characters */
  aesKey: string;
  /** DINGTALK_CLIENT_ID (the AppKey): the owner key every callback must carry */
  clientId: string;
}

export type DingtalkCallbackInbound =
  | { kind: 'check_url' }
  | {
      kind: 'event';
      /** `EventId`/`eventId` when the event has one, else `sha256:` + hex of the decrypted JSON (redeliveries match) */
      eventId: string;
      eventType: string;
      body: JsonObject;
    };

/** The JSON a callback is answered with: the string "success", encrypted and signed. */
export interface DingtalkEncryptedResponse {
  msg_signature: string;
  timeStamp: string;
  nonce: string;
  encrypt: string;
}

export interface DingtalkCallbackCrypto {
  /**
   * Query `signature|msg_signature`, `timestamp|timeStamp`, `nonce` + raw body `{"encrypt":…}` → the delivery.
   * `check_url` is answered whenever the signature is valid; events must be within 1 h of `nowMs`.
   */
  openCallback(query: ParamBag, rawBody: string, nowMs: number): DingtalkCallbackInbound;
  /** The body to answer every accepted callback with (check_url included). */
  successResponse(opts: { nowMs: number; nonce?: string; random?: Uint8Array }): DingtalkEncryptedResponse;
  encrypt(message: string, random?: Uint8Array): string;
  decrypt(encrypt: string): string;
  signature(timestamp: string, nonce: string, encrypt: string): string;
}

const bodySchema = z.object({ encrypt: z.string().min(1) });
const eventSchema = z.looseObject({ EventType: z.string().min(1) });

function eventIdOf(event: JsonObject, plaintext: string): string {
  const own = event.EventId ?? event.eventId;
  if (typeof own === 'string' && own) return own;
  return `sha256:${createHash('sha256').update(plaintext, 'utf8').digest('hex')}`;
}

export function createDingtalkCallbackCrypto(config: DingtalkCallbackConfig): DingtalkCallbackCrypto {
  const core = createCallbackCrypto(DINGTALK_PROFILE, {
    token: config.token,
    encodingAesKey: config.aesKey,
    receiverId: config.clientId,
  });

  return {
    openCallback(query, rawBody, nowMs) {
      const signature = requiredQueryValue(query, 'signature', 'msg_signature');
      const timestamp = requiredQueryValue(query, 'timestamp', 'timeStamp');
      const nonce = requiredQueryValue(query, 'nonce');
      const { encrypt } = parseWith(bodySchema, parseJsonObject(rawBody), 'body');
      core.verifySignature(signature, timestamp, nonce, encrypt);
      const plaintext = core.decrypt(encrypt);
      const event = parseWith(eventSchema, parseJsonObject(plaintext, 'decrypted body'), 'decrypted body');
      if (event.EventType === 'check_url') return { kind: 'check_url' };
      core.assertFresh(timestamp, nowMs);
      return { kind: 'event', eventId: eventIdOf(event, plaintext), eventType: event.EventType, body: event };
    },

    successResponse(opts) {
      const { encrypt, signature, timestamp, nonce } = core.seal('success', opts);
      return { msg_signature: signature, timeStamp: timestamp, nonce, encrypt };
    },

    encrypt: core.encrypt,
    decrypt: core.decrypt,
    signature: core.signature,
  };
}

// ---- Robot outgoing messages (HTTP mode) ----
// 机器人接收消息的消息协议 (https://open.dingtalk.com/document/isvapp/receive-message): DingTalk sends headers
// `timestamp` (ms) and `sign`; a request is legitimate only when both verify, and "timestamp 与系统当前时间戳如果
// 相差1小时以上，则认为是非法的请求". The sign covers the timestamp only, not the body, so a verified pair is
// accepted once (robot-signs.ts) and within a tighter window than the documented hour (ROBOT_SIGN_WINDOW_MS).

export const DINGTALK_ROBOT_HEADERS = { timestamp: 'timestamp', sign: 'sign' } as const;

/**
 * How far a robot callback's timestamp may be from now: 5 minutes, not the documented 1 hour. DingTalk sends
 * the callback the moment the message is written, so a genuine one is seconds old; the window bounds how long
 * a (timestamp, sign) pair that never reached tierbot (intercepted, or copied from a log) could still carry a
 * forged body, and how many single-use claims must be kept. The price: a server clock more than 5 minutes off
 * refuses every robot callback (403 stale_timestamp) — keep NTP on.
 */
export const ROBOT_SIGN_WINDOW_MS = 5 * 60_000;

/** base64(HMAC-SHA256(key = appSecret, timestamp + "\n" + appSecret)); timestamp in ms, no URL-encoding. */
export function dingtalkRobotSign(timestamp: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`, 'utf8').digest('base64');
}

/** A verified robot signature: the pair as sent, and the timestamp in epoch ms. */
export interface RobotSignature {
  timestamp: string;
  sign: string;
  timestampMs: number;
}

/** Throws 401 for a missing/bad sign, 400 for a malformed timestamp, 403 when it is more than `windowMs` from now. */
export function verifyDingtalkRobotRequest(headers: ParamBag, appSecret: string, nowMs: number, windowMs = ROBOT_SIGN_WINDOW_MS): RobotSignature {
  if (!appSecret) throw new PlatformConfigError('dingtalk', 'DINGTALK_CLIENT_SECRET is empty');
  const timestamp = headerValue(headers, DINGTALK_ROBOT_HEADERS.timestamp);
  const sign = headerValue(headers, DINGTALK_ROBOT_HEADERS.sign);
  if (!timestamp || !sign) throw new VerificationError('missing_signature', 'timestamp or sign header missing');
  if (!safeEqual(sign, dingtalkRobotSign(timestamp, appSecret))) {
    throw new VerificationError('bad_signature', 'sign does not match');
  }
  return { timestamp, sign, timestampMs: assertFresh(timestamp, 'ms', nowMs, windowMs) };
}
