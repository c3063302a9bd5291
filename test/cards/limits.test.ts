// The limit checkers themselves must catch what they claim to (otherwise a green run proves nothing).
import { describe, expect, it } from 'vitest';
import { approvalRequest } from '../../cards/approval-request.ts';
import { churnAlert } from '../../cards/churn-alert.ts';
import { scoreForm } from '../../cards/score-form.ts';
import { render as renderDingtalk } from '../../src/platforms/dingtalk/render.ts';
import { type FeishuCard, render as renderFeishu } from '../../src/platforms/feishu/render.ts';
import { render as renderWecom, type WecomAppMessage } from '../../src/platforms/wecom/render.ts';
import { approvalData, churnData, scoreFormData } from './fixtures.ts';
import { checkDingtalk, checkFeishu, checkWecom, checkWecomMarkdown } from './limits.ts';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('Feishu checker', () => {
  const good = renderFeishu(scoreForm(scoreFormData()));
  it('accepts a rendered card', () => expect(checkFeishu(good)).toEqual([]));

  it('catches size, element count, unknown properties, names, submit and callback values', () => {
    const big = clone(good);
    big.body.elements.push({ tag: 'markdown', content: '字'.repeat(12000) });
    expect(checkFeishu(big).join()).toMatch(/> 30 KB/);

    const many = clone(good);
    for (let i = 0; i < 200; i++) many.body.elements.push({ tag: 'markdown', content: 'x' });
    expect(checkFeishu(many).join()).toMatch(/elements > 200/);

    const unknown = clone(good) as FeishuCard;
    unknown.body.elements[0].colour = 'red';
    expect(checkFeishu(unknown).join()).toMatch(/unknown property colour/);

    const form = clone(good);
    const f = form.body.elements.find((e) => e.tag === 'form') as unknown as { elements: Record<string, unknown>[] };
    f.elements.push({ ...f.elements.find((e) => e.tag === 'select_static')! });
    expect(checkFeishu(form).join()).toMatch(/duplicate component names/);
    f.elements.forEach((e) => delete e.form_action_type);
    expect(checkFeishu(form).join()).toMatch(/without a named submit button/);
    const sel = f.elements.find((e) => e.tag === 'select_static')!;
    delete sel.name;
    expect(checkFeishu(form).join()).toMatch(/select_static in a form without name/);

    const cb = renderFeishu(churnAlert(churnData()));
    const s = JSON.stringify(cb).replace('"r":"ca_7Hx2kQ9pLm"', '"ref":"x"');
    expect(checkFeishu(JSON.parse(s) as FeishuCard).join()).toMatch(/lacks k\/r/);
  });
});

describe('WeCom checker', () => {
  const good = renderWecom(approvalRequest(approvalData()));
  it('accepts a rendered card', () => expect(checkWecom(good)).toEqual([]));

  it('catches task_id, buttons, keys, selects and lengths', () => {
    const bad = clone(good) as WecomAppMessage;
    const c = bad.template_card;
    if (c.card_type !== 'button_interaction') throw new Error('type');
    c.task_id = 'bad id!';
    c.main_title.title = 'x'.repeat(40);
    c.button_list = Array.from({ length: 7 }, (_, i) => ({ text: 'Approve all now', style: 1 as const, key: `score.approve|r${i}` }));
    c.button_list[0].key = 'x'.repeat(1100);
    const errors = checkWecom(bad).join('\n');
    expect(errors).toMatch(/task_id/);
    expect(errors).toMatch(/main_title.title 40 > 36/);
    expect(errors).toMatch(/button_list 7/);
    expect(errors).toMatch(/key > 1024/);
    expect(errors).toMatch(/button text/);

    const form = clone(renderWecom(scoreForm(scoreFormData())));
    const m = form.template_card;
    if (m.card_type !== 'multiple_interaction') throw new Error('type');
    m.select_list = [...m.select_list, ...m.select_list];
    m.select_list[0].option_list.push({ id: '0', text: '0' });
    const e2 = checkWecom(form).join('\n');
    expect(e2).toMatch(/select_list 4/);
    expect(e2).toMatch(/11 options/);

    const notice = clone(renderWecom(approvalRequest(approvalData())));
    (notice.template_card as { card_type: string }).card_type = 'text_notice';
    delete (notice.template_card as { card_action?: unknown }).card_action;
    expect(checkWecom(notice).join()).toMatch(/card_action/);

    expect(checkWecomMarkdown({ msgtype: 'markdown', markdown: { content: '字'.repeat(1400) } }).join()).toMatch(/> 4096/);
  });
});

describe('DingTalk checker', () => {
  it('accepts rendered messages and cards', () => {
    expect(checkDingtalk(renderDingtalk(approvalRequest(approvalData())))).toEqual([]);
    expect(checkDingtalk(renderDingtalk(approvalRequest(approvalData()), { templateId: 't.schema' }))).toEqual([]);
  });

  it('catches non-string params, objects as msgParam, missing fields and bad commands', () => {
    const card = renderDingtalk(approvalRequest(approvalData()), { templateId: 't.schema' });
    if (card.type !== 'card') throw new Error('type');
    const bad = clone(card);
    (bad.cardData.cardParamMap as Record<string, unknown>).count = 3;
    bad.cardData.cardParamMap.markdown = 'x'.repeat(1100);
    const e = checkDingtalk(bad).join('\n');
    expect(e).toMatch(/count is number/);
    expect(e).toMatch(/markdown 1100 B > 1 KB/);

    expect(checkDingtalk({ type: 'robot', msgKey: 'sampleMarkdown', msgParam: { title: 't', text: 'x' } as unknown as string })).toEqual([
      'msgParam must be a JSON string',
    ]);
    expect(checkDingtalk({ type: 'robot', msgKey: 'sampleActionCard', msgParam: JSON.stringify({ title: 't', text: 'x' }) }).join()).toMatch(
      /params/,
    );
    expect(
      checkDingtalk({
        type: 'robot',
        msgKey: 'sampleMarkdown',
        msgParam: JSON.stringify({ title: 't', text: '[x](dtmd://dingtalkclient/sendMessage?content=hello)' }),
      }).join(),
    ).toMatch(/does not parse/);
  });
});
