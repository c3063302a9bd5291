// DingTalk template rendering: the score form as the native form component's variable
// (open-dingtalk/dingtalk-card-examples, examples/表单组件的使用与更新), the generic template file admins import
// (docs/platforms/dingtalk-card-template.json) and its variables matching what render.ts sends.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { approvalRequest } from '../../../cards/approval-request.ts';
import type { Locale } from '../../../cards/model.ts';
import { scoreForm } from '../../../cards/score-form.ts';
import { buildCardTemplate, cardTemplateText, TEMPLATE_FILE, TEMPLATE_VARIABLES } from '../../../src/platforms/dingtalk/card-template.ts';
import { CARD_PARAMS, PRIVATE_CARD_PARAMS, pointOptions, render, type DingtalkForm } from '../../../src/platforms/dingtalk/render.ts';
import { approvalData, samples, scoreFormData } from '../../cards/fixtures.ts';

const TEMPLATE = { templateId: 'tierbot-generic.schema' };
const params = (card: Parameters<typeof render>[0]) => {
  const r = render(card, TEMPLATE);
  if (r.type !== 'card') throw new Error(r.type);
  return r.cardData.cardParamMap;
};
const formOf = (card: Parameters<typeof render>[0]) => JSON.parse(params(card).form) as DingtalkForm;
const LOCALES: Locale[] = ['zh-CN', 'en'];

describe.each(LOCALES)('the score form as a native form (%s)', (locale) => {
  it('points are SELECTs of {value, text} with the current points preselected as {index, value}; the comment a TEXT', () => {
    const f = formOf(scoreForm(scoreFormData({ current: { points: { profitability: 80, strength: 90 } } }), locale));
    expect(f.submit).toEqual({ k: 'score.submit', r: 'sf_p0Lw3n' });
    const [p, s, c] = f.fields;
    expect([p.name, p.type, s.name, s.type, c.name, c.type]).toEqual(['profitability', 'SELECT', 'strength', 'SELECT', 'comment', 'TEXT']);
    expect(p.options).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((n) => ({ value: String(n), text: String(n) })));
    expect(p.defaultValue).toEqual({ index: 8, value: '80' });
    expect(s.defaultValue).toEqual({ index: 9, value: '90' });
    expect(c.required).toBeUndefined();
    expect(Buffer.byteLength(params(scoreForm(scoreFormData(), locale)).form)).toBeLessThanOrEqual(1024);
  });

  it('an off-grid current value is offered and preselected, so an untouched submit keeps it', () => {
    const f = formOf(scoreForm(scoreFormData({ current: { points: { profitability: 85, strength: 0 } } }), locale));
    const p = f.fields[0];
    expect(p.options!.map((o) => o.value)).toEqual(['0', '10', '20', '30', '40', '50', '60', '70', '80', '85', '90', '100']);
    expect(p.defaultValue).toEqual({ index: 9, value: '85' });
    expect(f.fields[1].defaultValue).toEqual({ index: 0, value: '0' });
  });

  it('no current score: nothing preselected, required SELECTs (the client asks before it submits)', () => {
    const f = formOf(scoreForm(scoreFormData({ current: null }), locale));
    for (const x of f.fields.slice(0, 2)) {
      expect(x).toMatchObject({ type: 'SELECT', required: true });
      expect(x.defaultValue).toBeUndefined();
    }
  });

  it('the submit label and status are their own parameters; a card without a form leaves them empty', () => {
    const p = params(scoreForm(scoreFormData(), locale));
    expect(p.form_btn_text).toBe(locale === 'zh-CN' ? '提交评分' : 'Submit');
    expect(p.form_status).toBe('normal');
    const other = params(approvalRequest(approvalData(), locale));
    expect([other.form, other.form_btn_text, other.form_status]).toEqual(['', '', '']);
  });

  it('too many dimensions for 1 KB of SELECTs: typed points (TEXT), still within the limit', () => {
    const dims = ['a', 'b', 'c', 'd'].map((key) => ({ key, name: `维度${key}`, weight: 0.25, source: 'manual' as const, guidance: '依据近一年的经营数据判断' }));
    const card = scoreForm(scoreFormData({ dimensions: dims, current: { points: { a: 10, b: 20, c: 30, d: 45 } } }), locale);
    const p = params(card);
    expect(Buffer.byteLength(p.form)).toBeLessThanOrEqual(1024);
    const f = JSON.parse(p.form) as DingtalkForm;
    expect(f.fields.slice(0, 4).map((x) => [x.type, x.defaultValue])).toEqual([
      ['TEXT', '10'],
      ['TEXT', '20'],
      ['TEXT', '30'],
      ['TEXT', '45'],
    ]);
  });
});

describe('other template parameters', () => {
  it('reject is one button per preset reason ("other" needs text); buttons carry their colour', () => {
    const actions = JSON.parse(params(approvalRequest(approvalData(), 'zh-CN')).actions) as Record<string, string>[];
    expect(actions.map((a) => [a.k, a.v ?? '', a.color])).toEqual([
      ['score.approve', '', 'blue'],
      ['score.reject', 'too_high', 'red'],
      ['score.reject', 'too_low', 'red'],
      ['score.reject', 'no_evidence', 'red'],
    ]);
  });

  it('the renderer never picks the instance id (the messenger derives it from the idempotency key)', () => {
    for (const s of samples('zh-CN')) {
      const r = render(s.card, TEMPLATE);
      if (r.type === 'card') expect(r.outTrackId, s.label).toBeNull();
    }
  });

  it('pointOptions adds an off-grid value in order', () => {
    expect(pointOptions(undefined)).toHaveLength(11);
    expect(pointOptions(55)).toEqual([0, 10, 20, 30, 40, 50, 55, 60, 70, 80, 90, 100]);
    expect(pointOptions(60)).toHaveLength(11);
  });
});

describe('the generic card template (docs/platforms/dingtalk-card-template.json)', () => {
  const file = JSON.parse(readFileSync(TEMPLATE_FILE, 'utf8')) as { editorData: string; type: string; mode: string };
  const editor = JSON.parse(file.editorData) as { variableList: { name: string; type: string; private: boolean }[]; schema: { componentsTree: any[] } };
  const nodes: any[] = [];
  const walk = (n: any) => {
    nodes.push(n);
    for (const c of n.children ?? []) walk(c);
  };
  editor.schema.componentsTree.forEach(walk);

  it('is what card-template.ts builds (regenerate: npx tsx src/platforms/dingtalk/card-template.ts)', () => {
    expect(readFileSync(TEMPLATE_FILE, 'utf8')).toBe(cardTemplateText());
    expect(JSON.parse(cardTemplateText())).toEqual(buildCardTemplate());
    expect([file.type, file.mode]).toEqual(['im', 'card']);
  });

  it('declares exactly the variables render.ts sends and the clicker\'s private answer', () => {
    expect(editor.variableList.map((v) => v.name).sort()).toEqual([...CARD_PARAMS, ...PRIVATE_CARD_PARAMS].sort());
    expect(TEMPLATE_VARIABLES.find((v) => v.name === 'form')).toMatchObject({ type: 'form' });
    for (const s of samples('en')) {
      const r = render(s.card, TEMPLATE);
      if (r.type === 'card') expect(Object.keys(r.cardData.cardParamMap).sort(), s.label).toEqual([...CARD_PARAMS].sort());
    }
  });

  it('its Form binds the `form` variable and sends it back as current_form; its buttons send k, r and v from the actions loop', () => {
    const form = nodes.find((n) => n.componentName === 'Form');
    expect(form.props).toMatchObject({ id: 'form', formSchema: { variable: 'form' }, actionType: 'request' });
    expect(form.props.params).toEqual([expect.objectContaining({ name: 'current_form', type: 'variable', variable: 'form' })]);
    const loop = nodes.find((n) => n.componentName === 'Loop' && n.props.listData.variable === 'actions');
    const button = loop.children[0];
    expect(button.componentName).toBe('SingleButton');
    expect(button.props.actionType).toBe('request');
    expect(button.props.params.map((p: { name: string; variable: string }) => `${p.name}=${p.variable}`)).toEqual(['k=actions[0].k', 'r=actions[0].r', 'v=actions[0].v']);
    // markdown only where the variable is markdown; card data elsewhere is shown as plain text
    for (const n of nodes.filter((x) => x.componentName === 'Markdown')) expect(n.props.content.variable).toBe('markdown');
  });
});
