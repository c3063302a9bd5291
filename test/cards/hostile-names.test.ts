// Names, comments and policy texts that are markup in a platform's dialect must show as typed and never
// become a mention, a link, a tag or formatting: every card kind × every renderer, plus the chat command
// replies, with hostile fragments (examples and a fast-check property).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NAME, MAX_PERSON } from '../../cards/common.ts';
import { clip } from '../../cards/format.ts';
import { type Card, type Locale } from '../../cards/model.ts';
import {
  atRiskCard,
  helpCard,
  noMatchCard,
  noticeCard,
  pendingCard,
  pickListCard,
} from '../../src/app/workflows/commands.ts';
import { render as renderConsole } from '../../src/platforms/console/render.ts';
import { render as renderDingtalk } from '../../src/platforms/dingtalk/render.ts';
import { type FeishuCard, render as renderFeishu } from '../../src/platforms/feishu/render.ts';
import {
  codeSpan,
  DINGTALK,
  type Dialect,
  escapeText,
  FEISHU,
  linkTarget,
  WECOM,
  WORD_JOINER,
} from '../../src/platforms/shared/markdown.ts';
import { render as renderWecom, renderMarkdown } from '../../src/platforms/wecom/render.ts';
import { BASE, dataSamples, type DataValues, HOSTILE_FRAGMENTS } from './fixtures.ts';

const LOCALES: Locale[] = ['zh-CN', 'en'];
const TEMPLATE = { templateId: 'tierbot-generic.schema' };

// ---------------------------------------------------------------------------------------------
// What a reader sees

const LOOKALIKES: Record<string, string> = { '＊': '*', '＿': '_', ˋ: '`', '［': '[', '］': ']', '～': '~', '＃': '#', '｜': '|', '＼': '\\', '＞': '>' };

/** Markdown as a reader sees it: Feishu decodes entities; WeCom/DingTalk show look-alikes, not the joiner. */
function reads(d: Dialect, markdown: string): string {
  if (d === FEISHU) return markdown.replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)));
  return markdown.replaceAll(WORD_JOINER, '').replace(/[＊＿ˋ［］～＃｜＼＞]/g, (ch) => LOOKALIKES[ch]);
}

function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => strings(x, out));
  return out;
}

function feishuMarkdown(card: FeishuCard): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.tag === 'markdown') out.push(String(o.content));
      Object.values(o).forEach(walk);
    }
  };
  walk(card.body.elements);
  return out;
}

function feishuPlain(card: FeishuCard): string[] {
  const out = [card.config.summary.content];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.tag === 'plain_text') out.push(String(o.content));
      Object.values(o).forEach(walk);
    }
  };
  walk(card);
  return out;
}

/** One platform's rendering: its markdown strings (in `dialect`), its plain-text strings, the payload. */
interface Rendering {
  platform: string;
  dialect: Dialect;
  markdown: string[];
  plain: string[];
  payload: unknown;
}

function renderings(card: Card): Rendering[] {
  const feishu = renderFeishu(card);
  const dt = renderDingtalk(card);
  if (dt.type !== 'robot') throw new Error('expected a robot message');
  const dtParam = JSON.parse(dt.msgParam) as Record<string, string>;
  const dtCard = renderDingtalk(card, TEMPLATE);
  if (dtCard.type !== 'card') throw new Error('expected an interactive card');
  const { markdown: dtCardMarkdown, ...params } = dtCard.cardData.cardParamMap;
  const parsed = (s: string) => {
    try {
      return strings(JSON.parse(s));
    } catch {
      return [s];
    }
  };
  return [
    { platform: 'feishu', dialect: FEISHU, markdown: feishuMarkdown(feishu), plain: feishuPlain(feishu), payload: feishu },
    { platform: 'wecom card', dialect: WECOM, markdown: [], plain: strings(renderWecom(card)), payload: renderWecom(card) },
    { platform: 'wecom robot', dialect: WECOM, markdown: [renderMarkdown(card).markdown.content], plain: [], payload: renderMarkdown(card) },
    {
      platform: 'dingtalk robot',
      dialect: DINGTALK,
      markdown: [dtParam.text],
      plain: Object.entries(dtParam).filter(([k]) => k !== 'text').map(([, v]) => v),
      payload: { ...dt, msgParam: dtParam },
    },
    { platform: 'dingtalk card', dialect: DINGTALK, markdown: [dtCardMarkdown], plain: Object.values(params).flatMap(parsed), payload: dtCard },
  ];
}

/** Everything a reader of that platform sees, as one string. */
function seen(r: Rendering): string {
  return [...r.plain, ...r.markdown.map((m) => reads(r.dialect, m))].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Live markup

/**
 * How much live markup a markdown string holds: tag openers (`<at`, `<font`, `<@userid>`, `<script`),
 * raw emphasis/code/link/heading/table characters, block markers at a line start, link destinations,
 * and on Feishu emoji keys (`:OK:`) and `&` outside an entity. Data never adds to any of these: a card with
 * hostile names has the same profile as the same card with plain names.
 */
function markupProfile(d: Dialect, markdown: string): Record<string, number> {
  const text = markdown.replace(/&#\d+;/g, '·'); // an entity is one character of text, never markup
  const count = (re: RegExp) => (text.match(re) ?? []).length;
  return {
    tagOpen: count(/<[A-Za-z/!?@]/g),
    emphasis: count(/[*_~]/g),
    code: count(/`/g),
    brackets: count(/[[\]]/g),
    heading: count(/#/g),
    pipe: count(/\|/g),
    backslash: count(/\\/g),
    blockStart: count(/^\s*[>\-+]/gm),
    link: count(/\]\(/g),
    ...(d === FEISHU ? { emoji: count(/:\w+:/g), bareAmp: count(/&(?!#\d+;)/g) } : {}),
  };
}

/** The constructs that would notify or mislead a group, per platform, named for a readable failure. */
function liveConstructs(r: Rendering): string[] {
  const found: string[] = [];
  for (const m of r.markdown) {
    if (/<at\b/i.test(m)) found.push(`Feishu mention <at …> in ${JSON.stringify(m)}`);
    if (/<@/.test(m)) found.push(`WeCom mention <@…> in ${JSON.stringify(m)}`);
    if (/<(?:a|link|text_tag|person|raw|b|script)\b/i.test(m)) found.push(`tag in ${JSON.stringify(m)}`);
    // (our own colours are counted by the markup profile: Feishu itself writes <font color='red'>)
    if (/<font color="red">/.test(m)) found.push(`injected <font> in ${JSON.stringify(m)}`);
    if (/\]\(http:\/\/evil/.test(m) || /!\[\]\(/.test(m)) found.push(`link or image in ${JSON.stringify(m)}`);
    for (const target of m.matchAll(/\]\(([^)]*)\)/g)) {
      if (!target[1].startsWith(BASE) && !target[1].startsWith('dtmd://dingtalkclient/sendMessage?content=')) {
        found.push(`link to ${target[1]}`);
      }
    }
  }
  // DingTalk mentions take effect only through the `at` parameter (atMobiles, atUserIds, isAtAll)
  if (r.dialect === DINGTALK && /"(?:at|atMobiles|atUserIds|isAtAll)"\s*:/.test(JSON.stringify(r.payload))) found.push('DingTalk `at` parameter');
  return found;
}

function expectInert(card: Card, benign: Card, label: string): void {
  const hostile = renderings(card);
  const plain = renderings(benign);
  hostile.forEach((r, i) => {
    expect(liveConstructs(r), `${label} on ${r.platform}`).toEqual([]);
    const profile = (m: string) => markupProfile(r.dialect, m);
    expect(r.markdown.map(profile), `${label} on ${r.platform}: markup from data`).toEqual(plain[i].markdown.map(profile));
  });
}

// ---------------------------------------------------------------------------------------------
// Cards

const BENIGN = (s: string) => 'x'.repeat(Array.from(s).length);

/** `s` in every field, each field told apart by a suffix (so each must be readable on its own). */
function values(s: string): DataValues {
  return {
    customer: `${s}客户`,
    id: 'c-001',
    owner: `${s}负责`,
    team: `${s}团队`,
    person: `${s}经理`,
    comment: `${s}备注`,
    reason: `${s}原因`,
    tierName: `${s}层级`,
    dimensionName: `${s}维度`,
    playbook: `${s}策略`,
  };
}
const mapValues = (v: DataValues, f: (s: string) => string): DataValues =>
  Object.fromEntries(Object.entries(v).map(([k, s]) => [k, k === 'id' ? s : f(s)])) as unknown as DataValues;

/** How a card shows a value: names are clipped like the card builders clip them. */
const CLIPPED: Partial<Record<keyof DataValues, number>> = { customer: MAX_NAME, owner: MAX_PERSON, person: MAX_PERSON, team: 30 };
const shown = (key: keyof DataValues, value: string) => clip(value, CLIPPED[key] ?? Infinity);

function checkSamples(v: DataValues, locale: Locale): void {
  const hostile = dataSamples(v, locale);
  const benign = dataSamples(mapValues(v, BENIGN), locale);
  hostile.forEach((s, i) => {
    expectInert(s.card, benign[i].card, s.label);
    for (const r of renderings(s.card)) {
      // the WeCom template card has room for a few items only: its headline name must be there
      const shows = r.platform === 'wecom card' ? s.shows.slice(0, 1) : s.shows;
      for (const key of shows) expect(seen(r), `${s.label} on ${r.platform} shows ${key}`).toContain(shown(key, v[key]));
    }
  });
}

describe.each(LOCALES)('every card kind on every platform (%s)', (locale) => {
  it.each(HOSTILE_FRAGMENTS.map((f) => [f]))('%s shows as typed and stays inert', (fragment) => {
    checkSamples(values(fragment), locale);
  });

  it('any mix of hostile fragments in names, comments and policy texts (property)', () => {
    const piece = fc.oneof(fc.constantFrom(...HOSTILE_FRAGMENTS), fc.constantFrom('上海鼎盛', 'ACME', ' ', ' & ', '张三', '*', '<', '_'));
    const text = fc
      .array(piece, { minLength: 1, maxLength: 3 })
      .map((a) => a.join('').trim())
      .filter((s) => s.length > 0 && Array.from(s).length <= 24);
    const data = fc.record({
      customer: text,
      owner: text,
      team: text,
      person: text,
      comment: text,
      reason: text,
      tierName: text,
      dimensionName: text,
      playbook: text,
    });
    fc.assert(
      fc.property(data, (d) => checkSamples({ ...d, id: 'c-001' }, locale)),
      { numRuns: 60 },
    );
  });
});

describe('details a reader would notice', () => {
  it('a name with & or * reads right: escaped once, never twice', () => {
    const card = noticeCard('zh-CN', '通知', ['AT&T *VIP* 3 < 4'], `${BASE}/console`);
    const [feishu, , wecom, dingtalk] = renderings(card);
    expect(feishu.markdown[0]).toBe('AT&#38;T &#42;VIP&#42; 3 &#60; 4');
    expect(reads(FEISHU, feishu.markdown[0])).toBe('AT&T *VIP* 3 < 4');
    expect(wecom.markdown[0]).toContain('AT&T ＊VIP＊ 3 < 4');
    expect(dingtalk.markdown[0]).toContain('AT&T ＊VIP＊ 3 < 4');
  });

  it('an entity typed into a name is shown as typed on Feishu, not decoded into a tag', () => {
    const md = escapeText(FEISHU, '&#60;at id=all&#62;');
    expect(reads(FEISHU, md)).toBe('&#60;at id=all&#62;');
  });

  it('line breaks in data cannot start a heading, a list or a quote', () => {
    for (const d of [FEISHU, WECOM, DINGTALK]) {
      const md = escapeText(d, 'ACME\n# big\r\n- item\n> quote');
      expect(md, d.name).not.toMatch(/[\r\n]/);
      expect(reads(d, md), d.name).toBe('ACME # big - item > quote');
    }
  });

  it('mentions keep their glyphs but lose their syntax', () => {
    expect(escapeText(WECOM, '<@all>')).toBe(`<${WORD_JOINER}@all>`);
    expect(escapeText(DINGTALK, '<font color=#f00>x</font>')).toBe(`<${WORD_JOINER}font color=＃f00>x<${WORD_JOINER}/font>`);
    expect(escapeText(FEISHU, '<at id=all></at>')).toBe('&#60;at id=all>&#60;/at>');
    // a comparison is not a tag: left as typed on WeCom and DingTalk
    expect(escapeText(WECOM, '12 < 30')).toBe('12 < 30');
    // plain @all is not a mention on any of the three
    for (const d of [FEISHU, WECOM, DINGTALK]) expect(escapeText(d, '@all @所有人')).toBe('@all @所有人');
  });

  it('commands stay copyable: _ = - as typed; only what could start markup is neutralised', () => {
    expect(codeSpan(FEISHU, '评分 c_001 profitability=90')).toBe('`评分 c_001 profitability=90`');
    expect(codeSpan(WECOM, '客户 `x` [y](z) <@all>')).toBe(`\`客户 ˋxˋ ［y］(z) <${WORD_JOINER}@all>\``);
    expect(codeSpan(DINGTALK, '评分 c_001 **x**')).toBe('评分 c_001 ＊＊x＊＊');
  });

  it('link destinations cannot be closed early', () => {
    expect(linkTarget('http://h/console?customer=a)[x](http://evil')).toBe('http://h/console?customer=a%29%5Bx%5D%28http://evil');
    expect(linkTarget('http://h/console?customer=c%2D1')).toBe('http://h/console?customer=c%2D1');
  });

  it('plain-text fields take names as typed (no escape sequences a reader would see)', () => {
    const [s] = dataSamples(values('<at id=all></at> **A&B**'), 'zh-CN');
    const feishu = renderFeishu(s.card);
    expect(feishu.header.subtitle?.content).toBe('<at id=all></at> **A&B**客户');
    expect(renderWecom(s.card).template_card.main_title.desc).toBe('<at id=all></at> **A&B**客户');
    const dt = renderDingtalk(s.card, TEMPLATE);
    expect(dt.type === 'card' && dt.cardData.cardParamMap.subtitle).toBe('<at id=all></at> **A&B**客户');
  });
});

// ---------------------------------------------------------------------------------------------
// Chat command replies

describe('chat command replies (风险, 客户 <q>, 待审批, 帮助)', () => {
  const url = `${BASE}/console`;
  const replies = (name: string, locale: Locale): [string, Card][] => [
    ['help', helpCard(locale, url)],
    ['no match', noMatchCard(locale, name, url)],
    ['pick list', pickListCard(locale, locale === 'en' ? 'tier' : '客户', [{ id: 'c-1', name }, { id: 'c-2', name: `${name}2` }], url)],
    ['at risk', atRiskCard(locale, { total: 12, items: [{ name, tier: 'A', risk: 'high', valueAtStake: 15300 }] }, url)],
    ['at risk none', atRiskCard(locale, { total: 0, items: [] }, url)],
    ['pending', pendingCard(locale, [{ customer: name, total: 84, submitter: name }], 3, url)],
    ['pending none', pendingCard(locale, [], 0, url)],
  ];

  it.each(LOCALES.flatMap((l) => HOSTILE_FRAGMENTS.map((f) => [l, f] as const)))('%s: %s', (locale, fragment) => {
    const benign = new Map(replies(BENIGN(fragment), locale));
    for (const [label, card] of replies(fragment, locale)) {
      expectInert(card, benign.get(label)!, label);
      if (label.endsWith('none') || label === 'help') continue;
      for (const r of renderings(card)) expect(seen(r), `${label} on ${r.platform}`).toContain(fragment);
    }
  });

  it('the at-risk reply ranks customers with their numbers and says how many more there are', () => {
    const card = atRiskCard('zh-CN', { total: 12, items: [{ name: '<@all>', tier: 'A', risk: 'high', valueAtStake: 15300 }] }, url);
    const robot = renderMarkdown(card).markdown.content;
    expect(reads(WECOM, robot)).toContain('1. **<@all>** · A · 高 · ¥15,300');
    expect(robot).toContain('还有 11 个');
    expect(robot).not.toContain('<@all>');
  });

  it('the pick list keeps the bold and code of the reply itself', () => {
    const card = pickListCard('zh-CN', '客户', [{ id: 'c-1', name: '**甲**' }, { id: 'c-2', name: '乙' }], url);
    const [feishu, , wecom] = renderings(card);
    expect(feishu.markdown.join('\n')).toContain('1. **&#42;&#42;甲&#42;&#42;** · c-1');
    expect(feishu.markdown.join('\n')).toContain('请回复 `客户 <编号>`，例如 `客户 c-1`');
    expect(wecom.markdown[0]).toContain('请回复 `客户 <编号>`');
  });

  it('a hostile customer id in a pick list or a score-form command cannot mention or link', () => {
    const id = 'c-1<at id=all></at><@all>[x](http://evil.example)';
    const cards = [
      pickListCard('zh-CN', '客户', [{ id, name: '甲' }, { id: 'c-2', name: '乙' }], url),
      dataSamples({ ...values('甲'), id }, 'zh-CN').find((s) => s.kind === 'score_form')!.card,
    ];
    for (const card of cards) {
      for (const r of renderings(card)) expect(liveConstructs(r), r.platform).toEqual([]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Console

describe('web console', () => {
  it('keeps names as typed in its view and renders every card string as DOM text, never HTML', () => {
    const [s] = dataSamples(values('<img src=x onerror=alert(1)>'), 'zh-CN');
    expect(JSON.stringify(renderConsole(s.card))).toContain('<img src=x onerror=alert(1)>');
    const page = readFileSync(resolve(import.meta.dirname, '../../src/http/console/index.html'), 'utf8');
    expect(page).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\.html\(/);
  });
});
