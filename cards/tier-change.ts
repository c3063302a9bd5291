// tier_change (README "Chat"): to the owner rep (and the manager on a downgrade from the top tier).
// Shows from → to, why (explanation) and the new tier's playbook. Actions: score this customer · acknowledge.
import type { Explanation } from '../src/domain/types.ts';
import {
  callback,
  type CardContext,
  customerName,
  type CustomerSummary,
  explanationLines,
  personName,
  type TierRef,
  tierText,
  when,
} from './common.ts';
import { clip } from './format.ts';
import { playbookSectionLabel, t } from './i18n.ts';
import { type Block, type Card, DEFAULT_LOCALE, type Field, type Locale } from './model.ts';

/** Playbook lines of a tier, by section (policy `playbook: {service: [...], marketing: [...], sales: [...]}`). */
export type Playbook = Record<string, string[]>;

export interface TierChangeData extends CardContext {
  customer: CustomerSummary;
  from: TierRef | null;
  to: TierRef;
  /** by rank; derived from the ranks when omitted */
  direction?: 'upgrade' | 'downgrade';
  explanation: Explanation;
  playbook?: Playbook;
  /** when the new tier took effect (ISO) */
  since?: string;
}

const MAX_PLAYBOOK_LINES = 9;

export function tierChange(data: TierChangeData, locale: Locale = DEFAULT_LOCALE): Card {
  const name = customerName(data.customer);
  const direction =
    data.direction ??
    (data.from && typeof data.from.rank === 'number' && typeof data.to.rank === 'number' && data.to.rank < data.from.rank
      ? 'downgrade'
      : 'upgrade');
  const first = data.from === null;
  const from = tierText(locale, data.from);
  const to = tierText(locale, data.to);
  const move = first ? t(locale, 'tier.fromNone', { to }) : t(locale, 'tier.from', { from, to });

  const fields: Field[] = [
    { label: t(locale, 'f.change'), value: move, tone: direction === 'downgrade' ? 'warning' : 'success' },
  ];
  if (data.since) fields.push({ label: t(locale, 'f.since'), value: when(data.since, data.timezone) });
  if (data.customer.ownerName) fields.push({ label: t(locale, 'f.owner'), value: personName({ name: data.customer.ownerName }) });

  const blocks: Block[] = [
    { type: 'fields', fields },
    { type: 'list', title: t(locale, 's.explanation'), items: explanationLines(locale, data.explanation) },
  ];
  const lines: string[] = [];
  for (const [section, items] of Object.entries(data.playbook ?? {})) {
    for (const item of items ?? []) lines.push(`${playbookSectionLabel(locale, section)}: ${clip(item, 60)}`);
  }
  if (lines.length) {
    const shown = lines.slice(0, MAX_PLAYBOOK_LINES);
    blocks.push({
      type: 'list',
      title: t(locale, 's.playbook'),
      items: shown,
      ...(lines.length > shown.length ? { total: lines.length } : {}),
    });
  }

  return {
    kind: 'tier_change',
    locale,
    title: t(locale, first ? 'tier.title.first' : direction === 'downgrade' ? 'tier.title.downgrade' : 'tier.title.upgrade'),
    subtitle: name,
    tone: first ? 'info' : direction === 'downgrade' ? 'warning' : 'success',
    summary: t(locale, 'tier.summary', { name, from: first ? '—' : from, to }),
    blocks,
    actions: [
      callback('score.open', t(locale, 'btn.score'), data.ref, { style: 'primary' }),
      callback('tier.ack', t(locale, 'btn.ack'), data.ref),
    ],
    url: data.consoleUrl,
  };
}
