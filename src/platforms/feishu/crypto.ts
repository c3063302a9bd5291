// Feishu/Lark webhook crypto: the request signature and the `{"encrypt": …}` body cipher, as specified in
// https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/encrypt-key-encryption-configuration-case
import { createHash, randomBytes } from 'node:crypto';
import { aes256CbcDecrypt, aes256CbcEncrypt, AES_BLOCK_BYTES, decodeBase64, decodeUtf8 } from '../shared/aes-cbc.ts';
import { VerificationError } from '../shared/errors.ts';

/** hex(sha256(utf8(timestamp + nonce + encryptKey) ‖ rawBody)); the raw body, never a re-serialised one. */
export function feishuSignature(timestamp: string, nonce: string, encryptKey: string, rawBody: string): string {
  return createHash('sha256').update(timestamp + nonce + encryptKey + rawBody, 'utf8').digest('hex');
}

function cipherKey(encryptKey: string): Buffer {
  return createHash('sha256').update(encryptKey, 'utf8').digest();
}

/** base64(iv16 ‖ ciphertext) → plaintext. AES-256-CBC, key = sha256(encryptKey), standard PKCS#7. */
export function feishuDecrypt(encryptKey: string, encrypt: string): string {
  const raw = decodeBase64(encrypt, 'encrypt');
  if (raw.length < 2 * AES_BLOCK_BYTES) throw new VerificationError('decrypt_failed', 'shorter than iv + one block');
  const params = { key: cipherKey(encryptKey), iv: raw.subarray(0, AES_BLOCK_BYTES), padBlock: AES_BLOCK_BYTES };
  return decodeUtf8(aes256CbcDecrypt(raw.subarray(AES_BLOCK_BYTES), params));
}

/** The inverse of feishuDecrypt, for fakes and tests; the iv is random unless given. */
export function feishuEncrypt(encryptKey: string, plaintext: string, iv: Uint8Array = randomBytes(AES_BLOCK_BYTES)): string {
  const params = { key: cipherKey(encryptKey), iv, padBlock: AES_BLOCK_BYTES };
  return Buffer.concat([iv, aes256CbcEncrypt(Buffer.from(plaintext, 'utf8'), params)]).toString('base64');
}
