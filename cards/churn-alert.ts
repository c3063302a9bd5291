// churn_alert (README "Chat"): to the owner rep. Shows customer, tier, risk level, each reason with its
// numbers, last order and the 12-month spend trend. Actions: claim follow-up · log contact outcome
// (reached / no answer / won back / lost) · snooze 7 days · not at risk (a false alarm, snoozes too) · request re-score.
import type { Risk } from '../src/domain/types.ts';
import {
  callback,
  type CardContext,
  customerName,
  type CustomerSummary,
  personName,
  reasonText,
  type TierRef,
  tierText,
} from './common.ts';
import { formatDate, formatYuan } from './format.ts';
import { outcomeLabel, riskLabel, t } from './i18n.ts';
import { type Block, type Card, CONTACT_OUTCOMES, DEFAULT_LOCALE, type Field, type Locale, type Tone } from './model.ts';

export interface ChurnAlertData extends CardContext {
  customer: CustomerSummary;
  tier: TierRef | null;
  risk: Risk;
  /** the latest counted order; `recencyDays` from the customer's metrics */
  lastOrder: { at: string; amount?: number } | null;
  recencyDays: number | null;
  /** spend per calendar month, oldest first (12 months, 'YYYY-MM') */
  trend: { months: string[]; spend: number[] };
  /** default 7 (the card's "snooze 7 days") */
  snoozeDays?: number;
}

export function riskTone(level: string): Tone {
  return level === 'high' ? 'danger' : level === 'medium' ? 'warning' : 'info';
}

export function churnAlert(data: ChurnAlertData, locale: Locale = DEFAULT_LOCALE): Card {
  const name = customerName(data.customer);
  const tz = data.timezone;
  const days = data.snoozeDays ?? 7;
  const risk = riskLabel(locale, data.risk.level);

  let lastOrder = t(locale, 'noOrders');
  if (data.lastOrder) {
    const date = formatDate(data.lastOrder.at, tz);
    lastOrder =
      data.recencyDays === null || data.recencyDays === undefined
        ? date
        : data.recencyDays === 0
          ? t(locale, 'today', { date })
          : t(locale, 'daysAgo', { date, days: data.recencyDays });
    if (typeof data.lastOrder.amount === 'number') lastOrder += ` · ${formatYuan(data.lastOrder.amount)}`;
  }

  const fields: Field[] = [
    { label: t(locale, 'f.tier'), value: tierText(locale, data.tier) },
    { label: t(locale, 'f.risk'), value: risk, tone: riskTone(data.risk.level) },
    { label: t(locale, 'f.lastOrder'), value: lastOrder },
  ];
  if (data.customer.ownerName) fields.push({ label: t(locale, 'f.owner'), value: personName({ name: data.customer.ownerName }) });

  const blocks: Block[] = [
    { type: 'fields', fields },
    {
      type: 'list',
      title: t(locale, 's.reasons'),
      items: data.risk.reasons.length ? data.risk.reasons.map((r) => reasonText(locale, r)) : [t(locale, 'profile.noRisk')],
    },
  ];
  const months = data.trend.months.slice(-12);
  const spend = data.trend.spend.slice(-12);
  if (months.length && months.length === spend.length) {
    blocks.push({
      type: 'trend',
      title: t(locale, 's.trend'),
      labels: months,
      values: spend,
      unit: 'yuan',
      seriesName: t(locale, 'trend.series'),
    });
  }

  return {
    kind: 'churn_alert',
    locale,
    title: t(locale, 'churn.title'),
    subtitle: name,
    tone: riskTone(data.risk.level),
    summary: t(locale, 'churn.summary', { name, risk }),
    blocks,
    actions: [
      callback('followup.claim', t(locale, 'btn.claim'), data.ref, { style: 'primary' }),
      callback('contact.log', t(locale, 'btn.contact'), data.ref, {
        options: CONTACT_OUTCOMES.map((o) => ({ value: o, label: outcomeLabel(locale, o) })),
      }),
      callback('alert.snooze', t(locale, 'btn.snooze'), data.ref, {
        confirm: { title: t(locale, 'confirm.snooze.title'), text: t(locale, 'confirm.snooze.text', { days }) },
      }),
      callback('alert.notAtRisk', t(locale, 'btn.notAtRisk'), data.ref, {
        confirm: { title: t(locale, 'confirm.notAtRisk.title'), text: t(locale, 'confirm.notAtRisk.text', { days }) },
      }),
      callback('score.open', t(locale, 'btn.rescore'), data.ref),
    ],
    url: data.consoleUrl,
  };
}
