import type { Risk, RiskLevel } from './types.ts';

export const SEVERITY: Readonly<Record<RiskLevel, number>> = { none: 0, low: 1, medium: 2, high: 3 };

/** True when `now` deserves an alert compared with what was last alerted: a new rule fired or the level rose. */
export function alertWorthy(last: { level: RiskLevel; rules: string[] } | null, now: Risk): boolean {
  if (now.level === 'none') return false;
  if (!last || last.level === 'none') return true;
  if (SEVERITY[now.level] > SEVERITY[last.level]) return true;
  return now.reasons.some((r) => !last.rules.includes(r.rule));
}
