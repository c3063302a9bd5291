// What Feishu/Lark accepts as a Card JSON 2.0 card, as data: per component, the properties its official
// JSON 2.0 page lists, and the rules the pages state. The fake open platform (./feishu.ts) refuses a card the
// way the platform does; the tests use the same checker on rendered cards directly.
//
// The platform's own words, on which the rules below rest:
//  - Unlisted properties are an error in 2.0 (they were ignored in 1.0): "在 JSON 2.0 版本中，传入不支持的属性将报错"
//    https://open.feishu.cn/document/feishu-cards/card-json-v2-breaking-changes-release-notes (属性校验变更)
//  - "卡片 JSON 2.0 结构中，一张卡片最多支持 200 个元素（如 tag 为 plain_text 的文本元素）或组件":
//    https://open.feishu.cn/document/feishu-cards/card-json-v2-structure (注意事项). So every object carrying a
//    `tag` counts — components, column objects, and text elements such as a button's `text` — not only the
//    entries of `elements` arrays. The header's title/subtitle are plain_text elements of the card too and are
//    counted (the page does not exclude them; counting them is the stricter reading). `chart_spec` is a VChart
//    spec, not card JSON, and is not walked.
//  - A card that cannot be built is answered HTTP 400 `code: 230099` "Failed to create card content", the
//    detail in `msg` as `ext=ErrCode: <sub-code>; ErrPath: ROOT -> …; ErrMsg: …`: the error table and the
//    "230099 子错误码" table of https://open.feishu.cn/document/server-docs/im-v1/message/create. Sub-codes used here:
//      11310  ErrMsg "element exceeds the limit": "表示 JSON 2.0 结构的卡片超过 200 个组件或元素的限制"
//             (the same code/message is handled by the official SDK: larksuite/node-sdk channel/types.ts,
//             `streamMaxElementChars`: "rejected with `code: 230099 / ErrCode: 11310 "element exceeds the limit"`")
//      200861 "cards of schema V2 no longer support this capability; ErrorValue: unsupported tag …" (a 1.0-only
//             component such as `action` or `note`)
//    The table documents no sub-code for an unlisted property; the fake answers 230099 with the ErrPath and an
//    ErrMsg naming the property, and no ErrCode.
//
// Component pages (JSON 2.0), one per `tag` below; each list is that page's field table, in its order:
const DOC = 'https://open.feishu.cn/document/feishu-cards';

export interface ComponentSpec {
  /** the component's JSON 2.0 page */
  doc: string;
  /** every property the page lists */
  props: readonly string[];
  /** listed properties the page allows only on a component inside a form container */
  formOnly?: readonly string[];
}

export const COMPONENTS: Record<string, ComponentSpec> = {
  // 富文本（Markdown）: JSON 2.0 no longer supports `href` (the differentiated-jump syntax).
  markdown: {
    doc: `${DOC}/card-json-v2-components/content-components/rich-text`,
    props: ['tag', 'element_id', 'margin', 'text_align', 'text_size', 'icon', 'content'],
  },
  // 分栏: the column set's field table.
  column_set: {
    doc: `${DOC}/card-json-v2-components/containers/column-set`,
    props: ['tag', 'element_id', 'horizontal_spacing', 'horizontal_align', 'margin', 'flex_mode', 'background_style', 'action', 'columns'],
  },
  // 分栏, "Column field description" (each entry of `columns`).
  column: {
    doc: `${DOC}/card-json-v2-components/containers/column-set`,
    props: [
      'tag',
      'element_id',
      'background_style',
      'width',
      'weight',
      'horizontal_spacing',
      'horizontal_align',
      'vertical_align',
      'vertical_spacing',
      'direction',
      'padding',
      'margin',
      'elements',
      'action',
    ],
  },
  // 表单容器.
  form: {
    doc: `${DOC}/card-json-v2-components/containers/form-container`,
    props: ['tag', 'element_id', 'direction', 'margin', 'padding', 'horizontal_spacing', 'horizontal_align', 'vertical_align', 'vertical_spacing', 'name', 'elements'],
  },
  // 按钮: "Buttons embedded in form containers have added name and form_action_type attributes" — outside a
  // form they are not properties of a button. `url`, `multi_url`, `value` are listed as historical attributes.
  button: {
    doc: `${DOC}/card-json-v2-components/interactive-components/button`,
    props: [
      'tag',
      'element_id',
      'margin',
      'type',
      'size',
      'width',
      'text',
      'icon',
      'hover_tips',
      'disabled',
      'disabled_tips',
      'confirm',
      'behaviors',
      'url',
      'multi_url',
      'value',
      'name',
      'form_action_type',
    ],
    formOnly: ['name', 'form_action_type'],
  },
  // 输入框: `required` "is available when embedded in a form container. In other cases, it will error out or
  // be ineffective"; `name` is listed for every input (required inside a form).
  input: {
    doc: `${DOC}/card-json-v2-components/interactive-components/input`,
    props: [
      'tag',
      'element_id',
      'margin',
      'name',
      'required',
      'disabled',
      'placeholder',
      'default_value',
      'width',
      'behaviors',
      'max_length',
      'input_type',
      'show_icon',
      'rows',
      'auto_resize',
      'max_rows',
      'label',
      'label_position',
      'value',
      'confirm',
      'disabled_tips',
    ],
    formOnly: ['required'],
  },
  // 下拉选择-单选: `required` as for the input.
  select_static: {
    doc: `${DOC}/card-json-v2-components/interactive-components/single-select-dropdown-menu`,
    props: [
      'tag',
      'element_id',
      'margin',
      'type',
      'name',
      'required',
      'disabled',
      'initial_option',
      'initial_index',
      'placeholder',
      'width',
      'behaviors',
      'options',
      'confirm',
    ],
    formOnly: ['required'],
  },
  // 图表 (VChart).
  chart: {
    doc: `${DOC}/card-json-v2-components/content-components/chart`,
    props: ['tag', 'element_id', 'margin', 'aspect_ratio', 'color_theme', 'chart_spec', 'preview', 'height'],
  },
  // The text element (普通文本's `text` object, also a button's text, placeholders, labels, confirm texts,
  // option texts, the header's title): tag, content and its style fields; every element may carry an
  // element_id (card-json-v2-structure, 卡片正文 body).
  plain_text: {
    doc: `${DOC}/card-json-v2-components/content-components/plain-text`,
    props: ['tag', 'content', 'text_size', 'text_color', 'text_align', 'lines', 'element_id'],
  },
};

/** Objects without a tag, by where they sit. */
export const STRUCTURES: Record<string, ComponentSpec> = {
  card: { doc: `${DOC}/card-json-v2-structure`, props: ['schema', 'config', 'card_link', 'header', 'body'] },
  config: {
    doc: `${DOC}/card-json-v2-structure`,
    props: ['streaming_mode', 'streaming_config', 'summary', 'locales', 'enable_forward', 'update_multi', 'width_mode', 'use_custom_translation', 'enable_forward_interaction', 'style'],
  },
  summary: { doc: `${DOC}/card-json-v2-structure`, props: ['content', 'i18n_content'] },
  header: {
    doc: `${DOC}/card-json-v2-structure`,
    props: ['title', 'subtitle', 'text_tag_list', 'i18n_text_tag_list', 'template', 'icon', 'padding'],
  },
  body: {
    doc: `${DOC}/card-json-v2-structure`,
    props: ['direction', 'padding', 'horizontal_spacing', 'horizontal_align', 'vertical_spacing', 'vertical_align', 'elements'],
  },
  // a button's `behaviors` entries, by `type` (the button page's JSON structure)
  'behavior:open_url': { doc: `${DOC}/card-json-v2-components/interactive-components/button`, props: ['type', 'default_url', 'android_url', 'ios_url', 'pc_url'] },
  'behavior:callback': { doc: `${DOC}/card-json-v2-components/interactive-components/button`, props: ['type', 'value'] },
  // `confirm` of a button, input or select: a title and a text, both plain_text
  confirm: { doc: `${DOC}/card-json-v2-components/interactive-components/button`, props: ['title', 'text'] },
  // an entry of a select's `options`
  option: { doc: `${DOC}/card-json-v2-components/interactive-components/single-select-dropdown-menu`, props: ['text', 'icon', 'value'] },
};

/** Components JSON 2.0 removed (card-json-v2-breaking-changes-release-notes): sub-code 200861. */
export const REMOVED_IN_2 = new Set(['action', 'note']);

export const MAX_ELEMENTS = 200;
export const HEADER_TEMPLATES = ['blue', 'wathet', 'turquoise', 'green', 'yellow', 'orange', 'red', 'carmine', 'violet', 'purple', 'indigo', 'grey', 'default'];
export const BUTTON_TYPES = ['default', 'primary', 'danger', 'text', 'primary_text', 'danger_text', 'primary_filled', 'danger_filled', 'laser'];
const FLEX_MODES = ['none', 'stretch', 'flow', 'bisect', 'trisect'];
const INPUT_TYPES = ['text', 'multiline_text', 'password'];
const CONTAINERS = new Set(['form', 'column_set', 'column']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Elements and components of a card the way the 200 limit counts them: every object with a string `tag`,
 * header included, `chart_spec` excluded.
 */
export function elementCount(card: unknown): number {
  let n = 0;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObj(v)) {
      if (typeof v.tag === 'string') n++;
      for (const [k, x] of Object.entries(v)) if (k !== 'chart_spec') walk(x);
    }
  };
  walk(card);
  return n;
}

export interface CardProblem {
  /** ErrPath in the platform's notation, e.g. `ROOT -> body -> elements -> [2](tag: column_set)` */
  path: string;
  message: string;
  /** the documented 230099 sub-code, where the message/create page gives one */
  subCode?: number;
}

/** Every reason the platform would refuse this Card JSON 2.0 card (empty: accepted). */
export function cardProblems(card: unknown): CardProblem[] {
  const problems: CardProblem[] = [];
  const bad = (path: string, message: string, subCode?: number) => problems.push({ path, message, ...(subCode ? { subCode } : {}) });
  if (!isObj(card)) return [{ path: 'ROOT', message: 'card is not an object' }];

  const names = new Map<string, string>();
  const elementIds = new Set<string>();
  const listed = (o: Obj, spec: ComponentSpec, path: string, inForm: boolean, what: string) => {
    for (const k of Object.keys(o)) {
      if (!spec.props.includes(k)) bad(path, `${what} has no property ${k} (${spec.doc})`);
      else if (!inForm && spec.formOnly?.includes(k)) bad(path, `${what} outside a form container has no property ${k} (${spec.doc})`);
    }
  };
  const text = (v: unknown, path: string, max?: number, tags: readonly string[] = ['plain_text']) => {
    if (!isObj(v) || !tags.includes(String(v.tag)) || typeof v.content !== 'string') return bad(path, `must be a ${tags.join(' or ')} element with content`);
    listed(v, COMPONENTS.plain_text, path, false, 'plain_text');
    if (max !== undefined && Array.from(v.content).length > max) bad(path, `text longer than ${max} characters`);
  };
  const confirm = (v: unknown, path: string) => {
    if (!isObj(v)) return bad(path, 'confirm must be an object');
    listed(v, STRUCTURES.confirm, path, false, 'confirm');
    text(v.title, `${path} -> title`);
    text(v.text, `${path} -> text`);
  };
  const behaviors = (v: unknown, path: string) => {
    if (!Array.isArray(v)) return bad(path, 'behaviors must be an array');
    v.forEach((b, i) => {
      const at = `${path} -> [${i}]`;
      const spec = isObj(b) ? STRUCTURES[`behavior:${String(b.type)}`] : undefined;
      if (!isObj(b) || !spec) return bad(at, `behavior type ${isObj(b) ? String(b.type) : typeof b}`);
      listed(b, spec, at, false, `${String(b.type)} behavior`);
      // "The open platform SDK only supports object type callback interaction data" (input page, behaviors)
      if (b.type === 'callback' && !isObj(b.value)) bad(at, 'callback value must be an object');
      if (b.type === 'open_url' && typeof b.default_url !== 'string') bad(at, 'open_url without default_url');
    });
  };
  const interactiveName = (o: Obj, tag: string, path: string, inForm: boolean) => {
    if (!inForm) return;
    // form container: `name` "is required for all interactive components in the form container and must be
    // globally unique within the card; otherwise, the data submission will fail"
    if (typeof o.name !== 'string' || !o.name) return bad(path, `${tag} in a form container without name`);
    if (names.has(o.name)) bad(path, `name ${o.name} is not unique in the card (also at ${names.get(o.name)})`);
    else names.set(o.name, path);
  };

  const walk = (elements: unknown, path: string, ctx: { inForm: boolean; depth: number; parent: string }) => {
    if (!Array.isArray(elements)) return bad(path, 'elements must be an array');
    elements.forEach((raw, i) => {
      if (!isObj(raw) || typeof raw.tag !== 'string') return bad(`${path} -> [${i}]`, 'component without tag');
      const el = raw;
      const tag = el.tag as string;
      const at = `${path} -> [${i}](tag: ${tag})`;
      if (REMOVED_IN_2.has(tag)) return bad(at, `cards of schema V2 no longer support this capability; ErrorValue: unsupported tag ${tag}`, 200861);
      const spec = COMPONENTS[tag];
      if (!spec || tag === 'plain_text' || tag === 'column') return bad(at, `no component ${tag} here (the fake knows ${Object.keys(COMPONENTS).join(', ')})`);
      listed(el, spec, at, ctx.inForm, tag);
      if (typeof el.element_id === 'string') {
        // card-json-v2-structure: unique in the card, letters/digits/underscores, a letter first, ≤ 20 characters
        if (!/^[A-Za-z][A-Za-z0-9_]{0,19}$/.test(el.element_id)) bad(at, `element_id ${el.element_id}`);
        if (elementIds.has(el.element_id)) bad(at, `element_id ${el.element_id} is not unique`);
        elementIds.add(el.element_id);
      }
      const depth = CONTAINERS.has(tag) ? ctx.depth + 1 : ctx.depth;
      // form container / column set pages: "Container type components support up to five levels of nesting"
      if (depth > 5) bad(at, 'containers nested deeper than five levels');

      switch (tag) {
        case 'markdown':
          if (typeof el.content !== 'string') bad(at, 'markdown without content');
          break;
        case 'column_set':
          // column set page: columns embed everything but form containers and tables
          if (el.flex_mode !== undefined && !FLEX_MODES.includes(String(el.flex_mode))) bad(at, `flex_mode ${String(el.flex_mode)}`);
          if (!Array.isArray(el.columns)) {
            bad(at, 'column_set without columns');
            break;
          }
          el.columns.forEach((col, j) => {
            const cat = `${at} -> columns -> [${j}](tag: column)`;
            if (!isObj(col) || col.tag !== 'column') return bad(cat, 'an entry of columns must be a column');
            listed(col, COMPONENTS.column, cat, ctx.inForm, 'column');
            const w = col.width;
            if (w !== undefined && w !== 'auto' && w !== 'weighted' && !/^\d+px$/.test(String(w))) bad(cat, `column width ${String(w)}`);
            if (col.weight !== undefined && !(Number.isInteger(col.weight) && (col.weight as number) >= 1 && (col.weight as number) <= 5)) bad(cat, `column weight ${String(col.weight)} (1–5)`);
            if (col.elements !== undefined) walk(col.elements, `${cat} -> elements`, { inForm: ctx.inForm, depth: depth + 1, parent: 'column' });
          });
          break;
        case 'form': {
          // form container page: only at the card root; a name unique in the card; no table, chart or form inside;
          // "There must be at least one button with the submit attribute in the form container"
          if (ctx.parent !== 'body') bad(at, 'a form container can only be placed under the root node of the card');
          if (typeof el.name !== 'string' || !el.name) bad(at, 'form container without name');
          else if (names.has(el.name)) bad(at, `name ${el.name} is not unique in the card`);
          else names.set(el.name, at);
          walk(el.elements, `${at} -> elements`, { inForm: true, depth, parent: 'form' });
          if (!formHasSubmit(el.elements)) bad(at, 'form container without a button whose form_action_type is submit');
          break;
        }
        case 'button':
          interactiveName(el, tag, at, ctx.inForm);
          if (el.type !== undefined && !BUTTON_TYPES.includes(String(el.type))) bad(at, `button type ${String(el.type)}`);
          if (el.text !== undefined) text(el.text, `${at} -> text`, 100);
          if (el.confirm !== undefined) confirm(el.confirm, `${at} -> confirm`);
          if (el.behaviors !== undefined) behaviors(el.behaviors, `${at} -> behaviors`);
          if (el.form_action_type !== undefined && !['submit', 'reset'].includes(String(el.form_action_type))) bad(at, `form_action_type ${String(el.form_action_type)}`);
          break;
        case 'input': {
          interactiveName(el, tag, at, ctx.inForm);
          const max = el.max_length;
          if (max !== undefined && !(Number.isInteger(max) && (max as number) >= 1 && (max as number) <= 1000)) bad(at, `max_length ${String(max)} (1–1000)`);
          if (el.input_type !== undefined && !INPUT_TYPES.includes(String(el.input_type))) bad(at, `input_type ${String(el.input_type)}`);
          // input page: the placeholder "supporting up to 100 characters"
          if (el.placeholder !== undefined) text(el.placeholder, `${at} -> placeholder`, 100);
          if (el.label !== undefined) text(el.label, `${at} -> label`);
          if (el.confirm !== undefined) confirm(el.confirm, `${at} -> confirm`);
          if (el.behaviors !== undefined) behaviors(el.behaviors, `${at} -> behaviors`);
          break;
        }
        case 'select_static': {
          interactiveName(el, tag, at, ctx.inForm);
          if (el.placeholder !== undefined) text(el.placeholder, `${at} -> placeholder`);
          if (el.confirm !== undefined) confirm(el.confirm, `${at} -> confirm`);
          if (el.behaviors !== undefined) behaviors(el.behaviors, `${at} -> behaviors`);
          const options = Array.isArray(el.options) ? el.options : [];
          const values: string[] = [];
          options.forEach((o, j) => {
            const oat = `${at} -> options -> [${j}]`;
            if (!isObj(o)) return bad(oat, 'option must be an object');
            listed(o, STRUCTURES.option, oat, false, 'option');
            text(o.text, `${oat} -> text`);
            if (typeof o.value !== 'string') bad(oat, 'option value must be a string');
            else values.push(o.value);
          });
          // select page: "Within the same selection component, the value of each option must be unique"
          if (new Set(values).size !== values.length) bad(at, 'option values are not unique');
          if (el.initial_option !== undefined && !values.includes(String(el.initial_option))) bad(at, `initial_option ${String(el.initial_option)} is no option`);
          break;
        }
        case 'chart':
          // chart page: "can be used under the card's root node or nested within column containers and accordion panels"
          if (ctx.inForm || (ctx.parent !== 'body' && ctx.parent !== 'column')) bad(at, 'a chart only at the root or in a column');
          if (!isObj(el.chart_spec)) bad(at, 'chart without chart_spec');
          // "The chart component does not support JavaScript syntax."
          else if (/"function|=>/.test(JSON.stringify(el.chart_spec))) bad(at, 'functions in chart_spec');
          break;
      }
    });
  };

  listed(card, STRUCTURES.card, 'ROOT', false, 'the card');
  // card-json-v2-structure: the 2.0 structure must be declared; update_multi only supports true
  if (card.schema !== '2.0') bad('ROOT', 'schema must be "2.0"');
  if (card.config !== undefined) {
    if (!isObj(card.config)) bad('ROOT -> config', 'config must be an object');
    else {
      listed(card.config, STRUCTURES.config, 'ROOT -> config', false, 'config');
      if (card.config.update_multi !== undefined && card.config.update_multi !== true) bad('ROOT -> config', 'update_multi only supports true');
      const s = card.config.summary;
      if (s !== undefined) {
        if (!isObj(s) || typeof s.content !== 'string') bad('ROOT -> config -> summary', 'summary needs content');
        else listed(s, STRUCTURES.summary, 'ROOT -> config -> summary', false, 'summary');
      }
    }
  }
  if (card.header !== undefined) {
    const h = card.header;
    if (!isObj(h)) bad('ROOT -> header', 'header must be an object');
    else {
      listed(h, STRUCTURES.header, 'ROOT -> header', false, 'header');
      if (!isObj(h.title) || !h.title.content) bad('ROOT -> header -> title', 'the title is required');
      // header.title / subtitle: "Tag optional values: plain_text and lark_md"
      else text(h.title, 'ROOT -> header -> title', undefined, ['plain_text', 'lark_md']);
      if (h.subtitle !== undefined) text(h.subtitle, 'ROOT -> header -> subtitle', undefined, ['plain_text', 'lark_md']);
      if (h.template !== undefined && !HEADER_TEMPLATES.includes(String(h.template))) bad('ROOT -> header', `template ${String(h.template)}`);
    }
  }
  if (!isObj(card.body)) bad('ROOT -> body', 'body must be an object with elements');
  else {
    listed(card.body, STRUCTURES.body, 'ROOT -> body', false, 'body');
    walk(card.body.elements, 'ROOT -> body -> elements', { inForm: false, depth: 0, parent: 'body' });
  }

  const n = elementCount(card);
  if (n > MAX_ELEMENTS) bad('ROOT', `element exceeds the limit (${n} elements and components > ${MAX_ELEMENTS})`, 11310);
  return problems;
}

function formHasSubmit(elements: unknown): boolean {
  let found = false;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObj(v)) {
      if (v.tag === 'button' && v.form_action_type === 'submit') found = true;
      Object.values(v).forEach(walk);
    }
  };
  walk(elements);
  return found;
}

/**
 * The answer Feishu gives a card it refuses (HTTP 400): code 230099 with the first problem in `msg`, in the
 * message/create page's format; a documented sub-code goes first (an exceeded element count is reported
 * before anything else, as the count decides whether the card is looked at at all — the page says nothing of
 * the order, so this one is a choice).
 */
export function cardRejection(card: unknown): { code: 230099; msg: string; problems: CardProblem[] } | null {
  const problems = cardProblems(card);
  if (!problems.length) return null;
  const first = problems.find((p) => p.subCode === 11310) ?? problems.find((p) => p.subCode) ?? problems[0];
  const msg =
    first.subCode === 11310
      ? 'Failed to create card content, ext=ErrCode: 11310; ErrMsg: element exceeds the limit; code:230099'
      : `Failed to create card content, ext=${first.subCode ? `ErrCode: ${first.subCode}; ` : ''}ErrPath: ${first.path}; ErrMsg: ${first.message}`;
  return { code: 230099, msg, problems };
}

/** The problems as one line each (for test failures and the fake's `invalid` record). */
export function describeProblems(problems: CardProblem[]): string[] {
  return problems.map((p) => `${p.subCode ? `[${p.subCode}] ` : ''}${p.path}: ${p.message}`);
}
