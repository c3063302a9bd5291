// Card → WeCom (企业微信) payloads (https://developer.work.weixin.qq.com/document/path/: 90236 template_card,
// 91770 group robot). Pure and deterministic.
//
// `render(card)` gives the app-message body (`message/send` minus touser/agentid, or the `template_card`
// of `update_template_card`); `renderMarkdown(card)` gives a group-robot webhook body (digests to team chats).
//
// WeCom selectors preselect their FIRST option when `selected_id` is missing or not one of the options
// (90236, select_list.selected_id and button_selection.selected_id), and a click reports the selected option
// of every selector on the card (90240, template_card_event SelectedItems), touched or not. So every selector
// here starts with an option that means "nothing chosen", `selected_id` always names it, and the receiver
// reads a selection only for the button it belongs to.
//
// Card types:
// - callback actions → `button_interaction` (≤ 6 buttons). The first action with `options` (contact outcome)
//   or `needsReason` (reject) gets the card's one `button_selection`: question_key `sel:<action key>`
//   (selectionKey), first option `—` (NO_CHOICE, preselected), then the choices (their values are the ids,
//   text ≤ 16 characters). The receiver takes the choice only when that action's button is clicked and it
//   is not `—`; WeCom cards take no free text, so a reject reason is one of the presets, and a reject or a
//   contact log with `—` is asked again.
// - score form → `multiple_interaction`: one `select_list` per points field. WeCom allows ≤ 3 selects and
//   ≤ 10 options each: the first option is "unchanged (current points)" (`keep:<points>`, KEEP_PREFIX) or,
//   without current points, "not scored" (NO_CHOICE), always preselected; then 20, 30, …, 100 (0 and 10 need
//   the chat command or the console). An untouched select therefore submits the current points, even off the
//   grid (85), and an unscored one submits nothing (the server names it). The comment cannot be entered.
//   With more than 3 points fields the card falls back to a `text_notice` carrying the chat-command example
//   (`评分 <id> dim=90 …`) and a link to the console.
// - a `closed` card with actions → `button_interaction` with the original buttons and `replace_text`
//   (grey, not clickable), same `task_id` as the request card, for `update_template_card`.
// - display-only (approval_result for the submitter, digest) → `text_notice` with `card_action` (required).
//
// Identifiers: `task_id` = `tb-<kind>-<ref>` (or a sha256 of the refs when the ref is not in
// `[A-Za-z0-9_-]` or too long), ≤ 128 bytes, unique per card instance as long as refs are.
// Button `key` = `<k>|<r>` or `<k>|<r>|<v>` (≤ 1024 bytes); see `encodeKey`/`decodeKey`.
//
// Lengths: WeCom's suggested limits (90236) are applied: main_title.title ≤ 36 characters, desc ≤ 44,
// sub_title_text ≤ 160, emphasis title ≤ 14 / desc ≤ 22, horizontal_content_list ≤ 6 items with value ≤ 30
// characters, button text ≤ 10, selector option text ≤ 16, jump_list ≤ 3. A horizontal keyname should be at
// most 5 characters: a label wider than 5 Chinese characters (10 columns, e.g. "Profitability") is not cut
// but moves, whole, into sub_title_text as a "label: value" line. Robot markdown ≤ 4096 bytes: lines are dropped
// from the end of the body (the links stay).
//
// Markdown (robot, app chat): WeCom's supported subset is headings, bold, links, inline code, quotes and three
// font colours (91770, markdown类型) — no lists, so list items are `· item` lines.
//
// Escaping: template cards are plain text and take card strings as they are; the robot markdown passes
// each card string through `md` (the WeCom dialect: no `<@userid>` mention, tag, link or emphasis can come
// from data) exactly once.
import {
  byteLength,
  clip,
  clipBytes,
  clipWidth,
  colon,
  displayWidth,
  instanceKey,
  sparkline,
} from '../../../cards/format.ts';
import { moreText, t } from '../../../cards/i18n.ts';
import {
  ACTION_KEYS,
  type ActionKey,
  type ActionPayload,
  type Block,
  type CallbackAction,
  type Card,
  type Field,
  type LinkAction,
  POINT_STEPS,
  plainText,
  type PointsField,
} from '../../../cards/model.ts';
import { escapeText, inlineMarkdown, linkTarget, WECOM } from '../shared/markdown.ts';

export const WECOM_LIMITS = {
  taskIdBytes: 128,
  taskIdCharset: /^[A-Za-z0-9_\-@]+$/,
  buttons: 6,
  buttonKeyBytes: 1024,
  buttonText: 10,
  selects: 3,
  selectOptions: 10,
  selectionOptions: 10,
  optionText: 16,
  optionIdBytes: 128,
  questionKeyBytes: 1024,
  horizontalItems: 6,
  keynameWidth: 10,
  valueChars: 30,
  titleChars: 36,
  descChars: 44,
  subTitleChars: 160,
  emphasisTitleChars: 14,
  emphasisDescChars: 22,
  jumpItems: 3,
  markdownBytes: 4096,
} as const;

export interface WecomHorizontal {
  keyname: string;
  value: string;
}
export interface WecomButton {
  text: string;
  style: 1 | 2 | 3 | 4;
  key: string;
}
export interface WecomJump {
  type: 1;
  title: string;
  url: string;
}
interface CardBase {
  source: { desc: string };
  main_title: { title: string; desc?: string };
}
export interface WecomTextNotice extends CardBase {
  card_type: 'text_notice';
  emphasis_content?: { title: string; desc: string };
  sub_title_text?: string;
  horizontal_content_list?: WecomHorizontal[];
  jump_list?: WecomJump[];
  card_action: { type: 1; url: string };
}
export interface WecomButtonInteraction extends CardBase {
  card_type: 'button_interaction';
  task_id: string;
  sub_title_text?: string;
  horizontal_content_list?: WecomHorizontal[];
  jump_list?: WecomJump[];
  card_action?: { type: 1; url: string };
  button_selection?: { question_key: string; title: string; selected_id: string; option_list: { id: string; text: string }[] };
  button_list: WecomButton[];
  replace_text?: string;
}
export interface WecomMultipleInteraction extends CardBase {
  card_type: 'multiple_interaction';
  task_id: string;
  select_list: {
    question_key: string;
    title: string;
    selected_id: string;
    option_list: { id: string; text: string }[];
  }[];
  submit_button: { text: string; key: string };
  replace_text?: string;
}
export type WecomTemplateCard = WecomTextNotice | WecomButtonInteraction | WecomMultipleInteraction;

export interface WecomAppMessage {
  msgtype: 'template_card';
  template_card: WecomTemplateCard;
}
export interface WecomRobotMarkdown {
  msgtype: 'markdown';
  markdown: { content: string };
}

/**
 * The first option of every selector: "nothing chosen" (`—` on a button card, "not scored" on the score form).
 * WeCom preselects the first option when selected_id is missing or wrong (90236), and reports it on every click.
 */
export const NO_CHOICE = '_none';
/** Score form: the first option `keep:<points>` means "unchanged": the current approved points (0–100, maybe off the grid). */
export const KEEP_PREFIX = 'keep:';
/** The button_selection's question key names the action it belongs to; a click of another button ignores it. */
export function selectionKey(action: ActionKey): string {
  return `sel:${action}`;
}

// ---------------------------------------------------------------------------------------------
// Keys

export function encodeKey(p: ActionPayload): string {
  const key = p.v === undefined ? `${p.k}|${p.r}` : `${p.k}|${p.r}|${p.v}`;
  if (byteLength(key) > WECOM_LIMITS.buttonKeyBytes) throw new Error(`wecom: button key over ${WECOM_LIMITS.buttonKeyBytes} bytes`);
  return key;
}

export function decodeKey(key: string): ActionPayload | null {
  const parts = key.split('|');
  if (parts.length < 2 || parts.length > 3) return null;
  const [k, r, v] = parts;
  if (!(ACTION_KEYS as readonly string[]).includes(k) || !r) return null;
  return v === undefined ? { k: k as ActionKey, r } : { k: k as ActionKey, r, v };
}

export function taskId(card: Card): string | null {
  return instanceKey(card, WECOM_LIMITS.taskIdBytes);
}

// ---------------------------------------------------------------------------------------------
// Pieces

const STYLE = { primary: 1, default: 2, danger: 4 } as const;

function horizontal(f: Field): WecomHorizontal {
  return { keyname: clipWidth(f.label, WECOM_LIMITS.keynameWidth), value: clip(f.value, WECOM_LIMITS.valueChars) };
}

/** Fields whose label fits a keyname (≤ 5 Chinese characters) go to horizontal_content_list; the others are lines. */
function splitFields(locale: Card['locale'], fields: Field[]): { short: Field[]; long: TextGroup | null } {
  const fits = (f: Field) => displayWidth(f.label) <= WECOM_LIMITS.keynameWidth;
  const long = fields.filter((f) => !fits(f));
  return {
    short: fields.filter(fits),
    long: long.length ? { lines: long.map((f) => `${f.label}${colon(locale)}${f.value}`), hidden: 0 } : null,
  };
}

function allFields(card: Card): Field[] {
  return card.blocks.flatMap((b) => (b.type === 'fields' ? b.fields : []));
}

function trendField(card: Card): Field | null {
  const tr = card.blocks.find((b): b is Extract<Block, { type: 'trend' }> => b.type === 'trend');
  return tr ? { label: t(card.locale, 'f.trend12'), value: sparkline(tr.values) } : null;
}

/** Plain-text lines of each non-field block, for sub_title_text; `hidden`: items the block leaves out. */
interface TextGroup {
  lines: string[];
  hidden: number;
}
function textGroups(card: Card): TextGroup[] {
  const groups: TextGroup[] = [];
  for (const b of card.blocks) {
    if (b.type === 'text') groups.push({ lines: [plainText(b.text)], hidden: 0 });
    else if (b.type === 'list') {
      groups.push({ lines: [...b.items], hidden: (b.total ?? b.items.length) - b.items.length });
    } else if (b.type === 'table') {
      const ranked = b.columns[0] === '#';
      groups.push({
        lines: b.rows.map((r) => (ranked ? `${r[0]}. ${r.slice(1).join(' · ')}` : r.join(' · '))),
        hidden: (b.total ?? b.rows.length) - b.rows.length,
      });
    }
  }
  return groups;
}

/**
 * sub_title_text: `fixed` lines (status, command example) first, then whole lines of each block while
 * they fit 160 characters. The first block that does not fit ends with its own "N more" line (items of
 * that block not shown); later blocks are left out.
 */
function subTitle(locale: Card['locale'], fixed: string[], groups: TextGroup[]): string | undefined {
  const max = WECOM_LIMITS.subTitleChars;
  const len = (ls: string[]) => Array.from(ls.join('\n')).length;
  const out = [...fixed];
  for (const g of groups) {
    const tailOf = (shown: number) => moreText(locale, g.lines.length + g.hidden, shown);
    const full = tailOf(g.lines.length);
    if (len([...out, ...g.lines, ...(full ? [full] : [])]) <= max) {
      out.push(...g.lines, ...(full ? [full] : []));
      continue;
    }
    let shown = 0;
    while (shown < g.lines.length && len([...out, g.lines[shown], tailOf(shown + 1) ?? '']) <= max) {
      out.push(g.lines[shown]);
      shown++;
    }
    const tail = tailOf(shown);
    if (tail && len([...out, tail]) <= max) out.push(tail);
    break;
  }
  if (!out.length) return undefined;
  return clip(out.join('\n'), max);
}

function base(card: Card): CardBase {
  const main: CardBase['main_title'] = { title: clip(card.title, WECOM_LIMITS.titleChars) };
  if (card.subtitle) main.desc = clip(card.subtitle, WECOM_LIMITS.descChars);
  return { source: { desc: t(card.locale, 'app') }, main_title: main };
}

function jumps(card: Card): WecomJump[] {
  return card.actions
    .filter((a): a is LinkAction => a.type === 'link')
    .slice(0, WECOM_LIMITS.jumpItems)
    .map((l) => ({ type: 1, title: l.label, url: l.url }));
}

function buttonText(s: string): string {
  return clip(s, WECOM_LIMITS.buttonText);
}

/** Selector option text: at most 16 characters suggested (90236, option_list.text). */
function optionText(s: string): string {
  return clip(s, WECOM_LIMITS.optionText);
}

// ---------------------------------------------------------------------------------------------
// Card types

function textNotice(card: Card, extraLines: string[] = []): WecomTextNotice {
  const fields = allFields(card);
  const trend = trendField(card);
  const out: WecomTextNotice = { card_type: 'text_notice', ...base(card), card_action: { type: 1, url: card.url } };
  let rest = fields;
  const first = fields[0];
  if (first && Array.from(first.value).length <= WECOM_LIMITS.emphasisTitleChars) {
    out.emphasis_content = {
      title: first.value,
      desc: clip(first.label, WECOM_LIMITS.emphasisDescChars),
    };
    rest = fields.slice(1);
  }
  const { short, long } = splitFields(card.locale, [...rest, ...(trend ? [trend] : [])]);
  const list = short.slice(0, WECOM_LIMITS.horizontalItems).map(horizontal);
  if (list.length) out.horizontal_content_list = list;
  const sub = subTitle(card.locale, extraLines, [...(long ? [long] : []), ...textGroups(card)]);
  if (sub) out.sub_title_text = sub;
  const j = jumps(card);
  if (j.length) out.jump_list = j;
  return out;
}

function buttonInteraction(card: Card, id: string): WecomButtonInteraction {
  const callbacks = card.actions.filter((a): a is CallbackAction => a.type === 'callback');
  const buttons: WecomButton[] = [];
  let selection: WecomButtonInteraction['button_selection'];
  for (const a of callbacks) {
    const choices = a.options ?? a.needsReason?.presets;
    if (choices && choices.length && !selection) {
      selection = {
        question_key: selectionKey(a.key),
        title: clip(a.options ? a.label : t(card.locale, 'f.reason'), 20),
        selected_id: NO_CHOICE,
        option_list: [
          { id: NO_CHOICE, text: '—' },
          ...choices.slice(0, WECOM_LIMITS.selectionOptions - 1).map((o) => ({ id: o.value, text: optionText(o.label) })),
        ],
      };
      buttons.push({ text: buttonText(a.label), style: STYLE[a.style ?? 'default'], key: encodeKey({ k: a.key, r: a.ref }) });
    } else if (a.options && a.options.length) {
      for (const o of a.options) {
        buttons.push({ text: buttonText(o.label), style: STYLE.default, key: encodeKey({ k: a.key, r: a.ref, v: o.value }) });
      }
    } else {
      buttons.push({ text: buttonText(a.label), style: STYLE[a.style ?? 'default'], key: encodeKey({ k: a.key, r: a.ref }) });
    }
  }
  const fields = allFields(card);
  const trend = trendField(card);
  const out: WecomButtonInteraction = {
    card_type: 'button_interaction',
    ...base(card),
    task_id: id,
    button_list: buttons.slice(0, WECOM_LIMITS.buttons),
    card_action: { type: 1, url: card.url },
  };
  const { short, long } = splitFields(card.locale, [...fields, ...(trend ? [trend] : [])]);
  const sub = subTitle(card.locale, [], [...(long ? [long] : []), ...textGroups(card)]);
  if (sub) out.sub_title_text = sub;
  const list = short.slice(0, WECOM_LIMITS.horizontalItems).map(horizontal);
  if (list.length) out.horizontal_content_list = list;
  const j = jumps(card);
  if (j.length) out.jump_list = j;
  if (card.closed) out.replace_text = clip(card.closed.text, WECOM_LIMITS.buttonText);
  else if (selection) out.button_selection = selection;
  return out;
}

/**
 * Points a WeCom select offers after its first option: 20, 30, …, 100. A select holds ≤ 10 options (90236) and
 * the first is "unchanged" / "not scored", so 0 and 10 are left out (the chat command and the console take them).
 */
export const WECOM_POINT_OPTIONS: readonly number[] = POINT_STEPS.filter((p) => p >= 20);

/** The first option of a points select: keep the current points, or (none yet) "not scored". */
function firstPointsOption(locale: Card['locale'], f: PointsField): { id: string; text: string } {
  if (f.initial === undefined) return { id: NO_CHOICE, text: optionText(t(locale, 'wecom.notScored')) };
  return { id: `${KEEP_PREFIX}${f.initial}`, text: optionText(t(locale, 'wecom.keepPoints', { points: String(f.initial) })) };
}

function multipleInteraction(card: Card, id: string, fields: PointsField[]): WecomMultipleInteraction {
  const form = card.form!;
  const out: WecomMultipleInteraction = {
    card_type: 'multiple_interaction',
    ...base(card),
    task_id: id,
    select_list: fields.map((f) => {
      const first = firstPointsOption(card.locale, f);
      return {
        question_key: f.name,
        title: clip(f.label, 30),
        selected_id: first.id,
        option_list: [first, ...WECOM_POINT_OPTIONS.map((p) => ({ id: String(p), text: String(p) }))],
      };
    }),
    submit_button: { text: buttonText(form.submit.label), key: encodeKey({ k: form.submit.key, r: form.submit.ref }) },
  };
  if (card.closed) out.replace_text = clip(card.closed.text, WECOM_LIMITS.buttonText);
  return out;
}

export function render(card: Card): WecomAppMessage {
  const id = taskId(card);
  let tc: WecomTemplateCard;
  if (card.form) {
    const points = card.form.fields.filter((f): f is PointsField => f.kind === 'points');
    if (id && points.length > 0 && points.length <= WECOM_LIMITS.selects) tc = multipleInteraction(card, id, points);
    else {
      tc = textNotice(card, [t(card.locale, 'score.commandIntro'), card.form.commandExample]);
      if (!tc.jump_list) tc.jump_list = [{ type: 1, title: t(card.locale, 'btn.console'), url: card.url }];
    }
  } else if (id && card.actions.some((a) => a.type === 'callback')) {
    tc = buttonInteraction(card, id);
  } else {
    tc = textNotice(card);
  }
  return { msgtype: 'template_card', template_card: tc };
}

// ---------------------------------------------------------------------------------------------
// Group robot markdown

const FONT = { info: 'info', success: 'info', warning: 'warning', danger: 'warning' } as const;
/** Plain text → WeCom markdown. */
const md = (text: string) => escapeText(WECOM, text);

function markdownBlock(b: Block, locale: Card['locale']): string[] {
  const sep = colon(locale);
  const more = b.type === 'list' ? moreText(locale, b.total, b.items.length) : b.type === 'table' ? moreText(locale, b.total, b.rows.length) : null;
  switch (b.type) {
    case 'fields':
      return b.fields.map((f) => {
        const v = md(f.value);
        return `> ${md(f.label)}${sep}${f.tone && f.tone !== 'info' ? `<font color="${FONT[f.tone]}">${v}</font>` : v}`;
      });
    case 'text':
      return [inlineMarkdown(WECOM, b.text)];
    case 'list':
      return [
        ...(b.title ? [`**${md(b.title)}**`] : []),
        ...b.items.map((i) => `· ${md(i)}`), // no list syntax in WeCom's markdown subset (91770)
        ...(more ? [`<font color="comment">${md(more)}</font>`] : []),
      ];
    case 'table': {
      const ranked = b.columns[0] === '#';
      return [
        ...(b.title ? [`**${md(b.title)}**`] : []),
        ...b.rows.map((r) => {
          const c = r.map(md);
          return ranked ? `${c[0]}. **${c[1]}** · ${c.slice(2).join(' · ')}` : c.join(' · ');
        }),
        ...(more ? [`<font color="comment">${md(more)}</font>`] : []),
      ];
    }
    case 'trend':
      return [`**${md(b.title)}**`, `${sparkline(b.values)}  ${md(b.labels[0] ?? '')} – ${md(b.labels[b.labels.length - 1] ?? '')}`];
  }
}

export function renderMarkdown(card: Card): WecomRobotMarkdown {
  const head = [`**${md(card.title)}**`];
  if (card.subtitle) head.push(`<font color="comment">${md(card.subtitle)}</font>`);
  const body: string[] = [];
  for (const b of card.blocks) body.push(...markdownBlock(b, card.locale), '');
  const foot: string[] = [];
  if (card.closed) foot.push(`<font color="comment">${md(card.closed.text)}</font>`);
  else if (card.form || card.actions.some((a) => a.type === 'callback')) foot.push(`<font color="comment">${t(card.locale, 'wecom.robotHint')}</font>`);
  const links = card.actions.filter((a): a is LinkAction => a.type === 'link');
  for (const l of links) foot.push(`[${md(l.label)}](${linkTarget(l.url)})`);
  if (!links.length) foot.push(`[${md(t(card.locale, 'btn.console'))}](${linkTarget(card.url)})`);

  const join = (b: string[]) => [...head, '', ...b, ...foot].join('\n');
  let content = join(body);
  while (byteLength(content) > WECOM_LIMITS.markdownBytes && body.length) {
    body.pop();
    content = join([...body, '…', '']);
  }
  if (byteLength(content) > WECOM_LIMITS.markdownBytes) content = clipBytes(content, WECOM_LIMITS.markdownBytes);
  return { msgtype: 'markdown', markdown: { content } };
}
