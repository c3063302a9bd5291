// A 53-bit hash of what a user can see in a tier state: the fields the recompute compares before it rewrites a
// customer (tier, name, streak, lifecycle, policy version, risk level and reasons, the metrics, the rule that
// matched and whether stability kept the tier). Two states with the same visible content hash alike; a run
// compares hashes to find, without decoding the stored states, the few customers whose result differs.
// Not part of it: when and by which run the state was written, `since`/`previous`, and the alert bookkeeping.
import type { Metrics, TierState } from './types.ts';

export type VisibleState = Pick<TierState, 'tier' | 'tierName' | 'downgradeStreak' | 'lifecycle' | 'policyVersion' | 'metrics'> & {
  risk: Pick<TierState['risk'], 'level' | 'reasons'>;
  explanation: Pick<TierState['explanation'], 'rule' | 'keptBy'>;
};

/** The metrics in the hash, in a fixed order (previousTierRank is an input of the evaluation, not a result). */
export const VISIBLE_METRICS = [
  'recencyDays', 'frequency', 'monetary', 'margin', 'lifetimeValue', 'orderCount', 'avgOrderValue', 'tenureDays',
  'medianIntervalDays', 'monetaryTopPct', 'r', 'f', 'm', 'rfmTotal', 'valueScore', 'tierRank',
  'pAlive', 'expectedPurchases90d', 'clv12m',
] as const satisfies readonly (keyof Metrics)[];

// The numbers go into one scratch array, the texts into one string; both are hashed in one tight loop each with
// two independent 32-bit lanes, folded (murmur3's finaliser) into 53 bits. Locals only: a run hashes every result.
const nums = new Float64Array(3 + 2 * VISIBLE_METRICS.length);
const words = new Int32Array(nums.buffer);
const SEP = '\u0000';
const NO_METRICS = {} as Metrics;

/** Any stored state hashes (one missing a part, as a store may hold from elsewhere, as if that part were empty). */
/** `reasonsJson`: JSON.stringify(s.risk.reasons) when the caller has it already ('' for none) */
export function stateFingerprint(s: VisibleState, reasonsJson?: string): number {
  let n = 0;
  nums[n++] = s.downgradeStreak;
  nums[n++] = s.policyVersion;
  nums[n++] = s.explanation?.keptBy ? 1 : 0;
  const m = s.metrics ?? NO_METRICS;
  // one named read per metric (a keyed read in a loop costs more than the whole hash)
  n = metric(n, m.recencyDays);
  n = metric(n, m.frequency);
  n = metric(n, m.monetary);
  n = metric(n, m.margin);
  n = metric(n, m.lifetimeValue);
  n = metric(n, m.orderCount);
  n = metric(n, m.avgOrderValue);
  n = metric(n, m.tenureDays);
  n = metric(n, m.medianIntervalDays);
  n = metric(n, m.monetaryTopPct);
  n = metric(n, m.r);
  n = metric(n, m.f);
  n = metric(n, m.m);
  n = metric(n, m.rfmTotal);
  n = metric(n, m.valueScore);
  n = metric(n, m.tierRank);
  n = metric(n, m.pAlive);
  n = metric(n, m.expectedPurchases90d);
  n = metric(n, m.clv12m);
  // reasons are plain data: their JSON (key order included) is what comparing them means
  const texts = s.tier + SEP + s.tierName + SEP + s.lifecycle + SEP + s.risk?.level + SEP + s.explanation?.rule + SEP + (reasonsJson ?? (!s.risk?.reasons?.length ? '' : JSON.stringify(s.risk.reasons)));
  // two lanes of multiply-xorshift (FNV-like, 32-bit): enough to tell results apart, which is all this is for
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x2545f491;
  const nw = 2 * n;
  for (let i = 0; i < nw; i++) {
    const w = words[i];
    h1 = Math.imul(h1 ^ w, 0x01000193);
    h2 = Math.imul(h2 ^ w, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  for (let i = 0; i < texts.length; i++) {
    const w = texts.charCodeAt(i);
    h1 = Math.imul(h1 ^ w, 0x01000193);
    h2 = Math.imul(h2 ^ w, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  const total = nw + texts.length;
  h1 ^= total;
  h2 ^= total;
  return fold(h1) * 2 ** 21 + (fold(h2) & 0x1fffff);
}

/** null and a missing metric (a state saved before it existed) are not 0, and not each other */
function metric(n: number, v: number | null | undefined): number {
  nums[n] = v === null ? 1 : v === undefined ? 2 : 0;
  nums[n + 1] = v ?? 0;
  return n + 2;
}

function fold(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
