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

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Two independent 32-bit lanes (murmur3's mixing), folded into 53 bits at the end. */
class Hasher {
  private h1 = 0x9747b28c;
  private h2 = 0x85ebca6b;

  word(w: number): void {
    let k = Math.imul(w, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    this.h1 = Math.imul((((this.h1 ^ k) << 13) | ((this.h1 ^ k) >>> 19)), 5) + 0xe6546b64;
    let j = Math.imul(w, 0x85ebca77);
    j = Math.imul((j << 13) | (j >>> 19), 0xc2b2ae3d);
    this.h2 = Math.imul((((this.h2 ^ j) << 17) | ((this.h2 ^ j) >>> 15)), 9) + 0x27d4eb2f;
  }

  /** null, NaN and every number distinct (the number's bits) */
  number(x: number | null): void {
    if (x === null) {
      this.word(0x7ff80001);
      this.word(1);
      return;
    }
    f64[0] = x;
    this.word(u32[0]);
    this.word(u32[1]);
  }

  text(s: string | null): void {
    if (s === null) {
      this.number(null);
      return;
    }
    this.word(s.length);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
  }

  result(): number {
    const fold = (h: number) => {
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      return (h ^ (h >>> 16)) >>> 0;
    };
    return fold(this.h1) * 2 ** 21 + (fold(this.h2) & 0x1fffff);
  }
}

export function stateFingerprint(s: VisibleState): number {
  const h = new Hasher();
  h.text(s.tier);
  h.text(s.tierName);
  h.number(s.downgradeStreak);
  h.text(s.lifecycle);
  h.number(s.policyVersion);
  h.text(s.risk.level);
  // reasons are plain data: their JSON (key order included) is what comparing them means
  h.text(s.risk.reasons.length === 0 ? '' : JSON.stringify(s.risk.reasons));
  for (const k of VISIBLE_METRICS) h.number(s.metrics[k]);
  h.text(s.explanation.rule);
  h.number(s.explanation.keptBy ? 1 : 0);
  return h.result();
}
