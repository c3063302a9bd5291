// Realistic sample data for every card kind, plus extreme variants (very long names and comments,
// 50 digest rows, 30 alert-summary rows, many manual dimensions) that must still fit every platform's limits.
import { alertSummary, type AlertSummaryData, type AlertSummaryRow } from '../../cards/alert-summary.ts';
import { approvalRequest, type ApprovalRequestData } from '../../cards/approval-request.ts';
import { type ApprovalOutcome, approvalResult } from '../../cards/approval-result.ts';
import { churnAlert, type ChurnAlertData } from '../../cards/churn-alert.ts';
import type { DimensionInfo } from '../../cards/common.ts';
import { customerProfile, type CustomerProfileData } from '../../cards/customer-profile.ts';
import { dailyDigest, type DailyDigestData, type DigestRiskRow } from '../../cards/daily-digest.ts';
import { noticeCard } from '../../cards/notice.ts';
import type { Card, CardKind, Locale } from '../../cards/model.ts';
import { scoreForm, type ScoreFormData } from '../../cards/score-form.ts';
import { tierChange, type TierChangeData } from '../../cards/tier-change.ts';
import { SPEC_EXAMPLE_METRICS } from '../helpers/samples.ts';

export const BASE = 'http://127.0.0.1:3000';
export const TZ = 'Asia/Shanghai';

export const DIMENSIONS: DimensionInfo[] = [
  { key: 'profitability', name: '盈利状况', weight: 0.4, source: 'manual' },
  { key: 'strength', name: '经营实力', weight: 0.4, source: 'manual' },
  { key: 'relationship', name: '合作关系', weight: 0.2, source: 'metric' },
];

/** Five manual dimensions: more than WeCom's 3 selects. */
export const MANY_DIMENSIONS: DimensionInfo[] = [
  { key: 'profitability', name: '盈利状况', weight: 0.2, source: 'manual', guidance: '毛利水平与回款' },
  { key: 'strength', name: '经营实力', weight: 0.2, source: 'manual', guidance: '规模与增长' },
  { key: 'credit', name: '信用状况', weight: 0.2, source: 'manual', guidance: '账期与逾期记录' },
  { key: 'strategic', name: '战略价值', weight: 0.2, source: 'manual', guidance: '行业标杆、示范效应' },
  { key: 'potential', name: '增长潜力', weight: 0.1, source: 'manual', guidance: '未来一年的采购计划' },
  { key: 'relationship', name: '合作关系', weight: 0.1, source: 'metric' },
];

export const LONG_NAME =
  '上海华东精密机械制造股份有限公司（集团）华南区域渠道分销与售后服务中心第三事业部暨长三角一体化示范区联合采购平台'.repeat(3);
export const LONG_COMMENT = '客户近期扩产，新增两条产线，毛利率稳定在 32% 左右，回款周期 45 天，'.repeat(40);

export const CUSTOMER = { id: 'c-001', name: '上海华东精密机械有限公司', ownerName: '张三', teamName: '华东大客户组' };

/** Every Chinese data string the fixtures put on cards (names, comments, policy texts). */
export const DATA_STRINGS: string[] = [];
function data<T extends string>(s: T): T {
  DATA_STRINGS.push(s);
  return s;
}
data(CUSTOMER.name);
data(CUSTOMER.ownerName);
data(CUSTOMER.teamName);
data(LONG_NAME);
data(LONG_COMMENT);
for (const d of [...DIMENSIONS, ...MANY_DIMENSIONS]) {
  data(d.name!);
  if (d.guidance) data(d.guidance);
}

const MONTHS = ['2025-07', '2025-08', '2025-09', '2025-10', '2025-11', '2025-12', '2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06'];

export function churnData(over: Partial<ChurnAlertData> = {}): ChurnAlertData {
  return {
    ref: 'ca_7Hx2kQ9pLm',
    consoleUrl: `${BASE}/console/customers/c-001`,
    timezone: TZ,
    customer: CUSTOMER,
    tier: { key: 'A', name: '高价值客户', rank: 4 },
    risk: {
      level: 'high',
      reasons: [
        { rule: 'overdue', severity: 'medium', detail: { recencyDays: 63, medianIntervalDays: 21, factor: 2, minDays: 30 } },
        {
          rule: 'spendDrop',
          severity: 'high',
          detail: {
            months: [
              { month: '2026-02', spend: 12000 },
              { month: '2026-03', spend: 9000 },
              { month: '2026-04', spend: 6500 },
              { month: '2026-05', spend: 4000 },
            ],
            pct: 20,
          },
        },
        { rule: 'quietVip', severity: 'high', detail: { tierRank: 4, recencyDays: 63 } },
      ],
    },
    lastOrder: { at: '2026-04-28T10:30:00+08:00', amount: 3200 },
    recencyDays: 63,
    trend: { months: MONTHS, spend: [15800, 14200, 16100, 13900, 15000, 14800, 13100, 12000, 9000, 6500, 4000, 0] },
    ...over,
  };
}

export function tierChangeData(over: Partial<TierChangeData> = {}): TierChangeData {
  return {
    ref: 'tc_Qm81vZ0aa',
    consoleUrl: `${BASE}/console/customers/c-001`,
    timezone: TZ,
    customer: CUSTOMER,
    from: { key: 'B', name: '潜力客户', rank: 3 },
    to: { key: 'A', name: '高价值客户', rank: 4 },
    since: '2026-06-30T02:00:00+08:00',
    explanation: {
      rule: 'A',
      conditions: [
        { metric: 'recencyDays', op: 'lte', value: 30, actual: 12, held: true },
        { metric: 'frequency', op: 'gt', value: 5, actual: 7, held: true },
        { metric: 'monetary', op: 'gt', value: 10000, actual: 15300, held: true },
      ],
    },
    playbook: {
      service: [data('1对1专属客户经理'), data('服务请求优先响应')],
      marketing: [data('新品优先体验权')],
      sales: [data('交叉销售/升级销售机会挖掘')],
    },
    ...over,
  };
}

export function scoreFormData(over: Partial<ScoreFormData> = {}): ScoreFormData {
  return {
    ref: 'sf_p0Lw3n',
    consoleUrl: `${BASE}/console/customers/c-001`,
    timezone: TZ,
    customer: CUSTOMER,
    tier: { key: 'B', name: '潜力客户', rank: 3 },
    dimensions: DIMENSIONS,
    current: { points: { profitability: 80, strength: 85 }, approvedAt: '2026-03-02T09:15:00+08:00', approvedBy: { name: '李经理' } },
    metricPoints: { relationship: 60 },
    ...over,
  };
}
data('李经理');

export function approvalData(over: Partial<ApprovalRequestData> = {}): ApprovalRequestData {
  return {
    ref: 'ar_9f3k2Lx',
    consoleUrl: `${BASE}/console/customers/c-001`,
    timezone: TZ,
    customer: CUSTOMER,
    tier: { key: 'B', name: '潜力客户', rank: 3 },
    submitter: { name: '张三' },
    submittedAt: '2026-06-30T10:05:00+08:00',
    dimensions: DIMENSIONS,
    points: { profitability: 90, strength: 90 },
    metricPoints: { relationship: 60 },
    previousTotal: 78,
    comment: data('新增两条产线，毛利率稳定，回款及时'),
    ...over,
  };
}

export function profileData(over: Partial<CustomerProfileData> = {}): CustomerProfileData {
  return {
    ref: 'cp_Zz81hh',
    consoleUrl: `${BASE}/console/customers/c-001`,
    timezone: TZ,
    customer: CUSTOMER,
    tier: { key: 'A', name: '高价值客户', rank: 4, since: '2026-06-30T02:00:00+08:00', previous: 'B' },
    metrics: {
      ...SPEC_EXAMPLE_METRICS,
    },
    lifecycle: 'mature',
    risk: { level: 'medium', reasons: [{ rule: 'overdue', severity: 'medium', detail: { recencyDays: 45, medianIntervalDays: 20, factor: 2 } }] },
    explanation: tierChangeData().explanation,
    score: { points: { profitability: 90, strength: 90 }, approvedBy: { name: '李经理' }, approvedAt: '2026-06-30T11:00:00+08:00' },
    dimensions: DIMENSIONS,
    ...over,
  };
}

const COMPANIES = [
  '杭州云帆电子科技有限公司', '苏州工业园区恒通物流有限公司', '南京金陵食品股份有限公司', '宁波港城五金制品厂',
  '无锡太湖新材料有限公司', '合肥科大讯达信息技术有限公司', '上海浦江医疗器械有限公司', '温州瓯江鞋业有限公司',
  '常州龙城汽车配件有限公司', '绍兴柯桥纺织印染有限公司', '嘉兴南湖光电有限公司', '扬州广陵建材贸易有限公司',
  '徐州彭城工程机械有限公司', '南通江海船舶配套有限公司', '台州黄岩模具有限公司', '金华义乌小商品进出口公司',
  '湖州安吉竹木制品有限公司', '连云港海州化工有限公司', '镇江京口醋业有限公司', '盐城东台农副产品有限公司',
];
for (const c of COMPANIES) data(c);
const REPS = ['张三', '陈晨', '刘洋', '王磊', '赵敏'];
for (const r of REPS) data(r);
data('华东大客户组');
data('制造业'); // the digest's top growing segment

export function digestRows(n: number): DigestRiskRow[] {
  const rows: DigestRiskRow[] = [];
  for (let i = 0; i < n; i++) {
    const name = i < COMPANIES.length ? COMPANIES[i] : `${COMPANIES[i % COMPANIES.length]}${Math.floor(i / COMPANIES.length) + 1}分公司`;
    data(name);
    rows.push({
      customer: { id: `c-${String(100 + i)}`, name, ownerName: REPS[i % REPS.length] },
      tier: { key: ['A', 'B', 'W', 'C'][i % 4], name: ['高价值客户', '潜力客户', '待挽回客户', '一般客户'][i % 4] },
      risk: (['high', 'medium', 'low'] as const)[i % 3],
      // deliberately unsorted: the builder ranks by value at stake
      valueAtStake: ((i * 7919) % 50) * 1000 + 500 + i,
    });
  }
  for (const s of ['分公司']) data(s);
  return rows;
}

export function digestData(over: Partial<DailyDigestData> = {}, rows = 14): DailyDigestData {
  return {
    consoleUrl: `${BASE}/console/teams/t-east`,
    timezone: TZ,
    team: { name: '华东大客户组' },
    date: '2026-06-30',
    atRisk: digestRows(rows),
    tierMoves: [
      { customer: { id: 'c-001', name: CUSTOMER.name }, from: { key: 'B', name: '潜力客户' }, to: { key: 'A', name: '高价值客户' }, direction: 'upgrade' },
      { customer: { id: 'c-104', name: COMPANIES[4] }, from: { key: 'A', name: '高价值客户' }, to: { key: 'W', name: '待挽回客户' }, direction: 'downgrade' },
    ],
    pendingApprovals: [
      { customer: { id: 'c-001', name: CUSTOMER.name }, submitter: { name: '张三' }, total: 84, submittedAt: '2026-06-30T10:05:00+08:00' },
    ],
    topSegment: { tier: { key: 'A', name: '高价值客户' }, dimension: 'industry', segment: '制造业', revenueChange: 128000, customerChange: 2 },
    trend: { months: MONTHS, values: [120000, 118000, 125000, 131000, 140000, 152000, 149000, 160000, 171000, 182000, 190000, 204000] },
    ...over,
  };
}

const REASONS: NonNullable<AlertSummaryRow['reason']>[] = [
  { rule: 'overdue', severity: 'medium', detail: { recencyDays: 63, medianIntervalDays: 21, factor: 2, minDays: 30 } },
  {
    rule: 'spendDrop',
    severity: 'high',
    detail: {
      months: [
        { month: '2026-03', spend: 9000 },
        { month: '2026-04', spend: 6500 },
        { month: '2026-05', spend: 4000 },
      ],
      pct: 20,
    },
  },
  { rule: 'quietVip', severity: 'high', detail: { tierRank: 4, recencyDays: 45 } },
];
const TIERS = [
  { key: 'A', name: '高价值客户', rank: 4 },
  { key: 'B', name: '潜力客户', rank: 3 },
  { key: 'W', name: '待挽回客户', rank: 2 },
  { key: 'C', name: '一般客户', rank: 1 },
];

/**
 * `n` alert-summary rows as the alert budget ranks them (most important first; the values are deliberately
 * not monotonic, so a builder that re-sorted would be caught): mostly alerts, every 4th a downgrade, every
 * 7th an upgrade.
 */
export function alertRows(n: number): AlertSummaryRow[] {
  const rows: AlertSummaryRow[] = [];
  for (let i = 0; i < n; i++) {
    const name = i < COMPANIES.length ? COMPANIES[i] : `${COMPANIES[i % COMPANIES.length]}${Math.floor(i / COMPANIES.length) + 1}分公司`;
    data(name);
    const customer = { id: `c-${String(200 + i)}`, name, ownerName: REPS[i % REPS.length] };
    const valueAtStake = 90000 - i * 2500 + (i % 3) * 4000;
    const risk = (['high', 'medium', 'low'] as const)[i % 3];
    if (i % 4 === 3) {
      rows.push({ customer, tier: TIERS[2], kind: 'downgrade', risk, valueAtStake, reason: null, from: TIERS[0] });
    } else if (i % 7 === 6) {
      rows.push({ customer, tier: TIERS[0], kind: 'upgrade', risk: 'none', valueAtStake, reason: null, from: TIERS[1] });
    } else {
      rows.push({ customer, tier: TIERS[i % 4], kind: 'alert', risk, valueAtStake, reason: REASONS[i % REASONS.length] });
    }
  }
  return rows;
}

/** Counts as the alert budget computes them: customers at each risk level, and tier moves. */
export function alertCounts(rows: AlertSummaryRow[]): AlertSummaryData['counts'] {
  const n = (p: (r: AlertSummaryRow) => boolean) => rows.filter(p).length;
  return {
    high: n((r) => r.risk === 'high'),
    medium: n((r) => r.risk === 'medium'),
    low: n((r) => r.risk === 'low'),
    downgrades: n((r) => r.kind === 'downgrade'),
    upgrades: n((r) => r.kind === 'upgrade'),
  };
}

/** A rep's overflow summary: 30 rows above the budget (cut to the top 10 as the caller may), 5 sent as cards. */
export function alertSummaryData(over: Partial<AlertSummaryData> = {}, n = 30): AlertSummaryData {
  const rows = alertRows(n);
  return {
    consoleUrl: `${BASE}/console/customers?owner=u-zhang&alerts=2026-06-30`,
    timezone: TZ,
    scope: 'person',
    name: '张三',
    baseline: false,
    date: '2026-06-30',
    counts: alertCounts(rows),
    sentIndividually: 5,
    rows,
    total: rows.length,
    ...over,
  };
}

export interface Sample {
  label: string;
  kind: CardKind;
  card: Card;
}

const OUTCOMES: ApprovalOutcome[] = ['approved', 'rejected', 'superseded', 'expired'];

/** Every card kind and variant in one locale. */
export function samples(locale: Locale): Sample[] {
  const s: Sample[] = [];
  const add = (label: string, card: Card) => s.push({ label, kind: card.kind, card });
  const longCustomer = { ...CUSTOMER, name: LONG_NAME, ownerName: LONG_NAME };

  add('churn_alert', churnAlert(churnData(), locale));
  add('churn_alert long name', churnAlert(churnData({ customer: longCustomer }), locale));
  add('churn_alert no orders', churnAlert(churnData({ lastOrder: null, recencyDays: null, risk: { level: 'medium', reasons: [] } }), locale));
  add('tier_change upgrade', tierChange(tierChangeData(), locale));
  add(
    'tier_change downgrade kept',
    tierChange(
      tierChangeData({
        from: { key: 'A', name: '高价值客户', rank: 4 },
        to: { key: 'W', name: '待挽回客户', rank: 2 },
        explanation: {
          rule: 'W',
          conditions: [
            { metric: 'recencyDays', op: 'gt', value: 90, actual: 120, held: true },
            { metric: 'lifetimeValue', op: 'gte', value: 10000, actual: 40100, held: true },
            { metric: 'recencyDays', op: 'between', value: [31, 90], actual: 120, held: false },
          ],
          keptBy: { stability: true, candidate: 'C', agreeingRuns: 1, needed: 2 },
        },
        customer: longCustomer,
      }),
      locale,
    ),
  );
  add('tier_change first', tierChange(tierChangeData({ from: null, playbook: undefined }), locale));
  add('score_form', scoreForm(scoreFormData(), locale));
  add('score_form off-grid current', scoreForm(scoreFormData({ current: { points: { profitability: 85, strength: 0 } } }), locale));
  add('score_form no current', scoreForm(scoreFormData({ current: null, customer: longCustomer }), locale));
  add(
    'score_form many dimensions',
    scoreForm(scoreFormData({ dimensions: MANY_DIMENSIONS, comment: LONG_COMMENT }), locale),
  );
  add('approval_request', approvalRequest(approvalData(), locale));
  add('approval_request long', approvalRequest(approvalData({ customer: longCustomer, comment: LONG_COMMENT, submitter: { name: LONG_NAME } }), locale));
  add('approval_request first score', approvalRequest(approvalData({ previousTotal: null, comment: undefined }), locale));
  add(
    'approval_request many dimensions',
    approvalRequest(
      approvalData({ dimensions: MANY_DIMENSIONS, points: { profitability: 90, strength: 80, credit: 70, strategic: 60, potential: 50 } }),
      locale,
    ),
  );
  for (const outcome of OUTCOMES) {
    for (const view of ['submitter', 'managers'] as const) {
      add(
        `approval_result ${outcome} ${view}`,
        approvalResult(
          {
            ref: 'ar_9f3k2Lx',
            consoleUrl: `${BASE}/console/customers/c-001`,
            timezone: TZ,
            view,
            outcome,
            request: approvalData(),
            ...(outcome === 'approved' || outcome === 'rejected'
              ? { decidedBy: { name: '李经理' }, decidedAt: '2026-06-30T10:12:00+08:00' }
              : {}),
            ...(outcome === 'rejected' ? { reason: 'too_high' } : {}),
            ...(outcome === 'approved' ? { newValueScore: 84, newTier: { key: 'A', name: '高价值客户' } } : {}),
            ...(outcome === 'superseded' ? { supersededAt: '2026-07-01T09:00:00+08:00' } : {}),
            ...(outcome === 'expired' ? { expiredAfterDays: 7 } : {}),
          },
          locale,
        ),
      );
    }
  }
  add(
    'approval_result rejected free-text long',
    approvalResult(
      {
        ref: 'ar_9f3k2Lx',
        consoleUrl: `${BASE}/console/customers/c-001`,
        view: 'managers',
        outcome: 'rejected',
        request: approvalData({ customer: longCustomer, comment: LONG_COMMENT }),
        decidedBy: { name: LONG_NAME },
        decidedAt: '2026-06-30T10:12:00+08:00',
        reason: LONG_COMMENT,
      },
      locale,
    ),
  );
  add('daily_digest', dailyDigest(digestData(), locale));
  add('daily_digest 50 rows', dailyDigest(digestData({}, 50), locale));
  add(
    'daily_digest long everything',
    dailyDigest(
      digestData(
        {
          team: { name: LONG_NAME },
          topSegment: { tier: { key: 'A', name: '高价值客户' }, dimension: LONG_NAME, segment: LONG_NAME, revenueChange: 9_876_543_210.55, customerChange: -12345 },
          atRisk: digestRows(50).map((r) => ({ ...r, customer: { ...r.customer, name: LONG_NAME + r.customer.name } })),
          tierMoves: Array.from({ length: 40 }, (_, i) => ({
            customer: { id: `m-${i}`, name: LONG_NAME },
            from: { key: 'A', name: '高价值客户' },
            to: { key: 'B', name: '潜力客户' },
            direction: 'downgrade' as const,
          })),
          pendingApprovals: Array.from({ length: 30 }, (_, i) => ({
            customer: { id: `p-${i}`, name: LONG_NAME },
            submitter: { name: LONG_NAME },
            total: 70 + (i % 20),
            submittedAt: '2026-06-30T10:05:00+08:00',
          })),
        },
        50,
      ),
      locale,
    ),
  );
  add('daily_digest empty', dailyDigest(digestData({ atRisk: [], tierMoves: [], pendingApprovals: [], trend: undefined }), locale));
  add('alert_summary person overflow', alertSummary(alertSummaryData(), locale));
  add('alert_summary person overflow, rows cut to the top', alertSummary(alertSummaryData({ rows: alertRows(30).slice(0, 10), total: 30 }), locale));
  add('alert_summary person overflow, one row', alertSummary(alertSummaryData({ rows: alertRows(1), total: 1, counts: alertCounts(alertRows(1)), sentIndividually: 1 }), locale));
  add('alert_summary person baseline', alertSummary(alertSummaryData({ baseline: true, sentIndividually: 0 }), locale));
  add(
    'alert_summary person baseline, nothing at risk',
    alertSummary(alertSummaryData({ baseline: true, sentIndividually: 0, rows: [], total: 0, counts: alertCounts([]) }), locale),
  );
  add(
    'alert_summary team',
    alertSummary(alertSummaryData({ scope: 'team', name: '华东大客户组', sentIndividually: 0, consoleUrl: `${BASE}/console/teams/t-east` }), locale),
  );
  add(
    'alert_summary team baseline',
    alertSummary(alertSummaryData({ scope: 'team', name: '华东大客户组', baseline: true, sentIndividually: 0 }), locale),
  );
  {
    const long = alertRows(30).map((r) => ({ ...r, customer: { ...r.customer, name: LONG_NAME + r.customer.name, ownerName: LONG_NAME } }));
    const longReason = { rule: 'quietVip', severity: 'high' as const, detail: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`m${i}`, 123456789 + i])) };
    add(
      'alert_summary long everything',
      alertSummary(
        alertSummaryData({
          scope: 'team',
          name: LONG_NAME,
          rows: long.map((r) => ({ ...r, reason: r.reason ? longReason : null })),
          total: 3000,
          counts: { high: 1000, medium: 1200, low: 800, downgrades: 400, upgrades: 300 },
          sentIndividually: 0,
        }),
        locale,
      ),
    );
    add('alert_summary person long', alertSummary(alertSummaryData({ name: LONG_NAME, rows: long }), locale));
  }
  add('customer_profile', customerProfile(profileData(), locale));
  add(
    'customer_profile never evaluated',
    customerProfile(profileData({ tier: null, metrics: null, lifecycle: null, risk: null, explanation: null, score: null }), locale),
  );
  add('customer_profile long name', customerProfile(profileData({ customer: longCustomer }), locale));
  const en = locale === 'en';
  add(
    'notice',
    noticeCard(locale, en ? 'tierbot commands' : 'tierbot 指令', [[{ strong: en ? 'help' : '帮助' }, en ? ': this text' : '：显示本说明'], [{ code: 'score c-001 profitability=90' }]], `${BASE}/console`),
  );
  add(
    'notice with a table',
    noticeCard(locale, en ? '20 customers match' : '找到 20 个客户', [[en ? 'Reply with ' : '请回复 ', { code: 'score <id>' }]], `${BASE}/console`, 'info', [
      {
        type: 'table',
        columns: ['#', en ? 'Customer' : '客户', 'ID'],
        rows: Array.from({ length: 20 }, (_, i) => [String(i + 1), i === 0 ? LONG_NAME : `${CUSTOMER.name} ${i}`, `c-${String(i).padStart(3, '0')}`]),
      },
    ]),
  );
  add('notice warning, long query', noticeCard(locale, en ? 'No match' : '未找到客户', [`${en ? 'No customer matches' : '没有找到'} "${LONG_NAME}"`], `${BASE}/console`, 'warning'));
  return s;
}

// ---------------------------------------------------------------------------------------------
// User-supplied text on cards, for the escaping tests

/** Fragments that are live markup in at least one platform's dialect. */
export const HOSTILE_FRAGMENTS = [
  '<b>x</b>',
  '<script>alert(1)</script>',
  '**x**',
  '[x](http://evil.example)',
  '![](x)',
  '<at id=all></at>',
  '<at user_id="ou_x"></at>',
  '<@all>',
  '<@zhangsan>',
  '@all',
  '@所有人',
  '<font color="red">',
  "<font color='red'>",
  '`x`',
  '~~x~~',
  '# x',
  '> x',
  '- x',
  ':OK:',
  '&#60;at id=all&#62;',
  'a|b',
  'x\\',
  '_x_',
] as const;

/** Every string a card shows that users or admins typed: names, comments, reasons, policy texts. */
export interface DataValues {
  customer: string;
  /** customer id (ids come from ingest, too) */
  id: string;
  owner: string;
  team: string;
  /** submitter, decider, approver */
  person: string;
  comment: string;
  reason: string;
  /** policy texts */
  tierName: string;
  dimensionName: string;
  playbook: string;
}

export interface DataSample extends Sample {
  /** the values a reader finds on this card (in zh-CN; English shows built-in labels for known keys) */
  shows: (keyof DataValues)[];
}

/** Every card kind (and the approval_result views) with `v` wherever the card shows user-supplied text. */
export function dataSamples(v: DataValues, locale: Locale): DataSample[] {
  const customer = { id: v.id, name: v.customer, ownerName: v.owner, teamName: v.team };
  const tier = { key: 'A', name: v.tierName, rank: 4 };
  const dims: DimensionInfo[] = [
    { key: 'profitability', name: v.dimensionName, weight: 0.5, source: 'manual', guidance: v.playbook },
    { key: 'strength', name: '经营实力', weight: 0.3, source: 'manual' },
    { key: 'relationship', name: '合作关系', weight: 0.2, source: 'metric' },
  ];
  const zh = locale === 'zh-CN';
  const policy = (keys: (keyof DataValues)[]) => (zh ? keys : []);
  const request = approvalData({ customer, tier, submitter: { name: v.person }, dimensions: dims, comment: v.comment });
  const decided = {
    ref: 'ar_9f3k2Lx',
    consoleUrl: `${BASE}/console/customers/c-001`,
    timezone: TZ,
    request,
    decidedBy: { name: v.person },
    decidedAt: '2026-06-30T10:12:00+08:00',
  };
  const s: DataSample[] = [];
  const add = (label: string, card: Card, shows: (keyof DataValues)[]) => s.push({ label, kind: card.kind, card, shows });
  add('churn_alert', churnAlert(churnData({ customer, tier }), locale), ['customer', 'owner', ...policy(['tierName'])]);
  add(
    'tier_change',
    tierChange(tierChangeData({ customer, to: tier, playbook: { service: [v.playbook] } }), locale),
    ['customer', 'owner', 'playbook', ...policy(['tierName'])],
  );
  add(
    'score_form',
    scoreForm(scoreFormData({ customer, tier, dimensions: dims, current: { points: { profitability: 80 }, approvedBy: { name: v.person } } }), locale),
    ['customer', 'person', ...policy(['tierName'])],
  );
  add('approval_request', approvalRequest({ ...request, ref: 'ar_9f3k2Lx', consoleUrl: `${BASE}/console/customers/c-001`, timezone: TZ }, locale), [
    'customer',
    'person',
    'comment',
    ...policy(['tierName', 'dimensionName']),
  ]);
  add('approval_result rejected submitter', approvalResult({ ...decided, view: 'submitter', outcome: 'rejected', reason: v.reason }, locale), [
    'customer',
    'person',
    'reason',
  ]);
  add('approval_result approved managers', approvalResult({ ...decided, view: 'managers', outcome: 'approved', newValueScore: 84, newTier: tier }, locale), [
    'customer',
    'person',
    'comment',
    ...policy(['tierName', 'dimensionName']),
  ]);
  add(
    'daily_digest',
    dailyDigest(
      digestData(
        {
          team: { name: v.team },
          atRisk: [{ customer: { id: v.id, name: v.customer, ownerName: v.owner }, tier, risk: 'high', valueAtStake: 12000 }],
          tierMoves: [{ customer: { id: v.id, name: v.customer }, from: null, to: tier, direction: 'upgrade' }],
          pendingApprovals: [{ customer: { id: v.id, name: v.customer }, submitter: { name: v.person }, total: 84, submittedAt: '2026-06-30T10:05:00+08:00' }],
        },
        0,
      ),
      locale,
    ),
    ['team', 'customer', 'owner', 'person'],
  );
  const summaryRows: AlertSummaryRow[] = [
    { customer: { id: v.id, name: v.customer, ownerName: v.owner }, tier, kind: 'alert', risk: 'high', valueAtStake: 12000, reason: REASONS[0] },
    { customer: { id: v.id, name: v.customer, ownerName: v.owner }, tier, kind: 'downgrade', risk: 'medium', valueAtStake: 9000, reason: null, from: TIERS[0] },
  ];
  add('alert_summary person', alertSummary(alertSummaryData({ name: v.person, rows: summaryRows, total: 2, counts: alertCounts(summaryRows) }), locale), [
    'person',
    'customer',
  ]);
  add(
    'alert_summary team',
    alertSummary(alertSummaryData({ scope: 'team', name: v.team, rows: summaryRows, total: 2, counts: alertCounts(summaryRows), sentIndividually: 0 }), locale),
    ['team', 'customer', 'owner'],
  );
  add(
    'customer_profile',
    customerProfile(
      profileData({ customer, tier, dimensions: dims, score: { points: { profitability: 90 }, approvedBy: { name: v.person }, approvedAt: '2026-06-30T11:00:00+08:00' } }),
      locale,
    ),
    ['customer', 'owner', 'person', ...policy(['tierName', 'dimensionName'])],
  );
  return s;
}
