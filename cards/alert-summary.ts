// alert_summary: what the alert budget holds back, as one card. A rep gets at most N churn_alert /
// tier_change cards a day; everything above that budget, and everything on a baseline run (first evaluation,
// fresh store, new policy version), goes into one summary per person and run; managers get one team summary
// per run. Shows counts by risk level and tier moves, the top 10 rows (customer, tier, risk or move, value at
// stake, main reason with its numbers; the owner on team summaries) and "N more". Action: open in console.
import type { RiskLevel, RiskReason } from '../src/domain/types.ts';
import { riskTone } from './churn-alert.ts';
import { customerName, MAX_PERSON, personName, reasonText, type TierRef } from './common.ts';
import { clip, colon, formatNumber, formatYuan } from './format.ts';
import { type MsgKey, riskLabel, t } from './i18n.ts';
import { type Block, type Card, DEFAULT_LOCALE, type Field, type Locale, type Tone } from './model.ts';

export const ALERT_SUMMARY_TOP = 10;

/** Longest main reason shown in a row (the reason's numbers come first, so they survive the clip). */
const MAX_REASON = 80;
/** Longest team name shown (as on the daily digest). */
const MAX_TEAM = 30;

export interface AlertSummaryRow {
  customer: { id: string; name: string; ownerName?: string };
  tier: TierRef | null;
  /** what this row announces */
  kind: 'alert' | 'downgrade' | 'upgrade';
  /** the customer's risk level now */
  risk: RiskLevel;
  /** yuan a year that losing the customer would cost (as in the digest) */
  valueAtStake: number;
  /** the main reason of an alert row, with its numbers (rendered like the churn_alert card's reasons) */
  reason: RiskReason | null;
  /** tier moves: where from (to is `tier`) */
  from?: TierRef | null;
}

export interface AlertSummaryData {
  /** console page listing these customers, already a full URL */
  consoleUrl: string;
  timezone?: string;
  /** a person's own customers, or a manager's team */
  scope: 'person' | 'team';
  /** the person's or the team's name */
  name: string;
  /** true on a baseline run: "your book today: N at risk" instead of "N more alerts" */
  baseline: boolean;
  /** local date YYYY-MM-DD */
  date: string;
  /**
   * over ALL rows of this summary (not only the shown ones): customers at each risk level, and tier moves;
   * on a baseline the at-risk count of the title is high + medium + low
   */
  counts: { high: number; medium: number; low: number; downgrades: number; upgrades: number };
  /** how many individual cards this person got in this run (0 on baselines and for team summaries) */
  sentIndividually: number;
  /** ranked, most important first; the builder shows the first ALERT_SUMMARY_TOP and "N more" */
  rows: AlertSummaryRow[];
  /** how many rows there are in all (rows may already be cut to the top; total ≥ rows.length) */
  total: number;
}

/** English needs a singular for 1; Chinese says the same either way. */
function counted(locale: Locale, n: number, one: MsgKey, other: MsgKey): string {
  return t(locale, n === 1 ? one : other, { n: formatNumber(n) });
}

function titleOf(data: AlertSummaryData, locale: Locale, atRisk: number, total: number): string {
  const team = data.scope === 'team';
  if (data.baseline) {
    if (atRisk === 0) return t(locale, team ? 'summary.title.teamBaselineNone' : 'summary.title.baselineNone');
    return t(locale, team ? 'summary.title.teamBaseline' : 'summary.title.baseline', { n: formatNumber(atRisk) });
  }
  return team
    ? counted(locale, total, 'summary.title.teamOne', 'summary.title.team')
    : counted(locale, total, 'summary.title.overflowOne', 'summary.title.overflow');
}

/** The highest level present: high risk red; medium risk or a downgrade orange; low risk blue; only upgrades (or nothing) green. */
function toneOf(c: AlertSummaryData['counts']): Tone {
  if (c.high > 0) return riskTone('high');
  if (c.medium > 0 || c.downgrades > 0) return riskTone('medium');
  if (c.low > 0) return riskTone('low');
  return 'success';
}

/** "↓ A→W", "↑ B→A"; a first tier shows "—" as where from. */
function moveText(r: AlertSummaryRow): string {
  const arrow = r.kind === 'downgrade' ? '↓' : '↑';
  return `${arrow} ${r.from ? r.from.key : '—'}→${r.tier ? r.tier.key : '—'}`;
}

function rowCells(r: AlertSummaryRow, rank: number, locale: Locale, team: boolean): string[] {
  const cells = [String(rank), customerName(r.customer)];
  if (team) cells.push(r.customer.ownerName ? personName({ name: r.customer.ownerName }) : '—');
  cells.push(
    r.tier ? r.tier.key : '—',
    r.kind === 'alert' ? riskLabel(locale, r.risk) : moveText(r),
    formatYuan(r.valueAtStake),
    r.reason ? clip(reasonText(locale, r.reason), MAX_REASON) : '—',
  );
  return cells;
}

export function alertSummary(data: AlertSummaryData, locale: Locale = DEFAULT_LOCALE): Card {
  const team = data.scope === 'team';
  const name = clip(data.name.trim() || '—', team ? MAX_TEAM : MAX_PERSON);
  const c = data.counts;
  const atRisk = c.high + c.medium + c.low;
  const total = Math.max(data.total, data.rows.length);
  const top = data.rows.slice(0, ALERT_SUMMARY_TOP);
  const title = titleOf(data, locale, atRisk, total);

  const fields: Field[] = [
    { label: t(locale, 'f.high'), value: formatNumber(c.high), ...(c.high ? { tone: 'danger' as const } : {}) },
    { label: t(locale, 'f.medium'), value: formatNumber(c.medium), ...(c.medium ? { tone: 'warning' as const } : {}) },
    { label: t(locale, 'f.low'), value: formatNumber(c.low) },
    {
      label: t(locale, 'f.tierMoves'),
      value: t(locale, 'summary.moves', { down: formatNumber(c.downgrades), up: formatNumber(c.upgrades) }),
      ...(c.downgrades ? { tone: 'warning' as const } : {}),
    },
  ];
  const blocks: Block[] = [{ type: 'fields', fields }];

  if (data.baseline) {
    blocks.push({ type: 'text', text: t(locale, team ? 'summary.teamBaseline' : 'summary.baseline') });
  } else if (data.sentIndividually > 0) {
    blocks.push({ type: 'text', text: counted(locale, data.sentIndividually, 'summary.sentOne', 'summary.sent') });
  }

  if (top.length) {
    const columns = [t(locale, 'col.rank'), t(locale, 'col.customer')];
    if (team) columns.push(t(locale, 'col.owner'));
    columns.push(t(locale, 'col.tier'), t(locale, 'col.riskOrMove'), t(locale, 'col.valueAtStake'), t(locale, 'col.reason'));
    blocks.push({
      type: 'table',
      title: t(locale, 's.topAlerts'),
      columns,
      rows: top.map((r, i) => rowCells(r, i + 1, locale, team)),
      ...(total > top.length ? { total } : {}),
    });
  } else {
    blocks.push({ type: 'text', text: t(locale, 'summary.empty'), tone: 'success' });
  }

  const preview = title + (c.high > 0 ? t(locale, 'summary.previewHigh', { n: formatNumber(c.high) }) : '');
  return {
    kind: 'alert_summary',
    locale,
    title,
    subtitle: t(locale, 'summary.header', { name, date: data.date }),
    tone: toneOf(c),
    summary: team ? `${name}${colon(locale)}${preview}` : preview,
    blocks,
    actions: [{ type: 'link', key: 'console.open', label: t(locale, 'btn.console'), url: data.consoleUrl, style: 'primary' }],
    url: data.consoleUrl,
  };
}
