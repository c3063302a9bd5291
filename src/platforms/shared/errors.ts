// Errors of the inbound verification layer. A VerificationError is a refusal (src/inbound/refusal.ts): the
// shared webhook frame answers it with its status and the one refusal shape, and nothing changes; a
// PlatformConfigError is thrown at construction so a half-configured platform fails fast.
import { Refusal } from '../../inbound/refusal.ts';
import type { Platform } from '../../ports/messenger.ts';

/**
 * Why a request was refused. The status is a function of the reason (one table, below):
 * - 400: the request is not in the platform's wire format (missing/duplicate parameter, bad JSON/XML/base64).
 * - 401: it is well-formed but not proven to come from the platform: no/bad signature, wrong verification
 *        token, or a ciphertext our key cannot decrypt (bad length/padding/layout).
 * - 403: it is authentic but not acceptable: signed timestamp outside the replay window (1 h; 5 min for
 *        DingTalk robot messages), a single-use signature presented again (DingTalk robot), or the decrypted
 *        receiver (WeCom corp id, DingTalk owner key) is not ours.
 */
export type VerificationReason =
  | 'malformed_request'
  | 'malformed_body'
  | 'unsupported_payload'
  | 'missing_signature'
  | 'bad_signature'
  | 'bad_token'
  | 'decrypt_failed'
  | 'stale_timestamp'
  | 'replayed'
  | 'wrong_receiver';

export type VerificationStatus = 400 | 401 | 403;

export const STATUS_BY_REASON = {
  malformed_request: 400,
  malformed_body: 400,
  unsupported_payload: 400,
  missing_signature: 401,
  bad_signature: 401,
  bad_token: 401,
  decrypt_failed: 401,
  stale_timestamp: 403,
  replayed: 403,
  wrong_receiver: 403,
} as const satisfies Record<VerificationReason, VerificationStatus>;

export class VerificationError extends Refusal {
  override name = 'VerificationError';
  declare readonly status: VerificationStatus;
  declare readonly code: VerificationReason;

  /** `message` is for logs and the answer: it never contains secrets, tokens or plaintext. */
  constructor(
    readonly reason: VerificationReason,
    message: string = reason,
  ) {
    super(STATUS_BY_REASON[reason], reason, message);
  }
}

export function isVerificationError(e: unknown): e is VerificationError {
  return e instanceof VerificationError;
}

/** A platform's configuration is missing or malformed; thrown when the verifier is built, never per request. */
export class PlatformConfigError extends Error {
  override readonly name = 'PlatformConfigError';
  constructor(
    readonly platform: Platform,
    message: string,
  ) {
    super(`${platform}: ${message}`);
  }
}
