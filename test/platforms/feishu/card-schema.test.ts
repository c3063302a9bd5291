// Card JSON 2.0 as Feishu checks it: a property its component page does not list is refused (230099), and a
// card counts every element and component — text elements included — against 200 (230099 / ErrCode 11310).
// The fake holds the per-component property lists with their doc pages (test/fakes/feishu-card-schema.ts);
// here: the fake refuses what Feishu refuses, over HTTP as Feishu answers, and every card we render passes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DimensionInfo } from '../../../cards/common.ts';
import { CARD_KINDS, type Card, type Locale } from '../../../cards/model.ts';
import { scoreForm } from '../../../cards/score-form.ts';
import { FeishuMessenger } from '../../../src/platforms/feishu/messenger.ts';
import { callbackResponse } from '../../../src/platforms/feishu/receiver.ts';
import { elementCount as renderedCount, type FeishuCard, FEISHU_LIMITS, render } from '../../../src/platforms/feishu/render.ts';
import { samples, scoreFormData } from '../../cards/fixtures.ts';
import { cardProblems, cardRejection, describeProblems, elementCount, FakeFeishu, MESSAGES_PATH, TOKEN_PATH } from '../../fakes/feishu.ts';
import { COMPONENTS, MAX_ELEMENTS } from '../../fakes/feishu-card-schema.ts';
import { APP_ID, APP_SECRET, feishuEnv, silentLog, testCard } from './helpers.ts';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
type Obj = Record<string, any>;

/** Every object with `tag` === tag, anywhere. */
function all(v: unknown, tag: string, out: Obj[] = []): Obj[] {
  if (Array.isArray(v)) v.forEach((x) => all(x, tag, out));
  else if (v && typeof v === 'object') {
    if ((v as Obj).tag === tag) out.push(v as Obj);
    Object.values(v).forEach((x) => all(x, tag, out));
  }
  return out;
}
const problemsOf = (card: unknown) => describeProblems(cardProblems(card));

/** `n` manual dimensions (plus one metric one), for score forms larger than any demo policy. */
function manualDimensions(n: number): DimensionInfo[] {
  const dims: DimensionInfo[] = Array.from({ length: n }, (_, i) => ({
    key: `dim${i + 1}`,
    name: `维度${i + 1}`,
    weight: 0.9 / n,
    source: 'manual' as const,
    guidance: `第 ${i + 1} 项的评分依据`,
  }));
  return [...dims, { key: 'relationship', name: '合作关系', weight: 0.1, source: 'metric' }];
}
const bigForm = (n: number, locale: Locale = 'zh-CN', current: Record<string, number> = {}) =>
  scoreForm(scoreFormData({ dimensions: manualDimensions(n), current: { points: current } }), locale);

describe('the fake refuses properties a Card JSON 2.0 component does not list', () => {
  const churn = () => clone(render(testCard('Churn risk: ACME')));

  it('a button outside a form with `name` (what render.ts used to send) is refused; the same button in a form is fine', () => {
    const card = churn();
    const claim = all(card, 'button').find((b) => b.behaviors[0].type === 'callback')!;
    expect(problemsOf(card)).toEqual([]);

    claim.name = 'b0_followup_claim_';
    const rejection = cardRejection(card)!;
    expect(rejection.code).toBe(230099);
    expect(rejection.msg).toMatch(/^Failed to create card content, ext=ErrPath: ROOT -> body -> elements -> \[\d+\]\(tag: column_set\) -> columns -> \[0\]\(tag: column\) -> elements -> \[0\]\(tag: button\); ErrMsg: button outside a form container has no property name/);
    expect(problemsOf(card)).toHaveLength(1);

    // form_action_type is the other form-only property of a button; required is form-only on inputs and selects
    delete claim.name;
    claim.form_action_type = 'submit';
    expect(problemsOf(card).join()).toMatch(/button outside a form container has no property form_action_type/);
    delete claim.form_action_type;

    const inForm = clone(render(bigForm(2)));
    const submit = all(inForm, 'button').find((b) => b.form_action_type === 'submit')!;
    expect(submit.name).toBe('submit');
    expect(problemsOf(inForm)).toEqual([]);
    delete submit.name;
    expect(problemsOf(inForm).join()).toMatch(/button in a form container without name/);
  });

  it('checks every component render.ts emits, and the objects inside them, against their lists', () => {
    const tags = new Set<string>();
    for (const locale of ['zh-CN', 'en'] as const) for (const s of samples(locale)) for (const t of JSON.stringify(render(s.card)).matchAll(/"tag":"([a-z_]+)"/g)) tags.add(t[1]);
    expect([...tags].filter((t) => !COMPONENTS[t])).toEqual([]);

    const cases: [string, (c: Obj) => void, RegExp][] = [
      ['markdown', (c) => (all(c, 'markdown')[0].href = { urlVal: { url: 'https://x' } }), /markdown has no property href/],
      ['column', (c) => (all(c, 'column')[0].flex = 1), /column has no property flex/],
      ['column_set', (c) => (all(c, 'column_set')[0].vertical_spacing = '8px'), /column_set has no property vertical_spacing/],
      ['plain_text', (c) => (all(c, 'button')[0].text.color = 'red'), /plain_text has no property color/],
      ['behavior', (c) => (all(c, 'button')[0].behaviors[0].url = 'https://x'), /behavior has no property url/],
      ['top level', (c) => (c.elements = []), /the card has no property elements/],
      ['config', (c) => (c.config.wide_screen_mode = true), /config has no property wide_screen_mode/],
      ['header', (c) => (c.header.color = 'red'), /header has no property color/],
    ];
    for (const [what, change, expected] of cases) {
      const card = churn();
      change(card);
      expect(problemsOf(card).join('\n'), what).toMatch(expected);
    }

    const form = clone(render(bigForm(2))) as Obj;
    all(form, 'select_static')[0].label = { tag: 'plain_text', content: 'x' };
    expect(problemsOf(form).join()).toMatch(/select_static has no property label/);
    const input = clone(render(bigForm(2))) as Obj;
    const comment = all(input, 'input')[0];
    input.body.elements.push({ ...comment, name: 'outside' });
    expect(problemsOf(input).join()).toMatch(/input outside a form container has no property required/);
  });

  it('1.0-only components are refused with sub-code 200861, as the message/create page documents', () => {
    const card = churn();
    card.body.elements.push({ tag: 'action', actions: [] });
    expect(cardRejection(card)!.msg).toBe(
      'Failed to create card content, ext=ErrCode: 200861; ErrPath: ROOT -> body -> elements -> [4](tag: action); ErrMsg: cards of schema V2 no longer support this capability; ErrorValue: unsupported tag action',
    );
  });
});

describe('elements are counted the way Feishu counts them', () => {
  it('every object with a tag counts — text elements, columns and the header title too — not only entries of `elements`', () => {
    const card = clone(render(testCard('Counting')));
    // markdown + fields (column_set, 2 columns, 2 markdown) + two button rows (column_set, column, button, its
    // text) + the header title; `elements` arrays alone hold 8
    expect(elementCount(card)).toBe(1 + 5 + 4 + 4 + 1);
    expect(renderedCount(card)).toBe(elementCount(card));

    // 100 buttons straight in body.elements: 100 entries, but 201 elements with their texts and the title
    const buttons = {
      schema: '2.0',
      header: { title: { tag: 'plain_text', content: 't' } },
      body: { elements: Array.from({ length: 100 }, (_, i) => ({ tag: 'button', text: { tag: 'plain_text', content: `b${i}` }, behaviors: [{ type: 'callback', value: { k: 'tier.ack', r: String(i) } }] })) },
    };
    expect(elementCount(buttons)).toBe(201);
    expect(cardRejection(buttons)).toEqual({
      code: 230099,
      msg: 'Failed to create card content, ext=ErrCode: 11310; ErrMsg: element exceeds the limit; code:230099',
      problems: [expect.objectContaining({ subCode: 11310 })],
    });
    buttons.body.elements.pop();
    expect(elementCount(buttons)).toBe(199);
    expect(cardRejection(buttons)).toBeNull();

    // a chart's spec is VChart, not card JSON: a `tag` inside it is not an element
    const alert = samples('zh-CN').find((s) => s.kind === 'churn_alert')!.card;
    const chart = clone(render(alert));
    const spec = all(chart, 'chart')[0].chart_spec as Obj;
    spec.marks = [{ tag: 'x' }, { tag: 'y' }];
    expect(elementCount(chart)).toBe(renderedCount(render(alert)));
  });
});

describe('every card kind renders within the documented limits', () => {
  it.each(['zh-CN', 'en'] as const)('%s: every sample passes the fake\'s checks with ≤ 200 elements and components', (locale) => {
    const list = samples(locale);
    expect(new Set(list.map((s) => s.kind))).toEqual(new Set(CARD_KINDS));
    for (const s of list) {
      const card = render(s.card);
      const n = elementCount(card);
      expect(n, s.label).toBeLessThanOrEqual(MAX_ELEMENTS);
      expect(renderedCount(card), s.label).toBe(n);
      expect(problemsOf(card), s.label).toEqual([]);
      // no property outside the form-only ones on a button outside a form
      for (const b of buttonsOutsideForms(card)) expect(Object.keys(b).filter((k) => k === 'name' || k === 'form_action_type'), s.label).toEqual([]);
      // a card replaced in a callback answer is the same render
      expect(problemsOf(callbackResponse({ card: s.card }).card!.data), s.label).toEqual([]);
    }
  });

  it('a score form too big for selects gets text inputs for the points; one too big for those, the chat command', () => {
    // 12 manual dimensions fit as selects (13 elements each); 14 would not
    const twelve = render(bigForm(12));
    expect(elementCount(twelve)).toBeLessThanOrEqual(FEISHU_LIMITS.maxElements);
    expect(all(twelve, 'select_static')).toHaveLength(12);

    const current = { dim1: 85, dim3: 40 };
    for (const locale of ['zh-CN', 'en'] as const) {
      const fourteen = bigForm(14, locale, current);
      const f = render(fourteen);
      expect(problemsOf(f)).toEqual([]);
      expect(elementCount(f)).toBeLessThanOrEqual(MAX_ELEMENTS);
      expect(all(f, 'select_static')).toEqual([]);
      const inputs = all(f, 'input');
      expect(inputs.map((i) => i.name)).toEqual([...Array.from({ length: 14 }, (_, i) => `dim${i + 1}`), 'comment']);
      // the current points (even off the 10-point grid) are prefilled, so an untouched field keeps them
      expect(inputs.find((i) => i.name === 'dim1')!.default_value).toBe('85');
      expect(inputs.find((i) => i.name === 'dim3')!.default_value).toBe('40');
      expect(inputs.find((i) => i.name === 'dim2')!.default_value).toBeUndefined();
      expect(inputs.filter((i) => i.name !== 'comment').every((i) => i.required === true && i.max_length === 3)).toBe(true);

      const huge = bigForm(80, locale);
      const h = render(huge);
      expect(problemsOf(h)).toEqual([]);
      expect(all(h, 'form')).toEqual([]);
      expect(JSON.stringify(h)).toContain(huge.form!.commandExample.slice(0, 40));
    }
  });
});

function buttonsOutsideForms(card: FeishuCard): Obj[] {
  const out: Obj[] = [];
  const walk = (v: unknown, inForm: boolean): void => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, inForm));
    else if (v && typeof v === 'object') {
      const o = v as Obj;
      if (o.tag === 'button' && !inForm) out.push(o);
      for (const x of Object.values(o)) walk(x, inForm || o.tag === 'form');
    }
  };
  walk(card.body, false);
  return out;
}

describe('the fake answers over HTTP as Feishu does', () => {
  let fake: FakeFeishu;
  beforeEach(async () => {
    fake = await new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET }).start();
  });
  afterEach(() => fake.close());

  async function token(): Promise<string> {
    const res = await fetch(fake.url + TOKEN_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ app_id: APP_ID, app_secret: APP_SECRET }) });
    return ((await res.json()) as { tenant_access_token: string }).tenant_access_token;
  }
  async function call(method: 'POST' | 'PATCH', path: string, body: object, bearer: string) {
    const res = await fetch(fake.url + path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { code: number; msg: string; data?: { message_id: string } } };
  }

  it('create and patch: an unlisted property and too many elements are 400 / 230099 and create nothing', async () => {
    const t = await token();
    const withName = clone(render(testCard('ACME'))) as Obj;
    all(withName, 'button')[0].name = 'b0';
    const refused = await call('POST', `${MESSAGES_PATH}?receive_id_type=open_id`, { receive_id: 'ou_1', msg_type: 'interactive', content: JSON.stringify(withName) }, t);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe(230099);
    expect(refused.body.msg).toMatch(/^Failed to create card content, ext=ErrPath: .*\(tag: button\); ErrMsg: button outside a form container has no property name/);
    expect(fake.messages).toEqual([]);
    expect(fake.invalid).toHaveLength(1);

    const ok = await call('POST', `${MESSAGES_PATH}?receive_id_type=open_id`, { receive_id: 'ou_1', msg_type: 'interactive', content: JSON.stringify(render(testCard('ACME'))) }, t);
    expect(ok.body.code).toBe(0);

    const crowded = clone(render(testCard('ACME'))) as Obj;
    for (let i = 0; i < 100; i++) crowded.body.elements.push({ tag: 'column_set', columns: [{ tag: 'column', elements: [] }] });
    const patched = await call('PATCH', `${MESSAGES_PATH}/${ok.body.data!.message_id}`, { content: JSON.stringify(crowded) }, t);
    expect(patched).toEqual({ status: 400, body: { code: 230099, msg: 'Failed to create card content, ext=ErrCode: 11310; ErrMsg: element exceeds the limit; code:230099' } });
    expect(fake.messages[0].updates).toEqual([]);
  });

  it('the messenger delivers the largest score forms (inputs, command) and the fake accepts them', async () => {
    const messenger = new FeishuMessenger({ env: feishuEnv(fake.url), log: silentLog });
    const cards: Card[] = [bigForm(12), bigForm(14, 'en', { dim1: 85 }), bigForm(80)];
    for (const [i, card] of cards.entries()) await messenger.send({ platform: 'feishu', kind: 'user', id: `ou_big${i}` }, card, `big-${i}`);
    expect(fake.invalid).toEqual([]);
    expect(fake.messages).toHaveLength(3);
  });
});
