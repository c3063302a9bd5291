// Chat commands (README "Chat") and the card actions, registered on the Bot by key. Every handler is the
// same on Feishu, WeCom, DingTalk and the console: it never knows which platform it runs on.
import { customerName, personName } from '../../../cards/common.ts';
import { formatNumber, formatYuan } from '../../../cards/format.ts';
import { type MsgKey, riskLabel, t as cardText } from '../../../cards/i18n.ts';
import { type Block, type Card, CONTACT_OUTCOMES, type Inline } from '../../../cards/model.ts';
import { customerProfile } from '../../../cards/customer-profile.ts';
import { noticeCard } from '../../../cards/notice.ts';
import type { Recipient } from '../../ports/messenger.ts';
import type { CustomerRecord, Org, OrgUser } from '../../ports/store.ts';
import type { Bot, CommandContext } from '../bot.ts';
import { AppError } from '../errors.ts';
import { atRisk } from '../reports.ts';
import { formatInstant } from '../../domain/time.ts';
import type { Locale } from '../texts.ts';
import { SNOOZE_DAYS, type Alerts } from './alerts.ts';
import { canActOn, consoleLink, dimensions, summary, tierRef, userById, type WorkflowDeps } from './context.ts';
import type { Scoring } from './scoring.ts';

export { noticeCard };

// Replies are card data like every card: names, queries and ids go in as plain text (table cells,
// paragraph strings, code spans) and each platform's renderer escapes them, so a customer named
// `<at id=all></at>` or `<@all>` cannot mention anyone in a group chat.

const HELP: Record<Locale, Inline[]> = {
  'zh-CN': [
    [{ strong: '帮助' }, '：显示本说明'],
    [{ strong: '客户 <名称或编号>' }, '：查看客户层级、指标与风险'],
    [{ strong: '评分 <名称或编号>' }, '：打开评分卡片；或直接 ', { code: '评分 c-001 profitability=90 strength=80 备注=…' }],
    [{ strong: '风险' }, '：我负责的风险客户'],
    [{ strong: '待审批' }, '：待我审批的评分（经理）'],
  ],
  en: [
    [{ strong: 'help' }, ': this text'],
    [{ strong: 'tier <name or id>' }, ": a customer's tier, metrics and risk"],
    [{ strong: 'score <name or id>' }, ': open the score card; or directly ', { code: 'score c-001 profitability=90 strength=80 comment=…' }],
    [{ strong: 'atrisk' }, ': my at-risk customers'],
    [{ strong: 'pending' }, ': scores waiting for my approval (managers)'],
  ],
};

export function helpCard(locale: Locale, url: string): Card {
  return noticeCard(locale, locale === 'en' ? 'tierbot commands' : 'tierbot 指令', HELP[locale], url);
}

/** `query` is what the user typed: shown as plain text. */
export function noMatchCard(locale: Locale, query: string, url: string): Card {
  const en = locale === 'en';
  return noticeCard(locale, en ? 'No match' : '未找到客户', [en ? `No customer of yours matches "${query}".` : `在您可见的客户中没有找到“${query}”。`], url, 'warning');
}

/** An ambiguous name: the matches ranked, and the command that picks one. */
export function pickListCard(locale: Locale, command: string, matches: { id: string; name: string }[], url: string): Card {
  const en = locale === 'en';
  const table: Block = {
    type: 'table',
    columns: [cardText(locale, 'col.rank'), cardText(locale, 'col.customer'), en ? 'ID' : '编号'],
    rows: matches.map((c, i) => [String(i + 1), customerName(c), c.id]),
  };
  const example = `${command} ${matches[0]?.id ?? ''}`;
  const hint: Inline = en
    ? ['Reply with ', { code: `${command} <id>` }, ', e.g. ', { code: example }]
    : ['请回复 ', { code: `${command} <编号>` }, '，例如 ', { code: example }];
  return noticeCard(locale, en ? `${matches.length} customers match` : `找到 ${matches.length} 个客户`, [hint], url, 'info', [table]);
}

const AT_RISK_COLUMNS: MsgKey[] = ['col.rank', 'col.customer', 'col.tier', 'col.risk', 'col.valueAtStake'];

export interface AtRiskRow {
  name: string;
  tier: string;
  risk: string;
  valueAtStake: number;
}

/** `风险`/`atrisk`: my at-risk customers, ranked, with "N more" past the shown rows. */
export function atRiskCard(locale: Locale, r: { total: number; items: AtRiskRow[] }, url: string): Card {
  const en = locale === 'en';
  const title = en ? 'My at-risk customers' : '我的风险客户';
  if (r.items.length === 0) {
    return noticeCard(locale, title, [en ? 'No customer of yours is at risk.' : '您负责的客户目前没有流失风险。'], url, r.total ? 'warning' : 'success');
  }
  const table: Block = {
    type: 'table',
    columns: AT_RISK_COLUMNS.map((k) => cardText(locale, k)),
    rows: r.items.map((c, i) => [String(i + 1), customerName(c), c.tier, riskLabel(locale, c.risk), formatYuan(c.valueAtStake)]),
    ...(r.total > r.items.length ? { total: r.total } : {}),
  };
  return noticeCard(locale, title, [], url, 'warning', [table]);
}

export interface PendingRow {
  customer: string;
  total: number | null;
  submitter: string;
}

/** `待审批`/`pending`: the first scores waiting for my approval, with "N more". */
export function pendingCard(locale: Locale, rows: PendingRow[], total: number, url: string): Card {
  const en = locale === 'en';
  const title = en ? 'Pending approvals' : '待审批评分';
  if (rows.length === 0) return noticeCard(locale, title, [en ? 'Nothing waits for your approval.' : '没有待您审批的评分。'], url);
  const table: Block = {
    type: 'table',
    columns: [cardText(locale, 'col.rank'), cardText(locale, 'col.customer'), cardText(locale, 'f.total'), cardText(locale, 'f.submitter')],
    rows: rows.map((p, i) => [String(i + 1), customerName({ name: p.customer }), p.total === null ? '—' : formatNumber(p.total), personName({ name: p.submitter })]),
    ...(total > rows.length ? { total } : {}),
  };
  return noticeCard(locale, title, [], url, 'info', [table]);
}

const normalise = (s: string) =>
  s
    .toLowerCase()
    .replace(/(股份有限公司|有限责任公司|有限公司|集团|公司|co\.?,? ?ltd\.?|inc\.?|ltd\.?)/g, '')
    .replace(/[\s\-_.,，。()（）·]/g, '');

function bigrams(s: string): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < s.length - 1; i++) out.add(s.slice(i, i + 2));
  if (s.length === 1) out.add(s);
  return out;
}

/** 0..1: how well `query` names `c`. Exact id or name wins; then containment; then bigram overlap (Dice). */
export function matchScore(query: string, c: { id: string; name: string }): number {
  const q = normalise(query);
  if (!q) return 0;
  if (c.id.toLowerCase() === query.trim().toLowerCase()) return 1;
  const name = normalise(c.name);
  if (name === q) return 0.95;
  if (name.includes(q)) return 0.8 + 0.1 * (q.length / name.length);
  const a = bigrams(q);
  const b = bigrams(name);
  let common = 0;
  for (const x of a) if (b.has(x)) common++;
  return (0.7 * (2 * common)) / (a.size + b.size || 1);
}

export class Commands {
  constructor(
    private readonly deps: WorkflowDeps,
    private readonly scoring: Scoring,
    private readonly alerts: Alerts,
  ) {}

  register(bot: Bot): void {
    bot.command(['帮助', 'help', '?', '？'], async (ctx) => this.reply(ctx, helpCard(ctx.locale, await consoleLink(this.deps, ctx.user))));
    bot.command(['客户', 'tier', 'customer'], (ctx) => this.lookup(ctx));
    bot.command(['评分', 'score'], (ctx) => this.score(ctx));
    bot.command(['风险', 'atrisk'], (ctx) => this.myAtRisk(ctx));
    bot.command(['待审批', 'pending'], (ctx) => this.pending(ctx));

    bot.action('score.open', async ({ user, ref, event, later }) => {
      later(() => this.scoring.openForm(user, ref.customerId!, replyTarget(event.platform, event.actor.platformUserId)));
      return { toast: { kind: 'info', text: user.locale === 'en' ? 'Score card on its way' : '评分卡片已发送' } };
    });
    bot.action('score.submit', async ({ user, ref, event }) => {
      const values: Record<string, unknown> = { ...event.values };
      const request = await this.scoring.submit({ user, customerId: ref.customerId!, values, comment: event.values.comment, replyTo: replyTarget(event.platform, event.actor.platformUserId), platform: event.platform });
      return { toast: { kind: 'success', text: user.locale === 'en' ? `Submitted for approval (total ${request.total ?? '—'})` : `已提交审批（总分 ${request.total ?? '—'}）` } };
    });
    for (const [key, outcome] of [['score.approve', 'approved'], ['score.reject', 'rejected']] as const) {
      bot.action(key, async ({ user, ref, event }) => {
        // The reason field and the preset choice belong to "reject": an approval never takes them (a platform
        // may report a form's reason input or a preselected dropdown with any button of the card).
        const reason = outcome === 'rejected' ? event.values.reason || event.option || null : null;
        await this.scoring.decide({ user, requestId: ref.requestId!, outcome, reason, platform: event.platform });
        const en = user.locale === 'en';
        return { toast: { kind: 'success', text: outcome === 'approved' ? (en ? 'Approved' : '已通过') : en ? 'Rejected' : '已驳回' } };
      });
    }
    bot.action('followup.claim', async ({ user, ref, event, org }) => {
      const r = await this.alerts.claim(user, ref.customerId!, event.platform);
      const en = user.locale === 'en';
      if (r.already && r.claimedBy !== user.id) {
        const who = userById(org, r.claimedBy)?.name ?? r.claimedBy;
        return { toast: { kind: 'info', text: en ? `Already claimed by ${who}` : `已由 ${who} 认领` } };
      }
      return { toast: { kind: 'success', text: en ? 'Claimed: follow up today' : '已认领，请今日跟进' } };
    });
    bot.action('contact.log', async ({ user, ref, event }) => {
      const outcome = event.option ?? event.values.outcome;
      if (!outcome || !(CONTACT_OUTCOMES as readonly string[]).includes(outcome)) throw new AppError('validation_failed', user.locale === 'en' ? 'Pick an outcome first' : '请先选择联系结果');
      await this.alerts.logContact(user, ref.customerId!, outcome, event.platform, event.values.note);
      return { toast: { kind: 'success', text: user.locale === 'en' ? 'Contact logged' : '已记录联系结果' } };
    });
    bot.action('alert.snooze', async ({ user, ref, event }) => {
      await this.alerts.snooze(user, ref.customerId!, event.platform);
      return { toast: { kind: 'success', text: user.locale === 'en' ? 'Snoozed for 7 days' : '已暂停提醒 7 天' } };
    });
    bot.action('alert.notAtRisk', async ({ user, ref, event, org }) => {
      const r = await this.alerts.notAtRisk(user, ref.customerId!, event.platform);
      const en = user.locale === 'en';
      const who = userById(org, r.by)?.name ?? r.by;
      const { policy } = await this.deps.policies.active();
      const when = formatInstant(Date.parse(r.at), policy.timezone).slice(0, 16).replace('T', ' ');
      if (r.already) return { toast: { kind: 'info', text: en ? `Already marked not at risk by ${who} at ${when}` : `已由 ${who} 于 ${when} 标记为无流失风险，无需重复操作` } };
      return { toast: { kind: 'success', text: en ? `Marked not at risk by ${who} at ${when}; alerts snoozed ${SNOOZE_DAYS} days` : `已由 ${who} 于 ${when} 标记为无流失风险，${SNOOZE_DAYS} 天内不再提醒` } };
    });
    bot.action('tier.ack', async ({ user, ref, event }) => {
      await this.deps.audit.record({ actor: user.id, action: 'tier.ack', customerId: ref.customerId ?? null, requestId: null, outcome: 'ok', platform: event.platform, detail: {} });
      return { toast: { kind: 'success', text: user.locale === 'en' ? 'Acknowledged' : '已知悉' } };
    });
  }

  private async reply(ctx: CommandContext, card: Card): Promise<void> {
    const to = ctx.event.chat.kind === 'group' && ctx.event.platform !== 'console' ? chatTarget(ctx) : replyTarget(ctx.event.platform, ctx.event.actor.platformUserId);
    await this.deps.notifier.reply(to, card, { kind: 'reply', subject: ctx.event.eventId, period: card.kind });
  }

  /** Customers the user may see, best matches first. */
  async find(user: OrgUser, org: Org, query: string): Promise<CustomerRecord[]> {
    const q = query.trim();
    if (!q) return [];
    const exact = await this.deps.store.getCustomer(q);
    if (exact && canActOn(user, org, exact)) return [exact];
    const scope = user.role === 'admin' ? {} : user.role === 'manager' ? { teamId: user.teamId } : { ownerId: user.id };
    const candidates: CustomerRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.deps.store.listCustomers(scope, 500, cursor);
      candidates.push(...page.items.filter((c) => canActOn(user, org, c)));
      cursor = page.nextCursor ?? undefined;
    } while (cursor && candidates.length < 20_000);
    const scored = candidates.map((c) => ({ c, s: matchScore(q, c) })).filter((x) => x.s >= 0.35);
    scored.sort((a, b) => b.s - a.s || a.c.id.localeCompare(b.c.id));
    if (scored.length > 1 && scored[0].s >= 0.95 && scored[1].s < 0.95) return [scored[0].c];
    return scored.slice(0, 8).map((x) => x.c);
  }

  /** One match → `found`; several → a pick list; none → a clear answer. */
  private async resolve(ctx: CommandContext, found: (c: CustomerRecord) => Promise<void>, command: string): Promise<void> {
    const en = ctx.locale === 'en';
    const query = ctx.args.split(/\s+/).filter((w) => !w.includes('=')).join(' ');
    if (!query) {
      await this.reply(ctx, noticeCard(ctx.locale, en ? 'Which customer?' : '请提供客户', [en ? `Usage: ${command} <name or id>` : `用法：${command} <客户名称或编号>`], await consoleLink(this.deps, ctx.user)));
      return;
    }
    const matches = await this.find(ctx.user, ctx.org, query);
    if (matches.length === 1) return found(matches[0]);
    if (matches.length === 0) {
      await this.reply(ctx, noMatchCard(ctx.locale, query, await consoleLink(this.deps, ctx.user)));
      return;
    }
    await this.reply(ctx, pickListCard(ctx.locale, command, matches, await consoleLink(this.deps, ctx.user)));
  }

  private lookup(ctx: CommandContext): Promise<void> {
    return this.resolve(ctx, async (c) => {
      const { policy } = await this.deps.policies.active();
      const ref = await this.deps.bot.mintRef({ kind: 'customer', customerId: c.id, audience: [] });
      const s = c.state;
      const card = customerProfile(
        {
          ref, consoleUrl: await consoleLink(this.deps, ctx.user, c.id), timezone: policy.timezone, customer: summary(ctx.org, c),
          tier: s ? { ...tierRef(s)!, since: s.since, previous: s.previous } : null, metrics: s?.metrics ?? null, lifecycle: s?.lifecycle ?? null,
          risk: s?.risk ?? null, explanation: s?.explanation ?? null,
          score: c.score ? { points: c.score.points, approvedAt: c.score.approvedAt, approvedBy: userById(ctx.org, c.score.approvedBy) } : null,
          dimensions: dimensions(policy),
          snoozeDays: SNOOZE_DAYS,
        },
        ctx.locale,
      );
      await this.reply(ctx, card);
    }, ctx.locale === 'en' ? 'tier' : '客户');
  }

  private score(ctx: CommandContext): Promise<void> {
    const pairs = Object.fromEntries(
      ctx.args
        .split(/\s+/)
        .filter((w) => w.includes('='))
        .map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
    );
    return this.resolve(ctx, async (c) => {
      const to = replyTarget(ctx.event.platform, ctx.event.actor.platformUserId);
      if (Object.keys(pairs).length === 0) return this.scoring.openForm(ctx.user, c.id, to);
      const comment = pairs['备注'] ?? pairs.comment ?? '';
      try {
        const r = await this.scoring.submit({ user: ctx.user, customerId: c.id, values: pairs, comment, replyTo: to, platform: ctx.event.platform });
        const total = r.total === null || r.total === undefined ? '—' : formatNumber(r.total);
        await this.reply(ctx, noticeCard(ctx.locale, ctx.locale === 'en' ? 'Submitted for approval' : '评分已提交审批', [`${customerName(c)}${ctx.locale === 'en' ? ': ' : '：'}${total}`], await consoleLink(this.deps, ctx.user, c.id), 'success'));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        await this.reply(ctx, noticeCard(ctx.locale, ctx.locale === 'en' ? 'Not submitted' : '评分未提交', [err.message], await consoleLink(this.deps, ctx.user, c.id), 'warning'));
      }
    }, ctx.locale === 'en' ? 'score' : '评分');
  }

  private async myAtRisk(ctx: CommandContext): Promise<void> {
    const filter = ctx.user.role === 'rep' ? { ownerId: ctx.user.id } : ctx.user.role === 'manager' ? { teamId: ctx.user.teamId } : {};
    const r = await atRisk(this.deps.store, 10, filter);
    await this.reply(ctx, atRiskCard(ctx.locale, r, await consoleLink(this.deps, ctx.user)));
  }

  private async pending(ctx: CommandContext): Promise<void> {
    const teamIds = ctx.user.role === 'admin' ? ctx.org.teams.map((t) => t.id) : ctx.org.teams.filter((t) => t.managerIds.includes(ctx.user.id)).map((t) => t.id);
    const pending = (await this.scoring.pendingFor({ teamIds })).filter((p) => p.submittedBy !== ctx.user.id);
    const customers = new Map((await this.deps.store.getCustomers(pending.map((p) => p.customerId))).map((c) => [c.id, c]));
    const rows = pending.slice(0, 10).map((p) => ({
      customer: customers.get(p.customerId)?.name ?? p.customerId,
      total: p.total ?? null,
      submitter: userById(ctx.org, p.submittedBy)?.name ?? p.submittedBy,
    }));
    await this.reply(ctx, pendingCard(ctx.locale, rows, pending.length, await consoleLink(this.deps, ctx.user)));
  }
}

/** A reply goes back to the person on the platform they used. */
export function replyTarget(platform: Recipient['platform'], platformUserId: string): Recipient {
  return { platform, kind: 'user', id: platformUserId };
}

function chatTarget(ctx: CommandContext): Recipient {
  return { platform: ctx.event.platform, kind: 'chat', id: ctx.event.chat.id };
}

