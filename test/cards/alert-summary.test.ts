// alert_summary: what the alert budget held back (or a baseline run's overview), as a reader sees it on
// every platform.
import { describe, expect, it } from 'vitest';
import { ALERT_SUMMARY_TOP, alertSummary, type AlertSummaryData } from '../../cards/alert-summary.ts';
import { MAX_NAME } from '../../cards/common.ts';
import type { Block, Card, Locale } from '../../cards/model.ts';
import { render as renderConsole } from '../../src/platforms/console/render.ts';
import { render as renderDingtalk } from '../../src/platforms/dingtalk/render.ts';
import { type FeishuCard, render as renderFeishu } from '../../src/platforms/feishu/render.ts';
import { render as renderWecom, renderMarkdown } from '../../src/platforms/wecom/render.ts';
import { alertCounts, alertRows, alertSummaryData, BASE, LONG_NAME, samples } from './fixtures.ts';
import { checkDingtalk, checkFeishu, checkWecom, checkWecomMarkdown } from './limits.ts';

const LOCALES: Locale[] = ['zh-CN', 'en'];
const TEMPLATE = { templateId: 'tierbot-generic.schema' };
const zh = (locale: Locale) => locale === 'zh-CN';

/** Everything a user can read on each platform's rendering of a card, as one string per platform. */
function texts(card: Card): Record<string, string> {
  const dt = renderDingtalk(card);
  const dtCard = renderDingtalk(card, TEMPLATE);
  return {
    feishu: JSON.stringify(renderFeishu(card)),
    wecom: JSON.stringify(renderWecom(card)),
    wecomMarkdown: renderMarkdown(card).markdown.content,
    dingtalk: dt.type === 'robot' ? String((JSON.parse(dt.msgParam) as { text: string }).text) : '',
    dingtalkCard: dtCard.type === 'card' ? Object.values(dtCard.cardData.cardParamMap).join('\n') : '',
    console: JSON.stringify(renderConsole(card)),
  };
}

/** The platforms that show the whole table (WeCom's app card and DingTalk's 1 KB table parameter show what fits). */
const FULL = ['feishu', 'wecomMarkdown', 'dingtalk', 'console'] as const;

function table(card: Card): Extract<Block, { type: 'table' }> {
  const b = card.blocks.find((x) => x.type === 'table');
  if (b?.type !== 'table') throw new Error('no table');
  return b;
}

function paragraphs(card: Card): string[] {
  return card.blocks.flatMap((b) => (b.type === 'text' ? [typeof b.text === 'string' ? b.text : ''] : []));
}

function feishuLinks(card: FeishuCard): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.tag === 'button') for (const b of o.behaviors as { type: string; default_url?: string }[]) out.push(`${b.type} ${b.default_url ?? ''}`);
      Object.values(o).forEach(walk);
    }
  };
  walk(card.body.elements);
  return out;
}

const more = (locale: Locale, n: number) => (zh(locale) ? `还有 ${n} 个` : `${n} more`);

describe.each(LOCALES)('alert_summary (%s)', (locale) => {
  const data = alertSummaryData();
  const card = alertSummary(data, locale);
  const t = texts(card);

  it('shows the top 10 in the given order (not re-sorted) and "N more" = total − 10, on every platform', () => {
    const rows = table(card).rows;
    expect(rows).toHaveLength(ALERT_SUMMARY_TOP);
    expect(rows.map((r) => r[0])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(rows.map((r) => r[1])).toEqual(data.rows.slice(0, 10).map((r) => r.customer.name));
    // the fixture's values are not monotonic: the builder keeps the caller's ranking
    expect(data.rows[1].valueAtStake).toBeGreaterThan(data.rows[0].valueAtStake);
    expect(table(card).total).toBe(30);
    for (const k of FULL) {
      let at = -1;
      for (const r of data.rows.slice(0, 10)) {
        const i = t[k].indexOf(r.customer.name, at + 1);
        expect(i, `${k}: ${r.customer.name}`).toBeGreaterThan(at);
        at = i;
      }
      expect(t[k], k).not.toContain(data.rows[10].customer.name);
      if (k !== 'console') expect(t[k], k).toContain(more(locale, 20));
    }
    // DingTalk's card parameter keeps the rows that fit 1 KB and says how many are left
    const dt = renderDingtalk(card, TEMPLATE);
    if (dt.type !== 'card') throw new Error('type');
    const param = JSON.parse(dt.cardData.cardParamMap.table) as { rows: string[][]; more: string };
    expect(param.rows.length).toBeGreaterThan(0);
    expect(param.rows).toEqual(rows.slice(0, param.rows.length));
    expect(param.more).toBe(more(locale, 30 - param.rows.length));
    // WeCom's app card: the rows that fit 160 characters, and the right count of the others
    const w = renderWecom(card).template_card;
    if (w.card_type !== 'text_notice') throw new Error(w.card_type);
    const shown = (w.sub_title_text ?? '').split('\n').filter((l) => /^\d+\. /.test(l)).length;
    expect(shown).toBeGreaterThan(0);
    expect(w.sub_title_text).toContain(more(locale, 30 - shown));
  });

  it('"N more" counts rows the caller already cut off', () => {
    const cut = alertSummary(alertSummaryData({ rows: alertRows(10), total: 1000 }), locale);
    expect(table(cut).rows).toHaveLength(10);
    expect(texts(cut).feishu).toContain(more(locale, 990));
    const few = alertSummary(alertSummaryData({ rows: alertRows(4), total: 4 }), locale);
    expect(table(few).rows).toHaveLength(4);
    expect(table(few).total).toBeUndefined();
    for (const k of FULL) expect(texts(few)[k]).not.toMatch(zh(locale) ? /还有 \d+ 个/ : /\d+ more(?! alert)/);
  });

  it('shows the counts by risk level and the tier moves, over all rows', () => {
    const counts = { high: 4, medium: 7, low: 11, downgrades: 3, upgrades: 2 };
    const c = alertSummary(alertSummaryData({ counts }), locale);
    const fields = c.blocks[0].type === 'fields' ? c.blocks[0].fields : [];
    expect(fields.map((f) => [f.label, f.value])).toEqual(
      zh(locale)
        ? [['高风险', '4'], ['中风险', '7'], ['低风险', '11'], ['等级变动', '↓3 · ↑2']]
        : [['High', '4'], ['Medium', '7'], ['Low', '11'], ['Moves', '↓3 · ↑2']],
    );
    expect(fields[0].tone).toBe('danger');
    for (const [k, text] of Object.entries(texts(c))) {
      expect(text, k).toContain('↓3 · ↑2');
      expect(text, k).toContain(zh(locale) ? '中风险' : 'Medium');
      expect(text, k).toMatch(/(?<!\d)11(?!\d)/);
    }
  });

  it('shows each alert row’s main reason with its numbers, and the move of move rows', () => {
    const rows = table(card).rows;
    const reason = rows[0][rows[0].length - 1];
    expect(reason).toBe(zh(locale) ? '超期未下单：已 63 天未下单，超过常规间隔 21 天的 2 倍' : 'Overdue: no order in 63 days (>2× usual 21)');
    for (const k of FULL) {
      expect(t[k], k).toContain('63');
      expect(t[k], k).toContain('¥9,000→¥6,500→¥4,000');
      expect(t[k], k).toContain('20%');
    }
    // row 4 is a downgrade A → W, row 7 an upgrade B → A; their reason cell is a dash
    expect(rows[3].slice(2)).toEqual(['W', '↓ A→W', '¥82,500', '—']);
    expect(rows[6].slice(2)).toEqual(['A', '↑ B→A', '¥75,000', '—']);
    expect(rows[0].slice(2, 5)).toEqual(['A', zh(locale) ? '高' : 'high', '¥90,000']);
    const first = alertSummary(
      alertSummaryData({ rows: [{ ...alertRows(7)[6], from: null }], total: 1 }),
      locale,
    );
    expect(table(first).rows[0][3]).toBe('↑ —→A');
  });

  it('a team summary adds the owner column; a person’s does not', () => {
    expect(table(card).columns).toEqual(
      zh(locale) ? ['#', '客户', '等级', '风险/变动', '风险金额', '主要原因'] : ['#', 'Customer', 'Tier', 'Risk/move', 'At stake', 'Main reason'],
    );
    const team = alertSummary(alertSummaryData({ scope: 'team', name: '华东大客户组', sentIndividually: 0 }), locale);
    expect(table(team).columns).toEqual(
      zh(locale)
        ? ['#', '客户', '负责人', '等级', '风险/变动', '风险金额', '主要原因']
        : ['#', 'Customer', 'Owner', 'Tier', 'Risk/move', 'At stake', 'Main reason'],
    );
    expect(table(team).rows.map((r) => r[2])).toEqual(data.rows.slice(0, 10).map((r) => r.customer.ownerName));
    const tt = texts(team);
    for (const k of FULL) for (const rep of ['张三', '陈晨', '刘洋', '王磊', '赵敏']) expect(tt[k], `${k} ${rep}`).toContain(rep);
    expect(team.subtitle).toBe('华东大客户组 · 2026-06-30');
    expect(team.summary.startsWith(zh(locale) ? '华东大客户组：' : '华东大客户组: ')).toBe(true);
    const noOwner = alertSummary(
      alertSummaryData({ scope: 'team', name: 'T', rows: [{ ...alertRows(1)[0], customer: { id: 'x', name: 'ACME' } }], total: 1 }),
      locale,
    );
    expect(table(noOwner).rows[0][2]).toBe('—');
  });

  it('overflow wording: "N more alerts not sent as cards", with how many came as cards', () => {
    expect(card.title).toBe(zh(locale) ? '另有 30 条提醒未单独发送' : '30 more alerts not sent as cards');
    expect(card.subtitle).toBe('张三 · 2026-06-30');
    expect(paragraphs(card)).toEqual([
      zh(locale)
        ? '已单独发送 5 张提醒卡片，其余汇总如下。'
        : '5 alerts were sent as separate cards; here are the rest.',
    ]);
    expect(card.summary).toBe(zh(locale) ? '另有 30 条提醒未单独发送（高风险 9 个）' : '30 more alerts not sent as cards (9 high risk)');
    for (const [k, text] of Object.entries(t)) expect(text, k).toContain(card.title);

    const one = alertSummary(alertSummaryData({ rows: alertRows(1), total: 1, sentIndividually: 1 }), locale);
    expect(one.title).toBe(zh(locale) ? '另有 1 条提醒未单独发送' : '1 more alert not sent as a card');
    expect(paragraphs(one)[0]).toMatch(zh(locale) ? /^已单独发送 1 张提醒卡片/ : /^1 alert was sent as a separate card;/);

    const none = alertSummary(alertSummaryData({ sentIndividually: 0 }), locale);
    expect(paragraphs(none)).toEqual([]);
  });

  it('baseline wording: "your book today: N at risk", never "more alerts"', () => {
    const b = alertSummary(alertSummaryData({ baseline: true, sentIndividually: 0, counts: { high: 3, medium: 5, low: 4, downgrades: 1, upgrades: 0 } }), locale);
    expect(b.title).toBe(zh(locale) ? '今日客户概览：12 个有流失风险' : 'Your book today: 12 at risk');
    expect(paragraphs(b)).toEqual([zh(locale) ? '这是你名下客户的当前全貌，本次不逐条发送提醒。' : 'Where your book stands now; no separate alert cards this time.']);
    expect(b.summary).toBe(zh(locale) ? '今日客户概览：12 个有流失风险（高风险 3 个）' : 'Your book today: 12 at risk (3 high risk)');
    for (const text of Object.values(texts(b))) expect(text).not.toContain(zh(locale) ? '未单独发送' : 'not sent as');
    // sentIndividually is 0 on baselines; even if a caller set it, the baseline line wins
    expect(paragraphs(alertSummary(alertSummaryData({ baseline: true, sentIndividually: 3 }), locale))).toHaveLength(1);

    const empty = alertSummary(alertSummaryData({ baseline: true, sentIndividually: 0, rows: [], total: 0, counts: alertCounts([]) }), locale);
    expect(empty.title).toBe(zh(locale) ? '今日客户概览：暂无流失风险' : 'Your book today: none at risk');
    expect(empty.tone).toBe('success');
    expect(empty.blocks.some((x) => x.type === 'table')).toBe(false);
    expect(texts(empty).feishu).toContain(zh(locale) ? '没有需要关注的客户' : 'Nothing needs your attention');

    const team = alertSummary(alertSummaryData({ scope: 'team', name: '华东大客户组', baseline: true, sentIndividually: 0 }), locale);
    expect(team.title).toBe(zh(locale) ? '团队客户概览：27 个有流失风险' : 'Team book today: 27 at risk');
    expect(paragraphs(team)[0]).toBe(zh(locale) ? '这是团队客户的当前全貌，本次不逐条发送提醒。' : "Where your team's book stands now; no separate alert cards this time.");
    const teamEmpty = alertSummary(alertSummaryData({ scope: 'team', name: 'T', baseline: true, rows: [], total: 0, counts: alertCounts([]) }), locale);
    expect(teamEmpty.title).toBe(zh(locale) ? '团队客户概览：暂无流失风险' : 'Team book today: none at risk');
  });

  it('team wording outside baselines: "N new alerts in your team"', () => {
    const team = alertSummary(alertSummaryData({ scope: 'team', name: '华东大客户组', sentIndividually: 0 }), locale);
    expect(team.title).toBe(zh(locale) ? '团队新增 30 条提醒' : '30 new alerts in your team');
    expect(paragraphs(team)).toEqual([]);
    const one = alertSummary(alertSummaryData({ scope: 'team', name: 'T', rows: alertRows(1), total: 1, sentIndividually: 0 }), locale);
    expect(one.title).toBe(zh(locale) ? '团队新增 1 条提醒' : '1 new alert in your team');
  });

  it('tone follows the highest level present', () => {
    const tone = (counts: Partial<AlertSummaryData['counts']>) =>
      alertSummary(alertSummaryData({ counts: { high: 0, medium: 0, low: 0, downgrades: 0, upgrades: 0, ...counts } }), locale).tone;
    expect(tone({ high: 1, medium: 5, low: 5, downgrades: 2 })).toBe('danger');
    expect(tone({ medium: 1, low: 5 })).toBe('warning');
    expect(tone({ downgrades: 1, low: 5 })).toBe('warning');
    expect(tone({ low: 2, upgrades: 1 })).toBe('info');
    expect(tone({ upgrades: 3 })).toBe('success');
    expect(renderFeishu(card).header.template).toBe('red');
  });

  it('opens the console page on every platform', () => {
    expect(card.actions).toEqual([
      { type: 'link', key: 'console.open', label: zh(locale) ? '在控制台查看' : 'Open console', url: data.consoleUrl, style: 'primary' },
    ]);
    expect(card.url).toBe(data.consoleUrl);
    expect(feishuLinks(renderFeishu(card))).toEqual([`open_url ${data.consoleUrl}`]);
    const w = renderWecom(card).template_card;
    if (w.card_type !== 'text_notice') throw new Error(w.card_type);
    expect(w.card_action.url).toBe(data.consoleUrl);
    expect(w.jump_list?.map((j) => j.url)).toEqual([data.consoleUrl]);
    expect(renderMarkdown(card).markdown.content).toContain(`](${data.consoleUrl})`);
    const dt = renderDingtalk(card);
    if (dt.type !== 'robot') throw new Error('type');
    expect(dt.msgKey).toBe('sampleActionCard');
    expect(JSON.parse(dt.msgParam).singleURL).toBe(data.consoleUrl);
    const dtCard = renderDingtalk(card, TEMPLATE);
    if (dtCard.type !== 'card') throw new Error('type');
    expect(JSON.parse(dtCard.cardData.cardParamMap.links)).toEqual([{ label: card.actions[0].label, url: data.consoleUrl }]);
    expect(dtCard.cardData.cardParamMap.kind).toBe('alert_summary');
    expect(dtCard.outTrackId).toBeNull(); // no refs: the sender picks one, as for the digest
  });

  it('clips long names like the digest does', () => {
    const long = alertRows(30).map((r) => ({ ...r, customer: { ...r.customer, name: LONG_NAME, ownerName: LONG_NAME } }));
    const team = alertSummary(alertSummaryData({ scope: 'team', name: LONG_NAME, rows: long }), locale);
    for (const r of table(team).rows) {
      expect(Array.from(r[1]).length).toBeLessThanOrEqual(MAX_NAME);
      expect(r[1].endsWith('…')).toBe(true);
      expect(Array.from(r[2]).length).toBeLessThanOrEqual(24);
    }
    expect(team.subtitle).toBe(`${Array.from(LONG_NAME).slice(0, 29).join('')}… · 2026-06-30`);
    const person = alertSummary(alertSummaryData({ name: LONG_NAME }), locale);
    expect(Array.from(person.subtitle!.split(' · ')[0]).length).toBe(24);
  });

  it('every alert_summary variant renders within every platform’s limits', () => {
    const variants = samples(locale).filter((s) => s.kind === 'alert_summary');
    expect(variants.length).toBeGreaterThanOrEqual(8);
    for (const s of variants) {
      expect(checkFeishu(renderFeishu(s.card)), `${s.label} feishu`).toEqual([]);
      expect(checkWecom(renderWecom(s.card)), `${s.label} wecom`).toEqual([]);
      expect(checkWecomMarkdown(renderMarkdown(s.card)), `${s.label} wecom robot`).toEqual([]);
      expect(checkDingtalk(renderDingtalk(s.card)), `${s.label} dingtalk`).toEqual([]);
      expect(checkDingtalk(renderDingtalk(s.card, TEMPLATE)), `${s.label} dingtalk card`).toEqual([]);
      expect(renderConsole(s.card)).toEqual(s.card);
    }
  });
});

describe('alert_summary defaults', () => {
  it('is Chinese unless told otherwise, and its console link is the caller’s', () => {
    const card = alertSummary(alertSummaryData({ consoleUrl: `${BASE}/console/customers?alerts=run-7` }));
    expect(card.locale).toBe('zh-CN');
    expect(card.kind).toBe('alert_summary');
    expect(card.url).toBe(`${BASE}/console/customers?alerts=run-7`);
  });
});
