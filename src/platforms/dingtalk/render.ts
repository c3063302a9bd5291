// Card → DingTalk (钉钉) payloads (both modes: docs/platforms/dingtalk.md §4). Pure and deterministic.
//
// Two modes:
//
// 1. With a card template id (`DINGTALK_CARD_TEMPLATE_ID`, renderer option `templateId`): an interactive
//    card for `POST /v1.0/card/instances/createAndDeliver` / `PUT /v1.0/card/instances` —
//    `cardData.cardParamMap`, strings only, keys ≤ 100 bytes, values ≤ 1 KB; objects and lists as JSON
//    strings (https://open.dingtalk.com/document/development/instructions-for-filling-in-api-card-data). One
//    generic template renders every kind from these variables (docs/platforms/dingtalk-card-template.json,
//    built by card-template.ts):
//      kind, locale, tone, title, subtitle, summary, url  plain strings
//      fields   JSON [{label, value, tone?}]             (trailing items dropped to fit 1 KB)
//      table    JSON {title, columns, rows, more} of the card's table ("" when none; rows dropped to fit)
//      tableLines JSON [{text}]: the same table as one plain line per row, plus the "N more" line
//      markdown DingTalk markdown of the other blocks     (clipped to 1 KB on a line boundary)
//      actions  JSON [{label, style, color, k, r, v?, group?}]; an action with options, and a reject with
//               preset reasons, is one entry per option (v = option, group = the action's label). Button
//               params (回传参数) are {k, r, v}.
//      links    JSON [{label, url}]
//      form     the native form component's variable (open-dingtalk/dingtalk-card-examples, examples/
//               表单组件的使用与更新): {submit: {k, r}, fields: [{name, label, type: TEXT|SELECT, required?,
//               placeholder?, options?: [{value, text}], defaultValue?}]}; a SELECT's defaultValue is
//               {index, value}. The template's form sends `current_form` (this variable) back, which is how
//               the click carries `k` and `r`; the submitted values arrive under `params.form`.
//      form_btn_text, form_status   the submit label; "normal" while the form is open, "" without one
//      status   "open" | "closed";  statusText  the closed text ("" when open)
//    The instance id (`outTrackId`) is chosen by the sender (messenger.ts, from the outbox's idempotency key),
//    so `outTrackId` here is always null.
//
// 2. Without a template: robot messages (`msgKey` + `msgParam`, a JSON *string*). DingTalk cannot call back
//    from these (ActionCard buttons only open URLs), so:
//    - a card with callback actions → `sampleMarkdown` whose action links are
//      `dtmd://dingtalkclient/sendMessage?content=…`: a tap makes the user's client send the command
//      `<label> /tb <k> <r> [<v>]` to the bot (one-to-one robot chats; widely used, but not in DingTalk's docs),
//      parsed by `parseCommand`. No confirm dialogs are possible; an option action (contact outcome) is one
//      link per option; a reason is a preset link, or typed: `/tb score.reject <r> other <text>`.
//    - the score form cannot be shown: the card lists each dimension with weight and guidance and the chat
//      command that scores (`评分 <customer id> profitability=90 strength=80 备注=…`; one button per
//      0..100 step per dimension would be far too many links).
//    - a card with only links (digest) → `sampleActionCard` (1 button) or `sampleActionCard2..5`
//      (button titles ≤ 20 characters, URLs ≤ 500); otherwise `sampleMarkdown`.
//    msgParam stays ≤ 15,000 bytes (body lines are dropped from the end, the actions stay).
//
// Escaping: every card string put into markdown (robot text, the card's `markdown` parameter) goes through
// `md` (the DingTalk dialect), commands and ids through `cmd`, exactly once; card parameters other than
// `markdown` are plain strings and take card strings as they are (bind them to text, not markdown, in the
// template). No message sets DingTalk's `at` parameter, so `@…` in data never mentions anyone.
import {
  byteLength,
  clip,
  clipBytes,
  colon,
  formatNumber,
  formatYuan,
  sparkline,
} from '../../../cards/format.ts';
import { moreText, t } from '../../../cards/i18n.ts';
import {
  ACTION_KEYS,
  type ActionKey,
  type ActionPayload,
  type Block,
  type ButtonStyle,
  type CallbackAction,
  type Card,
  type Form,
  type FormField,
  type LinkAction,
  POINT_STEPS,
} from '../../../cards/model.ts';
import { codeSpan, DINGTALK, escapeText, inlineMarkdown, linkTarget } from '../shared/markdown.ts';

/** Plain text → DingTalk markdown. */
const md = (text: string) => escapeText(DINGTALK, text);
/** A command or id the reader copies exactly. */
const cmd = (text: string) => codeSpan(DINGTALK, text);

export const DINGTALK_LIMITS = {
  msgParamBytes: 15000,
  actionCardButtons: 5,
  actionTitleChars: 20,
  actionUrlChars: 500,
  paramKeyBytes: 100,
  paramValueBytes: 1024,
  outTrackIdChars: 64,
} as const;

export interface DingtalkRenderOptions {
  /** interactive card template id (`xxxx.schema`); without it, robot messages are rendered */
  templateId?: string;
}

export type DingtalkMsgKey =
  | 'sampleMarkdown'
  | 'sampleActionCard'
  | 'sampleActionCard2'
  | 'sampleActionCard3'
  | 'sampleActionCard4'
  | 'sampleActionCard5';

/** Body parts of `robot/oToMessages/batchSend` / `robot/groupMessages/send`. */
export interface DingtalkRobotMessage {
  type: 'robot';
  msgKey: DingtalkMsgKey;
  /** JSON string */
  msgParam: string;
}

/** Body parts of `card/instances/createAndDeliver` (and `PUT card/instances`). */
export interface DingtalkInteractiveCard {
  type: 'card';
  cardTemplateId: string;
  /** always null: the sender picks the instance id (messenger.ts, from the outbox's idempotency key) */
  outTrackId: string | null;
  cardData: { cardParamMap: Record<string, string> };
}

export type DingtalkRendered = DingtalkRobotMessage | DingtalkInteractiveCard;

// ---------------------------------------------------------------------------------------------
// Commands (template-free action links)

export const COMMAND_PREFIX = '/tb';

/** `通过 /tb score.approve ar_9f3k2` — what a dtmd link makes the user send to the bot. */
export function formatCommand(p: ActionPayload, label?: string): string {
  if (/\s/.test(p.r)) throw new Error('dingtalk: refs must not contain whitespace');
  const cmd = [COMMAND_PREFIX, p.k, p.r, ...(p.v !== undefined ? [p.v] : [])].join(' ');
  return label ? `${label.replace(/\s+/g, ' ').trim()} ${cmd}` : cmd;
}

/** Finds a `/tb <k> <r> [<v>] [<text>]` command in a message; `text` is any free text after `v`. */
export function parseCommand(text: string): (ActionPayload & { text?: string }) | null {
  const m = /(?:^|\s)\/tb\s+(\S+)\s+(\S+)(?:\s+(\S+))?(?:\s+([\s\S]*\S))?\s*$/.exec(text);
  if (!m) return null;
  const [, k, r, v, rest] = m;
  if (!(ACTION_KEYS as readonly string[]).includes(k)) return null;
  const out: ActionPayload & { text?: string } = { k: k as ActionKey, r };
  if (v !== undefined) out.v = v;
  if (rest !== undefined) out.text = rest;
  return out;
}

function commandLink(label: string, p: ActionPayload): string {
  const content = encodeURIComponent(formatCommand(p, label));
  return `[${md(label)}](dtmd://dingtalkclient/sendMessage?content=${content})`;
}

// ---------------------------------------------------------------------------------------------
// Markdown

const COLOR = { info: null, success: '#2BA245', warning: '#FF9200', danger: '#F25643' } as const;

function markdownBlock(b: Block, locale: Card['locale']): string {
  const sep = colon(locale);
  const more = b.type === 'list' ? moreText(locale, b.total, b.items.length) : b.type === 'table' ? moreText(locale, b.total, b.rows.length) : null;
  switch (b.type) {
    case 'fields':
      return b.fields
        .map((f) => {
          const v = md(f.value);
          const c = f.tone ? COLOR[f.tone] : null;
          return `**${md(f.label)}**${sep}${c ? `<font color=${c}>${v}</font>` : v}`;
        })
        .join('  \n');
    case 'text':
      return inlineMarkdown(DINGTALK, b.text);
    case 'list':
      return [
        ...(b.title ? [`**${md(b.title)}**`, ''] : []),
        ...b.items.map((i) => `- ${md(i)}`),
        ...(more ? ['', md(more)] : []),
      ].join('\n');
    case 'table': {
      const ranked = b.columns[0] === '#';
      return [
        ...(b.title ? [`**${md(b.title)}**`, ''] : []),
        ...b.rows.map((r) => {
          const c = r.map(md);
          return ranked ? `${c[0]}. **${c[1]}** · ${c.slice(2).join(' · ')}` : `- ${c.join(' · ')}`;
        }),
        ...(more ? ['', md(more)] : []),
      ].join('\n');
    }
    case 'trend': {
      const last = b.values[b.values.length - 1];
      const unit = (n: number) => (b.unit === 'yuan' ? formatYuan(n) : formatNumber(n));
      return `**${md(b.title)}**  \n${sparkline(b.values)}  \n${md(b.labels[0] ?? '')} – ${md(b.labels[b.labels.length - 1] ?? '')}${last !== undefined ? ` · ${unit(last)}` : ''}`;
    }
  }
}

function headMarkdown(card: Card): string[] {
  const out = [`### ${md(card.title)}`];
  if (card.subtitle) out.push(`**${md(card.subtitle)}**`);
  return out;
}

function actionMarkdown(card: Card): string[] {
  if (card.closed) return [`**${md(card.closed.text)}**`];
  const out: string[] = [];
  const callbacks = card.actions.filter((a): a is CallbackAction => a.type === 'callback');
  if (callbacks.length) {
    out.push(t(card.locale, 'dt.actionsIntro'));
    const plain = callbacks.filter((a) => !(a.options && a.options.length) && !a.needsReason);
    if (plain.length) out.push(plain.map((a) => commandLink(a.label, { k: a.key, r: a.ref })).join(' · '));
    for (const a of callbacks) {
      if (a.options && a.options.length) {
        out.push(`${md(a.label)}${colon(card.locale)}` + a.options.map((o) => commandLink(o.label, { k: a.key, r: a.ref, v: o.value })).join(' · '));
      } else if (a.needsReason) {
        out.push(
          `${md(a.label)}${colon(card.locale)}` +
            a.needsReason.presets
              .filter((o) => o.value !== 'other')
              .map((o) => commandLink(o.label, { k: a.key, r: a.ref, v: o.value }))
              .join(' · '),
        );
        out.push(cmd(t(card.locale, 'dt.rejectOther', { command: formatCommand({ k: a.key, r: a.ref, v: 'other' }) })));
      }
    }
  }
  return out;
}

function formMarkdown(card: Card): string[] {
  const form = card.form;
  if (!form || card.closed) return [];
  const out: string[] = [];
  for (const f of form.fields) {
    if (f.kind !== 'points') continue;
    const sep = colon(card.locale);
    out.push(`- **${md(f.label)}** · ${cmd(f.name)}${f.hint ? `${sep}${md(f.hint)}` : ''}`);
  }
  out.push('', t(card.locale, 'score.commandIntro'), '', `> ${cmd(form.commandExample)}`);
  return [out.join('\n')];
}

function linkMarkdown(links: LinkAction[]): string[] {
  return links.length ? [links.map((l) => `[${md(l.label)}](${linkTarget(l.url)})`).join(' · ')] : [];
}

// ---------------------------------------------------------------------------------------------
// Robot messages

function robotMessage(card: Card): DingtalkRobotMessage {
  const title = clip(card.summary, 60);
  const links = card.actions.filter((a): a is LinkAction => a.type === 'link');
  const hasCallbacks = !!card.form || card.actions.some((a) => a.type === 'callback');
  const body = card.blocks.map((b) => markdownBlock(b, card.locale));
  const head = headMarkdown(card);

  const usable = links.filter((l) => l.url.length <= DINGTALK_LIMITS.actionUrlChars);
  if (!hasCallbacks && !card.closed && links.length > 0 && usable.length === links.length && links.length <= DINGTALK_LIMITS.actionCardButtons) {
    const param = (text: string): Record<string, string> => {
      if (links.length === 1) {
        return { title, text, singleTitle: clip(links[0].label, DINGTALK_LIMITS.actionTitleChars), singleURL: links[0].url };
      }
      const p: Record<string, string> = { title, text };
      links.forEach((l, i) => {
        p[`actionTitle${i + 1}`] = clip(l.label, DINGTALK_LIMITS.actionTitleChars);
        p[`actionURL${i + 1}`] = l.url;
      });
      return p;
    };
    const msgKey = (links.length === 1 ? 'sampleActionCard' : `sampleActionCard${links.length}`) as DingtalkMsgKey;
    return { type: 'robot', msgKey, msgParam: fit(body, (b) => JSON.stringify(param([...head, ...b].join('\n\n')))) };
  }

  const tail = [...formMarkdown(card), ...actionMarkdown(card), ...linkMarkdown(links)];
  return {
    type: 'robot',
    msgKey: 'sampleMarkdown',
    msgParam: fit(body, (b) => JSON.stringify({ title, text: [...head, ...b, ...tail].join('\n\n') })),
  };
}

/** Drops body sections (then clips the last) until the serialized msgParam fits. */
function fit(body: string[], serialize: (b: string[]) => string): string {
  let b = [...body];
  let s = serialize(b);
  while (byteLength(s) > DINGTALK_LIMITS.msgParamBytes && b.length) {
    const last = b[b.length - 1];
    const lines = last.split('\n');
    if (lines.length > 1) b = [...b.slice(0, -1), [...lines.slice(0, -2), '…'].join('\n')];
    else b = b.slice(0, -1);
    s = serialize(b);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Interactive card (template)

function fitJsonArray<T>(items: T[], max = DINGTALK_LIMITS.paramValueBytes): string {
  let n = items.length;
  let s = JSON.stringify(items);
  while (byteLength(s) > max && n > 0) s = JSON.stringify(items.slice(0, --n));
  return s;
}

function clipLines(s: string, max: number): string {
  if (byteLength(s) <= max) return s;
  const lines = s.split('\n');
  while (lines.length > 1 && byteLength(lines.join('\n') + '\n…') > max) lines.pop();
  const out = lines.join('\n') + '\n…';
  return byteLength(out) <= max ? out : clipBytes(s, max);
}

/** Button colours of the card platform's button components (as used by the official templates in
 * open-dingtalk/dingtalk-card-examples: blue, gray, red). */
const BUTTON_COLOR: Record<ButtonStyle, string> = { primary: 'blue', default: 'gray', danger: 'red' };

/** One option of a native form SELECT (examples/表单组件的使用与更新: `{value, text}`). */
export interface DingtalkFormOption {
  value: string;
  text: string;
}

/** A field of the native form component's variable (same example; only what tierbot uses). */
export interface DingtalkFormField {
  name: string;
  label: string;
  type: 'TEXT' | 'SELECT';
  required?: boolean;
  placeholder?: string;
  options?: DingtalkFormOption[];
  /** TEXT: the text; SELECT: the chosen option as `{index, value}` */
  defaultValue?: string | { index: number; value: string };
}

/** The `form` card parameter: the native form's variable plus the submit's payload (echoed back as `current_form`). */
export interface DingtalkForm {
  submit: { k: string; r: string };
  fields: DingtalkFormField[];
}

/**
 * The points a SELECT offers: the 0, 10, …, 100 steps plus the current points when they are off the grid, so a
 * current 85 is preselected and survives a submit that does not touch it (a SELECT can only hold its options).
 */
export function pointOptions(initial: number | undefined): number[] {
  const steps = [...POINT_STEPS];
  if (initial !== undefined && !steps.includes(initial)) steps.push(initial);
  return steps.sort((a, b) => a - b);
}

interface FormLevel {
  placeholders: boolean;
  labelMax: number;
  textInitial: boolean;
  /** the client checks required fields before it submits; without the flag the server's check answers */
  requiredFlags: boolean;
  selects: boolean;
}

function formField(x: FormField, lv: FormLevel): DingtalkFormField {
  const out: DingtalkFormField = { name: x.name, label: clip(x.label, lv.labelMax), type: 'TEXT' };
  if (x.required && lv.requiredFlags) out.required = true;
  if (lv.placeholders && x.hint) out.placeholder = x.hint;
  if (x.kind === 'points') {
    if (lv.selects) {
      const options = pointOptions(x.initial);
      out.type = 'SELECT';
      out.options = options.map((n) => ({ value: String(n), text: String(n) }));
      if (x.initial !== undefined) out.defaultValue = { index: options.indexOf(x.initial), value: String(x.initial) };
    } else if (x.initial !== undefined) {
      out.defaultValue = String(x.initial);
    }
  } else if (x.initial !== undefined && lv.textInitial) {
    out.defaultValue = x.initial;
  }
  return out;
}

/** The `form` parameter: what to give up, in order, until it fits one parameter value (1 KB). */
function formParam(form: Form, max: number): string {
  // the card's fields block shows the current points too, so clipped labels lose little
  const levels: FormLevel[] = [
    { placeholders: true, labelMax: 60, textInitial: true, requiredFlags: true, selects: true },
    { placeholders: false, labelMax: 60, textInitial: true, requiredFlags: true, selects: true },
    { placeholders: false, labelMax: 60, textInitial: false, requiredFlags: true, selects: true },
    { placeholders: false, labelMax: 16, textInitial: false, requiredFlags: true, selects: true },
    { placeholders: false, labelMax: 16, textInitial: false, requiredFlags: false, selects: true },
    { placeholders: false, labelMax: 8, textInitial: false, requiredFlags: false, selects: true },
    // points as typed numbers: the server checks 0–100 either way
    { placeholders: false, labelMax: 16, textInitial: false, requiredFlags: true, selects: false },
  ];
  for (const lv of levels) {
    const param: DingtalkForm = { submit: { k: form.submit.key, r: form.submit.ref }, fields: form.fields.map((x) => formField(x, lv)) };
    const s = JSON.stringify(param);
    if (byteLength(s) <= max) return s;
  }
  throw new Error('dingtalk: form does not fit a card parameter');
}

function tableRowText(row: string[], ranked: boolean): string {
  return ranked ? `${row[0]}. ${row.slice(1).join(' · ')}` : row.join(' · ');
}

function cardParams(card: Card): Record<string, string> {
  const max = DINGTALK_LIMITS.paramValueBytes;
  const fields = card.blocks.flatMap((b) => (b.type === 'fields' ? b.fields : []));
  const table = card.blocks.find((b): b is Extract<Block, { type: 'table' }> => b.type === 'table');
  let tableParam = '';
  let tableLines = '[]';
  if (table) {
    const total = table.total ?? table.rows.length;
    let n = table.rows.length;
    const mk = (k: number) =>
      JSON.stringify({
        title: table.title ?? '',
        columns: table.columns,
        rows: table.rows.slice(0, k),
        more: moreText(card.locale, total, k) ?? '',
      });
    tableParam = mk(n);
    while (byteLength(tableParam) > max && n > 0) tableParam = mk(--n);
    const ranked = table.columns[0] === '#';
    const lines = (k: number) => {
      const more = moreText(card.locale, total, k);
      return JSON.stringify([...table.rows.slice(0, k).map((r) => ({ text: tableRowText(r, ranked) })), ...(more ? [{ text: more }] : [])]);
    };
    let m = table.rows.length;
    tableLines = lines(m);
    while (byteLength(tableLines) > max && m > 0) tableLines = lines(--m);
  }
  const other = card.blocks
    .filter((b) => b.type !== 'fields' && b.type !== 'table')
    .map((b) => markdownBlock(b, card.locale))
    .join('\n\n');

  const actions: Record<string, string>[] = [];
  for (const a of card.actions) {
    if (a.type !== 'callback') continue;
    const style = a.style ?? 'default';
    // One button per option; a reject needs a reason, and the generic template has no free-text input, so its
    // preset reasons are its buttons ("other" needs text and is left out).
    const options = a.options?.length ? a.options : a.needsReason ? a.needsReason.presets.filter((o) => o.value !== 'other') : [];
    if (options.length) {
      for (const o of options) actions.push({ label: o.label, style, color: BUTTON_COLOR[style], k: a.key, r: a.ref, v: o.value, group: a.label });
    } else {
      actions.push({ label: a.label, style, color: BUTTON_COLOR[style], k: a.key, r: a.ref });
    }
  }
  const links = card.actions.filter((a): a is LinkAction => a.type === 'link').map((l) => ({ label: l.label, url: l.url }));
  const form = card.form && !card.closed ? formParam(card.form, max) : '';

  const params: Record<string, string> = {
    kind: card.kind,
    locale: card.locale,
    tone: card.tone,
    title: clipBytes(card.title, max),
    subtitle: clipBytes(card.subtitle ?? '', max),
    summary: clipBytes(card.summary, max),
    url: card.url,
    fields: fitJsonArray(fields),
    table: tableParam,
    tableLines,
    markdown: clipLines(other, max),
    actions: card.closed ? '[]' : JSON.stringify(actions),
    links: fitJsonArray(links),
    form,
    form_btn_text: form ? clipBytes(card.form!.submit.label, max) : '',
    form_status: form ? 'normal' : '',
    status: card.closed ? 'closed' : 'open',
    statusText: card.closed?.text ?? '',
  };
  if (byteLength(params.actions) > max) throw new Error('dingtalk: actions do not fit a card parameter');
  if (byteLength(params.url) > max) throw new Error('dingtalk: url does not fit a card parameter');
  return params;
}

/** The card parameters every rendering sets (the generic template's public variables, card-template.ts). */
export const CARD_PARAMS = [
  'kind', 'locale', 'tone', 'title', 'subtitle', 'summary', 'url', 'fields', 'table', 'tableLines', 'markdown',
  'actions', 'links', 'form', 'form_btn_text', 'form_status', 'status', 'statusText',
] as const;

/** The clicker's private variables a callback answer sets (receiver.ts). */
export const PRIVATE_CARD_PARAMS = ['toast', 'toastKind'] as const;

export function render(card: Card, opts: DingtalkRenderOptions = {}): DingtalkRendered {
  if (opts.templateId) {
    return {
      type: 'card',
      cardTemplateId: opts.templateId,
      outTrackId: null,
      cardData: { cardParamMap: cardParams(card) },
    };
  }
  return robotMessage(card);
}
