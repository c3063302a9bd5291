// What a user would notice on the cards, on every platform.
import { describe, expect, it } from 'vitest';
import { approvalRequest, requestTotal } from '../../cards/approval-request.ts';
import { approvalResult } from '../../cards/approval-result.ts';
import { churnAlert } from '../../cards/churn-alert.ts';
import { customerProfile } from '../../cards/customer-profile.ts';
import { dailyDigest, rankAtRisk } from '../../cards/daily-digest.ts';
import { HAN } from '../../cards/format.ts';
import { type Card, type Locale } from '../../cards/model.ts';
import { noticeCard } from '../../cards/notice.ts';
import { scoreForm } from '../../cards/score-form.ts';
import { tierChange } from '../../cards/tier-change.ts';
import { render as renderDingtalk } from '../../src/platforms/dingtalk/render.ts';
import { parseCommand } from '../../src/platforms/dingtalk/render.ts';
import { type FeishuCard, render as renderFeishu } from '../../src/platforms/feishu/render.ts';
import { decodeKey, render as renderWecom, renderMarkdown } from '../../src/platforms/wecom/render.ts';
import {
  approvalData,
  churnData,
  DATA_STRINGS,
  digestData,
  LONG_NAME,
  MANY_DIMENSIONS,
  profileData,
  samples,
  scoreFormData,
  tierChangeData,
} from './fixtures.ts';
import { dtmdCommands } from './limits.ts';

const LOCALES: Locale[] = ['zh-CN', 'en'];
const TEMPLATE = { templateId: 'tierbot-generic.schema' };

/** Everything a user can read on each platform's rendering of a card, as one string per platform. */
function texts(card: Card): Record<string, string> {
  const dt = renderDingtalk(card);
  const dtText = dt.type === 'robot' ? String((JSON.parse(dt.msgParam) as { text: string }).text) : '';
  const dtCard = renderDingtalk(card, TEMPLATE);
  const params = dtCard.type === 'card' ? dtCard.cardData.cardParamMap : {};
  return {
    feishu: JSON.stringify(renderFeishu(card)),
    wecom: JSON.stringify(renderWecom(card)),
    wecomMarkdown: renderMarkdown(card).markdown.content,
    dingtalk: dtText,
    dingtalkCard: Object.values(params).join('\n'),
  };
}

function feishuButtons(card: FeishuCard): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.tag === 'button') out.push(o);
      Object.values(o).forEach(walk);
    }
  };
  walk(card.body.elements);
  return out;
}

function findTag(card: FeishuCard, tag: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.tag === tag) out.push(o);
      Object.values(o).forEach(walk);
    }
  };
  walk(card.body.elements);
  return out;
}

describe.each(LOCALES)('churn_alert (%s)', (locale) => {
  const card = churnAlert(churnData(), locale);

  it.each(Object.entries(texts(card)))('shows each reason with its numbers on %s', (_platform, text) => {
    // overdue: 63 days vs a median gap of 21 days, factor 2
    expect(text).toContain('63');
    expect(text).toContain('21');
    // spendDrop: the monthly path and the percentage
    for (const yuan of ['¥12,000', '¥9,000', '¥6,500', '¥4,000']) expect(text).toContain(yuan);
    expect(text).toContain('20%');
  });

  it('shows tier, risk level, last order and the trend', () => {
    const t = texts(card);
    expect(t.feishu).toContain(locale === 'zh-CN' ? '高价值客户' : 'High value');
    expect(t.feishu).toContain('2026-04-28');
    expect(t.feishu).toContain('"tag":"chart"');
    const wecom = renderWecom(card).template_card;
    expect(JSON.stringify(wecom)).toContain('▁');
    expect(t.dingtalk).toContain('2026-04-28');
  });

  it('has the five actions, with the four contact outcomes', () => {
    const keys = card.actions.map((a) => a.key);
    expect(keys).toEqual(['followup.claim', 'contact.log', 'alert.snooze', 'alert.notAtRisk', 'score.open']);
    const buttons = feishuButtons(renderFeishu(card));
    const values = buttons.map((b) => (b.behaviors as { value: { k: string; v?: string } }[])[0].value);
    expect(values.filter((v) => v.k === 'contact.log').map((v) => v.v)).toEqual(['reached', 'no_answer', 'won_back', 'lost']);

    const wecom = renderWecom(card).template_card;
    expect(wecom.card_type).toBe('button_interaction');
    if (wecom.card_type !== 'button_interaction') return;
    expect(wecom.button_list.map((b) => decodeKey(b.key)?.k)).toEqual(keys);
    // the outcome select belongs to contact.log and starts with a preselected neutral "—" (WeCom preselects the first option)
    expect(wecom.button_selection?.question_key).toBe('sel:contact.log');
    expect(wecom.button_selection?.selected_id).toBe('_none');
    expect(wecom.button_selection?.option_list.map((o) => o.id)).toEqual(['_none', 'reached', 'no_answer', 'won_back', 'lost']);

    const dt = renderDingtalk(card);
    expect(dt.type === 'robot' && dt.msgKey).toBe('sampleMarkdown');
    const cmds = dtmdCommands(texts(card).dingtalk).map((c) => parseCommand(c));
    expect(cmds.map((c) => c?.k)).toEqual(['followup.claim', 'alert.snooze', 'alert.notAtRisk', 'score.open', 'contact.log', 'contact.log', 'contact.log', 'contact.log']);
    expect(cmds.every((c) => c?.r === 'ca_7Hx2kQ9pLm')).toBe(true);
  });

  it('asks before snoozing where the platform can', () => {
    const snooze = feishuButtons(renderFeishu(card)).find(
      (b) => (b.behaviors as { value: { k: string } }[])[0].value.k === 'alert.snooze',
    );
    expect(snooze?.confirm).toBeDefined();
  });
});

describe.each(LOCALES)('approval_request (%s)', (locale) => {
  // the default policy's weights: profitability 90·0.4 + strength 90·0.4 + relationship 60·0.2 = 84
  const data = approvalData();
  const card = approvalRequest(data, locale);

  it('computes the weighted total of the sample scores', () => {
    expect(requestTotal({ ...data, total: undefined })).toBe(84);
  });

  it.each(Object.entries(texts(card)))('shows total 84, previous 78 and delta +6 on %s', (_platform, text) => {
    expect(text).toMatch(/\b84\b/);
    expect(text).toMatch(/\b78\b/);
    expect(text).toContain('+6');
  });

  it.each(Object.entries(texts(card)))('shows points per dimension, submitter and comment on %s', (_platform, text) => {
    expect(text).toContain('90');
    expect(text).toContain('60');
    expect(text).toContain('40%');
    expect(text).toContain('张三');
  });

  it('shows the comment', () => {
    const t = texts(card);
    for (const k of ['feishu', 'wecom', 'wecomMarkdown', 'dingtalk', 'dingtalkCard']) expect(t[k]).toContain('毛利率稳定');
  });

  it('approve and reject-with-reason on every platform', () => {
    const f = renderFeishu(card);
    const form = findTag(f, 'form');
    expect(form).toHaveLength(1);
    const reason = findTag(f, 'input').find((i) => i.name === 'reason');
    expect(reason).toBeDefined();
    const ks = feishuButtons(f).map((b) => (b.behaviors as { value: { k: string } }[])[0].value.k);
    expect(ks).toEqual(['score.approve', 'score.reject']);
    expect(feishuButtons(f).every((b) => b.form_action_type === 'submit')).toBe(true);

    const w = renderWecom(card).template_card;
    if (w.card_type !== 'button_interaction') throw new Error(w.card_type);
    expect(w.button_list.map((b) => decodeKey(b.key))).toEqual([
      { k: 'score.approve', r: 'ar_9f3k2Lx' },
      { k: 'score.reject', r: 'ar_9f3k2Lx' },
    ]);
    expect(w.button_selection?.question_key).toBe('sel:score.reject');
    expect(w.button_selection?.selected_id).toBe('_none');
    expect(w.button_selection?.option_list.map((o) => o.id)).toEqual(['_none', 'too_high', 'too_low', 'no_evidence', 'other']);

    const cmds = dtmdCommands(texts(card).dingtalk).map((c) => parseCommand(c));
    expect(cmds[0]).toEqual({ k: 'score.approve', r: 'ar_9f3k2Lx' });
    expect(cmds.slice(1).map((c) => c?.v)).toEqual(['too_high', 'too_low', 'no_evidence']);
    expect(texts(card).dingtalk).toContain('/tb score.reject ar_9f3k2Lx other');
  });

  it('first score says so instead of a delta', () => {
    const first = texts(approvalRequest(approvalData({ previousTotal: null }), locale));
    expect(first.feishu).toContain(locale === 'zh-CN' ? '首次评分' : 'first score');
  });
});

describe.each(LOCALES)('approval_result (%s)', (locale) => {
  const request = approvalData();
  const decided = approvalResult(
    {
      ref: 'ar_9f3k2Lx',
      consoleUrl: request.consoleUrl,
      view: 'managers',
      outcome: 'approved',
      request,
      decidedBy: { name: '李经理' },
      decidedAt: '2026-06-30T10:12:00+08:00',
      newValueScore: 84,
      newTier: { key: 'A', name: '高价值客户' },
    },
    locale,
  );

  it('shows who decided and when, new value score and tier', () => {
    for (const text of Object.values(texts(decided))) {
      expect(text).toContain('李经理');
      expect(text).toContain('2026-06-30 10:12');
    }
    expect(texts(decided).feishu).toContain(locale === 'zh-CN' ? 'A 高价值客户' : 'A High value');
  });

  it('updates the managers’ request card in place: same WeCom task_id, DingTalk card closed, buttons gone', () => {
    const req = approvalRequest(request, locale);
    const a = renderWecom(req).template_card;
    const b = renderWecom(decided).template_card;
    if (a.card_type !== 'button_interaction' || b.card_type !== 'button_interaction') throw new Error('card types');
    expect(b.task_id).toBe(a.task_id);
    expect(b.replace_text).toBe(locale === 'zh-CN' ? '已通过' : 'Approved');
    expect(b.button_selection).toBeUndefined();

    const da = renderDingtalk(req, TEMPLATE);
    const db = renderDingtalk(decided, TEMPLATE);
    if (da.type !== 'card' || db.type !== 'card') throw new Error('types');
    // DingTalk updates the card the outbox sent (its outTrackId comes from the outbox key, not the renderer)
    expect(da.cardData.cardParamMap.status).not.toBe('closed');
    expect(db.cardData.cardParamMap.status).toBe('closed');
    expect(db.cardData.cardParamMap.actions).toBe('[]');

    expect(feishuButtons(renderFeishu(decided))).toEqual([]);
    expect(dtmdCommands(texts(decided).dingtalk)).toEqual([]);
  });

  it.each(['superseded', 'expired'] as const)('%s variant for the managers', (outcome) => {
    const c = approvalResult(
      { ref: 'ar_9f3k2Lx', consoleUrl: request.consoleUrl, view: 'managers', outcome, request, expiredAfterDays: 7, supersededAt: '2026-07-01T09:00:00+08:00' },
      locale,
    );
    expect(c.closed?.text).toBeTruthy();
    expect(feishuButtons(renderFeishu(c))).toEqual([]);
    const w = renderWecom(c).template_card;
    expect(w.card_type === 'button_interaction' && w.replace_text).toBeTruthy();
  });

  it('submitter view is display-only (WeCom text_notice, DingTalk markdown)', () => {
    const c = approvalResult(
      { ref: 'ar_9f3k2Lx', consoleUrl: request.consoleUrl, view: 'submitter', outcome: 'rejected', request, decidedBy: { name: '李经理' }, decidedAt: '2026-06-30T10:12:00+08:00', reason: 'no_evidence' },
      locale,
    );
    expect(c.actions).toEqual([]);
    expect(renderWecom(c).template_card.card_type).toBe('text_notice');
    const dt = renderDingtalk(c);
    expect(dt.type === 'robot' && dt.msgKey).toBe('sampleMarkdown');
    expect(texts(c).feishu).toContain(locale === 'zh-CN' ? '依据不足' : 'Needs evidence');
  });
});

describe.each(LOCALES)('daily_digest (%s)', (locale) => {
  const data = digestData({}, 50);
  const card = dailyDigest(data, locale);
  const ranked = rankAtRisk(data.atRisk);
  const more = locale === 'zh-CN' ? '还有 40 个' : '40 more';

  it('ranks by value at stake, shows the top 10 and "N more"', () => {
    const table = card.blocks.find((b) => b.type === 'table');
    if (table?.type !== 'table') throw new Error('no table');
    expect(table.rows).toHaveLength(10);
    expect(table.rows.map((r) => r[1])).toEqual(ranked.slice(0, 10).map((r) => r.customer.name));
    for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1].valueAtStake).toBeGreaterThanOrEqual(ranked[i].valueAtStake);
    for (const k of ['feishu', 'wecomMarkdown', 'dingtalk', 'dingtalkCard'] as const) {
      const text = texts(card)[k];
      let at = -1;
      for (const r of ranked.slice(0, 10)) {
        const i = text.indexOf(r.customer.name, at + 1);
        expect(i, `${k}: ${r.customer.name}`).toBeGreaterThan(at);
        at = i;
      }
      expect(text, k).not.toContain(ranked[10].customer.name);
      expect(text, k).toContain(more);
    }
  });

  it('WeCom app card: at-risk count emphasised, rows that fit and the right "N more"', () => {
    const w = renderWecom(card).template_card;
    if (w.card_type !== 'text_notice') throw new Error(w.card_type);
    expect(w.emphasis_content?.title).toBe('50');
    const shown = (w.sub_title_text ?? '').split('\n').filter((l) => /^\d+\. /.test(l)).length;
    expect(shown).toBeGreaterThan(0);
    expect(w.sub_title_text).toContain(locale === 'zh-CN' ? `还有 ${50 - shown} 个` : `${50 - shown} more`);
    expect(w.card_action.url).toBe(data.consoleUrl);
  });

  it('shows tier moves and pending approvals, and opens the console', () => {
    const t = texts(dailyDigest(digestData(), locale));
    expect(t.feishu).toContain(locale === 'zh-CN' ? 'B 潜力客户 → A 高价值客户' : 'B Potential → A High value');
    expect(t.feishu).toContain('84');
    const f = renderFeishu(card);
    const urls = feishuButtons(f).map((b) => (b.behaviors as { default_url?: string }[])[0].default_url);
    expect(urls).toEqual([data.consoleUrl]);
    const dt = renderDingtalk(card);
    if (dt.type !== 'robot') throw new Error('type');
    expect(dt.msgKey).toBe('sampleActionCard');
    expect(JSON.parse(dt.msgParam).singleURL).toBe(data.consoleUrl);
  });

  it('an empty day says so', () => {
    const t = texts(dailyDigest(digestData({ atRisk: [] }), locale));
    expect(t.feishu).toContain(locale === 'zh-CN' ? '今天没有风险客户' : 'No at-risk customers today');
  });
});

describe.each(LOCALES)('score_form (%s)', (locale) => {
  const card = scoreForm(scoreFormData(), locale);

  it('Feishu: one 0..100 select per manual dimension, current points preselected, comment, submit', () => {
    const f = renderFeishu(card);
    const selects = findTag(f, 'select_static');
    expect(selects.map((s) => s.name)).toEqual(['profitability', 'strength']);
    const values = (selects[0].options as { value: string }[]).map((o) => o.value);
    expect(values).toEqual(['0', '10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(selects[0].initial_option).toBe('80');
    // 85 is off the grid: offered as an extra option so the current value can be kept
    expect((selects[1].options as { value: string }[]).map((o) => o.value)).toContain('85');
    expect(selects[1].initial_option).toBe('85');
    expect(findTag(f, 'input').map((i) => i.name)).toEqual(['comment']);
    const submit = feishuButtons(f).find((b) => b.form_action_type === 'submit');
    expect((submit?.behaviors as { value: unknown }[])[0].value).toEqual({ k: 'score.submit', r: 'sf_p0Lw3n' });
    // weight and guidance are on the card
    expect(JSON.stringify(f)).toContain('40%');
    expect(JSON.stringify(f)).toContain(locale === 'zh-CN' ? '毛利水平' : 'Margin and payment');
  });

  it('WeCom: multiple_interaction with one select per manual dimension ("unchanged", then 20..100)', () => {
    const w = renderWecom(card).template_card;
    if (w.card_type !== 'multiple_interaction') throw new Error(w.card_type);
    expect(w.select_list.map((s) => s.question_key)).toEqual(['profitability', 'strength']);
    // WeCom preselects the first option when selected_id is missing or wrong: the first option keeps the current points
    expect(w.select_list[0].option_list.map((o) => o.id)).toEqual(['keep:80', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(w.select_list[0].selected_id).toBe('keep:80');
    expect(w.select_list[1].selected_id).toBe('keep:85'); // off the grid, kept as it is
    expect(w.select_list[1].option_list[0].text).toBe(locale === 'zh-CN' ? '不变（85）' : 'Unchanged (85)');
    expect(decodeKey(w.submit_button.key)).toEqual({ k: 'score.submit', r: 'sf_p0Lw3n' });
  });

  it('WeCom with more than 3 manual dimensions falls back to the chat command and the console', () => {
    const many = scoreForm(scoreFormData({ dimensions: MANY_DIMENSIONS }), locale);
    const w = renderWecom(many).template_card;
    if (w.card_type !== 'text_notice') throw new Error(w.card_type);
    expect(w.sub_title_text).toContain(`${locale === 'zh-CN' ? '评分' : 'score'} c-001 profitability=80 strength=85`);
    expect(w.jump_list?.[0].url).toBe(many.url);
  });

  it('DingTalk without a template: dimensions with weight and guidance plus the score command', () => {
    const t = texts(card).dingtalk;
    expect(t).toContain('40%');
    expect(t).toContain('profitability');
    expect(t).toContain(locale === 'zh-CN' ? '评分 c-001 profitability=80 strength=85 备注=…' : 'score c-001 profitability=80 strength=85 comment=…');
    const dtCard = renderDingtalk(card, TEMPLATE);
    if (dtCard.type !== 'card') throw new Error('type');
    const form = JSON.parse(dtCard.cardData.cardParamMap.form) as { fields: { name: string; options?: string[] }[]; submit: unknown };
    expect(form.fields.map((f) => f.name)).toEqual(['profitability', 'strength', 'comment']);
    expect(form.fields[0].options).toHaveLength(11);
    expect(form.submit).toMatchObject({ k: 'score.submit', r: 'sf_p0Lw3n' });
  });

  it('shows the metric dimension for context, not as an input', () => {
    expect(texts(card).feishu).toContain(locale === 'zh-CN' ? '合作关系' : 'Relationship');
    expect(findTag(renderFeishu(card), 'select_static').some((s) => s.name === 'relationship')).toBe(false);
  });
});

describe.each(LOCALES)('tier_change and customer_profile (%s)', (locale) => {
  it('tier_change shows from → to, the explanation values and the playbook', () => {
    const t = texts(tierChange(tierChangeData(), locale));
    for (const text of [t.feishu, t.wecomMarkdown, t.dingtalk]) {
      expect(text).toContain(locale === 'zh-CN' ? 'B 潜力客户 → A 高价值客户' : 'B Potential → A High value');
      expect(text).toContain('12 ≤ 30');
      expect(text).toContain('¥15,300 > ¥10,000');
      expect(text).toContain('1对1专属客户经理');
    }
  });

  it('tier_change explains a stability hold', () => {
    const c = tierChange(
      tierChangeData({
        explanation: { rule: 'C', conditions: [], keptBy: { stability: true, candidate: 'C', agreeingRuns: 1, needed: 2 } },
      }),
      locale,
    );
    expect(texts(c).feishu).toContain('1/2');
  });

  it('customer_profile shows tier, value score, metrics, risk and explanation; score · claim, and for a risk contact · snooze', () => {
    const c = customerProfile(profileData(), locale);
    const t = texts(c).feishu;
    expect(t).toContain('84');
    expect(t).toContain('¥40,100');
    expect(t).toContain('3.5%');
    expect(t).toContain('R5 F5 M4');
    expect(profileData().risk?.level).not.toBe('none');
    expect(c.actions.map((a) => a.key)).toEqual(['score.open', 'followup.claim', 'contact.log', 'alert.snooze', 'alert.notAtRisk']);
    const calm = customerProfile(profileData({ risk: { level: 'none', reasons: [] } }), locale);
    expect(calm.actions.map((a) => a.key)).toEqual(['score.open', 'followup.claim']);
  });

  it('customer_profile of a never evaluated customer', () => {
    const c = customerProfile(profileData({ tier: null, metrics: null, lifecycle: null, risk: null, explanation: null, score: null }), locale);
    expect(texts(c).feishu).toContain(locale === 'zh-CN' ? '尚未评估' : 'Not evaluated yet');
  });
});

describe.each(LOCALES)('notice (%s)', (locale) => {
  it('is its own kind: the blocks, then one paragraph each, no actions, on every platform', () => {
    const c = noticeCard(locale, 'tierbot', ['Paragraph one', [{ strong: 'Paragraph two' }]], 'http://127.0.0.1:3000/console', 'info', [
      { type: 'fields', fields: [{ label: 'Label', value: 'Field value' }] },
    ]);
    expect(c.kind).toBe('notice');
    expect(c.actions).toEqual([]);
    const t = texts(c);
    for (const text of [t.feishu, t.wecomMarkdown, t.dingtalk]) {
      expect(text.indexOf('Field value')).toBeGreaterThanOrEqual(0);
      expect(text.indexOf('Field value')).toBeLessThan(text.indexOf('Paragraph one'));
      expect(text.indexOf('Paragraph one')).toBeLessThan(text.indexOf('Paragraph two'));
    }
  });
});

describe('long input is clipped, not overflowing', () => {
  it.each(LOCALES)('very long customer names (%s)', (locale) => {
    const c = churnAlert(churnData({ customer: { id: 'c-9', name: LONG_NAME } }), locale);
    const f = renderFeishu(c);
    expect(Array.from(f.header.subtitle?.content ?? '').length).toBeLessThanOrEqual(40);
    expect(f.header.subtitle?.content.endsWith('…')).toBe(true);
    const w = renderWecom(c).template_card;
    expect(Array.from(w.main_title.desc ?? '').length).toBeLessThanOrEqual(44);
  });

  it('a name with markdown characters cannot inject links or mentions', () => {
    const evil = '[点我](http://evil.example) <at id=all></at> **粗体**';
    for (const c of [
      churnAlert(churnData({ customer: { id: 'c-9', name: evil } })),
      approvalRequest(approvalData({ comment: evil, submitter: { name: evil } })),
      dailyDigest(digestData({ atRisk: [{ customer: { id: 'x', name: evil }, tier: null, risk: 'high', valueAtStake: 1 }] })),
    ]) {
      const dt = renderDingtalk(c);
      const dtCard = renderDingtalk(c, TEMPLATE);
      const markdown = [
        ...findTag(renderFeishu(c), 'markdown').map((m) => String(m.content)),
        renderMarkdown(c).markdown.content,
        dt.type === 'robot' ? String(JSON.parse(dt.msgParam).text) : '',
        dtCard.type === 'card' ? dtCard.cardData.cardParamMap.markdown : '', // fields/table params are plain JSON
      ];
      for (const text of markdown) {
        expect(text).not.toContain('](http://evil.example)');
        expect(text).not.toContain('<at id=all>');
        expect(text).not.toContain('**粗体**');
      }
    }
  });
});

describe('English cards have no Chinese UI strings', () => {
  /** Every run of Chinese characters must come from the data (names, comments, policy texts). */
  const fromData = (run: string) => DATA_STRINGS.some((d) => d.includes(run));
  const HAN_RUN = new RegExp(`${HAN.source}+`, 'gu');

  it.each(samples('en').map((s) => [s.label, s] as const))('%s', (_label, s) => {
    const all = texts(s.card);
    const dt = renderDingtalk(s.card);
    if (dt.type === 'robot') all.dingtalkCommands = dtmdCommands(all.dingtalk).join('\n');
    for (const [platform, text] of Object.entries(all)) {
      const runs = [...text.matchAll(HAN_RUN)].map((m) => m[0]);
      const foreign = runs.filter((r) => !fromData(r));
      expect(foreign, platform).toEqual([]);
    }
  });
});

describe('renderers are pure', () => {
  it.each(LOCALES)('same card, same output; the card is not changed (%s)', (locale) => {
    for (const s of samples(locale)) {
      const before = JSON.stringify(s.card);
      expect(renderFeishu(s.card)).toEqual(renderFeishu(s.card));
      expect(renderWecom(s.card)).toEqual(renderWecom(s.card));
      expect(renderMarkdown(s.card)).toEqual(renderMarkdown(s.card));
      expect(renderDingtalk(s.card)).toEqual(renderDingtalk(s.card));
      expect(renderDingtalk(s.card, TEMPLATE)).toEqual(renderDingtalk(s.card, TEMPLATE));
      expect(JSON.stringify(s.card)).toBe(before);
    }
  });
});
