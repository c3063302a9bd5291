// The callback crypto WeCom and DingTalk share (same design, DingTalk's came from WeCom's):
//   signature = sha1(sort([token, timestamp, nonce, encrypt]).join(''))   lowercase hex
//   key       = base64(EncodingAESKey + '=')  (43 chars → 32 bytes),  iv = key[0..16)
//   encrypt   = base64(AES-256-CBC(random16 ‖ uint32BE(len(msg)) ‖ msg ‖ receiverId, PKCS#7 to 32 bytes))
// What differs per platform is data (CallbackProfile): the receiver's name and the timestamp unit.
import { createHash, randomBytes } from 'node:crypto';
import { aes256CbcDecrypt, aes256CbcEncrypt, decodeBase64, decodeUtf8 } from './aes-cbc.ts';
import { safeEqual } from './compare.ts';
import { PlatformConfigError, VerificationError } from './errors.ts';
import { assertFresh, type TimestampUnit } from './replay-window.ts';

export interface CallbackProfile {
  platform: 'wecom' | 'dingtalk';
  /** what the trailing receiver id is called, for messages: WeCom `corpId` (receiveid), DingTalk `ownerKey` */
  receiverName: string;
  timestampUnit: TimestampUnit;
}

export interface CallbackSecrets {
  token: string;
  /** the 43-character EncodingAESKey / aes_key */
  encodingAesKey: string;
  /** the receiver id the platform writes after the message: our corp id / AppKey */
  receiverId: string;
}

/** A signed, encrypted envelope: the four values a passive reply or an encrypted response carries. */
export interface SealedMessage {
  encrypt: string;
  signature: string;
  timestamp: string;
  nonce: string;
}

export interface CallbackCrypto {
  readonly profile: CallbackProfile;
  signature(timestamp: string, nonce: string, encrypt: string): string;
  /** Throws 401 `bad_signature` unless `signature` is the signature of the other three (constant time). */
  verifySignature(signature: string, timestamp: string, nonce: string, encrypt: string): void;
  /** Throws 403 `stale_timestamp` outside the replay window; returns epoch ms. */
  assertFresh(timestamp: string, nowMs: number): number;
  /** Decrypts and checks the receiver id: 401 `decrypt_failed`, 403 `wrong_receiver`. */
  decrypt(encrypt: string): string;
  encrypt(message: string, random?: Uint8Array): string;
  /** Encrypts and signs `message` with our timestamp and nonce (random ones unless given). */
  seal(message: string, opts: { nowMs: number; nonce?: string; random?: Uint8Array }): SealedMessage;
}

export const RANDOM_PREFIX_BYTES = 16;
const PAD_BLOCK = 32;

/** sha1 over the sorted parts, plain string sort (code units), lowercase hex. */
export function callbackSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join(''), 'utf8').digest('hex');
}

/** EncodingAESKey → 32-byte AES key, or null when it is not 43 base64 characters. */
export function decodeEncodingAesKey(encodingAesKey: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey)) return null;
  const key = Buffer.from(encodingAesKey + '=', 'base64');
  return key.length === 32 ? key : null;
}

/** random16 ‖ uint32BE(byte length of msg) ‖ msg ‖ receiverId */
export function packMessage(message: string, receiverId: string, random: Uint8Array): Buffer {
  if (random.length !== RANDOM_PREFIX_BYTES) throw new RangeError('random prefix must be 16 bytes');
  const msg = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  return Buffer.concat([random, len, msg, Buffer.from(receiverId, 'utf8')]);
}

export function unpackMessage(plain: Buffer): { random: Buffer; message: string; receiverId: string } {
  const header = RANDOM_PREFIX_BYTES + 4;
  if (plain.length < header) throw new VerificationError('decrypt_failed', 'plaintext shorter than its header');
  const len = plain.readUInt32BE(RANDOM_PREFIX_BYTES);
  if (len > plain.length - header) throw new VerificationError('decrypt_failed', 'message length out of range');
  return {
    random: plain.subarray(0, RANDOM_PREFIX_BYTES),
    message: decodeUtf8(plain.subarray(header, header + len)),
    receiverId: decodeUtf8(plain.subarray(header + len)),
  };
}

function randomNonce(): string {
  return randomBytes(8).toString('hex');
}

export function createCallbackCrypto(profile: CallbackProfile, secrets: CallbackSecrets): CallbackCrypto {
  const { platform, receiverName, timestampUnit } = profile;
  const key = decodeEncodingAesKey(secrets.encodingAesKey);
  if (!key) throw new PlatformConfigError(platform, 'the AES key must be 43 base64 characters');
  if (!secrets.token) throw new PlatformConfigError(platform, 'the callback token is empty');
  if (!secrets.receiverId) throw new PlatformConfigError(platform, `the ${receiverName} is empty`);
  const aes = { key, iv: key.subarray(0, 16), padBlock: PAD_BLOCK };

  const signature = (timestamp: string, nonce: string, encrypt: string) =>
    callbackSignature(secrets.token, timestamp, nonce, encrypt);

  const encrypt = (message: string, random: Uint8Array = randomBytes(RANDOM_PREFIX_BYTES)) =>
    aes256CbcEncrypt(packMessage(message, secrets.receiverId, random), aes).toString('base64');

  return {
    profile,
    signature,
    verifySignature(given, timestamp, nonce, encryptText) {
      if (!safeEqual(given, signature(timestamp, nonce, encryptText))) {
        throw new VerificationError('bad_signature', 'signature does not match');
      }
    },
    assertFresh: (timestamp, nowMs) => assertFresh(timestamp, timestampUnit, nowMs),
    decrypt(encryptText) {
      const { message, receiverId } = unpackMessage(aes256CbcDecrypt(decodeBase64(encryptText, 'encrypt'), aes));
      if (!safeEqual(receiverId, secrets.receiverId)) {
        throw new VerificationError('wrong_receiver', `${receiverName} of the message is not ours`);
      }
      return message;
    },
    encrypt,
    seal(message, { nowMs, nonce = randomNonce(), random }) {
      const timestamp = String(timestampUnit === 's' ? Math.floor(nowMs / 1000) : Math.floor(nowMs));
      const sealed = encrypt(message, random);
      return { encrypt: sealed, signature: signature(timestamp, nonce, sealed), timestamp, nonce };
    },
  };
}
