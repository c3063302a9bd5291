// During each recompute: which risks deserve an alert (once per customer and risk state, snooze honoured),
// and at its end the cards within each person's daily budget plus one summary per person and team. Plus the alert card's actions: claim, log contact, snooze, not at risk, re-score.
import { alertSummary, ALERT_SUMMARY_TOP } from '../../../cards/alert-summary.ts';
import { churnAlert } from '../../../cards/churn-alert.ts';
import type { Locale } from '../../../cards/model.ts';
import { alertWorthy, SEVERITY } from '../../domain/alerting.ts';
import { monthlySpend } from '../../domain/engine.ts';
import { formatInstant } from '../../domain/time.ts';
import type { Policy } from '../../domain/policy.ts';
import type { AlertedRisk, RiskReason, TierState } from '../../domain/types.ts';
import type { Doc } from '../../ports/doc-store.ts';
import type { CustomerRecord, Org, OrgUser, RunRecord } from '../../ports/store.ts';
import { localeOf } from '../bot.ts';
import { AppError } from '../errors.ts';
import { NOT_AT_RISK_ACTION } from '../feedback.ts';
import { shownState, type Evaluated } from '../recompute.ts';
import { valueAtStake } from '../reports.ts';
import { canActOn, consoleLink, loadOrg, NotAuthorized, summary, teamById, tierRef, userById, type WorkflowDeps } from './context.ts';
import { addNotices, allocate, emptyBook, priorityOf, type Allocation, type NoticeBook } from './notices.ts';
import type { Scoring } from './scoring.ts';

export const SNOOZES = 'snoozes';
export const FOLLOWUPS = 'followups';
export const SNOOZE_DAYS = 7;
/** "not at risk" answers, one per customer and alert run: `customerId:runId` */
export const NOT_AT_RISK = 'notAtRisk';

interface NotAtRisk extends Doc {
  customerId: string;
  runId: string;
  rules: string[];
  by: string;
  at: string;
  until: string;
}

interface Snooze extends Doc {
  until: string;
  by: string;
}

/** What the owner was last alerted about; a re-run of the same run looks at the state before it. */
function lastAlerted(customer: CustomerRecord, runId: string): AlertedRisk | null {
  const shown = customer.state?.runId === runId ? customer.stateBeforeRun : customer.state;
  return shown?.alerted ?? null;
}

const ALERT_BUDGETS = 'alertBudgets';

/** Individual cards a person got on a local day, run by run. */
interface AlertBudget extends Doc {
  userId: string;
  date: string;
  runs: { runId: string; cards: number }[];
}

const budgetId = (userId: string, date: string) => `${userId}:${date}`;

/** The reason a row shows: the most severe, the first detector's on ties. */
function mainReason(state: TierState): RiskReason | null {
  let best: RiskReason | null = null;
  for (const r of state.risk.reasons) if (!best || SEVERITY[r.severity] > SEVERITY[best.severity]) best = r;
  return best;
}

interface RunContext {
  runId: string;
  org: Org;
  policy: Policy;
  users: Map<string, OrgUser>;
  topRank: number;
  teamIdOf: (c: CustomerRecord) => string | null;
}

export class Alerts {
  private context: RunContext | null = null;

  constructor(
    private readonly deps: WorkflowDeps,
    private readonly scoring: Scoring,
  ) {}

  /**
   * Before a recompute batch is written: which evaluations alert their owner (once per risk state,
   * snooze honoured, an owner needed). The decision travels in `state.alerted`, written with the state.
   */
  readonly decide = async (batch: Evaluated[], run: RunRecord): Promise<void> => {
    const worthy: Evaluated[] = [];
    for (const e of batch) {
      const last = lastAlerted(e.customer, run.id);
      e.state.alerted = e.state.risk.level === 'none' ? null : last;
      if (alertWorthy(last, e.state.risk)) worthy.push(e);
    }
    if (worthy.length === 0) return;
    const { users } = await this.runContext(run);
    const now = this.deps.clock.now();
    const snoozes = await this.deps.docs.find<Snooze>(SNOOZES, { _id: { $in: worthy.map((e) => e.customer.id) } });
    const snoozed = new Set(snoozes.filter((z) => Date.parse(z.until) > now).map((z) => z._id));
    for (const e of worthy) {
      if (snoozed.has(e.customer.id) || !users.has(e.customer.ownerId)) continue;
      const level = e.state.risk.level as AlertedRisk['level'];
      e.alert = true;
      e.state.alerted = { level, rules: e.state.risk.reasons.map((r) => r.rule).sort(), runId: run.id };
    }
  };

  /**
   * After the batch is written: its alerts and tier moves go into the run's notice book (kept with the
   * checkpoint). Nothing is sent yet: `finish` decides who gets which card once the whole run is known.
   */
  readonly collect = async (batch: Evaluated[], run: RunRecord): Promise<NoticeBook | null> => {
    const notable = batch.filter((e) => e.change || e.alert);
    if (notable.length === 0) return null;
    const { users, teamIdOf, topRank } = await this.runContext(run);
    const entries: Parameters<typeof addNotices>[1] = [];
    for (const e of notable) {
      const personal = users.has(e.customer.ownerId);
      const teamId = teamIdOf(e.customer);
      if (!personal && !teamId) continue;
      const level = e.state.risk.level;
      const base = {
        customerId: e.customer.id, name: e.customer.name, ownerId: e.customer.ownerId, level,
        valueAtStake: valueAtStake(e.state.metrics), baseline: Boolean(run.baseline) || !e.before,
        tier: tierRef(e.state), from: tierRef(e.before),
      };
      if (e.alert) entries.push({ notice: { ...base, kind: 'alert', priority: priorityOf('alert', level, false), reason: mainReason(e.state) }, personal, teamId });
      if (e.change) {
        const fromTop = e.before?.tierRank === topRank;
        entries.push({ notice: { ...base, kind: e.change, priority: priorityOf(e.change, level, fromTop), reason: null }, personal, teamId });
      }
    }
    // the run object is the recompute's own: its book is folded in place
    const book = (run.notices as NoticeBook | null | undefined) ?? emptyBook();
    return addNotices(book, entries, { cardSlots: this.deps.maxCardsPerDay, rowSlots: ALERT_SUMMARY_TOP });
  };

  /**
   * At the end of the run: each person gets the most important notices as individual cards, within what
   * their daily budget has left, and one summary of the rest; each team's managers get one team summary.
   * Scheduled news, so quiet hours hold them. Repeating it (a crash before the run is marked done) sends
   * the same cards: the budget records what each run took, and outbox keys carry the run id.
   */
  readonly finish = async (run: RunRecord): Promise<void> => {
    const book = run.notices as NoticeBook | null | undefined;
    if (!book || (Object.keys(book.people).length === 0 && Object.keys(book.teams).length === 0)) return;
    const { org, policy } = await this.runContext(run);
    const date = formatInstant(this.deps.clock.now(), policy.timezone).slice(0, 10);
    const people = Object.keys(book.people).flatMap((id) => userById(org, id) ?? []);
    const budgets = new Map(
      (await this.deps.docs.find<AlertBudget>(ALERT_BUDGETS, { _id: { $in: people.map((u) => budgetId(u.id, date)) } })).map((b) => [b._id, b]),
    );
    const plans = people.map((user) => {
      const budget = budgets.get(budgetId(user.id, date)) ?? { _id: budgetId(user.id, date), userId: user.id, date, runs: [] };
      const mine = budget.runs.find((r) => r.runId === run.id);
      const used = budget.runs.reduce((n, r) => n + (r.runId === run.id ? 0 : r.cards), 0);
      const remaining = mine ? mine.cards : Math.max(0, this.deps.maxCardsPerDay - used);
      return { user, budget, mine, allocation: allocate(book.people[user.id], remaining, ALERT_SUMMARY_TOP) };
    });
    const cardIds = [...new Set(plans.flatMap((p) => p.allocation.cards.map((n) => n.customerId)))];
    const customers = new Map((cardIds.length ? await this.deps.store.getCustomers(cardIds) : []).map((c) => [c.id, c]));

    for (const { user, budget, mine, allocation } of plans) {
      if (!mine && allocation.cards.length > 0) {
        await this.deps.docs.put(ALERT_BUDGETS, { ...budget, runs: [...budget.runs, { runId: run.id, cards: allocation.cards.length }] });
      }
      for (const n of allocation.cards) {
        const customer = customers.get(n.customerId);
        if (!customer?.state) continue;
        if (n.kind === 'alert') await this.sendAlert(org, customer, customer.state, policy, run);
        else await this.scoring.tierChangeTo(user, org, customer, shownState(customer, run.id), customer.state, policy, false);
      }
      if (allocation.total > 0) {
        const card = this.summaryCard('person', user.name, await consoleLink(this.deps, user, { owner: user.id }), org, policy, run, date, allocation, localeOf(user));
        await this.deps.notifier.toUser(user, card, { kind: 'alert_summary', subject: `user:${user.id}`, period: run.id }, false);
      }
    }

    for (const [teamId, ledger] of Object.entries(book.teams)) {
      const team = teamById(org, teamId);
      if (!team) continue;
      const allocation = allocate(ledger, 0, ALERT_SUMMARY_TOP);
      for (const manager of team.managerIds.flatMap((id) => userById(org, id) ?? [])) {
        const card = this.summaryCard('team', team.name, await consoleLink(this.deps, manager, { team: team.id }), org, policy, run, date, allocation, localeOf(manager));
        await this.deps.notifier.toUser(manager, card, { kind: 'alert_summary', subject: `team:${team.id}`, period: run.id }, false);
      }
    }
  };

  private summaryCard(scope: 'person' | 'team', name: string, url: string, org: Org, policy: Policy, run: RunRecord, date: string, a: Allocation, locale: Locale) {
    return alertSummary(
      {
        consoleUrl: url, timezone: policy.timezone, scope, name, baseline: Boolean(run.baseline), date, counts: a.counts,
        sentIndividually: scope === 'person' ? a.cards.length : 0, total: a.total,
        rows: a.rows.map((n) => ({
          customer: { id: n.customerId, name: n.name, ownerName: userById(org, n.ownerId)?.name },
          tier: n.tier, kind: n.kind, risk: n.level, valueAtStake: n.valueAtStake, reason: n.reason, from: n.from,
        })),
      },
      locale,
    );
  }

  /** The org and policy a run notifies under, read once per run. */
  private async runContext(run: RunRecord): Promise<RunContext> {
    if (this.context?.runId !== run.id) {
      const [org, { policy }] = await Promise.all([loadOrg(this.deps.store), this.deps.policies.byVersion(run.policyVersion)]);
      const users = new Map(org.users.map((u) => [u.id, u]));
      const teams = new Set(org.teams.map((t) => t.id));
      this.context = {
        runId: run.id, org, policy, users,
        topRank: Math.max(...policy.tiers.map((t) => t.rank)),
        // as teamOf: the customer's own team, else its owner's
        teamIdOf: (c) => {
          const id = c.teamId ?? users.get(c.ownerId)?.teamId ?? null;
          return id !== null && teams.has(id) ? id : null;
        },
      };
    }
    return this.context;
  }

  private async sendAlert(org: Org, customer: CustomerRecord, state: TierState, policy: Policy, run: RunRecord): Promise<void> {
    const owner = userById(org, customer.ownerId);
    if (!owner || !state.alerted) return;
    const asOf = Date.parse(run.asOf);
    const spend = monthlySpend(customer.rollup, asOf, policy.timezone, 11);
    const lastIndex = customer.rollup.t.length - 1;
    const ref = await this.deps.bot.mintRef({ kind: 'alert', customerId: customer.id, audience: [] });
    const card = churnAlert(
      {
        ref,
        consoleUrl: await consoleLink(this.deps, owner, customer.id),
        timezone: policy.timezone,
        customer: summary(org, customer),
        tier: tierRef(state),
        risk: state.risk,
        lastOrder: lastIndex >= 0 ? { at: formatInstant(customer.rollup.t[lastIndex], policy.timezone), amount: customer.rollup.a[lastIndex] / 100 } : null,
        recencyDays: state.metrics.recencyDays,
        trend: { months: spend.map((s) => s.month), spend: spend.map((s) => s.amount) },
        snoozeDays: SNOOZE_DAYS,
      },
      localeOf(owner),
    );
    const { level, rules } = state.alerted;
    await this.deps.notifier.toUser(owner, card, { kind: 'churn_alert', subject: customer.id, period: `${level}:${rules.join('+')}:${run.id}` }, false);
  }

  /** Claim, snooze and log actions: owner or team manager, and admins (docs/architecture.md, "Authorization"). */
  private async authorised(user: OrgUser, customerId: string, action: string, platform: string) {
    const org = await loadOrg(this.deps.store);
    const customer = await this.deps.store.getCustomer(customerId);
    if (!customer || !canActOn(user, org, customer)) {
      await this.deps.audit.record({ actor: user.id, action, customerId, requestId: null, outcome: 'refused', platform, detail: {} });
      throw new NotAuthorized(localeOf(user) === 'en' ? 'Only the owner or a manager of its team can do this' : '只有客户负责人或所在团队经理可以操作');
    }
    return { org, customer };
  }

  async claim(user: OrgUser, customerId: string, platform: string): Promise<{ claimedBy: string; already: boolean }> {
    await this.authorised(user, customerId, 'followup.claim', platform);
    const day = new Date(this.deps.clock.now()).toISOString().slice(0, 10);
    const won = await this.deps.docs.insert(FOLLOWUPS, { _id: `${customerId}:${day}`, customerId, by: user.id, at: new Date(this.deps.clock.now()).toISOString() });
    const holder = won ? user.id : ((await this.deps.docs.get<Doc & { by: string }>(FOLLOWUPS, `${customerId}:${day}`))?.by ?? user.id);
    await this.deps.audit.record({ actor: user.id, action: 'followup.claim', customerId, requestId: null, outcome: won ? 'ok' : 'conflict', platform, detail: { claimedBy: holder } });
    return { claimedBy: holder, already: !won };
  }

  async logContact(user: OrgUser, customerId: string, outcome: string, platform: string, note?: string): Promise<void> {
    await this.authorised(user, customerId, 'contact.log', platform);
    await this.deps.audit.record({ actor: user.id, action: 'contact.log', customerId, requestId: null, outcome: 'ok', platform, detail: { outcome, note: note ?? null } });
  }

  /**
   * "Not at risk": the alert the customer last got was a false alarm. Recorded once per alert (a second
   * click changes nothing), audited with its run and detector rules (the detector feedback report counts
   * it as rejected), and the customer's alerts are snoozed for SNOOZE_DAYS like the snooze action.
   */
  async notAtRisk(user: OrgUser, customerId: string, platform: string): Promise<{ by: string; at: string; until: string; already: boolean }> {
    const { customer } = await this.authorised(user, customerId, NOT_AT_RISK_ACTION, platform);
    const alerted = customer.state?.alerted ?? customer.stateBeforeRun?.alerted ?? null;
    if (!alerted) {
      throw new AppError('validation_failed', localeOf(user) === 'en' ? 'This customer has no churn alert to mark' : '该客户当前没有流失提醒');
    }
    const now = this.deps.clock.now();
    const at = new Date(now).toISOString();
    const until = new Date(now + SNOOZE_DAYS * 86_400_000).toISOString();
    const id = `${customerId}:${alerted.runId}`;
    const mark: NotAtRisk = { _id: id, customerId, runId: alerted.runId, rules: alerted.rules, by: user.id, at, until };
    if (!(await this.deps.docs.insert(NOT_AT_RISK, mark))) {
      const prior = (await this.deps.docs.get<NotAtRisk>(NOT_AT_RISK, id)) ?? mark;
      return { by: prior.by, at: prior.at, until: prior.until, already: true };
    }
    const current = await this.deps.docs.get<Snooze>(SNOOZES, customerId);
    if (!current || Date.parse(current.until) < Date.parse(until)) await this.deps.docs.put(SNOOZES, { _id: customerId, until, by: user.id });
    await this.deps.audit.record({
      actor: user.id, action: NOT_AT_RISK_ACTION, customerId, requestId: null, outcome: 'ok', platform,
      detail: { runId: alerted.runId, rules: alerted.rules, level: alerted.level, until },
    });
    return { by: user.id, at, until, already: false };
  }

  async snooze(user: OrgUser, customerId: string, platform: string): Promise<string> {
    await this.authorised(user, customerId, 'alert.snooze', platform);
    const until = new Date(this.deps.clock.now() + SNOOZE_DAYS * 86_400_000).toISOString();
    await this.deps.docs.put(SNOOZES, { _id: customerId, until, by: user.id });
    await this.deps.audit.record({ actor: user.id, action: 'alert.snooze', customerId, requestId: null, outcome: 'ok', platform, detail: { until } });
    return until;
  }
}
