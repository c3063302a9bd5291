import { VerificationError } from './errors.ts';

/** Deliveries whose signed timestamp is more than one hour from now are replays (docs/architecture.md,
 * "Inbound verification"). */
export const REPLAY_WINDOW_MS = 60 * 60 * 1000;

/** How a platform writes its timestamps: Feishu and WeCom in seconds, DingTalk in milliseconds. */
export type TimestampUnit = 's' | 'ms';

const MS_PER_UNIT: Record<TimestampUnit, number> = { s: 1000, ms: 1 };

/** A decimal timestamp as epoch milliseconds; anything but 1–16 ASCII digits is a malformed request. */
export function parseTimestamp(raw: string, unit: TimestampUnit): number {
  if (!/^\d{1,16}$/.test(raw)) throw new VerificationError('malformed_request', 'timestamp is not a decimal integer');
  return Number(raw) * MS_PER_UNIT[unit];
}

/**
 * Rejects a timestamp more than `windowMs` away from `nowMs` in either direction (`|now − ts| ≤ window` passes).
 * Returns the timestamp in epoch milliseconds.
 */
export function assertFresh(raw: string, unit: TimestampUnit, nowMs: number, windowMs = REPLAY_WINDOW_MS): number {
  const ts = parseTimestamp(raw, unit);
  if (Math.abs(nowMs - ts) > windowMs) {
    throw new VerificationError('stale_timestamp', `timestamp is ${Math.round((nowMs - ts) / 1000)} s from now`);
  }
  return ts;
}
