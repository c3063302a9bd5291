// customer_profile (README "Chat"): to whoever asked. Tier, metrics, value score, risk, explanation.
// Actions: score · claim; for a customer at risk also log contact · snooze its alerts · not at risk (as on the churn alert).
import type { Explanation, Lifecycle, Metrics, Risk } from '../src/domain/types.ts';
import {
  callback,
  type CardContext,
  customerName,
  type CustomerSummary,
  type DimensionInfo,
  explanationLines,
  metricValue,
  type Person,
  personName,
  reasonText,
  type TierRef,
  tierText,
  when,
} from './common.ts';
import { riskTone } from './churn-alert.ts';
import { formatDate, formatNumber } from './format.ts';
import { dimensionLabel, lifecycleLabel, metricLabel, outcomeLabel, riskLabel, t } from './i18n.ts';
import { type Block, type Card, CONTACT_OUTCOMES, DEFAULT_LOCALE, type Field, type Locale } from './model.ts';

export interface CustomerProfileData extends CardContext {
  customer: CustomerSummary;
  /** null: never evaluated */
  tier: (TierRef & { since?: string; previous?: string | null }) | null;
  metrics: Partial<Metrics> | null;
  lifecycle: Lifecycle | null;
  risk: Risk | null;
  explanation: Explanation | null;
  /** the latest approved manual score */
  score?: { points: Record<string, number>; approvedBy?: Person; approvedAt?: string } | null;
  /** the policy's dimensions, to label the score's points */
  dimensions?: DimensionInfo[];
  /** default 7 (the "snooze" action of a customer at risk) */
  snoozeDays?: number;
}

const PROFILE_METRICS: (keyof Metrics)[] = [
  'recencyDays',
  'frequency',
  'monetary',
  'lifetimeValue',
  'avgOrderValue',
  'monetaryTopPct',
];

export function customerProfile(data: CustomerProfileData, locale: Locale = DEFAULT_LOCALE): Card {
  const name = customerName(data.customer);
  const tz = data.timezone;
  const m = data.metrics;
  const blocks: Block[] = [];

  const head: Field[] = [];
  if (data.tier) {
    const since = data.tier.since ? ` · ${formatDate(data.tier.since, tz)}` : '';
    head.push({ label: t(locale, 'f.tier'), value: tierText(locale, data.tier) + since });
  } else {
    head.push({ label: t(locale, 'f.tier'), value: t(locale, 'notEvaluated') });
  }
  head.push({
    label: t(locale, 'f.valueScore'),
    value: m && typeof m.valueScore === 'number' ? formatNumber(m.valueScore) : '—',
  });
  if (data.risk) {
    head.push({ label: t(locale, 'f.risk'), value: riskLabel(locale, data.risk.level), tone: riskTone(data.risk.level) });
  }
  if (data.lifecycle) head.push({ label: t(locale, 'f.lifecycle'), value: lifecycleLabel(locale, data.lifecycle) });
  if (data.customer.ownerName) head.push({ label: t(locale, 'f.owner'), value: personName({ name: data.customer.ownerName }) });
  blocks.push({ type: 'fields', fields: head });

  if (m) {
    const fields: Field[] = PROFILE_METRICS.filter((k) => k in m).map((k) => ({
      label: metricLabel(locale, k),
      value: k === 'monetaryTopPct' && typeof m[k] === 'number' ? `${formatNumber(m[k] as number)}%` : metricValue(k, m[k]),
    }));
    if (m.r !== undefined && m.r !== null) {
      fields.push({
        label: t(locale, 'f.rfm'),
        value: t(locale, 'profile.metricsLine', { r: m.r, f: m.f ?? '—', m: m.m ?? '—', total: m.rfmTotal ?? '—' }),
      });
    }
    if (fields.length) blocks.push({ type: 'fields', fields });
  }

  if (data.risk && data.risk.reasons.length) {
    blocks.push({ type: 'list', title: t(locale, 's.reasons'), items: data.risk.reasons.map((r) => reasonText(locale, r)) });
  }
  if (data.tier) {
    blocks.push({ type: 'list', title: t(locale, 's.explanation'), items: explanationLines(locale, data.explanation) });
  }

  if (data.score) {
    const dims = data.dimensions ?? [];
    const points = Object.entries(data.score.points)
      .map(([k, p]) => `${dimensionLabel(locale, dims.find((d) => d.key === k) ?? { key: k })} ${formatNumber(p)}`)
      .join(' · ');
    blocks.push({
      type: 'text',
      text: t(locale, 'profile.scoreLine', {
        points,
        who: personName(data.score.approvedBy),
        when: when(data.score.approvedAt, tz),
      }),
    });
  } else {
    blocks.push({ type: 'text', text: t(locale, 'profile.noScore') });
  }

  return {
    kind: 'customer_profile',
    locale,
    title: t(locale, 'profile.title'),
    subtitle: name,
    tone: data.risk ? (data.risk.level === 'none' ? 'info' : riskTone(data.risk.level)) : 'info',
    summary: t(locale, 'profile.summary', { name }),
    blocks,
    actions: [
      callback('score.open', t(locale, 'btn.score'), data.ref, { style: 'primary' }),
      callback('followup.claim', t(locale, 'btn.claim'), data.ref),
      ...(data.risk && data.risk.level !== 'none'
        ? [
            callback('contact.log', t(locale, 'btn.contact'), data.ref, {
              options: CONTACT_OUTCOMES.map((o) => ({ value: o, label: outcomeLabel(locale, o) })),
            }),
            callback('alert.snooze', t(locale, 'btn.snooze'), data.ref, {
              confirm: { title: t(locale, 'confirm.snooze.title'), text: t(locale, 'confirm.snooze.text', { days: data.snoozeDays ?? 7 }) },
            }),
            callback('alert.notAtRisk', t(locale, 'btn.notAtRisk'), data.ref, {
              confirm: { title: t(locale, 'confirm.notAtRisk.title'), text: t(locale, 'confirm.notAtRisk.text', { days: data.snoozeDays ?? 7 }) },
            }),
          ]
        : []),
    ],
    url: data.consoleUrl,
  };
}
