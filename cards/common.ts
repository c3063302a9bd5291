// Inputs and text pieces shared by several card builders.
import type { ConditionTrace, Explanation, RiskReason } from '../src/domain/types.ts';
import { clip, formatDateTime, formatNumber, formatWeight, formatYuan } from './format.ts';
import { metricLabel, MONEY_METRICS, opLabel, reasonLabel, t, tierLabel } from './i18n.ts';
import type { CallbackAction, Locale } from './model.ts';

/** Longest customer name shown anywhere on a card; longer names are clipped. */
export const MAX_NAME = 40;
/** Longest person name shown. */
export const MAX_PERSON = 24;
/** Longest user comment shown. */
export const MAX_COMMENT = 300;

export interface CustomerSummary {
  id: string;
  name: string;
  ownerName?: string;
  teamName?: string;
}

export interface TierRef {
  key: string;
  /** the policy's name of the tier (Chinese in the default policy) */
  name?: string;
  rank?: number;
}

export interface Person {
  name: string;
}

/** A value-score dimension as the policy defines it. */
export interface DimensionInfo {
  key: string;
  name?: string;
  weight: number;
  source: 'manual' | 'metric';
  /** scoring guidance shown on the score form (policy text; built-in text for known keys) */
  guidance?: string;
}

/** Where a card's links point and how its times are shown. */
export interface CardContext {
  /** opaque server-side reference of this card instance (carried by every action) */
  ref: string;
  /** console page of the subject, `PUBLIC_BASE_URL` + path */
  consoleUrl: string;
  /** IANA zone for times shown (the policy time zone); default Asia/Shanghai */
  timezone?: string;
}

export function customerName(c: { name: string }): string {
  return clip(c.name.trim() || '—', MAX_NAME);
}

export function personName(p: { name: string } | null | undefined): string {
  return p ? clip(p.name.trim() || '—', MAX_PERSON) : '—';
}

export function when(iso: string | null | undefined, tz: string | undefined): string {
  return iso ? formatDateTime(iso, tz) : '—';
}

export function tierText(locale: Locale, tier: TierRef | null | undefined): string {
  return tierLabel(locale, tier);
}

/** Value of a metric for display: money as yuan, numbers grouped, null as a dash. */
export function metricValue(metric: string, v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return MONEY_METRICS.has(metric) ? formatYuan(v) : formatNumber(v);
  if (Array.isArray(v)) return v.map((x) => metricValue(metric, x)).join(' → ');
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} ${metricValue(k, x)}`)
      .join(', ');
  }
  return String(v);
}

/** "距上次下单天数 12 ≤ 30" */
export function conditionText(locale: Locale, c: ConditionTrace): string {
  const label = metricLabel(locale, c.metric);
  const actual = metricValue(c.metric, c.actual);
  let target: string;
  if (c.op === 'between' && Array.isArray(c.value) && c.value.length === 2) {
    target = `${metricValue(c.metric, c.value[0])}–${metricValue(c.metric, c.value[1])}`;
  } else if (Array.isArray(c.value)) {
    target = c.value.map((x) => metricValue(c.metric, x)).join(', ');
  } else {
    target = metricValue(c.metric, c.value);
  }
  return `${c.held ? '✓' : '✗'} ${label} ${actual} ${opLabel(locale, c.op)} ${target}`;
}

/** Plain-text lines explaining a tier (rule, each condition with its values, stability). */
export function explanationLines(locale: Locale, e: Explanation | null | undefined, max = 8): string[] {
  if (!e) return [t(locale, 'notEvaluated')];
  const lines: string[] = [];
  if (e.conditions.length === 0) lines.push(t(locale, 'tier.always'));
  else {
    lines.push(t(locale, 'tier.ruleMatched', { rule: e.rule }));
    for (const c of e.conditions.slice(0, max)) lines.push(conditionText(locale, c));
  }
  if (e.keptBy) {
    lines.push(
      t(locale, 'tier.kept', { candidate: e.keptBy.candidate, runs: e.keptBy.agreeingRuns, needed: e.keptBy.needed }),
    );
  }
  return lines;
}

/** A label used mid-sentence: lower-case first letter in English ("tier rank 4"). */
function inline(locale: Locale, label: string): string {
  return locale === 'en' && /^[A-Z][a-z]/.test(label) ? label.charAt(0).toLowerCase() + label.slice(1) : label;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Monthly spends of a spendDrop reason, oldest first, however the engine shaped them. */
function spendSeries(d: Record<string, unknown>): { month?: string; spend: number }[] | null {
  const raw = d.months ?? d.spend ?? d.series ?? d.monthly;
  if (!Array.isArray(raw)) return null;
  const out: { month?: string; spend: number }[] = [];
  for (const x of raw) {
    if (typeof x === 'number') out.push({ spend: x });
    else if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      const spend = num(o.spend ?? o.amount ?? o.value);
      if (spend === null) return null;
      out.push({ month: typeof o.month === 'string' ? o.month : undefined, spend });
    } else return null;
  }
  return out.length ? out : null;
}

/**
 * One line per churn reason, with the numbers that made it fire (docs/policy.md, "Churn detectors and risk").
 * Known shapes: overdue {recencyDays, medianIntervalDays, factor, minDays};
 * spendDrop {months: [{month, spend}] | number[], pct}; anything else is shown key by key.
 */
export function reasonText(locale: Locale, r: RiskReason): string {
  const d = r.detail ?? {};
  const label = reasonLabel(locale, r.rule);
  const sep = locale === 'zh-CN' ? '：' : ': ';
  const detector = typeof d.detector === 'string' ? d.detector : r.rule;
  if (detector === 'overdue') {
    const days = num(d.recencyDays);
    const median = num(d.medianIntervalDays);
    const factor = num(d.factor);
    if (days !== null && median !== null && factor !== null) {
      return locale === 'zh-CN'
        ? `${label}${sep}已 ${formatNumber(days)} 天未下单，超过常规间隔 ${formatNumber(median)} 天的 ${formatNumber(factor)} 倍`
        : `${label}${sep}no order in ${formatNumber(days)} days (>${formatNumber(factor)}× usual ${formatNumber(median)})`;
    }
  }
  if (detector === 'pAlive') {
    const p = num(d.pAlive);
    const below = num(d.below);
    const orders = num(d.orderCount);
    const days = num(d.recencyDays);
    if (p !== null && below !== null && orders !== null) {
      const pct = (x: number) => `${formatNumber(x * 100, 1)}%`;
      return locale === 'zh-CN'
        ? `${label}${sep}存活概率 ${pct(p)}（低于 ${pct(below)}），共 ${formatNumber(orders)} 单${days !== null ? `，已 ${formatNumber(days)} 天未下单` : ''}`
        : `${label}${sep}P(alive) ${pct(p)} (< ${pct(below)}), ${formatNumber(orders)} orders${days !== null ? `, no order in ${formatNumber(days)} days` : ''}`;
    }
  }
  if (detector === 'spendDrop') {
    const series = spendSeries(d);
    const pct = num(d.pct);
    if (series) {
      const path = series.map((s) => formatYuan(s.spend)).join('→');
      if (locale === 'zh-CN') {
        return `${label}${sep}${pct !== null ? `每月降 ≥${formatNumber(pct)}%，` : ''}${path}`;
      }
      return `${label}${sep}${pct !== null ? `≥${formatNumber(pct)}%/month, ` : ''}${path}`;
    }
  }
  // generic: each number of the detail, labelled
  const conds = Array.isArray(d.conditions) ? (d.conditions as ConditionTrace[]) : null;
  if (conds && conds.every((c) => c && typeof c === 'object' && 'metric' in c)) {
    const parts = conds.map((c) => `${inline(locale, metricLabel(locale, c.metric))} ${metricValue(c.metric, c.actual)}`);
    return `${label}${sep}${parts.join(locale === 'zh-CN' ? '，' : ', ')}`;
  }
  const parts = Object.entries(d)
    .filter(([k]) => k !== 'detector')
    .map(([k, v]) => `${inline(locale, metricLabel(locale, k))} ${metricValue(k, v)}`);
  return parts.length ? `${label}${sep}${parts.join(locale === 'zh-CN' ? '，' : ', ')}` : label;
}

// ---------------------------------------------------------------------------------------------
// Scores

export interface ScorePoints {
  /** points per manual dimension as submitted */
  points: Record<string, number>;
  /** points of metric dimensions, as the engine computes them for this customer */
  metricPoints?: Record<string, number>;
}

export function pointsOf(dim: DimensionInfo, s: ScorePoints): number | undefined {
  const p = dim.source === 'manual' ? s.points[dim.key] : s.metricPoints?.[dim.key];
  return typeof p === 'number' && Number.isFinite(p) ? p : undefined;
}

/**
 * Σ weight · points over the dimensions, 2 decimals (docs/policy.md, "Value score"); null when a dimension has
 * no points (the policy's `missing: "null"`), unless `missingAsZero`.
 */
export function weightedTotal(dims: DimensionInfo[], s: ScorePoints, missingAsZero = false): number | null {
  let sum = 0;
  for (const d of dims) {
    const p = pointsOf(d, s);
    if (p === undefined) {
      if (!missingAsZero) return null;
      continue;
    }
    sum += d.weight * p;
  }
  return Math.round(sum * 100) / 100;
}

/** "90 分 × 40%" per dimension */
export function dimensionPointsText(locale: Locale, dim: DimensionInfo, s: ScorePoints): string {
  const p = pointsOf(dim, s);
  const weight = formatWeight(dim.weight);
  if (p === undefined) return t(locale, 'noPoints', { weight });
  return t(locale, dim.source === 'manual' ? 'weightedPoints' : 'autoPoints', { points: formatNumber(p), weight });
}

/** "84（较原 78 +6）" */
export function totalText(locale: Locale, total: number | null, previous: number | null | undefined): string {
  if (total === null) return t(locale, 'totalMissing');
  if (previous === null || previous === undefined) return t(locale, 'totalFirst', { total: formatNumber(total) });
  return t(locale, 'totalWithDelta', {
    total: formatNumber(total),
    previous: formatNumber(previous),
    delta: formatDeltaSigned(total - previous),
  });
}

function formatDeltaSigned(n: number): string {
  const r = Math.round(n * 100) / 100;
  const s = formatNumber(r);
  return r > 0 ? '+' + s : r === 0 ? '±0' : s;
}

/** A comment as shown on a card: trimmed, clipped. */
export function commentText(comment: string): string {
  return clip(comment.trim(), MAX_COMMENT);
}

export function callback(
  key: CallbackAction['key'],
  label: string,
  ref: string,
  extra: Partial<Omit<CallbackAction, 'type' | 'key' | 'label' | 'ref'>> = {},
): CallbackAction {
  return { type: 'callback', key, label, ref, ...extra };
}
