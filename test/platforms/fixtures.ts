// Loads the payload fixtures under test/fixtures/<platform>/ (payload shapes and official test vectors; each vectors.json names its source in `_source`).
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { VerificationError, type VerificationReason } from '../../src/platforms/shared/errors.ts';

export type Platform = 'feishu' | 'wecom' | 'dingtalk';

export function fixtureText(platform: Platform, name: string): string {
  return readFileSync(new URL(`../fixtures/${platform}/${name}`, import.meta.url), 'utf8');
}

export function fixtureJson<T = Record<string, any>>(platform: Platform, name: string): T {
  return JSON.parse(fixtureText(platform, name)) as T;
}

/** Runs `fn` and asserts it throws a VerificationError with this status and reason. */
export function expectRefused(fn: () => unknown, status: 400 | 401 | 403, reason?: VerificationReason): VerificationError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a VerificationError').toBeInstanceOf(VerificationError);
  const error = thrown as VerificationError;
  expect(error.status).toBe(status);
  if (reason) expect(error.reason).toBe(reason);
  return error;
}
