// During each recompute: churn-risk alerts to owners (once per customer and risk state, snooze honoured)
// and tier-change cards. Plus the alert card's actions: claim, log contact, snooze, re-score.
import { churnAlert } from '../../../cards/churn-alert.ts';
import { monthlySpend } from '../../domain/engine.ts';
import { formatInstant } from '../../domain/time.ts';
import type { Policy } from '../../domain/policy.ts';
import type { AlertedRisk, TierState } from '../../domain/types.ts';
import type { Doc } from '../../ports/doc-store.ts';
import type { CustomerRecord, Org, OrgUser, RunRecord } from '../../ports/store.ts';
import { localeOf } from '../bot.ts';
import type { Evaluated } from '../recompute.ts';
import { canActOn, consoleUrl, loadOrg, NotAuthorized, summary, tierRef, userById, type WorkflowDeps } from './context.ts';
import type { Scoring } from './scoring.ts';

export const SNOOZES = 'snoozes';
export const FOLLOWUPS = 'followups';
export const SNOOZE_DAYS = 7;

const SEVERITY = { none: 0, low: 1, medium: 2, high: 3 } as const;

interface Snooze extends Doc {
  until: string;
  by: string;
}

/** True when `now` deserves an alert compared with what was last alerted: a new rule fired or the level rose. */
export function alertWorthy(last: { level: keyof typeof SEVERITY; rules: string[] } | null, now: TierState['risk']): boolean {
  if (now.level === 'none') return false;
  if (!last || last.level === 'none') return true;
  if (SEVERITY[now.level] > SEVERITY[last.level]) return true;
  return now.reasons.some((r) => !last.rules.includes(r.rule));
}

/** What the owner was last alerted about; a re-run of the same run looks at the state before it. */
function lastAlerted(customer: CustomerRecord, runId: string): AlertedRisk | null {
  const shown = customer.state?.runId === runId ? customer.stateBeforeRun : customer.state;
  return shown?.alerted ?? null;
}

export class Alerts {
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
    const org = await loadOrg(this.deps.store);
    const now = this.deps.clock.now();
    const snoozes = await this.deps.docs.find<Snooze>(SNOOZES, { _id: { $in: worthy.map((e) => e.customer.id) } });
    const snoozed = new Set(snoozes.filter((z) => Date.parse(z.until) > now).map((z) => z._id));
    for (const e of worthy) {
      if (snoozed.has(e.customer.id) || !userById(org, e.customer.ownerId)) continue;
      const level = e.state.risk.level as AlertedRisk['level'];
      e.alert = true;
      e.state.alerted = { level, rules: e.state.risk.reasons.map((r) => r.rule).sort(), runId: run.id };
    }
  };

  /**
   * After the batch is written: its tier-change cards and alerts go to the outbox. `interactive` is
   * false, so cards wait for quiet hours to end. Keys carry the run id: a repeated batch sends nothing twice.
   */
  readonly deliver = async (batch: Evaluated[], run: RunRecord): Promise<void> => {
    const notable = batch.filter((e) => e.change || e.alert);
    if (notable.length === 0) return;
    const org = await loadOrg(this.deps.store);
    const { policy } = await this.deps.policies.byVersion(run.policyVersion);
    for (const e of notable) {
      if (e.change) await this.scoring.tierChanged(org, e.customer, e.before, e.state, policy, false);
      if (e.alert) await this.sendAlert(org, e.customer, e.state, policy, run);
    }
  };

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
        consoleUrl: consoleUrl(this.deps, customer.id),
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

  async snooze(user: OrgUser, customerId: string, platform: string): Promise<string> {
    await this.authorised(user, customerId, 'alert.snooze', platform);
    const until = new Date(this.deps.clock.now() + SNOOZE_DAYS * 86_400_000).toISOString();
    await this.deps.docs.put(SNOOZES, { _id: customerId, until, by: user.id });
    await this.deps.audit.record({ actor: user.id, action: 'alert.snooze', customerId, requestId: null, outcome: 'ok', platform, detail: { until } });
    return until;
  }
}
