// Card → Feishu/Lark Card JSON 2.0 (https://open.feishu.cn/document/feishu-cards/card-json-v2-structure).
// Pure and deterministic.
//
// Decisions:
// - Header colour by tone: info blue, success green, warning orange, danger red.
// - `fields` → rows of a two-column `column_set` with markdown; `text`/`list`/`table` → markdown
//   (tables as ranked lines: markdown tables in 2.0 cards are not relied on); `trend` → a `chart` (VChart bar spec).
// - Callback buttons carry `behaviors: [{type: 'callback', value: {k, r, v?}}]`; link actions are
//   `open_url` buttons. An action with `options` (contact outcome) becomes one button per option (`v`).
// - An action that `needsReason` (reject): all callback buttons go into a `form` with a free-text
//   `reason` input and are submit buttons; the server requires the reason for `score.reject`.
// - Score form: a `form` with one `select_static` per points field offering 0, 10, …, 100 (plus the
//   current approved points when they are off that grid), chosen over a text `input` because 2.0 has no
//   number input and a select cannot be mistyped; a multi-line `input` for the comment; a submit button
//   (`form_action_type: 'submit'`). Values arrive in `action.form_value` keyed by field name.
// - A `closed` card (decided request updated in place) shows its status instead of buttons.
// - Escaping: every card string put into `markdown` content goes through `md` (the Feishu dialect: HTML
//   entities) exactly once; `plain_text` fields (header, summary, buttons, inputs, options) take it as is.
// - Only listed properties: 2.0 refuses a card with a property its component page does not list
//   (https://open.feishu.cn/document/feishu-cards/card-json-v2-breaking-changes-release-notes, 属性校验变更).
//   `name` and `form_action_type` are listed for buttons inside a form container only
//   (https://open.feishu.cn/document/feishu-cards/card-json-v2-components/interactive-components/button), so
//   buttons outside a form carry neither; `required` is set on inputs and selects inside forms only.
// - Budget: ≤ 200 elements or components per card, where every object with a `tag` counts — text elements
//   such as a button's `text` or an option's `text` included
//   (https://open.feishu.cn/document/feishu-cards/card-json-v2-structure, 注意事项; over it Feishu answers 230099
//   with ErrCode 11310 "element exceeds the limit": https://open.feishu.cn/document/server-docs/im-v1/message/create),
//   and a request body ≤ 30 KB (same page). A points select costs 13 elements (select, placeholder, 11 options),
//   so a score form with many manual dimensions degrades: points become text inputs (0–100, checked by the
//   server like any submit), and past that the form gives way to the chat-command example. Markdown is
//   clipped further if a card ever came close to 30 KB (builders already cap names, comments and rows).
import { clip } from '../../../cards/format.ts';
import { moreText, t } from '../../../cards/i18n.ts';
import {
  type ActionPayload,
  type Block,
  type CallbackAction,
  type Card,
  type Field,
  type Form,
  type LinkAction,
  type Locale,
  POINT_STEPS,
  type Tone,
} from '../../../cards/model.ts';
import { escapeText, FEISHU, inlineMarkdown } from '../shared/markdown.ts';

export const FEISHU_LIMITS = {
  /** message request body (im/v1/messages), bytes */
  maxRequestBytes: 30 * 1024,
  /** elements or components per card, every object with a `tag` counted (card-json-v2-structure) */
  maxElements: 200,
  buttonText: 100,
  inputMaxLength: 1000,
} as const;

type Json = string | number | boolean | null | Json[] | { [k: string]: Json | undefined };
export interface FeishuElement {
  tag: string;
  [k: string]: Json | undefined;
}

export interface FeishuCard {
  schema: '2.0';
  config: { update_multi: true; summary: { content: string } };
  header: {
    title: { tag: 'plain_text'; content: string };
    subtitle?: { tag: 'plain_text'; content: string };
    template: string;
  };
  body: { elements: FeishuElement[] };
}

const TEMPLATE: Record<Tone, string> = { info: 'blue', success: 'green', warning: 'orange', danger: 'red' };
const FONT: Record<Tone, string | null> = { info: null, success: 'green', warning: 'orange', danger: 'red' };
const BUTTON_TYPE = { primary: 'primary', danger: 'danger', default: 'default' } as const;

const pt = (content: string) => ({ tag: 'plain_text', content });
/** Plain text → Feishu markdown. */
const md = (text: string) => escapeText(FEISHU, text);
const markdown = (content: string): FeishuElement => ({ tag: 'markdown', content });

function colored(text: string, tone: Tone | undefined): string {
  const c = tone ? FONT[tone] : null;
  return c ? `<font color='${c}'>${text}</font>` : text;
}
const grey = (text: string) => `<font color='grey'>${text}</font>`;

function fieldsElements(fields: Field[]): FeishuElement[] {
  const out: FeishuElement[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    const pair = fields.slice(i, i + 2);
    out.push({
      tag: 'column_set',
      flex_mode: 'none',
      horizontal_spacing: '8px',
      columns: pair.map((f) => ({
        tag: 'column',
        width: 'weighted',
        weight: 1,
        elements: [markdown(`**${md(f.label)}**\n${colored(md(f.value), f.tone)}`)],
      })),
    });
  }
  return out;
}

function blockElements(b: Block, locale: Locale): FeishuElement[] {
  const more = b.type === 'list' ? moreText(locale, b.total, b.items.length) : b.type === 'table' ? moreText(locale, b.total, b.rows.length) : null;
  switch (b.type) {
    case 'fields':
      return fieldsElements(b.fields);
    case 'text':
      return [markdown(colored(inlineMarkdown(FEISHU, b.text), b.tone))];
    case 'list': {
      const lines: string[] = [];
      if (b.title) lines.push(`**${md(b.title)}**`);
      for (const item of b.items) lines.push(`- ${md(item)}`);
      if (more) lines.push(grey(md(more)));
      return [markdown(lines.join('\n'))];
    }
    case 'table': {
      const lines: string[] = [];
      if (b.title) lines.push(`**${md(b.title)}**`);
      const ranked = b.columns[0] === '#';
      lines.push(grey((ranked ? b.columns.slice(1) : b.columns).map(md).join(' · ')));
      for (const row of b.rows) {
        const cells = row.map(md);
        lines.push(ranked ? `${cells[0]}. **${cells[1]}** · ${cells.slice(2).join(' · ')}` : cells.join(' · '));
      }
      if (more) lines.push(grey(md(more)));
      return [markdown(lines.join('\n'))];
    }
    case 'trend':
      return [
        markdown(`**${md(b.title)}**`),
        {
          tag: 'chart',
          aspect_ratio: '16:9',
          color_theme: 'brand',
          chart_spec: {
            type: 'bar',
            data: { values: b.labels.map((label, i) => ({ month: label, value: b.values[i] ?? 0, series: b.seriesName })) },
            xField: 'month',
            yField: 'value',
            seriesField: 'series',
          },
        },
      ];
  }
}

/** The callback value of a button: always `k` and `r`, `v` for a chosen option. */
export function payload(a: CallbackAction, v?: string): ActionPayload {
  return v === undefined ? { k: a.key, r: a.ref } : { k: a.key, r: a.ref, v };
}

interface ButtonSpec {
  label: string;
  style?: CallbackAction['style'];
  value?: ActionPayload;
  url?: string;
  confirm?: CallbackAction['confirm'];
}

/** The name of a button inside a form (unique in the card, as the form container page requires). */
function buttonName(spec: ButtonSpec, i: number): string {
  const base = spec.value ? `${spec.value.k}_${spec.value.v ?? ''}` : 'link';
  return `b${i}_${base.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 40);
}

/** A button; `form` (its name) makes it a submit button of the form container it sits in. */
function button(spec: ButtonSpec, form?: { name: string }): FeishuElement {
  const el: FeishuElement = {
    tag: 'button',
    type: BUTTON_TYPE[spec.style ?? 'default'],
    text: pt(clip(spec.label, FEISHU_LIMITS.buttonText)),
    behaviors: spec.url
      ? [{ type: 'open_url', default_url: spec.url }]
      : [{ type: 'callback', value: spec.value as unknown as Json }],
  };
  if (form) {
    el.name = form.name;
    el.form_action_type = 'submit';
  }
  if (spec.confirm) el.confirm = { title: pt(spec.confirm.title), text: pt(spec.confirm.text) };
  return el;
}

/** Buttons in rows that wrap on narrow screens. */
function buttonRow(buttons: FeishuElement[]): FeishuElement {
  return {
    tag: 'column_set',
    flex_mode: 'flow',
    horizontal_spacing: '8px',
    columns: buttons.map((b) => ({ tag: 'column', width: 'auto', elements: [b] })),
  };
}

function actionElements(card: Card, counter: { n: number }): FeishuElement[] {
  if (card.closed) return [markdown(grey(`**${md(card.closed.text)}**`))];
  const callbacks = card.actions.filter((a): a is CallbackAction => a.type === 'callback');
  const links = card.actions.filter((a): a is LinkAction => a.type === 'link');
  const reason = callbacks.find((a) => a.needsReason)?.needsReason;
  const inForm = reason !== undefined;
  const out: FeishuElement[] = [];

  const plain: ButtonSpec[] = [];
  const optionGroups: { label: string; specs: ButtonSpec[] }[] = [];
  for (const a of callbacks) {
    if (a.options && a.options.length) {
      optionGroups.push({
        label: a.label,
        specs: a.options.map((o) => ({ label: o.label, value: payload(a, o.value), style: 'default' as const })),
      });
    } else {
      plain.push({ label: a.label, style: a.style, value: payload(a), confirm: a.confirm });
    }
  }
  const mk = (specs: ButtonSpec[]) => specs.map((s) => button(s, inForm ? { name: buttonName(s, counter.n++) } : undefined));

  const inner: FeishuElement[] = [];
  if (reason) {
    inner.push({
      tag: 'input',
      name: 'reason',
      required: false,
      max_length: 200,
      input_type: 'multiline_text',
      label: pt(reason.label),
      placeholder: pt(reason.placeholder),
    });
  }
  if (plain.length) inner.push(buttonRow(mk(plain)));
  for (const g of optionGroups) {
    inner.push(markdown(`**${md(g.label)}**`));
    inner.push(buttonRow(mk(g.specs)));
  }
  if (inForm && inner.length) out.push({ tag: 'form', name: 'action_form', elements: inner as unknown as Json });
  else out.push(...inner);

  if (links.length) {
    out.push(buttonRow(links.map((l) => button({ label: l.label, style: l.style, url: l.url }))));
  }
  return out;
}

function pointOptions(initial: number | undefined): number[] {
  const steps = [...POINT_STEPS];
  if (initial !== undefined && Number.isFinite(initial) && !steps.includes(initial)) {
    steps.push(initial);
    steps.sort((a, b) => a - b);
  }
  return steps;
}

/**
 * How points fields are shown: a select of 0, 10, …, 100 (13 elements: the select, its placeholder, 11 option
 * texts), a text input (2: the input and its placeholder), or — when even that would not fit the element
 * budget — no form, the chat-command example instead. Each field also has its markdown label.
 */
type PointsAs = 'select' | 'input' | 'command';
const POINTS_AS: readonly PointsAs[] = ['select', 'input', 'command'];

function formElement(card: Card, form: Form, pointsAs: Exclude<PointsAs, 'command'>): FeishuElement {
  const elements: FeishuElement[] = [];
  for (const f of form.fields) {
    if (f.kind === 'points') {
      elements.push(markdown([`**${md(f.label)}**`, ...(f.hint ? [grey(md(f.hint))] : [])].join('\n')));
      if (pointsAs === 'input') {
        const input: FeishuElement = { tag: 'input', name: f.name, required: f.required, max_length: 3, placeholder: pt('0–100') };
        if (f.initial !== undefined) input.default_value = String(f.initial);
        elements.push(input);
        continue;
      }
      const sel: FeishuElement = {
        tag: 'select_static',
        name: f.name,
        required: f.required,
        placeholder: pt(t(card.locale, 'score.pick')),
        options: pointOptions(f.initial).map((p) => ({ text: pt(String(p)), value: String(p) })),
      };
      if (f.initial !== undefined) sel.initial_option = String(f.initial);
      elements.push(sel);
    } else {
      const input: FeishuElement = {
        tag: 'input',
        name: f.name,
        required: f.required,
        max_length: Math.min(f.maxLength, FEISHU_LIMITS.inputMaxLength),
        input_type: 'multiline_text',
        label: pt(f.label),
        placeholder: pt(f.hint ?? ''),
      };
      if (f.initial) input.default_value = f.initial;
      elements.push(input);
    }
  }
  const s = form.submit;
  elements.push(button({ label: s.label, style: s.style ?? 'primary', value: payload(s), confirm: s.confirm }, { name: 'submit' }));
  return { tag: 'form', name: form.name, elements: elements as unknown as Json };
}

/** The form as text: how to do the same with a chat command. */
function commandElement(card: Card, form: Form): FeishuElement {
  return markdown(`${md(t(card.locale, 'score.commandIntro'))}\n${inlineMarkdown(FEISHU, [{ code: form.commandExample }])}`);
}

/**
 * Elements and components as Feishu counts them against its 200 per card: every object with a `tag`
 * (components, columns, text elements), header included; `chart_spec` is a chart definition, not card JSON.
 */
export function elementCount(card: FeishuCard): number {
  let n = 0;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (typeof (v as { tag?: unknown }).tag === 'string') n++;
      for (const [k, x] of Object.entries(v)) if (k !== 'chart_spec') walk(x);
    }
  };
  walk(card);
  return n;
}

/** Bytes of the `im/v1/messages` request body that would carry this card. */
export function requestBodyBytes(card: FeishuCard): number {
  return Buffer.byteLength(
    JSON.stringify({
      receive_id: 'oc_00000000000000000000000000000000',
      msg_type: 'interactive',
      content: JSON.stringify(card),
      uuid: '0'.repeat(64),
    }),
    'utf8',
  );
}

function build(card: Card, maxMarkdown: number, pointsAs: PointsAs): FeishuCard {
  const counter = { n: 0 };
  const elements: FeishuElement[] = [];
  for (const b of card.blocks) elements.push(...blockElements(b, card.locale));
  if (card.form && !card.closed) elements.push(pointsAs === 'command' ? commandElement(card, card.form) : formElement(card, card.form, pointsAs));
  elements.push(...actionElements(card, counter));
  clipMarkdown(elements, maxMarkdown);
  const out: FeishuCard = {
    schema: '2.0',
    config: { update_multi: true, summary: { content: clip(card.summary, 100) } },
    header: { title: pt(clip(card.title, 100)) as FeishuCard['header']['title'], template: TEMPLATE[card.tone] },
    body: { elements },
  };
  if (card.subtitle) out.header.subtitle = pt(clip(card.subtitle, 100)) as FeishuCard['header']['title'];
  return out;
}

function clipMarkdown(elements: Json[], max: number): void {
  for (const el of elements) {
    if (!el || typeof el !== 'object' || Array.isArray(el)) continue;
    if (el.tag === 'markdown' && typeof el.content === 'string') el.content = clip(el.content, max);
    for (const v of Object.values(el)) if (Array.isArray(v)) clipMarkdown(v, max);
  }
}

export function render(card: Card): FeishuCard {
  // The element count does not depend on how far markdown is clipped: pick the richest way of showing the
  // points that fits, then clip markdown until the body fits. Builders keep cards small; the loops only guard
  // against pathological input (a policy with many manual dimensions, very long texts).
  const pointsAs = POINTS_AS.find((p) => elementCount(build(card, 80, p)) <= FEISHU_LIMITS.maxElements) ?? 'command';
  for (const max of [4000, 1500, 600, 200]) {
    const out = build(card, max, pointsAs);
    if (requestBodyBytes(out) <= FEISHU_LIMITS.maxRequestBytes) return out;
  }
  return build(card, 80, pointsAs);
}
