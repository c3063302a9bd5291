import type { TierState } from '../../domain/types.ts';
import type { EvalRow } from '../../ports/store.ts';

/** The part of a stored state an evaluation reads (EvalRow.current). */
export function carriedOf(s: TierState): NonNullable<EvalRow['current']> {
  return { tier: s.tier, tierRank: s.tierRank, since: s.since, previous: s.previous, downgradeStreak: s.downgradeStreak, risk: { level: s.risk.level }, alerted: s.alerted ?? null };
}
