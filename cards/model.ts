// The platform-neutral card model. Card builders in this folder produce a `Card`;
// one renderer per platform (src/platforms/<platform>/render.ts) turns it into that platform's payload.
// Keep this as small as the card kinds (CARD_KIND_TABLE) need: renderers must handle every variant below.
// Every string in a card is plain text (data as typed, never markup); each renderer escapes it once for
// its platform's markdown dialect (src/platforms/shared/markdown.ts).

export type Locale = 'zh-CN' | 'en';
export const DEFAULT_LOCALE: Locale = 'zh-CN';

/**
 * Every card kind, once: the kind type, `CARD_KINDS` and `kindCode` are derived from this table. A new kind is
 * one entry here plus its builder in this folder (exported from index.ts) and its samples in
 * test/cards/fixtures.ts, which the render tests of every platform go through.
 * `code` is the kind's family in instance keys (format.ts `instanceKey`): a decided request card
 * (approval_result) shares approval_request's code, so in-place updates address the same instance.
 */
const CARD_KIND_TABLE = {
  churn_alert: { code: 'ca' },
  tier_change: { code: 'tc' },
  score_form: { code: 'sf' },
  approval_request: { code: 'ar' },
  approval_result: { code: 'ar' },
  daily_digest: { code: 'dd' },
  customer_profile: { code: 'cp' },
  alert_summary: { code: 'as' },
  /** a plain informational card: command replies, help, "unknown user" (notice.ts) */
  notice: { code: 'nt' },
} as const satisfies Record<string, { code: string }>;

export type CardKind = keyof typeof CARD_KIND_TABLE;

export const CARD_KINDS = Object.keys(CARD_KIND_TABLE) as readonly CardKind[];

/** Family of a card for instance keys (see CARD_KIND_TABLE). */
export function kindCode(kind: CardKind): string {
  return CARD_KIND_TABLE[kind].code;
}

export type Tone = 'info' | 'success' | 'warning' | 'danger';

/**
 * Handler keys of card actions: what a click means. The server registers one handler per key
 * (`bot.action('score.approve', …)`); the platform never decides anything from the key alone.
 */
export const ACTION_KEYS = [
  'followup.claim', // churn_alert "claim follow-up", customer_profile "claim"
  'contact.log', // churn_alert "log contact outcome"; the chosen outcome travels as `v`
  'alert.snooze', // churn_alert "snooze 7 days"
  'alert.notAtRisk', // churn_alert, customer_profile at risk: "not at risk" (a false alarm; also snoozes its alerts)
  'score.open', // churn_alert "request re-score", tier_change "score this customer", customer_profile "score"
  'tier.ack', // tier_change "acknowledge"
  'score.submit', // score_form "submit"; the form values travel with it
  'score.approve', // approval_request "approve"
  'score.reject', // approval_request "reject (with reason)"; a preset reason travels as `v`, free text as form value `reason`
] as const;
export type ActionKey = (typeof ACTION_KEYS)[number];

/** Contact outcomes of `contact.log`: reached / no answer / won back / lost. */
export const CONTACT_OUTCOMES = ['reached', 'no_answer', 'won_back', 'lost'] as const;
export type ContactOutcome = (typeof CONTACT_OUTCOMES)[number];

/** Preset reject reasons, for platforms whose cards cannot take free text. */
export const REJECT_REASONS = ['too_high', 'too_low', 'no_evidence', 'other'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Option {
  value: string;
  label: string;
}

/**
 * What every callback click carries back, whatever the platform's encoding:
 * `k` the handler key, `r` the opaque server-side reference, `v` an option the click chose.
 * `r` is minted per card instance by the application (a stored or signed token); handlers
 * resolve it server-side and never trust ids from the payload.
 */
export interface ActionPayload {
  k: ActionKey;
  r: string;
  v?: string;
}

export type ButtonStyle = 'primary' | 'danger' | 'default';

export interface CallbackAction {
  type: 'callback';
  key: ActionKey;
  /** button text; kept ≤ 10 characters in both locales (WeCom's suggested button length) */
  label: string;
  style?: ButtonStyle;
  ref: string;
  confirm?: { title: string; text: string };
  /** the click picks exactly one of these (sent as `v`), e.g. a contact outcome */
  options?: Option[];
  /** the click must carry a reason: free text where the platform has an input, else one of `presets` (as `v`) */
  needsReason?: { label: string; placeholder: string; presets: Option[] };
}

/** A plain link (no callback), e.g. "open in console". */
export interface LinkAction {
  type: 'link';
  key: 'console.open';
  label: string;
  url: string;
  style?: ButtonStyle;
}

export type Action = CallbackAction | LinkAction;

/**
 * Inline text of a paragraph. Every string is plain text, shown as typed: renderers escape it for their
 * platform's markdown, so a name cannot become a mention, a link or formatting. `strong` is bold; `code`
 * is text the reader copies exactly (a chat command or an id).
 */
export type Span = string | { strong: string } | { code: string };
export type Inline = string | Span[];

/** The words of inline text, without its bold/code marks (for plain-text targets). */
export function plainText(text: Inline): string {
  if (typeof text === 'string') return text;
  return text.map((s) => (typeof s === 'string' ? s : 'strong' in s ? s.strong : s.code)).join('');
}

/** A label/value pair. Both are plain text (renderers escape them for markdown). */
export interface Field {
  label: string;
  value: string;
  tone?: Tone;
}

export type Block =
  /** label/value pairs, shown as a grid where the platform can */
  | { type: 'fields'; fields: Field[] }
  /** a paragraph of plain text (a line break in it shows as a space), optionally with bold/code spans */
  | { type: 'text'; text: Inline; tone?: Tone }
  /** plain-text items; `total` > items.length means renderers add an "N more" line */
  | { type: 'list'; title?: string; items: string[]; total?: number }
  /** a monthly series (12 points), e.g. spend per month; `labels` are 'YYYY-MM' */
  | { type: 'trend'; title: string; labels: string[]; values: number[]; unit: 'yuan' | 'count'; seriesName: string }
  /** rows of plain-text cells (a first column '#' means ranked); `total` > rows.length adds "N more" */
  | { type: 'table'; title?: string; columns: string[]; rows: string[][]; total?: number };

export type PointsField = {
  name: string;
  label: string;
  kind: 'points';
  required: boolean;
  /** the current approved points, if any (may be off the 0,10,…,100 grid) */
  initial?: number;
  hint?: string;
};

export type TextField = {
  name: string;
  label: string;
  kind: 'text';
  required: boolean;
  initial?: string;
  hint?: string;
  maxLength: number;
};

export type FormField = PointsField | TextField;

export interface Form {
  /** unique form name (Feishu needs one) */
  name: string;
  fields: FormField[];
  submit: CallbackAction;
  /**
   * For platforms that cannot show this form (DingTalk without a template, WeCom with more than 3
   * points fields): a worked example of the chat command that does the same, e.g.
   * `评分 c-001 profitability=90 strength=90 备注=…`.
   */
  commandExample: string;
}

/** Points a points field offers: 0, 10, …, 100. */
export const POINT_STEPS: readonly number[] = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

export interface Card {
  kind: CardKind;
  locale: Locale;
  title: string;
  subtitle?: string;
  tone: Tone;
  /** one-line preview for chat lists and notifications */
  summary: string;
  blocks: Block[];
  actions: Action[];
  form?: Form;
  /**
   * Set on a card shown after the fact (a request card updated in place once decided, superseded or
   * expired): the actions are kept so platforms can grey them out (WeCom `replace_text`), but nothing
   * may be clicked; `text` is the short status shown instead (≤ 10 characters).
   */
  closed?: { text: string };
  /** console page of the card's subject (`PUBLIC_BASE_URL` + path); whole-card link where a platform needs one */
  url: string;
}

export function callbackActions(card: Card): CallbackAction[] {
  const out = card.actions.filter((a): a is CallbackAction => a.type === 'callback');
  if (card.form) out.push(card.form.submit);
  return out;
}

export function linkActions(card: Card): LinkAction[] {
  return card.actions.filter((a): a is LinkAction => a.type === 'link');
}

