// score_form (README "Chat"): to the rep who asked. Shows the customer, each manual dimension with weight and
// guidance, the current approved points, and a comment. Action: submit.
// Field names are the dimension keys plus `comment`; the submit carries {k: 'score.submit', r: ref}.
import {
  callback,
  type CardContext,
  customerName,
  type CustomerSummary,
  type DimensionInfo,
  MAX_COMMENT,
  type Person,
  personName,
  pointsOf,
  type TierRef,
  tierText,
  when,
} from './common.ts';
import { formatNumber, formatWeight } from './format.ts';
import { dimensionGuidance, dimensionLabel, t } from './i18n.ts';
import { type Block, type Card, DEFAULT_LOCALE, type Field, type FormField, type Locale } from './model.ts';

export interface ScoreFormData extends CardContext {
  customer: CustomerSummary;
  tier?: TierRef | null;
  /** every dimension of the policy; manual ones become form fields, metric ones are shown for context */
  dimensions: DimensionInfo[];
  /** the latest approved manual score, if any */
  current: { points: Record<string, number>; approvedAt?: string; approvedBy?: Person } | null;
  /** current points of metric dimensions */
  metricPoints?: Record<string, number>;
  /** prefilled comment */
  comment?: string;
}

export const COMMENT_FIELD = 'comment';
export const COMMENT_MAX_LENGTH = 500;

export function scoreForm(data: ScoreFormData, locale: Locale = DEFAULT_LOCALE): Card {
  const name = customerName(data.customer);
  const manual = data.dimensions.filter((d) => d.source === 'manual');
  const metric = data.dimensions.filter((d) => d.source === 'metric');
  const current = data.current?.points ?? {};

  const currentText = data.current
    ? manual
        .map((d) => `${dimensionLabel(locale, d)} ${current[d.key] === undefined ? '—' : formatNumber(current[d.key])}`)
        .join(' · ')
    : t(locale, 'score.currentNone');
  const fields: Field[] = [];
  if (data.tier !== undefined) fields.push({ label: t(locale, 'f.tier'), value: tierText(locale, data.tier) });
  fields.push({ label: t(locale, 'f.currentPoints'), value: currentText });
  if (data.current?.approvedBy || data.current?.approvedAt) {
    fields.push({
      label: t(locale, 'f.decidedBy'),
      value: `${personName(data.current.approvedBy)} · ${when(data.current.approvedAt, data.timezone)}`,
    });
  }

  const blocks: Block[] = [{ type: 'text', text: t(locale, 'score.intro') }, { type: 'fields', fields }];
  if (metric.length) {
    blocks.push({
      type: 'list',
      title: t(locale, 's.dimensions'),
      items: metric.map((d) => {
        const p = pointsOf(d, { points: {}, metricPoints: data.metricPoints });
        return t(locale, 'score.metricDim', {
          name: dimensionLabel(locale, d),
          weight: formatWeight(d.weight),
          points: p === undefined ? '—' : formatNumber(p),
        });
      }),
    });
  }

  const formFields: FormField[] = manual.map((d) => {
    const cur = current[d.key];
    const label =
      cur === undefined
        ? t(locale, 'score.manualDim', { name: dimensionLabel(locale, d), weight: formatWeight(d.weight) })
        : t(locale, 'score.manualDimCurrent', {
            name: dimensionLabel(locale, d),
            weight: formatWeight(d.weight),
            points: formatNumber(cur),
          });
    const hint = dimensionGuidance(locale, d);
    return {
      name: d.key,
      label,
      kind: 'points',
      required: true,
      ...(cur !== undefined ? { initial: cur } : {}),
      ...(hint ? { hint } : {}),
    };
  });
  formFields.push({
    name: COMMENT_FIELD,
    label: t(locale, 'score.commentLabel'),
    kind: 'text',
    required: false,
    maxLength: COMMENT_MAX_LENGTH,
    hint: t(locale, 'score.commentPlaceholder'),
    ...(data.comment ? { initial: data.comment.slice(0, MAX_COMMENT) } : {}),
  });

  const example = [
    t(locale, 'cmd.score'),
    data.customer.id,
    ...manual.map((d) => `${d.key}=${current[d.key] ?? 80}`),
    `${t(locale, 'cmd.comment')}=…`,
  ].join(' ');

  return {
    kind: 'score_form',
    locale,
    title: t(locale, 'score.title'),
    subtitle: name,
    tone: 'info',
    summary: t(locale, 'score.summary', { name }),
    blocks,
    actions: [],
    form: {
      name: 'score_form',
      fields: formFields,
      submit: callback('score.submit', t(locale, 'btn.submit'), data.ref, { style: 'primary' }),
      commandExample: example,
    },
    url: data.consoleUrl,
  };
}
