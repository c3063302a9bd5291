// daily_digest (README "Chat"): to the team chat (and optionally each rep). At-risk customers ranked by value
// at stake (top 10 and "N more"), tier moves since the last digest, pending approvals. Action: open in console.
import type { RiskLevel } from '../src/domain/types.ts';
import { customerName, type Person, personName, type TierRef, tierText } from './common.ts';
import { clip, formatNumber, formatYuan } from './format.ts';
import { riskLabel, t } from './i18n.ts';
import { type Block, type Card, DEFAULT_LOCALE, type Locale } from './model.ts';

export interface DigestRiskRow {
  customer: { id: string; name: string; ownerName?: string };
  tier: TierRef | null;
  risk: RiskLevel;
  /** yuan at stake, e.g. the trailing-window spend */
  valueAtStake: number;
}

export interface DigestMove {
  customer: { id: string; name: string };
  from: TierRef | null;
  to: TierRef;
  direction: 'upgrade' | 'downgrade';
}

export interface DigestPending {
  customer: { id: string; name: string };
  submitter: Person;
  total: number | null;
  submittedAt: string;
}

export interface DailyDigestData {
  /** console page for the team, `PUBLIC_BASE_URL` + path */
  consoleUrl: string;
  timezone?: string;
  team: { name: string };
  /** local date of the digest, YYYY-MM-DD */
  date: string;
  atRisk: DigestRiskRow[];
  tierMoves: DigestMove[];
  pendingApprovals: DigestPending[];
  /**
   * the segment of the top tier's customers whose window revenue grew most since the previous digest
   * (`dimension`: an attribute key, tags, owner or team; `segment`: its value as shown)
   */
  topSegment?: { tier: TierRef; dimension: string; segment: string; revenueChange: number; customerChange: number };
  /** value at stake per month, oldest first (optional chart) */
  trend?: { months: string[]; values: number[] };
}

export const DIGEST_TOP = 10;
export const DIGEST_LIST_TOP = 5;

const RISK_ORDER: Record<string, number> = { high: 3, medium: 2, low: 1, none: 0 };

export function rankAtRisk(rows: DigestRiskRow[]): DigestRiskRow[] {
  return [...rows].sort(
    (a, b) =>
      b.valueAtStake - a.valueAtStake ||
      (RISK_ORDER[b.risk] ?? 0) - (RISK_ORDER[a.risk] ?? 0) ||
      (a.customer.id < b.customer.id ? -1 : a.customer.id > b.customer.id ? 1 : 0),
  );
}

function moreOf(total: number, shown: number): { total?: number } {
  return total > shown ? { total } : {};
}

export function dailyDigest(data: DailyDigestData, locale: Locale = DEFAULT_LOCALE): Card {
  const team = clip(data.team.name, 30);
  const ranked = rankAtRisk(data.atRisk);
  const top = ranked.slice(0, DIGEST_TOP);
  const atStake = ranked.reduce((s, r) => s + r.valueAtStake, 0);
  const up = data.tierMoves.filter((m) => m.direction === 'upgrade').length;
  const down = data.tierMoves.length - up;

  const blocks: Block[] = [
    {
      type: 'fields',
      fields: [
        { label: t(locale, 'f.atRisk'), value: formatNumber(ranked.length), tone: ranked.length ? 'warning' : 'info' },
        { label: t(locale, 'f.valueAtStake'), value: formatYuan(atStake) },
        { label: t(locale, 'f.tierMoves'), value: t(locale, 'digest.movesSummary', { up, down }) },
        { label: t(locale, 'f.pending'), value: formatNumber(data.pendingApprovals.length) },
      ],
    },
  ];

  if (data.topSegment) {
    const g = data.topSegment;
    const known = ['industry', 'region', 'channel', 'tags', 'owner', 'team'];
    const dimension = known.includes(g.dimension) ? t(locale, `segBy.${g.dimension}` as never) : g.dimension;
    blocks.push({
      type: 'text',
      text: t(locale, 'digest.topSegment', {
        tier: g.tier.key,
        segment: `${clip(dimension, 20)}=${clip(g.segment, 40)}`,
        revenue: formatYuan(g.revenueChange),
        customers: `${g.customerChange >= 0 ? '+' : ''}${formatNumber(g.customerChange)}`,
      }),
      tone: 'success',
    });
  }

  if (top.length) {
    blocks.push({
      type: 'table',
      title: t(locale, 's.topRisk'),
      columns: [
        t(locale, 'col.rank'),
        t(locale, 'col.customer'),
        t(locale, 'col.tier'),
        t(locale, 'col.risk'),
        t(locale, 'col.valueAtStake'),
        t(locale, 'col.owner'),
      ],
      rows: top.map((r, i) => [
        String(i + 1),
        customerName(r.customer),
        r.tier ? r.tier.key : '—',
        riskLabel(locale, r.risk),
        formatYuan(r.valueAtStake),
        r.customer.ownerName ? personName({ name: r.customer.ownerName }) : '—',
      ]),
      ...moreOf(ranked.length, top.length),
    });
  } else {
    blocks.push({ type: 'text', text: t(locale, 'digest.noRisk'), tone: 'success' });
  }

  if (data.tierMoves.length) {
    const moves = data.tierMoves.slice(0, DIGEST_LIST_TOP);
    blocks.push({
      type: 'list',
      title: t(locale, 's.moves'),
      items: moves.map((m) =>
        t(locale, 'digest.moveLine', {
          name: customerName(m.customer),
          from: m.from ? tierText(locale, m.from) : '—',
          to: tierText(locale, m.to),
        }),
      ),
      ...moreOf(data.tierMoves.length, moves.length),
    });
  }

  if (data.pendingApprovals.length) {
    const pending = data.pendingApprovals.slice(0, DIGEST_LIST_TOP);
    blocks.push({
      type: 'list',
      title: t(locale, 's.pending'),
      items: pending.map((p) =>
        t(locale, 'digest.pendingLine', {
          name: customerName(p.customer),
          submitter: personName(p.submitter),
          total: p.total === null ? '—' : formatNumber(p.total),
        }),
      ),
      ...moreOf(data.pendingApprovals.length, pending.length),
    });
  }

  if (data.trend && data.trend.months.length && data.trend.months.length === data.trend.values.length) {
    blocks.push({
      type: 'trend',
      title: t(locale, 'digest.trend'),
      labels: data.trend.months.slice(-12),
      values: data.trend.values.slice(-12),
      unit: 'yuan',
      seriesName: t(locale, 'f.valueAtStake'),
    });
  }

  return {
    kind: 'daily_digest',
    locale,
    title: t(locale, 'digest.title'),
    subtitle: t(locale, 'digest.header', { team, date: data.date }),
    tone: ranked.length ? 'warning' : 'success',
    summary: t(locale, 'digest.summary', { team, count: ranked.length }),
    blocks,
    actions: [{ type: 'link', key: 'console.open', label: t(locale, 'btn.console'), url: data.consoleUrl, style: 'primary' }],
    url: data.consoleUrl,
  };
}
