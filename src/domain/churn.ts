// Churn detectors and risk level (docs/policy.md, "Churn detectors and risk").
import type { CompiledPolicy } from './compile.ts';
import { traceCondition, type Attributes, type Values } from './conditions.ts';
import type { Scan } from './metrics.ts';
import type { Frame, Metrics, Risk, RiskLevel, RiskReason } from './types.ts';
import { round2 } from './value-score.ts';

export function riskRank(level: RiskLevel): number {
  return level === 'high' ? 3 : level === 'medium' ? 2 : level === 'low' ? 1 : 0;
}

/** Evaluates every churn rule; `m` and `values` must already hold this run's tierRank. */
export function evaluateChurn(cp: CompiledPolicy, m: Metrics, values: Values, s: Scan, f: Frame, attributes: Attributes): Risk {
  let level: RiskLevel = 'none';
  let reasons: RiskReason[] | null = null;
  for (let i = 0; i < cp.churn.length; i++) {
    const rule = cp.churn[i];
    let detail: Record<string, unknown> | null = null;
    if (rule.kind === 'overdue') {
      const r = m.recencyDays;
      const med = m.medianIntervalDays;
      if (r !== null && med !== null && r > rule.factor * med && r >= rule.minDays) {
        detail = { recencyDays: r, medianIntervalDays: med, factor: rule.factor, minDays: rule.minDays, thresholdDays: rule.factor * med };
      }
    } else if (rule.kind === 'spendDrop') {
      detail = spendDrop(rule.months, rule.pct, s, f, cp.spendMonths);
    } else if (rule.kind === 'pAlive') {
      // the rounded value the card shows is the one compared
      const p = m.pAlive;
      if (p !== null && p < rule.below && m.orderCount >= rule.minOrders) {
        detail = { detector: 'pAlive', pAlive: p, below: rule.below, orderCount: m.orderCount, minOrders: rule.minOrders, recencyDays: m.recencyDays };
      }
    } else if (rule.when.test(values, attributes)) {
      detail = { conditions: traceCondition(rule.when, values, attributes) };
    }
    if (detail === null) continue;
    (reasons ??= []).push({ rule: rule.key, severity: rule.severity, detail });
    if (riskRank(rule.severity) > riskRank(level)) level = rule.severity;
  }
  return { level, reasons: reasons ?? [] };
}

/** m₀ … m_k are the k+1 complete months before asOf's month; all money compared in integer fen. */
function spendDrop(k: number, pct: number, s: Scan, f: Frame, maxMonths: number): Record<string, unknown> | null {
  const fen = s.monthFen;
  const base = maxMonths - k;
  if (!(fen[base] > 0)) return null;
  for (let i = 1; i <= k; i++) {
    if (!(100 * fen[base + i] <= (100 - pct) * fen[base + i - 1])) return null;
  }
  const months: { month: string; amount: number }[] = [];
  const dropPct: (number | null)[] = [];
  for (let i = 0; i <= k; i++) {
    months.push({ month: f.monthLabels[base + i], amount: fen[base + i] / 100 });
    if (i > 0) {
      const prev = fen[base + i - 1];
      dropPct.push(prev > 0 ? round2((100 * (prev - fen[base + i])) / prev) : null);
    }
  }
  return { months, dropPct, pct };
}
