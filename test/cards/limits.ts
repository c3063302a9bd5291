// Independent checks of rendered cards against each platform's documented limits. Each returns a list of
// violations (empty = fine), so a failing test names every problem at once. Sources:
//  - Feishu: https://open.feishu.cn/document/feishu-cards/card-json-v2-structure (≤ 200 components) and
//    https://open.feishu.cn/document/server-docs/im-v1/message/create (card body ≤ 30 KB)
//  - WeCom: https://developer.work.weixin.qq.com/document/path/90236 (template_card fields and lengths) and
//    https://developer.work.weixin.qq.com/document/path/91770 (group robot markdown ≤ 4096 bytes)
//  - DingTalk: https://open.dingtalk.com/document/development/robot-message-type (msgParam fields),
//    https://open.dingtalk.com/document/orgapp/the-robot-sends-a-group-message (msgParam ≤ 15,000 bytes) and
//    https://open.dingtalk.com/document/orgapp/create-and-deliver-cards (cardParamMap keys ≤ 100 bytes, values ≤ 1 KB)
import { ACTION_KEYS } from '../../cards/model.ts';
import type { DingtalkRendered } from '../../src/platforms/dingtalk/render.ts';
import { parseCommand } from '../../src/platforms/dingtalk/render.ts';
import type { FeishuCard } from '../../src/platforms/feishu/render.ts';
import { elementCount } from '../fakes/feishu-card-schema.ts';
import type { WecomAppMessage, WecomRobotMarkdown } from '../../src/platforms/wecom/render.ts';
import { decodeKey } from '../../src/platforms/wecom/render.ts';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const chars = (s: string) => Array.from(s).length;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function validPayload(v: unknown): boolean {
  return (
    isObj(v) &&
    typeof v.k === 'string' &&
    (ACTION_KEYS as readonly string[]).includes(v.k) &&
    typeof v.r === 'string' &&
    v.r.length > 0 &&
    (v.v === undefined || typeof v.v === 'string') &&
    Object.keys(v).every((k) => k === 'k' || k === 'r' || k === 'v')
  );
}

// ---------------------------------------------------------------------------------------------
// Feishu

/** Properties each Card JSON 2.0 tag may carry (2.0 rejects unknown properties). */
const FEISHU_PROPS: Record<string, string[]> = {
  markdown: ['tag', 'content', 'text_align', 'element_id'],
  plain_text: ['tag', 'content', 'text_size', 'lines'],
  div: ['tag', 'text', 'element_id'],
  column_set: ['tag', 'flex_mode', 'horizontal_spacing', 'columns', 'element_id'],
  column: ['tag', 'width', 'weight', 'elements', 'vertical_align', 'element_id'],
  button: ['tag', 'type', 'text', 'behaviors', 'confirm', 'disabled', 'size', 'width', 'name', 'form_action_type', 'element_id'],
  form: ['tag', 'name', 'elements', 'element_id'],
  input: ['tag', 'name', 'required', 'max_length', 'placeholder', 'label', 'default_value', 'input_type', 'element_id'],
  select_static: ['tag', 'name', 'required', 'placeholder', 'options', 'initial_option', 'element_id'],
  chart: ['tag', 'aspect_ratio', 'color_theme', 'chart_spec', 'element_id'],
};
const HEADER_TEMPLATES = ['blue', 'wathet', 'turquoise', 'green', 'yellow', 'orange', 'red', 'carmine', 'violet', 'purple', 'indigo', 'grey', 'default'];
const BUTTON_TYPES = ['default', 'primary', 'danger', 'text', 'primary_text', 'danger_text', 'primary_filled', 'danger_filled', 'laser'];
const CONTAINERS = new Set(['column_set', 'column', 'form']);

export function feishuRequestBytes(card: FeishuCard): number {
  return bytes(
    JSON.stringify({ receive_id: 'oc_' + '0'.repeat(32), msg_type: 'interactive', content: JSON.stringify(card), uuid: '0'.repeat(64) }),
  );
}

/** Every object with a `tag` anywhere in the card (components and text objects alike), as the Feishu fake counts them. */
export function feishuElementCount(card: FeishuCard): number {
  return elementCount(card);
}

export function checkFeishu(card: FeishuCard): string[] {
  const errors: string[] = [];
  if (card.schema !== '2.0') errors.push('schema must be "2.0"');
  if (!card.config?.update_multi) errors.push('config.update_multi must be true');
  if (!card.header?.title?.content) errors.push('header.title missing');
  if (!HEADER_TEMPLATES.includes(card.header.template)) errors.push(`header.template ${card.header.template}`);
  const size = feishuRequestBytes(card);
  if (size > 30 * 1024) errors.push(`request body ${size} B > 30 KB`);
  const count = feishuElementCount(card);
  if (count > 200) errors.push(`${count} elements > 200`);

  const names: string[] = [];
  let charts = 0;
  const walk = (v: unknown, path: string, depth: number, inForm: boolean): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`, depth, inForm));
    if (!isObj(v)) return;
    const tag = v.tag;
    if (typeof tag === 'string') {
      const allowed = FEISHU_PROPS[tag];
      if (!allowed) errors.push(`${path}: unknown tag ${tag}`);
      else for (const k of Object.keys(v)) if (!allowed.includes(k)) errors.push(`${path}: ${tag} has unknown property ${k}`);
      if (tag === 'form') {
        if (!/^body\.elements\[\d+\]$/.test(path)) errors.push(`${path}: form not at the card root`);
        if (typeof v.name !== 'string' || !v.name) errors.push(`${path}: form without name`);
        const buttons = collect(v.elements, (x) => x.tag === 'button');
        if (!buttons.some((b) => b.form_action_type === 'submit' && typeof b.name === 'string' && b.name)) {
          errors.push(`${path}: form without a named submit button`);
        }
        for (const inner of collect(v.elements, (x) => x.tag === 'form' || x.tag === 'chart' || x.tag === 'table')) {
          errors.push(`${path}: ${String(inner.tag)} inside a form`);
        }
      }
      if (CONTAINERS.has(tag) && depth + 1 > 5) errors.push(`${path}: containers nested deeper than 5`);
      if (['button', 'input', 'select_static'].includes(tag)) {
        if (inForm && (typeof v.name !== 'string' || !v.name)) errors.push(`${path}: ${tag} in a form without name`);
        if (typeof v.name === 'string') names.push(v.name);
      }
      if (tag === 'button') {
        const text = isObj(v.text) ? String(v.text.content ?? '') : '';
        if (!text) errors.push(`${path}: button without text`);
        if (chars(text) > 100) errors.push(`${path}: button text > 100`);
        if (!BUTTON_TYPES.includes(String(v.type))) errors.push(`${path}: button type ${String(v.type)}`);
        const behaviors = Array.isArray(v.behaviors) ? v.behaviors : [];
        if (!behaviors.length) errors.push(`${path}: button without behaviors`);
        for (const b of behaviors) {
          if (!isObj(b)) continue;
          if (b.type === 'callback' && !validPayload(b.value)) errors.push(`${path}: callback value ${JSON.stringify(b.value)} lacks k/r`);
          if (b.type === 'open_url' && !/^https?:\/\//.test(String(b.default_url))) errors.push(`${path}: open_url without url`);
          if (b.type !== 'callback' && b.type !== 'open_url') errors.push(`${path}: behavior ${String(b.type)}`);
        }
        if (v.form_action_type !== undefined && !inForm) errors.push(`${path}: form_action_type outside a form`);
      }
      if (tag === 'input') {
        const max = Number(v.max_length);
        if (!(max >= 1 && max <= 1000)) errors.push(`${path}: input max_length ${String(v.max_length)}`);
        if (v.input_type !== undefined && !['text', 'multiline_text', 'password'].includes(String(v.input_type))) {
          errors.push(`${path}: input_type ${String(v.input_type)}`);
        }
      }
      if (tag === 'select_static') {
        const opts = Array.isArray(v.options) ? (v.options as Obj[]) : [];
        if (!opts.length) errors.push(`${path}: select without options`);
        const values = opts.map((o) => String(o.value));
        if (new Set(values).size !== values.length) errors.push(`${path}: duplicate option values`);
        if (v.initial_option !== undefined && !values.includes(String(v.initial_option))) {
          errors.push(`${path}: initial_option ${String(v.initial_option)} not an option`);
        }
      }
      if (tag === 'chart') {
        charts++;
        if (/"function|=>/.test(JSON.stringify(v.chart_spec))) errors.push(`${path}: functions in chart_spec`);
      }
    }
    const nextDepth = typeof tag === 'string' && CONTAINERS.has(tag) ? depth + 1 : depth;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'chart_spec') continue;
      walk(x, `${path}.${k}`, nextDepth, inForm || tag === 'form');
    }
  };
  walk(card.body.elements, 'body.elements', 0, false);
  if (charts > 5) errors.push(`${charts} charts > 5`);
  const dup = names.filter((n, i) => names.indexOf(n) !== i);
  if (dup.length) errors.push(`duplicate component names: ${dup.join(', ')}`);
  return errors;
}

function collect(v: unknown, pred: (o: Obj) => boolean): Obj[] {
  const out: Obj[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (isObj(x)) {
      if (pred(x)) out.push(x);
      Object.values(x).forEach(walk);
    }
  };
  walk(v);
  return out;
}

// ---------------------------------------------------------------------------------------------
// WeCom

const TASK_ID = /^[A-Za-z0-9_\-@]+$/;

/** CJK counts 2 columns. */
function width(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return w;
}

export function checkWecom(msg: WecomAppMessage): string[] {
  const errors: string[] = [];
  if (msg.msgtype !== 'template_card') errors.push('msgtype');
  const c = msg.template_card as unknown as Obj;
  const type = c.card_type;
  const main = isObj(c.main_title) ? c.main_title : {};
  const title = typeof main.title === 'string' ? main.title : '';
  const sub = typeof c.sub_title_text === 'string' ? c.sub_title_text : '';
  if (!title && !sub) errors.push('main_title.title or sub_title_text required');
  if (chars(title) > 36) errors.push(`main_title.title ${chars(title)} > 36`);
  if (typeof main.desc === 'string' && chars(main.desc) > 44) errors.push(`main_title.desc > 44`);
  if (chars(sub) > 160) errors.push(`sub_title_text ${chars(sub)} > 160`);
  if (isObj(c.emphasis_content)) {
    if (chars(String(c.emphasis_content.title ?? '')) > 14) errors.push('emphasis_content.title > 14');
    if (chars(String(c.emphasis_content.desc ?? '')) > 22) errors.push('emphasis_content.desc > 22');
  }
  const hl = Array.isArray(c.horizontal_content_list) ? (c.horizontal_content_list as Obj[]) : [];
  if (hl.length > 6) errors.push(`horizontal_content_list ${hl.length} > 6`);
  for (const h of hl) {
    if (width(String(h.keyname)) > 10) errors.push(`keyname "${String(h.keyname)}" wider than 5 Chinese characters`);
    if (chars(String(h.value)) > 30) errors.push(`value "${String(h.value)}" > 30`);
  }
  const jumps = Array.isArray(c.jump_list) ? (c.jump_list as Obj[]) : [];
  if (jumps.length > 3) errors.push('jump_list > 3');
  for (const j of jumps) if (j.type === 1 && !/^https?:\/\//.test(String(j.url))) errors.push('jump without url');
  if (isObj(c.card_action) && c.card_action.type === 1 && !/^https?:\/\//.test(String(c.card_action.url))) {
    errors.push('card_action type 1 without url');
  }
  const keys: string[] = [];
  const checkKey = (key: unknown, where: string) => {
    if (typeof key !== 'string' || !key) return errors.push(`${where}: key missing`);
    if (bytes(key) > 1024) errors.push(`${where}: key > 1024 bytes`);
    if (!decodeKey(key)) errors.push(`${where}: key ${key} does not decode to {k, r}`);
    keys.push(key);
  };
  const checkTask = () => {
    const id = c.task_id;
    if (typeof id !== 'string' || !TASK_ID.test(id)) errors.push(`task_id ${String(id)} charset`);
    else if (bytes(id) > 128) errors.push('task_id > 128 bytes');
  };

  if (type === 'text_notice') {
    if (!isObj(c.card_action) || ![1, 2].includes(Number(c.card_action.type))) errors.push('text_notice needs card_action');
  } else if (type === 'button_interaction') {
    checkTask();
    const buttons = Array.isArray(c.button_list) ? (c.button_list as Obj[]) : [];
    if (buttons.length < 1 || buttons.length > 6) errors.push(`button_list ${buttons.length} not in 1..6`);
    buttons.forEach((b, i) => {
      checkKey(b.key, `button ${i}`);
      if (chars(String(b.text)) > 10) errors.push(`button text "${String(b.text)}" > 10`);
      if (![1, 2, 3, 4].includes(Number(b.style))) errors.push(`button style ${String(b.style)}`);
    });
    if (isObj(c.button_selection)) {
      const opts = Array.isArray(c.button_selection.option_list) ? (c.button_selection.option_list as Obj[]) : [];
      if (opts.length < 1 || opts.length > 10) errors.push(`button_selection options ${opts.length}`);
      for (const o of opts) if (bytes(String(o.id)) > 128) errors.push('option id > 128 bytes');
      if (bytes(String(c.button_selection.question_key)) > 1024) errors.push('question_key > 1024 bytes');
    }
  } else if (type === 'multiple_interaction') {
    checkTask();
    const selects = Array.isArray(c.select_list) ? (c.select_list as Obj[]) : [];
    if (selects.length < 1 || selects.length > 3) errors.push(`select_list ${selects.length} not in 1..3`);
    const qk: string[] = [];
    for (const s of selects) {
      const opts = Array.isArray(s.option_list) ? (s.option_list as Obj[]) : [];
      if (opts.length < 1 || opts.length > 10) errors.push(`select ${String(s.question_key)}: ${opts.length} options`);
      for (const o of opts) if (bytes(String(o.id)) > 128) errors.push('option id > 128 bytes');
      if (s.selected_id !== undefined && !opts.some((o) => o.id === s.selected_id)) errors.push('selected_id not an option');
      if (bytes(String(s.question_key)) > 1024) errors.push('question_key > 1024 bytes');
      qk.push(String(s.question_key));
    }
    if (new Set(qk).size !== qk.length) errors.push('duplicate question_key');
    if (!isObj(c.submit_button)) errors.push('submit_button missing');
    else {
      checkKey(c.submit_button.key, 'submit_button');
      if (chars(String(c.submit_button.text)) > 10) errors.push('submit text > 10');
    }
  } else errors.push(`card_type ${String(type)}`);
  if (new Set(keys).size !== keys.length) errors.push('duplicate button keys');
  return errors;
}

export function checkWecomMarkdown(msg: WecomRobotMarkdown): string[] {
  const errors: string[] = [];
  if (msg.msgtype !== 'markdown') errors.push('msgtype');
  const n = bytes(msg.markdown.content);
  if (n > 4096) errors.push(`markdown ${n} B > 4096`);
  if (!msg.markdown.content.trim()) errors.push('empty markdown');
  return errors;
}

// ---------------------------------------------------------------------------------------------
// DingTalk

const MSG_PARAMS: Record<string, string[]> = {
  sampleMarkdown: ['title', 'text'],
  sampleActionCard: ['title', 'text', 'singleTitle', 'singleURL'],
  sampleActionCard2: ['title', 'text', 'actionTitle1', 'actionURL1', 'actionTitle2', 'actionURL2'],
  sampleActionCard3: ['title', 'text', 'actionTitle1', 'actionURL1', 'actionTitle2', 'actionURL2', 'actionTitle3', 'actionURL3'],
  sampleActionCard4: ['title', 'text', ...[1, 2, 3, 4].flatMap((i) => [`actionTitle${i}`, `actionURL${i}`])],
  sampleActionCard5: ['title', 'text', ...[1, 2, 3, 4, 5].flatMap((i) => [`actionTitle${i}`, `actionURL${i}`])],
};

/** The commands behind the dtmd:// links of a markdown text. */
export function dtmdCommands(text: string): string[] {
  return [...text.matchAll(/\(dtmd:\/\/dingtalkclient\/sendMessage\?content=([^)\s]+)\)/g)].map((m) => decodeURIComponent(m[1]));
}

export function checkDingtalk(out: DingtalkRendered): string[] {
  const errors: string[] = [];
  if (out.type === 'robot') {
    if (typeof out.msgParam !== 'string') return ['msgParam must be a JSON string'];
    const n = bytes(out.msgParam);
    if (n > 15000) errors.push(`msgParam ${n} B > 15000`);
    let p: unknown;
    try {
      p = JSON.parse(out.msgParam);
    } catch {
      return ['msgParam is not JSON'];
    }
    if (!isObj(p)) return ['msgParam is not an object'];
    const expected = MSG_PARAMS[out.msgKey];
    if (!expected) return [`msgKey ${out.msgKey}`];
    const keys = Object.keys(p).sort();
    if (keys.join() !== [...expected].sort().join()) errors.push(`${out.msgKey} params ${keys.join()} != ${expected.join()}`);
    for (const [k, v] of Object.entries(p)) {
      if (typeof v !== 'string') errors.push(`${k} not a string`);
      else if (!v) errors.push(`${k} empty`);
    }
    for (const k of Object.keys(p)) {
      if (/^actionTitle\d$|^singleTitle$/.test(k) && chars(String(p[k])) > 20) errors.push(`${k} > 20 characters`);
      if (/^actionURL\d$|^singleURL$/.test(k)) {
        if (String(p[k]).length > 500) errors.push(`${k} > 500`);
        if (!/^https?:\/\//.test(String(p[k]))) errors.push(`${k} not http(s)`);
      }
    }
    for (const cmd of dtmdCommands(String(p.text ?? ''))) {
      if (!parseCommand(cmd)) errors.push(`dtmd command "${cmd}" does not parse`);
    }
  } else {
    const map = out.cardData?.cardParamMap as unknown;
    if (!isObj(map)) return ['cardParamMap missing'];
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== 'string') errors.push(`param ${k} is ${typeof v}, not a string`);
      else if (bytes(v) > 1024) errors.push(`param ${k} ${bytes(v)} B > 1 KB`);
      if (bytes(k) > 100) errors.push(`param key ${k} > 100 B`);
    }
    for (const k of ['fields', 'actions', 'links']) {
      try {
        if (!Array.isArray(JSON.parse(String(map[k])))) errors.push(`${k} not a JSON array`);
      } catch {
        errors.push(`${k} not JSON`);
      }
    }
    if (map.form) {
      try {
        JSON.parse(String(map.form));
      } catch {
        errors.push('form not JSON');
      }
    }
    try {
      for (const a of JSON.parse(String(map.actions)) as unknown[]) {
        if (!isObj(a) || !validPayload({ k: a.k, r: a.r, ...(a.v !== undefined ? { v: a.v } : {}) })) {
          errors.push(`action ${JSON.stringify(a)} lacks k/r`);
        }
      }
    } catch {
      /* reported above */
    }
    if (!out.cardTemplateId) errors.push('cardTemplateId missing');
    if (out.outTrackId !== null && (!/^[A-Za-z0-9_-]+$/.test(out.outTrackId) || out.outTrackId.length > 64)) {
      errors.push(`outTrackId ${out.outTrackId}`);
    }
  }
  return errors;
}
