// approval_result (README "Chat"): outcome, who decided and when, new value score and tier. No actions.
// Two views: `submitter` (a new message to the rep who submitted) and `managers` (the managers' request
// card updated in place: the request content plus the outcome, buttons closed). Outcomes include
// `superseded` (a newer score replaced this one) and `expired` (nobody decided in time).
import {
  type CardContext,
  customerName,
  type Person,
  personName,
  type TierRef,
  tierText,
  when,
} from './common.ts';
import { requestActions, requestBlocks, requestTotal, type ScoreRequest } from './approval-request.ts';
import { clip, formatNumber } from './format.ts';
import { rejectReasonLabel, t } from './i18n.ts';
import { type Block, type Card, DEFAULT_LOCALE, type Field, type Locale, REJECT_REASONS, type Tone } from './model.ts';

export type ApprovalOutcome = 'approved' | 'rejected' | 'superseded' | 'expired';

export interface ApprovalResultData extends CardContext {
  /** `managers`: the in-place update of the request card (give the request card's `ref`) */
  view: 'submitter' | 'managers';
  outcome: ApprovalOutcome;
  request: ScoreRequest;
  decidedBy?: Person;
  decidedAt?: string;
  /** rejection reason: free text, or a preset key (too_high, too_low, no_evidence, other) */
  reason?: string;
  /** after approval: the customer's new value score and tier */
  newValueScore?: number | null;
  newTier?: TierRef | null;
  /** superseded: when the newer score was submitted */
  supersededAt?: string;
  /** expired: after how many days */
  expiredAfterDays?: number;
}

const TONE: Record<ApprovalOutcome, Tone> = { approved: 'success', rejected: 'danger', superseded: 'info', expired: 'info' };

export function approvalResult(data: ApprovalResultData, locale: Locale = DEFAULT_LOCALE): Card {
  const r = data.request;
  const name = customerName(r.customer);
  const tz = data.timezone;
  const outcomeText = t(locale, `outcome.${data.outcome}`);

  let status: string;
  if (data.outcome === 'superseded') {
    status = data.supersededAt
      ? t(locale, 'result.superseded', { when: when(data.supersededAt, tz) })
      : t(locale, 'result.supersededNoTime');
  } else if (data.outcome === 'expired') {
    status = data.expiredAfterDays
      ? t(locale, 'result.expired', { days: data.expiredAfterDays })
      : t(locale, 'result.expiredNoDays');
  } else {
    status = t(locale, 'result.decided', {
      who: personName(data.decidedBy),
      when: when(data.decidedAt, tz),
      outcome: outcomeText,
    });
  }

  const fields: Field[] = [{ label: t(locale, 'f.outcome'), value: outcomeText, tone: TONE[data.outcome] }];
  if (data.decidedBy) fields.push({ label: t(locale, 'f.decidedBy'), value: personName(data.decidedBy) });
  if (data.decidedAt) fields.push({ label: t(locale, 'f.decidedAt'), value: when(data.decidedAt, tz) });
  if (data.outcome === 'rejected' && data.reason) {
    const reason = (REJECT_REASONS as readonly string[]).includes(data.reason)
      ? rejectReasonLabel(locale, data.reason)
      : clip(data.reason.trim(), 200);
    fields.push({ label: t(locale, 'f.reason'), value: reason });
  }
  if (data.outcome === 'approved') {
    if (data.newValueScore !== undefined) {
      fields.push({
        label: t(locale, 'f.valueScore'),
        value: data.newValueScore === null ? '—' : formatNumber(data.newValueScore),
      });
    }
    if (data.newTier !== undefined) fields.push({ label: t(locale, 'f.newTier'), value: tierText(locale, data.newTier) });
  }

  const blocks: Block[] = [{ type: 'text', text: status, tone: TONE[data.outcome] }, { type: 'fields', fields }];
  if (data.view === 'managers') {
    blocks.push(...requestBlocks(r, locale, tz));
  } else {
    const total = requestTotal(r);
    blocks.push({
      type: 'fields',
      fields: [
        { label: t(locale, 'f.submitter'), value: personName(r.submitter) },
        { label: t(locale, 'f.total'), value: total === null ? '—' : formatNumber(total) },
      ],
    });
  }

  const card: Card = {
    kind: 'approval_result',
    locale,
    title: t(locale, `result.title.${data.outcome}`),
    subtitle: name,
    tone: TONE[data.outcome],
    summary: t(locale, 'result.summary', { name, outcome: outcomeText }),
    blocks,
    actions: [],
    url: data.consoleUrl,
  };
  if (data.view === 'managers') {
    card.actions = requestActions(r, data.ref, locale);
    card.closed = { text: t(locale, `closed.${data.outcome}`) };
  }
  return card;
}
