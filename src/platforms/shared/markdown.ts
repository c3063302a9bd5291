// The markdown dialects of the chat platforms, as data, and the functions that make plain text inert in
// them. Every string on a card is plain text: customer, user and team names, comments, reasons, policy
// texts, labels. A renderer passes each one through its platform's dialect exactly once, where it puts
// the string into markdown, so nothing in it can become a mention, a link, a tag or formatting. Plain-text
// fields (Feishu `plain_text`, WeCom `template_card`, DingTalk card parameters) take the string as it is.
//
// Neutralising, not deleting: a reader must still see the name as typed. Where a dialect renders HTML
// entities (Feishu), a character is replaced by its entity, which shows the exact same glyph. Where it has
// no documented escape (WeCom, DingTalk):
// - `<` that could open a tag or a mention gets U+2060 WORD JOINER after it. The glyph stays the same
//   (U+2060 is a Default_Ignorable_Code_Point and draws nothing), but `<⁠@all>` and `<⁠font …>` no longer
//   match: HTML, CommonMark and WeCom's `<@userid>` all need the ASCII character right after `<`.
// - the emphasis, code, link and heading characters become full-width look-alikes (＊ ＿ ˋ ［ ］ ～ ＃ ｜ ＼).
//   An invisible character between two `*` does not reliably stop emphasis (under CommonMark's flanking
//   rules `*⁠*x*⁠*` still makes italics), and look-alikes read naturally next to Chinese punctuation.
import type { Inline } from '../../../cards/model.ts';

/** U+2060 WORD JOINER: invisible, neither a letter nor whitespace. */
export const WORD_JOINER = '\u2060';

/** Where a rule applies (`pattern`, global) and what each match becomes. */
export interface EscapeRule {
  pattern: RegExp;
  replace: (match: string) => string;
}

export interface Dialect {
  name: 'feishu' | 'wecom' | 'dingtalk';
  /** plain text in running markdown */
  text: EscapeRule;
  /** text the reader copies exactly (a chat command, an id): `_`, `=`, `-` and `*` stay as typed */
  code: EscapeRule;
  /** delimiter of an inline code span; '' where the dialect has none (the text is then shown as it is) */
  codeMark: string;
}

/** `<` followed by what could start a tag, a closing tag, a comment/declaration, or a WeCom `<@userid>`. */
const TAG_OPEN = '<(?=[A-Za-z/!?@])';

/** Line breaks in data would start new markdown blocks (headings, lists, rules); they become spaces. */
const LINE_BREAKS = /\r\n|[\r\n\u2028\u2029]/g;

const LOOKALIKE: Record<string, string> = {
  '*': '＊',
  _: '＿',
  '`': 'ˋ',
  '[': '［',
  ']': '］',
  '~': '～',
  '#': '＃',
  '|': '｜',
  '\\': '＼',
  '>': '＞',
  '<': '<' + WORD_JOINER,
};
const lookalike = (ch: string) => LOOKALIKE[ch] ?? ch;

/** `&#60;` for `<`: the numeric entity, which Feishu renders as the character itself. */
const entity = (ch: string) => `&#${ch.codePointAt(0)};`;

/**
 * Inside code spans nothing is decoded (CommonMark: entities stay literal in code), so commands get the
 * same light treatment on every platform: a backtick cannot be escaped inside a code span and becomes a
 * look-alike; brackets and tag openers are neutralised in case a client parses links or mentions there.
 */
const CODE: EscapeRule = { pattern: new RegExp(`[\`[\\]]|${TAG_OPEN}`, 'g'), replace: lookalike };

/**
 * Feishu/Lark card markdown (`markdown` component; `lark_md` is the same dialect). Official: Card JSON 2.0
 * "富文本（Markdown）组件", section 特殊字符转义说明 — characters the markdown syntax uses
 * ("*、~、>、<" …) must be HTML-escaped as `&#实体编号;` to be shown
 * (open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/content-components/rich-text).
 * The same page: standard CommonMark (where entities never form structure) plus the HTML tags `<at>`
 * (`<at id=all></at>` mentions everyone), `<a>`, `<font>`, `<text_tag>`, `<link>`, `<person>`, `<raw>`,
 * `<local_datetime>`, `<br>`, `<hr>`, and `:KEY:` emoji. A mention needs `<at …>`: a plain `@all` is text.
 * Escaped: every `<` and `&` (so a name containing "&#60;" reads as typed), the emphasis, strike-through,
 * code, link, heading, table and backslash characters; `>`, `-`, `+` at the start (a quote, a list; once
 * `<` is escaped a `>` closes nothing); the `:` opening an emoji key. `~` becomes `&#126;` (the doc's
 * `&sim;` is a different glyph, ∼).
 */
export const FEISHU: Dialect = {
  name: 'feishu',
  text: { pattern: /[<&*_~`[\]#|\\]|^[->+]|:(?=\w+:)/g, replace: entity },
  code: CODE,
  codeMark: '`',
};

/**
 * WeCom (企业微信) markdown of group robots and app messages. Official: 群机器人配置说明 (developer.work.weixin.qq.com
 * /document/path/91770) and 发送应用消息 (…/path/90236) — the subset is headings `#`, bold `**`, links
 * `[text](url)`, inline code, quotes `>`, `<font color="info|comment|warning">`, and in robot text/markdown
 * "<@userid>扩展语法来@群成员". `@all` only works in a text message's `mentioned_list`, never in content.
 * No escape syntax is documented, hence the look-alikes and the word joiner after `<` (see above).
 */
export const WECOM: Dialect = {
  name: 'wecom',
  text: { pattern: new RegExp(`[*_\`[\\]~#|\\\\]|${TAG_OPEN}|^>`, 'g'), replace: lookalike },
  code: CODE,
  codeMark: '`',
};

/**
 * DingTalk (钉钉) robot markdown (`sampleMarkdown`, ActionCard text, card markdown). Official: 自定义机器人
 * 发送群消息 / 消息类型和数据格式 (open.dingtalk.com/document/group/message-types-and-data-format) — headings,
 * quotes, bold, italics, links, images, lists; `<font color>` renders too. A mention only takes effect with
 * the `at` parameter: "消息内容content中要带上"@手机号"，跟atMobiles参数结合使用，才有@效果" (likewise `@userId`
 * with `atUserIds`, everyone with `isAtAll`). Our messages never set `at`, so `@all` or `@所有人` in text is
 * inert. No escape syntax or inline code is documented: same look-alikes as WeCom; a command is shown
 * without a code mark, so it keeps only `_` as typed.
 */
export const DINGTALK: Dialect = {
  name: 'dingtalk',
  text: WECOM.text,
  // no code span to hide in: everything of the text rule but `_`, which ids and keys use (c_001)
  code: { pattern: new RegExp(`[*\`[\\]~#|\\\\]|${TAG_OPEN}|^>`, 'g'), replace: lookalike },
  codeMark: '',
};

function apply(rule: EscapeRule, s: string): string {
  return s.replace(LINE_BREAKS, ' ').replace(rule.pattern, rule.replace);
}

/** Plain text → inert markdown of the dialect. Apply once per string, never to markup. */
export function escapeText(d: Dialect, s: string): string {
  return apply(d.text, s);
}

/** A copyable command or id as an inline code span (or as lightly escaped text where there is none). */
export function codeSpan(d: Dialect, s: string): string {
  return d.codeMark + apply(d.code, s) + d.codeMark;
}

/** A paragraph's inline text: plain strings escaped, `strong` bold, `code` as a code span. */
export function inlineMarkdown(d: Dialect, text: Inline): string {
  if (typeof text === 'string') return escapeText(d, text);
  return text
    .map((s) => (typeof s === 'string' ? escapeText(d, s) : 'strong' in s ? `**${escapeText(d, s.strong)}**` : codeSpan(d, s.code)))
    .join('');
}

/**
 * A markdown link destination: characters that would end it or open markup (whitespace, parentheses,
 * angle and square brackets, quotes, backticks) are percent-encoded; existing `%xx` stay as they are.
 */
export function linkTarget(url: string): string {
  return url.replace(/[\s()<>[\]"'`]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}
