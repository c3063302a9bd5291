// The WeCom renderer against what WeCom does with a template_card and with markdown (the fake's rules, which cite
// the official pages): every selector names a valid selected_id and starts with "nothing chosen", option texts fit,
// keynames are not cut, and robot / app-chat markdown has no list syntax.
import { describe, expect, it } from 'vitest';
import { approvalRequest } from '../../../cards/approval-request.ts';
import { churnAlert } from '../../../cards/churn-alert.ts';
import type { Locale } from '../../../cards/model.ts';
import { scoreForm } from '../../../cards/score-form.ts';
import { KEEP_PREFIX, NO_CHOICE, render, renderMarkdown, selectionKey } from '../../../src/platforms/wecom/render.ts';
import { approvalData, churnData, samples, scoreFormData } from '../../cards/fixtures.ts';
import { markdownAdvice, templateCardAdvice, templateCardProblems } from '../../fakes/wecom.ts';

const LOCALES: Locale[] = ['zh-CN', 'en'];

describe.each(LOCALES)('WeCom renderer (%s)', (locale) => {
  it('every card kind: accepted by the fake, with no tierbot-rule advice (selected_id, option text, keyname, markdown lists)', () => {
    for (const s of samples(locale)) {
      const tc = render(s.card).template_card;
      expect(templateCardProblems(tc), s.label).toEqual([]);
      expect(templateCardAdvice(tc), s.label).toEqual([]);
      expect(markdownAdvice(renderMarkdown(s.card).markdown.content), s.label).toEqual([]);
    }
  });

  it('a score form select always names its first option: "unchanged (current)" or "not scored"', () => {
    const w = render(scoreForm(scoreFormData({ current: { points: { profitability: 85 } } }), locale)).template_card;
    if (w.card_type !== 'multiple_interaction') throw new Error(w.card_type);
    expect(w.select_list.map((s) => [s.selected_id, s.option_list[0].id])).toEqual([
      [`${KEEP_PREFIX}85`, `${KEEP_PREFIX}85`],
      [NO_CHOICE, NO_CHOICE],
    ]);
    for (const s of w.select_list) expect(s.option_list).toHaveLength(10); // WeCom's maximum
  });

  it('the button selection belongs to its action and starts with "—"; option texts are at most 16 characters', () => {
    const card = approvalRequest(approvalData(), locale);
    const reject = card.actions.find((a) => a.type === 'callback' && a.key === 'score.reject');
    if (reject?.type !== 'callback' || !reject.needsReason) throw new Error('no reject');
    reject.needsReason.presets[0].label = '这是一个非常非常长的驳回原因，超过十六个字的长度限制';
    const w = render(card).template_card;
    if (w.card_type !== 'button_interaction') throw new Error(w.card_type);
    expect(w.button_selection).toMatchObject({ question_key: selectionKey('score.reject'), selected_id: NO_CHOICE });
    expect(w.button_selection!.option_list[0]).toEqual({ id: NO_CHOICE, text: '—' });
    expect(w.button_selection!.option_list.every((o) => Array.from(o.text).length <= 16)).toBe(true);
    expect(w.button_selection!.option_list[1].text).toMatch(/…$/);
  });
});

describe('WeCom renderer: keynames', () => {
  it('an English label too wide for a keyname is not cut: it moves, whole, into sub_title_text', () => {
    const w = render(approvalRequest(approvalData(), 'en')).template_card;
    if (w.card_type !== 'button_interaction') throw new Error(w.card_type);
    const keynames = (w.horizontal_content_list ?? []).map((h) => h.keyname);
    expect(keynames.some((k) => k.includes('…'))).toBe(false);
    expect(keynames).not.toContain('Profitability');
    expect(w.sub_title_text).toMatch(/^Profitability: /m);
    expect(w.sub_title_text).toMatch(/^Operating strength: /m);
    expect(JSON.stringify(w)).not.toContain('Profitabi…');
    // short labels stay keynames
    expect(keynames).toContain('Total');
  });

  it('Chinese labels of up to 5 characters stay keynames', () => {
    const w = render(churnAlert(churnData(), 'zh-CN')).template_card;
    if (w.card_type !== 'button_interaction') throw new Error(w.card_type);
    expect((w.horizontal_content_list ?? []).map((h) => h.keyname)).toEqual(expect.arrayContaining(['等级', '风险', '最近下单']));
  });
});

describe('WeCom renderer: markdown', () => {
  it('list items are "· item" lines: WeCom markdown has no lists', () => {
    const content = renderMarkdown(churnAlert(churnData(), 'zh-CN')).markdown.content;
    expect(content).not.toMatch(/^- /m);
    expect(content).toMatch(/^· /m);
  });
});
