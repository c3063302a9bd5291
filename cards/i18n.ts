// Every string a card shows, in Simplified Chinese (default) and English.
// Placeholders are `{name}`. Button labels stay ≤ 10 characters (WeCom's suggested button length).
// Labels of tiers, dimensions, metrics, risk levels, lifecycle stages and churn reasons live here too;
// for tiers and dimensions the policy's own (Chinese) name wins in zh-CN, the English label in en.
import type { Locale } from './model.ts';

const zh = {
  app: '客户分层',
  // titles
  'churn.title': '流失风险预警',
  'tier.title.upgrade': '客户升级',
  'tier.title.downgrade': '客户降级',
  'tier.title.first': '客户首次分层',
  'score.title': '客户评分',
  'approval.title': '评分待审批',
  'result.title.approved': '评分已通过',
  'result.title.rejected': '评分被驳回',
  'result.title.superseded': '评分已被取代',
  'result.title.expired': '评分已过期',
  'digest.title': '每日风险简报',
  'summary.title.baseline': '今日客户概览：{n} 个有流失风险',
  'summary.title.baselineNone': '今日客户概览：暂无流失风险',
  'summary.title.overflow': '另有 {n} 条提醒未单独发送',
  'summary.title.overflowOne': '另有 {n} 条提醒未单独发送',
  'summary.title.teamBaseline': '团队客户概览：{n} 个有流失风险',
  'summary.title.teamBaselineNone': '团队客户概览：暂无流失风险',
  'summary.title.team': '团队新增 {n} 条提醒',
  'summary.title.teamOne': '团队新增 {n} 条提醒',
  'profile.title': '客户档案',
  // summaries (chat-list preview)
  'churn.summary': '流失风险预警：{name}（风险{risk}）',
  'tier.summary': '{name}：{from} → {to}',
  'score.summary': '请为 {name} 评分',
  'approval.summary': '{submitter} 提交了 {name} 的评分，待审批',
  'result.summary': '{name} 的评分：{outcome}',
  'digest.summary': '{team} 每日风险简报：{count} 个风险客户',
  'summary.previewHigh': '（高风险 {n} 个）',
  'profile.summary': '客户档案：{name}',
  // field labels (keep ≤ 5 characters: WeCom's key column)
  'f.customer': '客户',
  'f.tier': '等级',
  'f.risk': '风险',
  'f.lastOrder': '最近下单',
  'f.owner': '负责人',
  'f.team': '团队',
  'f.lifecycle': '生命周期',
  'f.valueScore': '价值分',
  'f.submitter': '提交人',
  'f.submittedAt': '提交时间',
  'f.total': '加权总分',
  'f.previousTotal': '原总分',
  'f.delta': '变化',
  'f.decidedBy': '处理人',
  'f.decidedAt': '处理时间',
  'f.outcome': '结果',
  'f.reason': '驳回原因',
  'f.newTier': '新等级',
  'f.since': '生效时间',
  'f.change': '变动',
  'f.atRisk': '风险客户',
  'f.valueAtStake': '风险金额',
  'f.tierMoves': '等级变动',
  'f.pending': '待审批',
  'f.high': '高风险',
  'f.medium': '中风险',
  'f.low': '低风险',
  'f.currentPoints': '当前评分',
  'f.comment': '备注',
  'f.rfm': 'RFM',
  'f.trend12': '近12月',
  // section titles
  's.reasons': '风险原因',
  's.trend': '近 12 个月消费',
  's.explanation': '分层依据',
  's.playbook': '服务策略',
  's.points': '各维度评分',
  's.metrics': '关键指标',
  's.topRisk': '风险客户（按风险金额排序）',
  's.moves': '等级变动',
  's.pending': '待审批评分',
  's.topAlerts': '重点提醒（按重要程度排序）',
  's.dimensions': '评分维度',
  's.comment': '备注',
  // digest table columns
  'col.rank': '#',
  'col.customer': '客户',
  'col.tier': '等级',
  'col.risk': '风险',
  'col.valueAtStake': '风险金额',
  'col.owner': '负责人',
  'col.riskOrMove': '风险/变动',
  'col.reason': '主要原因',
  // phrases
  more: '还有 {n} 个',
  none: '无',
  notEvaluated: '尚未评估',
  noOrders: '暂无订单',
  daysAgo: '{date}（{days} 天前）',
  today: '{date}（今天）',
  weightedPoints: '{points} 分 × {weight}',
  autoPoints: '{points} 分 × {weight}（自动）',
  noPoints: '未评分 × {weight}',
  totalWithDelta: '{total}（较原 {previous} {delta}）',
  totalFirst: '{total}（首次评分）',
  totalMissing: '暂无（有维度未评分）',
  pointsUnit: '{points} 分',
  'score.intro': '请按各维度给出 0–100 的分数，提交后由经理审批。',
  'score.current': '当前已批准：{points}',
  'score.currentNone': '当前无已批准评分',
  'score.pick': '选择分数',
  'score.commentLabel': '备注（评分依据）',
  'score.commentPlaceholder': '例如：毛利稳定，回款及时',
  'score.commandIntro': '在此无法直接填写表单，请回复以下指令评分（分数 0–100）：',
  'score.metricDim': '{name}（{weight}）：自动计算，当前 {points}',
  'score.manualDim': '{name}（{weight}）',
  'score.manualDimCurrent': '{name}（{weight}），当前 {points}',
  'approval.comment': '备注：',
  'approval.reasonLabel': '驳回原因（驳回时必填）',
  'approval.reasonPlaceholder': '请说明驳回原因',
  'result.decided': '已由 {who} 于 {when} {outcome}',
  'result.superseded': '该评分已被 {when} 提交的新评分取代，无需处理。',
  'result.supersededNoTime': '该评分已被新的评分取代，无需处理。',
  'result.expired': '该评分超过 {days} 天未处理，已过期。请重新发起评分。',
  'result.expiredNoDays': '该评分已过期，请重新发起评分。',
  'result.newValue': '新价值分 {score}，等级 {tier}',
  'result.newValueNoTier': '新价值分 {score}',
  'outcome.approved': '通过',
  'outcome.rejected': '驳回',
  'outcome.superseded': '已取代',
  'outcome.expired': '已过期',
  'closed.approved': '已通过',
  'closed.rejected': '已驳回',
  'closed.superseded': '已被取代',
  'closed.expired': '已过期',
  'tier.from': '{from} → {to}',
  'tier.fromNone': '首次分层 → {to}',
  'tier.kept': '因稳定性规则暂保留原等级（候选 {candidate}，已连续 {runs}/{needed} 次）',
  'tier.ruleMatched': '命中规则 {rule}：',
  'tier.always': '默认等级（其余规则均不满足）',
  'digest.header': '{team} · {date}',
  'digest.noRisk': '今天没有风险客户。',
  'digest.movesSummary': '升级 {up} · 降级 {down}',
  'digest.moveLine': '{name}：{from} → {to}',
  'digest.pendingLine': '{name}（{submitter} 提交，{total} 分）',
  'digest.riskRow': '{rank}. {name} · {tier} · 风险{risk} · {value}',
  'digest.trend': '近 12 个月风险金额',
  'digest.topSegment': '{tier} 类客户中增长最快的细分：{segment} +{revenue}（{customers} 个客户）',
  'segBy.industry': '行业',
  'segBy.region': '地区',
  'segBy.channel': '渠道',
  'segBy.tags': '标签',
  'segBy.owner': '负责人',
  'segBy.team': '团队',
  'summary.header': '{name} · {date}',
  'summary.moves': '↓{down} · ↑{up}',
  'summary.sent': '已单独发送 {n} 张提醒卡片，其余汇总如下。',
  'summary.sentOne': '已单独发送 {n} 张提醒卡片，其余汇总如下。',
  'summary.baseline': '这是你名下客户的当前全貌，本次不逐条发送提醒。',
  'summary.teamBaseline': '这是团队客户的当前全貌，本次不逐条发送提醒。',
  'summary.empty': '没有需要关注的客户。',
  'profile.metricsLine': 'R{r} F{f} M{m}，RFM 总分 {total}',
  'profile.scoreLine': '已批准评分：{points}（{who}，{when}）',
  'profile.noScore': '暂无已批准的人工评分',
  'profile.noRisk': '暂无流失风险',
  'trend.line': '最近一月 {last}，12 个月最高 {max}（{maxMonth}）',
  'trend.series': '消费额',
  'dt.actionsIntro': '点击下方操作（将以您的名义向机器人发送指令）：',
  'dt.rejectOther': '其他原因请回复：{command} 加上原因',
  'dt.openConsole': '在控制台查看',
  'wecom.robotHint': '请在应用消息中操作此卡片。',
  'wecom.keepPoints': '不变（{points}）',
  'wecom.notScored': '未评分',
  // buttons (≤ 10 characters)
  'btn.claim': '认领跟进',
  'btn.contact': '记录联系',
  'btn.snooze': '暂缓7天',
  'btn.notAtRisk': '无流失风险',
  'btn.rescore': '申请重评',
  'btn.score': '评分',
  'btn.ack': '知道了',
  'btn.submit': '提交评分',
  'btn.approve': '通过',
  'btn.reject': '驳回',
  'btn.console': '在控制台查看',
  'contact.label': '联系结果',
  'confirm.snooze.title': '暂缓提醒',
  'confirm.snooze.text': '{days} 天内不再提醒该客户的流失风险？',
  'confirm.notAtRisk.title': '标记为误报',
  'confirm.notAtRisk.text': '该客户没有流失风险？记为误报，{days} 天内不再提醒',
  'confirm.approve.title': '通过评分',
  'confirm.approve.text': '确认通过该评分？加权总分 {total}',
  'confirm.claim.title': '认领跟进',
  'confirm.claim.text': '由你负责跟进该客户？',
  'cmd.score': '评分',
  'cmd.comment': '备注',
} as const;

export type MsgKey = keyof typeof zh;
type Messages = Record<MsgKey, string>;

const en: Messages = {
  app: 'Customer tiering',
  'churn.title': 'Churn risk alert',
  'tier.title.upgrade': 'Tier upgrade',
  'tier.title.downgrade': 'Tier downgrade',
  'tier.title.first': 'First tier assigned',
  'score.title': 'Score customer',
  'approval.title': 'Score approval',
  'result.title.approved': 'Score approved',
  'result.title.rejected': 'Score rejected',
  'result.title.superseded': 'Score superseded',
  'result.title.expired': 'Score expired',
  'digest.title': 'Daily risk digest',
  'summary.title.baseline': 'Your book today: {n} at risk',
  'summary.title.baselineNone': 'Your book today: none at risk',
  'summary.title.overflow': '{n} more alerts not sent as cards',
  'summary.title.overflowOne': '{n} more alert not sent as a card',
  'summary.title.teamBaseline': 'Team book today: {n} at risk',
  'summary.title.teamBaselineNone': 'Team book today: none at risk',
  'summary.title.team': '{n} new alerts in your team',
  'summary.title.teamOne': '{n} new alert in your team',
  'profile.title': 'Customer profile',
  'churn.summary': 'Churn risk: {name} (risk {risk})',
  'tier.summary': '{name}: {from} → {to}',
  'score.summary': 'Please score {name}',
  'approval.summary': '{submitter} scored {name}: approval needed',
  'result.summary': 'Score for {name}: {outcome}',
  'digest.summary': '{team} daily digest: {count} at-risk customers',
  'summary.previewHigh': ' ({n} high risk)',
  'profile.summary': 'Customer profile: {name}',
  'f.customer': 'Customer',
  'f.tier': 'Tier',
  'f.risk': 'Risk',
  'f.lastOrder': 'Last order',
  'f.owner': 'Owner',
  'f.team': 'Team',
  'f.lifecycle': 'Stage',
  'f.valueScore': 'Value',
  'f.submitter': 'By',
  'f.submittedAt': 'Submitted',
  'f.total': 'Total',
  'f.previousTotal': 'Previous',
  'f.delta': 'Change',
  'f.decidedBy': 'Decided by',
  'f.decidedAt': 'Decided',
  'f.outcome': 'Outcome',
  'f.reason': 'Reason',
  'f.newTier': 'New tier',
  'f.since': 'Since',
  'f.change': 'Change',
  'f.atRisk': 'At risk',
  'f.valueAtStake': 'At stake',
  'f.tierMoves': 'Moves',
  'f.pending': 'Pending',
  'f.high': 'High',
  'f.medium': 'Medium',
  'f.low': 'Low',
  'f.currentPoints': 'Current',
  'f.comment': 'Comment',
  'f.rfm': 'RFM',
  'f.trend12': '12 months',
  's.reasons': 'Risk reasons',
  's.trend': 'Spend, last 12 months',
  's.explanation': 'Why this tier',
  's.playbook': 'Playbook',
  's.points': 'Points per dimension',
  's.metrics': 'Key metrics',
  's.topRisk': 'At-risk customers (by value at stake)',
  's.moves': 'Tier moves',
  's.pending': 'Pending score approvals',
  's.topAlerts': 'Top alerts (most important first)',
  's.dimensions': 'Dimensions',
  's.comment': 'Comment',
  'col.rank': '#',
  'col.customer': 'Customer',
  'col.tier': 'Tier',
  'col.risk': 'Risk',
  'col.valueAtStake': 'At stake',
  'col.owner': 'Owner',
  'col.riskOrMove': 'Risk/move',
  'col.reason': 'Main reason',
  more: '{n} more',
  none: 'None',
  notEvaluated: 'Not evaluated yet',
  noOrders: 'No orders yet',
  daysAgo: '{date} ({days} days ago)',
  today: '{date} (today)',
  weightedPoints: '{points} pts × {weight}',
  autoPoints: '{points} pts × {weight} (computed)',
  noPoints: 'not scored × {weight}',
  totalWithDelta: '{total} (was {previous}, {delta})',
  totalFirst: '{total} (first score)',
  totalMissing: 'n/a (a dimension has no points)',
  pointsUnit: '{points} pts',
  'score.intro': 'Give each dimension 0–100 points; a manager approves the score.',
  'score.current': 'Currently approved: {points}',
  'score.currentNone': 'No approved score yet',
  'score.pick': 'Pick points',
  'score.commentLabel': 'Comment (why)',
  'score.commentPlaceholder': 'e.g. stable margin, pays on time',
  'score.commandIntro': 'This chat cannot show the form. Reply with this command (points 0–100):',
  'score.metricDim': '{name} ({weight}): computed, now {points}',
  'score.manualDim': '{name} ({weight})',
  'score.manualDimCurrent': '{name} ({weight}), now {points}',
  'approval.comment': 'Comment:',
  'approval.reasonLabel': 'Reason (required to reject)',
  'approval.reasonPlaceholder': 'Why is this score rejected?',
  'result.decided': '{outcome} by {who} at {when}',
  'result.superseded': 'Superseded by a newer score submitted at {when}; nothing to do.',
  'result.supersededNoTime': 'Superseded by a newer score; nothing to do.',
  'result.expired': 'Not decided within {days} days; expired. Please submit a new score.',
  'result.expiredNoDays': 'Expired. Please submit a new score.',
  'result.newValue': 'New value score {score}, tier {tier}',
  'result.newValueNoTier': 'New value score {score}',
  'outcome.approved': 'Approved',
  'outcome.rejected': 'Rejected',
  'outcome.superseded': 'Superseded',
  'outcome.expired': 'Expired',
  'closed.approved': 'Approved',
  'closed.rejected': 'Rejected',
  'closed.superseded': 'Superseded',
  'closed.expired': 'Expired',
  'tier.from': '{from} → {to}',
  'tier.fromNone': 'new → {to}',
  'tier.kept': 'Kept by the stability rule (candidate {candidate}, {runs}/{needed} runs agree)',
  'tier.ruleMatched': 'Rule {rule} matched:',
  'tier.always': 'Default tier (no other rule matched)',
  'digest.header': '{team} · {date}',
  'digest.noRisk': 'No at-risk customers today.',
  'digest.movesSummary': '{up} up · {down} down',
  'digest.moveLine': '{name}: {from} → {to}',
  'digest.pendingLine': '{name} (by {submitter}, {total} pts)',
  'digest.riskRow': '{rank}. {name} · {tier} · risk {risk} · {value}',
  'digest.trend': 'Value at stake, last 12 months',
  'digest.topSegment': 'Top growing segment among {tier} customers: {segment} +{revenue} ({customers} customers)',
  'segBy.industry': 'industry',
  'segBy.region': 'region',
  'segBy.channel': 'channel',
  'segBy.tags': 'tag',
  'segBy.owner': 'owner',
  'segBy.team': 'team',
  'summary.header': '{name} · {date}',
  'summary.moves': '↓{down} · ↑{up}',
  'summary.sent': '{n} alerts were sent as separate cards; here are the rest.',
  'summary.sentOne': '{n} alert was sent as a separate card; here are the rest.',
  'summary.baseline': 'Where your book stands now; no separate alert cards this time.',
  'summary.teamBaseline': "Where your team's book stands now; no separate alert cards this time.",
  'summary.empty': 'Nothing needs your attention.',
  'profile.metricsLine': 'R{r} F{f} M{m}, RFM total {total}',
  'profile.scoreLine': 'Approved score: {points} ({who}, {when})',
  'profile.noScore': 'No approved manual score yet',
  'profile.noRisk': 'No churn risk',
  'trend.line': 'Last month {last}; 12-month high {max} ({maxMonth})',
  'trend.series': 'Spend',
  'dt.actionsIntro': 'Tap an action (it sends a command to the bot as you):',
  'dt.rejectOther': 'Other reason? Reply: {command} followed by the reason',
  'dt.openConsole': 'Open in console',
  'wecom.robotHint': 'Act on this card in the app message.',
  'wecom.keepPoints': 'Unchanged ({points})',
  'wecom.notScored': 'Not scored',
  'btn.claim': 'Claim',
  'btn.contact': 'Log result',
  'btn.snooze': 'Snooze 7d',
  'btn.notAtRisk': 'No risk',
  'btn.rescore': 'Re-score',
  'btn.score': 'Score',
  'btn.ack': 'Got it',
  'btn.submit': 'Submit',
  'btn.approve': 'Approve',
  'btn.reject': 'Reject',
  'btn.console': 'Open console',
  'contact.label': 'Contact outcome',
  'confirm.snooze.title': 'Snooze alerts',
  'confirm.snooze.text': 'No churn alerts for this customer for {days} days?',
  'confirm.notAtRisk.title': 'Not at risk',
  'confirm.notAtRisk.text': 'Mark this alert a false alarm? No churn alerts for this customer for {days} days',
  'confirm.approve.title': 'Approve score',
  'confirm.approve.text': 'Approve this score? Weighted total {total}',
  'confirm.claim.title': 'Claim follow-up',
  'confirm.claim.text': 'You will follow up this customer?',
  'cmd.score': 'score',
  'cmd.comment': 'comment',
};

const MESSAGES: Record<Locale, Messages> = { 'zh-CN': zh, en };

export function t(locale: Locale, key: MsgKey, params?: Record<string, string | number>): string {
  const s = MESSAGES[locale][key];
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** "还有 N 个" / "N more" when a list shows fewer than `total` items; null otherwise. */
export function moreText(locale: Locale, total: number | undefined, shown: number): string | null {
  return total !== undefined && total > shown ? t(locale, 'more', { n: total - shown }) : null;
}

/** All messages of a locale (tests check English has no Chinese). */
export function messages(locale: Locale): Readonly<Messages> {
  return MESSAGES[locale];
}

// ---------------------------------------------------------------------------------------------
// Labels

type Labels = Record<string, { 'zh-CN': string; en: string }>;

const TIERS: Labels = {
  A: { 'zh-CN': '高价值客户', en: 'High value' },
  B: { 'zh-CN': '潜力客户', en: 'Potential' },
  W: { 'zh-CN': '待挽回客户', en: 'Win-back' },
  C: { 'zh-CN': '一般客户', en: 'Regular' },
};

/** "A 高价值客户" / "A High value". In zh-CN the policy's name wins; in English a known key's label. */
export function tierLabel(locale: Locale, tier: { key: string; name?: string } | null | undefined): string {
  if (!tier) return t(locale, 'none');
  const known = TIERS[tier.key];
  const name = locale === 'zh-CN' ? (tier.name ?? known?.['zh-CN']) : known?.en;
  return name ? `${tier.key} ${name}` : tier.key;
}

const DIMENSIONS: Labels = {
  profitability: { 'zh-CN': '盈利状况', en: 'Profitability' },
  strength: { 'zh-CN': '经营实力', en: 'Operating strength' },
  relationship: { 'zh-CN': '合作关系', en: 'Relationship' },
};
const DIMENSION_GUIDANCE: Labels = {
  profitability: {
    'zh-CN': '毛利水平与回款及时性：90+ 毛利高且从不拖款；60 持平；30 以下亏损或常拖款',
    en: 'Margin and payment discipline: 90+ high margin, always pays on time; 60 average; below 30 loss-making or late payer',
  },
  strength: {
    'zh-CN': '规模、增长与行业地位：90+ 行业头部且增长；60 稳定经营；30 以下经营困难',
    en: 'Size, growth and market position: 90+ industry leader and growing; 60 stable; below 30 struggling',
  },
  relationship: {
    'zh-CN': '自动计算：合作年限与下单频次',
    en: 'Computed from tenure and order frequency',
  },
};

export function dimensionLabel(locale: Locale, dim: { key: string; name?: string }): string {
  const known = DIMENSIONS[dim.key];
  if (locale === 'zh-CN') return dim.name ?? known?.['zh-CN'] ?? dim.key;
  return known?.en ?? humanize(dim.key);
}

/** Guidance for a dimension: the policy's text in zh-CN, else the built-in text of a known key. */
export function dimensionGuidance(locale: Locale, dim: { key: string; guidance?: string }): string | undefined {
  const known = DIMENSION_GUIDANCE[dim.key];
  if (locale === 'zh-CN') return dim.guidance ?? known?.['zh-CN'];
  return known?.en ?? dim.guidance;
}

const METRICS: Labels = {
  recencyDays: { 'zh-CN': '距上次下单天数', en: 'Days since last order' },
  frequency: { 'zh-CN': '近一年订单数', en: 'Orders in window' },
  monetary: { 'zh-CN': '近一年消费额', en: 'Spend in window' },
  margin: { 'zh-CN': '近一年毛利', en: 'Margin in window' },
  lifetimeValue: { 'zh-CN': '累计消费', en: 'Lifetime value' },
  orderCount: { 'zh-CN': '订单总数', en: 'Total orders' },
  avgOrderValue: { 'zh-CN': '客单价', en: 'Avg order value' },
  tenureDays: { 'zh-CN': '合作天数', en: 'Tenure (days)' },
  medianIntervalDays: { 'zh-CN': '下单间隔中位数（天）', en: 'Median order gap (days)' },
  monetaryTopPct: { 'zh-CN': '消费额排名前（%）', en: 'Spend rank, top (%)' },
  r: { 'zh-CN': 'R 分', en: 'R score' },
  f: { 'zh-CN': 'F 分', en: 'F score' },
  m: { 'zh-CN': 'M 分', en: 'M score' },
  rfmTotal: { 'zh-CN': 'RFM 总分', en: 'RFM total' },
  valueScore: { 'zh-CN': '价值分', en: 'Value score' },
  previousTierRank: { 'zh-CN': '原等级序号', en: 'Previous tier rank' },
  tierRank: { 'zh-CN': '等级序号', en: 'Tier rank' },
  pAlive: { 'zh-CN': '存活概率', en: 'P(alive)' },
  expectedPurchases90d: { 'zh-CN': '预计 90 天购买次数', en: 'Expected purchases, 90 days' },
  clv12m: { 'zh-CN': '预计 12 个月价值', en: 'Expected 12-month value' },
};

export function metricLabel(locale: Locale, metric: string): string {
  if (metric.startsWith('attributes.')) return metric.slice('attributes.'.length);
  return METRICS[metric]?.[locale] ?? humanize(metric);
}

/** Metrics whose values are money (yuan). */
export const MONEY_METRICS = new Set(['monetary', 'margin', 'lifetimeValue', 'avgOrderValue', 'clv12m', 'spend', 'amount']);

const RISK: Labels = {
  none: { 'zh-CN': '无', en: 'none' },
  low: { 'zh-CN': '低', en: 'low' },
  medium: { 'zh-CN': '中', en: 'medium' },
  high: { 'zh-CN': '高', en: 'high' },
};
export function riskLabel(locale: Locale, level: string): string {
  return RISK[level]?.[locale] ?? level;
}

const LIFECYCLE: Labels = {
  prospect: { 'zh-CN': '潜在客户', en: 'Prospect' },
  new: { 'zh-CN': '新客户', en: 'New' },
  growing: { 'zh-CN': '成长期', en: 'Growing' },
  mature: { 'zh-CN': '成熟期', en: 'Mature' },
  dormant: { 'zh-CN': '沉睡', en: 'Dormant' },
  churned: { 'zh-CN': '已流失', en: 'Churned' },
};
export function lifecycleLabel(locale: Locale, stage: string | null | undefined): string {
  if (!stage) return t(locale, 'none');
  return LIFECYCLE[stage]?.[locale] ?? stage;
}

const REASONS: Labels = {
  overdue: { 'zh-CN': '超期未下单', en: 'Overdue' },
  spendDrop: { 'zh-CN': '消费连续下滑', en: 'Spend dropping' },
  pAlive: { 'zh-CN': '可能已流失', en: 'Likely gone' },
  quietVip: { 'zh-CN': '重要客户沉默', en: 'Quiet VIP' },
};
export function reasonLabel(locale: Locale, rule: string): string {
  return REASONS[rule]?.[locale] ?? humanize(rule);
}

const OUTCOMES: Labels = {
  reached: { 'zh-CN': '已联系上', en: 'Reached' },
  no_answer: { 'zh-CN': '未接通', en: 'No answer' },
  won_back: { 'zh-CN': '已挽回', en: 'Won back' },
  lost: { 'zh-CN': '已流失', en: 'Lost' },
};
export function outcomeLabel(locale: Locale, outcome: string): string {
  return OUTCOMES[outcome]?.[locale] ?? outcome;
}

const REJECT: Labels = {
  too_high: { 'zh-CN': '评分偏高', en: 'Too high' },
  too_low: { 'zh-CN': '评分偏低', en: 'Too low' },
  no_evidence: { 'zh-CN': '依据不足', en: 'Needs evidence' },
  other: { 'zh-CN': '其他原因', en: 'Other' },
};
export function rejectReasonLabel(locale: Locale, reason: string): string {
  return REJECT[reason]?.[locale] ?? reason;
}

const PLAYBOOK: Labels = {
  service: { 'zh-CN': '服务', en: 'Service' },
  marketing: { 'zh-CN': '营销', en: 'Marketing' },
  sales: { 'zh-CN': '销售', en: 'Sales' },
};
export function playbookSectionLabel(locale: Locale, section: string): string {
  return PLAYBOOK[section]?.[locale] ?? humanize(section);
}

const OPS: Labels = {
  lt: { 'zh-CN': '<', en: '<' },
  lte: { 'zh-CN': '≤', en: '≤' },
  gt: { 'zh-CN': '>', en: '>' },
  gte: { 'zh-CN': '≥', en: '≥' },
  eq: { 'zh-CN': '=', en: '=' },
  ne: { 'zh-CN': '≠', en: '≠' },
  between: { 'zh-CN': '介于', en: 'between' },
  in: { 'zh-CN': '属于', en: 'in' },
};
export function opLabel(locale: Locale, op: string): string {
  return OPS[op]?.[locale] ?? op;
}

/** Every built-in label table, for tests. */
export const LABEL_TABLES: Readonly<Record<string, Labels>> = {
  TIERS,
  DIMENSIONS,
  DIMENSION_GUIDANCE,
  METRICS,
  RISK,
  LIFECYCLE,
  REASONS,
  OUTCOMES,
  REJECT,
  PLAYBOOK,
  OPS,
};

/** "spendDrop" → "Spend drop", "no_answer" → "No answer" */
function humanize(key: string): string {
  const s = key
    .replace(/[_.-]+/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}
