// AES-256-CBC with PKCS#7 padding to a configurable block: 16 bytes (standard, Feishu) or 32 bytes
// (WeCom and DingTalk callback crypto). Node's auto-padding only knows 16, so padding is always done here.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { VerificationError } from './errors.ts';

export const AES_BLOCK_BYTES = 16;
export const AES_256_KEY_BYTES = 32;

export interface AesCbcParams {
  key: Uint8Array; // 32 bytes
  iv: Uint8Array; // 16 bytes
  /** PKCS#7 block size: 16 standard, 32 WeCom/DingTalk. A multiple of 16 between 16 and 255. */
  padBlock: number;
}

function checkParams({ key, iv, padBlock }: AesCbcParams): void {
  if (key.length !== AES_256_KEY_BYTES) throw new RangeError('AES-256 key must be 32 bytes');
  if (iv.length !== AES_BLOCK_BYTES) throw new RangeError('AES-CBC iv must be 16 bytes');
  if (padBlock % AES_BLOCK_BYTES !== 0 || padBlock < AES_BLOCK_BYTES || padBlock > 255) {
    throw new RangeError('PKCS#7 block must be a multiple of 16 in 16..255');
  }
}

/** Appends n bytes of value n (1..block), so the result is a whole number of blocks. */
export function pkcs7Pad(data: Uint8Array, block: number): Buffer {
  const n = block - (data.length % block);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

/** Strips PKCS#7 padding; any length or pad byte out of place is `decrypt_failed`. */
export function pkcs7Unpad(data: Uint8Array, block: number): Buffer {
  if (data.length === 0 || data.length % block !== 0) {
    throw new VerificationError('decrypt_failed', `padded length ${data.length} is not a multiple of ${block}`);
  }
  const n = data[data.length - 1];
  if (n < 1 || n > block) throw new VerificationError('decrypt_failed', 'bad padding');
  for (let i = data.length - n; i < data.length; i++) {
    if (data[i] !== n) throw new VerificationError('decrypt_failed', 'bad padding');
  }
  return Buffer.from(data.subarray(0, data.length - n));
}

export function aes256CbcEncrypt(plaintext: Uint8Array, params: AesCbcParams): Buffer {
  checkParams(params);
  const cipher = createCipheriv('aes-256-cbc', params.key, params.iv).setAutoPadding(false);
  return Buffer.concat([cipher.update(pkcs7Pad(plaintext, params.padBlock)), cipher.final()]);
}

export function aes256CbcDecrypt(ciphertext: Uint8Array, params: AesCbcParams): Buffer {
  checkParams(params);
  if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK_BYTES !== 0) {
    throw new VerificationError('decrypt_failed', `ciphertext length ${ciphertext.length} is not a multiple of 16`);
  }
  const decipher = createDecipheriv('aes-256-cbc', params.key, params.iv).setAutoPadding(false);
  return pkcs7Unpad(Buffer.concat([decipher.update(ciphertext), decipher.final()]), params.padBlock);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (Buffer.from silently skips bad characters); anything else is a malformed body. */
export function decodeBase64(text: string, what: string): Buffer {
  if (text.length === 0 || !BASE64.test(text)) throw new VerificationError('malformed_body', `${what} is not base64`);
  return Buffer.from(text, 'base64');
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decrypted bytes as text; invalid UTF-8 means the key was wrong or the ciphertext was tampered with. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new VerificationError('decrypt_failed', 'plaintext is not UTF-8');
  }
}
