// The generic card template tierbot fills (render.ts), as a file for the card platform's import
// (https://open-dev.dingtalk.com/fe/card → a template → 更多 → 导入). Written to
// docs/platforms/dingtalk-card-template.json by `npx tsx src/platforms/dingtalk/card-template.ts`; a test keeps the
// file equal to this builder and its variables equal to what render.ts sends.
//
// The format is the card editor's export as found in the official examples (open-dingtalk/dingtalk-card-examples,
// examples/*/<name>.json): {editorData: JSON string of {schemaVersion "3.0.0", schema {componentsMap,
// componentsTree}, variableList, expList, mockData, extension}, type "im", mode "card"}. Facts used from them:
// - component names and their binding props: Card, CardHeaderV2 (title), BaseText (text), Markdown (content bound
//   to a markdown variable), Loop (listData bound to a loopArray; children read `${loop.x}` and loop-typed
//   variables `list[0].x`), SingleButton (text, color blue|gray|red, actionType request + params, or url),
//   Form (formSchema bound to a `form` variable, submitText, status normal|disabled, params; the official form
//   example sends its variable back as `current_form`, and the submitted values arrive under `form`, the Form's id);
// - a visible condition is {op: "and", conditions: [{op: "isTrue", variable, …}]} on a boolean expression (expList);
// - the exported `widgetInfo` (the compiled layout) is left out: the card platform builds it when the imported
//   template is saved. Not verified against the live card platform (see docs/platforms/dingtalk.md §4a).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CARD_PARAMS, PRIVATE_CARD_PARAMS } from './render.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Variable {
  name: string;
  type: 'string' | 'markdown' | 'object' | 'loopArray' | 'form' | 'boolean';
  private: boolean;
  description: string;
  /** loopArray items: their string fields */
  item?: string[];
}

/** Every variable of the template: the public ones render.ts sets, and the clicker's private toast. */
export const TEMPLATE_VARIABLES: Variable[] = [
  { name: 'kind', type: 'string', private: false, description: 'card kind (churn_alert, score_form, …)' },
  { name: 'locale', type: 'string', private: false, description: 'zh-CN | en' },
  { name: 'tone', type: 'string', private: false, description: 'info | success | warning | danger' },
  { name: 'title', type: 'string', private: false, description: 'title' },
  { name: 'subtitle', type: 'string', private: false, description: 'subtitle, may be empty' },
  { name: 'summary', type: 'string', private: false, description: 'one-line summary' },
  { name: 'url', type: 'string', private: false, description: 'console page of the card' },
  { name: 'fields', type: 'loopArray', private: false, description: 'label/value pairs', item: ['label', 'value', 'tone'] },
  { name: 'table', type: 'object', private: false, description: 'the table as data {title, columns, rows, more} (for custom templates)' },
  { name: 'tableLines', type: 'loopArray', private: false, description: 'the table, one plain line per row', item: ['text'] },
  { name: 'markdown', type: 'markdown', private: false, description: 'the other blocks, DingTalk markdown' },
  { name: 'actions', type: 'loopArray', private: false, description: 'callback buttons', item: ['label', 'style', 'color', 'k', 'r', 'v', 'group'] },
  { name: 'links', type: 'loopArray', private: false, description: 'link buttons', item: ['label', 'url'] },
  { name: 'form', type: 'form', private: true, description: 'native form (score form); {submit, fields}' },
  { name: 'form_btn_text', type: 'string', private: true, description: 'submit label' },
  { name: 'form_status', type: 'string', private: true, description: 'normal while a form is open, else empty' },
  { name: 'status', type: 'string', private: false, description: 'open | closed' },
  { name: 'statusText', type: 'string', private: false, description: 'closed text, e.g. 已通过' },
  { name: 'toast', type: 'string', private: true, description: 'answer to the last click (clicker only)' },
  { name: 'toastKind', type: 'string', private: true, description: 'success | info | warning | error' },
];

const EXPRESSIONS: { name: string; expContent: string; description: string }[] = [
  { name: 'has_subtitle', expContent: 'subtitle != ""', description: 'subtitle is set' },
  { name: 'has_form', expContent: 'form_status == "normal"', description: 'a form is open' },
  { name: 'is_closed', expContent: 'status == "closed"', description: 'the card is decided or expired' },
  { name: 'has_toast', expContent: 'toast != ""', description: 'there is an answer to show' },
];

function variableEntry(v: Variable): Json {
  const base = { id: v.name, name: v.name, type: v.type, private: v.private, description: v.description, editorVarType: 'variables' };
  const field = (path: string, name: string, type = 'string'): Json => ({ id: `${path}.${name}`, name, type, private: v.private, editorVarType: 'variables', disabled: true });
  if (v.type === 'loopArray') return { ...base, schema: (v.item ?? []).map((f) => field(`${v.name}[0]`, f)) };
  if (v.type === 'form') {
    const fieldPath = `${v.name}.fields[0]`;
    return {
      ...base,
      schema: [
        {
          id: `${v.name}.fields`,
          name: 'fields',
          type: 'loopArray',
          private: v.private,
          editorVarType: 'variables',
          disabled: true,
          schema: [
            ...['name', 'label', 'type'].map((f) => field(fieldPath, f)),
            field(fieldPath, 'required', 'boolean'),
            field(fieldPath, 'placeholder'),
            field(fieldPath, 'defaultValue'),
            {
              id: `${fieldPath}.options`,
              name: 'options',
              type: 'loopArray',
              private: v.private,
              editorVarType: 'variables',
              disabled: true,
              schema: ['value', 'text'].map((f) => field(`${fieldPath}.options[0]`, f)),
            },
          ],
        },
      ],
    };
  }
  return base;
}

const always: Json = { type: 'dynamicVisible', value: true, valueType: 'fixed', condition: { op: 'and', conditions: [] } };
const when = (exp: string): Json => ({
  type: 'dynamicVisible',
  value: true,
  valueType: 'condition',
  condition: { op: 'and', conditions: [{ op: 'isTrue', value: '', type: 'variable', variable: exp, variableType: 'global', valueType: 'fixed', valueVariableType: 'global' }] },
});
const text = (content: string): Json => ({ type: 'dynamicString', content, i18n: false });
const loopParam = (list: string, field: string, id: number): Json => ({ type: 'variable', variable: `${list}[0].${field}`, value: '', name: field, variableType: 'loop', id: String(id) });

let ids = 0;
const node = (componentName: string, title: string, props: { [key: string]: Json }, children?: Json[]): Json => ({
  componentName,
  id: `node_tierbot${String(++ids).padStart(2, '0')}`,
  props: { visible: always, ...props },
  title,
  hidden: false,
  isLocked: false,
  condition: true,
  conditionGroup: '',
  ...(children && { children }),
});

function tree(): Json {
  ids = 0;
  const loop = (list: string, title: string, child: Json, direction: 'vertical' | 'horizontal' = 'vertical'): Json =>
    node('Loop', title, { listData: { type: 'variableValue', variableType: 'global', variable: list }, direction, flowLayout: direction === 'horizontal' }, [child]);
  return {
    componentName: 'Card',
    id: 'node_tierbot00',
    // the whole card opens nothing (an empty url action, as in the official templates)
    props: { actionType: 'url', url: { type: 'dynamicLink', value: '', valueType: 'fixed', variable: '' } },
    title: '',
    hidden: false,
    isLocked: false,
    condition: true,
    conditionGroup: '',
    children: [
      node('CardHeaderV2', 'title', { title: text('${title}') }),
      node('BaseText', 'subtitle', { text: text('${subtitle}'), visible: when('has_subtitle') }),
      // plain text, never markdown: label and value are card data as typed (render.ts escapes only `markdown`)
      loop('fields', 'fields', node('BaseText', 'field', { text: text('${loop.label}：${loop.value}') })),
      node('Markdown', 'markdown', { content: { type: 'dynamicMarkdown', valueType: 'variable', value: '', variable: 'markdown', variableType: 'global' } }),
      loop('tableLines', 'table', node('BaseText', 'table line', { text: text('${loop.text}') })),
      loop(
        'actions',
        'actions',
        node('SingleButton', 'action', {
          text: text('${loop.label}'),
          color: { type: 'dynamicSelect', valueType: 'variable', value: 'blue', variable: 'actions[0].color', variableType: 'loop' },
          actionType: 'request',
          actionId: text(''),
          // the callback parameters (回传参数) every click carries: handler key, opaque reference, option
          params: [loopParam('actions', 'k', 1), loopParam('actions', 'r', 2), loopParam('actions', 'v', 3)],
          successToast: text('${toast}'),
        }),
        'horizontal',
      ),
      node('Form', 'score form', {
        id: 'form',
        submitText: text('${form_btn_text}'),
        formSchema: { type: 'variableValue', variable: 'form', variableType: 'global' },
        // the form's variable comes back as `current_form`: its `submit` holds the click's k and r
        params: [{ type: 'variable', variable: 'form', value: '', name: 'current_form', variableType: 'global', id: '1' }],
        status: { type: 'dynamicSelect', valueType: 'variable', value: 'normal', variable: 'form_status', variableType: 'global' },
        actionType: 'request',
        visible: when('has_form'),
      }),
      loop(
        'links',
        'links',
        node('SingleButton', 'link', {
          text: text('${loop.label}'),
          color: { type: 'dynamicSelect', valueType: 'fixed', value: 'gray', variable: '', variableType: 'global' },
          actionType: 'url',
          urlType: 'all',
          url: { type: 'dynamicLink', valueType: 'variable', value: '', variable: 'links[0].url', variableType: 'loop' },
        }),
        'horizontal',
      ),
      node('BaseText', 'status', { text: text('${statusText}'), visible: when('is_closed') }),
      node('BaseText', 'answer', { text: text('${toast}'), visible: when('has_toast') }),
    ],
  };
}

const COMPONENTS = ['Card', 'CardHeaderV2', 'BaseText', 'Markdown', 'Loop', 'SingleButton'];

function mockData(): Json {
  return {
    cardData: {
      kind: 'approval_request',
      locale: 'zh-CN',
      tone: 'info',
      title: '评分待审批',
      subtitle: '上海鼎盛科技有限公司',
      summary: '张三 提交了 上海鼎盛科技有限公司 的评分',
      url: 'https://tierbot.example.com/console',
      fields: [{ label: '总分', value: '83', tone: '' }],
      table: {},
      tableLines: [],
      markdown: '回款及时',
      actions: [
        { label: '通过', style: 'primary', color: 'blue', k: 'score.approve', r: 'ar_demo', v: '', group: '' },
        { label: '评分偏高', style: 'danger', color: 'red', k: 'score.reject', r: 'ar_demo', v: 'too_high', group: '驳回' },
      ],
      links: [{ label: '在控制台查看', url: 'https://tierbot.example.com/console' }],
      status: 'open',
      statusText: '',
    },
    cardPrivateData: { form: { submit: {}, fields: [] }, form_btn_text: '', form_status: '', toast: '', toastKind: '' },
  };
}

/** The import file: the card editor's export format (see the top of this file). */
export function buildCardTemplate(): Json {
  const editorData = {
    schemaVersion: '3.0.0',
    schema: {
      version: '1.0.0',
      componentsMap: [
        ...COMPONENTS.map((c): Json => ({ package: '@ali/dxComponent', version: '1.0.0', exportName: c, main: './src/index.tsx', destructuring: false, subName: '', componentName: c })),
        { devMode: 'lowCode', componentName: 'Form' },
      ],
      componentsTree: [tree()],
      i18n: {},
    },
    mockData: mockData(),
    editVersion: 0,
    customWidgetInfo: '',
    useCustomWidgetInfo: false,
    variableList: TEMPLATE_VARIABLES.map(variableEntry),
    formList: [],
    expList: EXPRESSIONS.map((e) => ({ id: e.name, name: e.name, type: 'boolean', private: false, expContent: e.expContent, editorVarType: 'expList', description: e.description })),
    localList: [],
    hsfList: [],
    lwpList: [],
    extension: { extendType: 'NORMAL', fileTypeList: [{ fileName: 'event_chain', fileSource: '{}', fileType: 'json' }] },
  };
  return { editorData: JSON.stringify(editorData), type: 'im', mode: 'card' };
}

export const TEMPLATE_FILE = fileURLToPath(new URL('../../../docs/platforms/dingtalk-card-template.json', import.meta.url));

/** The file's text (stable: 2-space JSON and a final newline). */
export function cardTemplateText(): string {
  return JSON.stringify(buildCardTemplate(), null, 2) + '\n';
}

// the variables must be exactly what render.ts sends plus the private answer
const declared = new Set(TEMPLATE_VARIABLES.map((v) => v.name));
for (const p of [...CARD_PARAMS, ...PRIVATE_CARD_PARAMS]) if (!declared.has(p)) throw new Error(`card template: variable ${p} missing`);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(TEMPLATE_FILE, cardTemplateText());
  process.stdout.write(`wrote ${TEMPLATE_FILE}\n`);
}
