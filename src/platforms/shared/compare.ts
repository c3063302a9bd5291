import { timingSafeEqual } from 'node:crypto';

/**
 * Constant-time comparison of two byte strings. Different lengths return false at once: the length of a
 * signature or token is not a secret, its content is.
 */
export function safeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time comparison of two strings by their UTF-8 bytes. */
export function safeEqual(a: string, b: string): boolean {
  return safeEqualBytes(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
