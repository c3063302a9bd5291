// approval_request (README "Chat"): to the managers of the customer's team. Shows customer, submitter, points per
// dimension, weighted total, previous total and delta, comment. Actions: approve · reject (with reason).
import {
  callback,
  type CardContext,
  commentText,
  customerName,
  type CustomerSummary,
  type DimensionInfo,
  dimensionPointsText,
  type Person,
  personName,
  type TierRef,
  tierText,
  totalText,
  weightedTotal,
  when,
} from './common.ts';
import { formatNumber } from './format.ts';
import { dimensionLabel, rejectReasonLabel, t } from './i18n.ts';
import {
  type Block,
  type CallbackAction,
  type Card,
  DEFAULT_LOCALE,
  type Field,
  type Locale,
  REJECT_REASONS,
} from './model.ts';

/** A submitted manual score, as the managers see it. */
export interface ScoreRequest {
  customer: CustomerSummary;
  tier?: TierRef | null;
  submitter: Person;
  submittedAt: string;
  /** every dimension of the policy */
  dimensions: DimensionInfo[];
  /** submitted points per manual dimension */
  points: Record<string, number>;
  /** current points of metric dimensions (e.g. relationship 60) */
  metricPoints?: Record<string, number>;
  /** weighted total as the engine computes it; computed here (missing → null) when omitted */
  total?: number | null;
  /** the customer's value score before this score (null: none) */
  previousTotal: number | null;
  comment?: string;
}

export interface ApprovalRequestData extends CardContext, ScoreRequest {}

export function requestTotal(r: ScoreRequest): number | null {
  return r.total !== undefined ? r.total : weightedTotal(r.dimensions, r);
}

/** The content of a request card; approval_result reuses it for the in-place update. */
export function requestBlocks(r: ScoreRequest, locale: Locale, timezone?: string): Block[] {
  const total = requestTotal(r);
  const fields: Field[] = [{ label: t(locale, 'f.total'), value: totalText(locale, total, r.previousTotal) }];
  for (const d of r.dimensions) fields.push({ label: dimensionLabel(locale, d), value: dimensionPointsText(locale, d, r) });
  fields.push({ label: t(locale, 'f.submitter'), value: personName(r.submitter) });
  fields.push({ label: t(locale, 'f.submittedAt'), value: when(r.submittedAt, timezone) });
  if (r.tier !== undefined) fields.push({ label: t(locale, 'f.tier'), value: tierText(locale, r.tier) });
  const blocks: Block[] = [{ type: 'fields', fields }];
  if (r.comment && r.comment.trim()) {
    blocks.push({ type: 'text', text: [{ strong: t(locale, 'approval.comment') }, locale === 'en' ? ' ' : '', commentText(r.comment)] });
  }
  return blocks;
}

/** approve · reject; the same refs on the request card and on its decided variant. */
export function requestActions(r: ScoreRequest, ref: string, locale: Locale): CallbackAction[] {
  const total = requestTotal(r);
  return [
    callback('score.approve', t(locale, 'btn.approve'), ref, {
      style: 'primary',
      confirm: {
        title: t(locale, 'confirm.approve.title'),
        text: t(locale, 'confirm.approve.text', { total: total === null ? '—' : formatNumber(total) }),
      },
    }),
    callback('score.reject', t(locale, 'btn.reject'), ref, {
      style: 'danger',
      needsReason: {
        label: t(locale, 'approval.reasonLabel'),
        placeholder: t(locale, 'approval.reasonPlaceholder'),
        presets: REJECT_REASONS.map((v) => ({ value: v, label: rejectReasonLabel(locale, v) })),
      },
    }),
  ];
}

export function approvalRequest(data: ApprovalRequestData, locale: Locale = DEFAULT_LOCALE): Card {
  const name = customerName(data.customer);
  return {
    kind: 'approval_request',
    locale,
    title: t(locale, 'approval.title'),
    subtitle: name,
    tone: 'warning',
    summary: t(locale, 'approval.summary', { name, submitter: personName(data.submitter) }),
    blocks: requestBlocks(data, locale, data.timezone),
    actions: requestActions(data, data.ref, locale),
    url: data.consoleUrl,
  };
}
