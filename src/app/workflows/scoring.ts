// Manual scoring with manager approval (README "Chat"; who may submit and decide: docs/architecture.md, "Authorization").
// The decision is taken by inserting the decision document: racing clicks and repeated deliveries
// give exactly one decision; everyone else is told who decided.
import { randomBytes } from 'node:crypto';
import { approvalRequest } from '../../../cards/approval-request.ts';
import { approvalResult, type ApprovalOutcome } from '../../../cards/approval-result.ts';
import type { ScoreRequest } from '../../../cards/approval-request.ts';
import { scoreForm } from '../../../cards/score-form.ts';
import { tierChange } from '../../../cards/tier-change.ts';
import { computeValueScore } from '../../domain/engine.ts';
import type { Policy } from '../../domain/policy.ts';
import type { TierState } from '../../domain/types.ts';
import type { Doc } from '../../ports/doc-store.ts';
import type { Recipient } from '../../ports/messenger.ts';
import type { CustomerRecord, Org, OrgUser } from '../../ports/store.ts';
import { AppError, NotFound, ValidationFailed } from '../errors.ts';
import { localeOf } from '../bot.ts';
import {
  canActOn, consoleLink, dimensions, isManagerOf, loadOrg, metricPoints, NotAuthorized, summary, teamOf, tierRef, userById,
  type WorkflowDeps,
} from './context.ts';

export const SCORE_REQUESTS = 'scoreRequests';
export const SCORE_DECISIONS = 'scoreDecisions';

export type RequestStatus = 'pending' | ApprovalOutcome;

export interface ScoreRequestDoc extends Doc {
  customerId: string;
  teamId: string | null;
  points: Record<string, number>;
  comment: string;
  submittedBy: string;
  submittedAt: string;
  total: number | null;
  previousTotal: number | null;
  status: RequestStatus;
  expiresAt: string;
  /** outbox ids of the approval_request cards, to update them in place */
  managerCards: string[];
  /** where the submitter wrote from, for the result card */
  replyTo: Recipient | null;
  ref: string;
}

export interface DecisionDoc extends Doc {
  outcome: ApprovalOutcome;
  by: string;
  byName: string;
  at: string;
  reason: string | null;
}

const POINTS = /^\d{1,3}$/;

export class Scoring {
  constructor(private readonly deps: WorkflowDeps) {}

  async init(): Promise<void> {
    await this.deps.docs.ensureIndex(SCORE_REQUESTS, ['customerId', 'status']);
    await this.deps.docs.ensureIndex(SCORE_REQUESTS, ['teamId', 'status']);
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /** Sends the score form to `user` (as a reply where they asked). */
  async openForm(user: OrgUser, customerId: string, replyTo: Recipient | null): Promise<void> {
    const { store, policies, bot, notifier } = this.deps;
    const org = await loadOrg(store);
    const customer = await this.customer(customerId);
    if (!canSubmit(user, org, customer)) {
      await this.deps.audit.record({ actor: user.id, action: 'score.open', customerId, requestId: null, outcome: 'refused', platform: replyTo?.platform ?? 'api', detail: {} });
      throw new NotAuthorized(localeOf(user) === 'en' ? 'Only the owner, a manager of its team or an admin can score this customer' : '只有客户负责人、所在团队经理或管理员可以为该客户评分');
    }
    const { policy } = await policies.active();
    const ref = await bot.mintRef({ kind: 'score', customerId, audience: [user.id] });
    const card = scoreForm(
      {
        ref,
        consoleUrl: await consoleLink(this.deps, user, customerId),
        timezone: policy.timezone,
        customer: summary(org, customer),
        tier: tierRef(customer.state),
        dimensions: dimensions(policy),
        current: customer.score ? { points: customer.score.points, approvedAt: customer.score.approvedAt, approvedBy: userById(org, customer.score.approvedBy) } : null,
        metricPoints: metricPoints(policy, customer.state?.metrics),
      },
      localeOf(user),
    );
    const key = { kind: 'score_form', subject: customerId, period: ref };
    if (replyTo) await notifier.reply(replyTo, card, key);
    else await notifier.toUser(user, card, key, true);
  }

  /** Validates a submission, files a pending request, supersedes older ones and asks the managers. */
  async submit(input: { user: OrgUser; customerId: string; values: Record<string, unknown>; comment?: string; replyTo: Recipient | null; platform: string }): Promise<ScoreRequestDoc> {
    const { store, policies, docs, audit, clock } = this.deps;
    const { user, customerId } = input;
    const org = await loadOrg(store);
    const customer = await this.customer(customerId);
    if (!canSubmit(user, org, customer)) {
      await audit.record({ actor: user.id, action: 'score.submit', customerId, requestId: null, outcome: 'refused', platform: input.platform, detail: {} });
      throw new NotAuthorized(localeOf(user) === 'en' ? 'Only the owner, a manager of its team or an admin can score this customer' : '只有客户负责人、所在团队经理或管理员可以为该客户评分');
    }
    const { policy } = await policies.active();
    const points = validatePoints(policy, input.values, localeOf(user));
    const comment = String(input.comment ?? input.values.comment ?? '').trim().slice(0, 1000);
    const breakdown = computeValueScore(points, policy, customer.state?.metrics ?? null);
    const team = teamOf(org, customer);
    const id = `sr-${randomBytes(8).toString('hex')}`;
    const now = clock.now();
    const request: ScoreRequestDoc = {
      _id: id,
      customerId,
      teamId: team?.id ?? null,
      points,
      comment,
      submittedBy: user.id,
      submittedAt: new Date(now).toISOString(),
      total: breakdown.total,
      previousTotal: customer.state?.metrics.valueScore ?? null,
      status: 'pending',
      expiresAt: new Date(now + this.deps.scoreRequestTtlDays * 86_400_000).toISOString(),
      managerCards: [],
      replyTo: input.replyTo,
      ref: await this.deps.bot.mintRef({ kind: 'approval', customerId, requestId: id, audience: [] }),
    };
    await docs.insert(SCORE_REQUESTS, request);
    await audit.record({ actor: user.id, action: 'score.submit', customerId, requestId: id, outcome: 'ok', platform: input.platform, detail: { points, total: breakdown.total, comment } });

    // a newer submission supersedes any pending one for the same customer
    const older = await docs.find<ScoreRequestDoc>(SCORE_REQUESTS, { customerId, status: 'pending' });
    for (const o of older) if (o._id !== id) await this.close(o, { outcome: 'superseded', by: user, reason: null, org, customer });

    const deciders = decidersFor(org, customer).filter((m) => m.id !== user.id);
    const outboxIds: string[] = [];
    for (const manager of deciders) {
      const card = approvalRequest({ ...this.requestCardData(request, org, customer, policy), ref: request.ref, consoleUrl: await consoleLink(this.deps, manager, customerId), timezone: policy.timezone }, localeOf(manager));
      const sent = await this.deps.notifier.toUser(manager, card, { kind: 'approval_request', subject: id, period: manager.id }, true);
      outboxIds.push(sent.id);
    }
    request.managerCards = outboxIds;
    await docs.update(SCORE_REQUESTS, id, { managerCards: outboxIds });
    return request;
  }

  /** A manager's approve or reject. Exactly one decision per request, whoever clicks first. */
  async decide(input: { user: OrgUser; requestId: string; outcome: 'approved' | 'rejected'; reason?: string | null; platform: string }): Promise<{ request: ScoreRequestDoc; decision: DecisionDoc }> {
    const { docs, audit, store } = this.deps;
    const { user, requestId, outcome } = input;
    const en = localeOf(user) === 'en';
    const request = await docs.get<ScoreRequestDoc>(SCORE_REQUESTS, requestId);
    if (!request) throw new NotFound(`score request "${requestId}"`);
    const org = await loadOrg(store);
    const customer = await this.customer(request.customerId);
    const refusal = decisionRefusal(user, org, customer, request, en);
    if (refusal) {
      await audit.record({ actor: user.id, action: `score.${outcome === 'approved' ? 'approve' : 'reject'}`, customerId: customer.id, requestId, outcome: 'refused', platform: input.platform, detail: { why: refusal } });
      throw new NotAuthorized(refusal);
    }
    const reason = input.reason?.trim() || null;
    if (outcome === 'rejected' && !reason) throw new ValidationFailed(en ? 'A reason is required to reject' : '驳回需要填写原因', [{ path: 'reason', message: en ? 'is required' : '必填' }]);
    if (request.status === 'pending' && Date.parse(request.expiresAt) <= this.deps.clock.now()) {
      await this.close(request, { outcome: 'expired', by: null, reason: null, org, customer });
    }
    const decision = await this.close(request, { outcome, by: user, reason, org, customer });
    if (!decision.won) {
      await audit.record({ actor: user.id, action: `score.${outcome === 'approved' ? 'approve' : 'reject'}`, customerId: customer.id, requestId, outcome: 'conflict', platform: input.platform, detail: { decidedBy: decision.decision.by, outcome: decision.decision.outcome } });
      throw new AlreadyDecided(decision.decision, en);
    }
    await audit.record({ actor: user.id, action: `score.${outcome === 'approved' ? 'approve' : 'reject'}`, customerId: customer.id, requestId, outcome: 'ok', platform: input.platform, detail: { reason } });
    return { request: { ...request, status: outcome }, decision: decision.decision };
  }

  /** Expires pending requests past their deadline; returns how many. */
  async expireOverdue(): Promise<number> {
    const now = new Date(this.deps.clock.now()).toISOString();
    const overdue = await this.deps.docs.find<ScoreRequestDoc>(SCORE_REQUESTS, { status: 'pending', expiresAt: { $lte: now } }, { limit: 500 });
    if (overdue.length === 0) return 0;
    const org = await loadOrg(this.deps.store);
    let n = 0;
    for (const r of overdue) {
      const customer = await this.deps.store.getCustomer(r.customerId);
      if (customer && (await this.close(r, { outcome: 'expired', by: null, reason: null, org, customer })).won) n++;
    }
    return n;
  }

  async pendingFor(filter: { teamIds?: string[]; customerId?: string }): Promise<ScoreRequestDoc[]> {
    const f: Record<string, unknown> = { status: 'pending' };
    if (filter.customerId) f.customerId = filter.customerId;
    if (filter.teamIds) f.teamId = { $in: filter.teamIds };
    return this.deps.docs.find<ScoreRequestDoc>(SCORE_REQUESTS, f as never, { sort: [['submittedAt', 1]], limit: 200 });
  }

  /**
   * Takes the decision (insert wins) and carries it out: request status, score and re-evaluation
   * on approval, the managers' cards updated in place, the submitter told.
   */
  private async close(
    request: ScoreRequestDoc,
    d: { outcome: ApprovalOutcome; by: OrgUser | null; reason: string | null; org: Org; customer: CustomerRecord },
  ): Promise<{ won: boolean; decision: DecisionDoc }> {
    const { docs, store, policies } = this.deps;
    const decision: DecisionDoc = { _id: request._id, outcome: d.outcome, by: d.by?.id ?? 'system', byName: d.by?.name ?? 'tierbot', at: this.now(), reason: d.reason };
    if (!(await docs.insert(SCORE_DECISIONS, decision))) {
      return { won: false, decision: (await docs.get<DecisionDoc>(SCORE_DECISIONS, request._id))! };
    }
    await docs.update(SCORE_REQUESTS, request._id, { status: d.outcome, decidedAt: decision.at, decidedBy: decision.by });
    const { policy } = await policies.active();

    let newValueScore: number | null | undefined;
    let newTier = undefined as ReturnType<typeof tierRef> | undefined;
    if (d.outcome === 'approved') {
      await store.setScore(request.customerId, { points: request.points, approvedBy: decision.by, approvedAt: decision.at, submittedBy: request.submittedBy, requestId: request._id });
      const re = await this.deps.reevaluator.reevaluate(request.customerId);
      newValueScore = re.state.metrics.valueScore;
      newTier = tierRef(re.state);
      if (re.change) await this.tierChanged(d.org, d.customer, re.before, re.state, policy);
    }

    const base = this.requestCardData(request, d.org, d.customer, policy);
    const result = async (view: 'submitter' | 'managers', ref: string, to: OrgUser | undefined) =>
      approvalResult(
        {
          view, ref, consoleUrl: await consoleLink(this.deps, to, request.customerId), timezone: policy.timezone,
          outcome: d.outcome, request: base, decidedBy: d.by ?? undefined, decidedAt: decision.at, reason: d.reason ?? undefined,
          newValueScore, newTier, supersededAt: d.outcome === 'superseded' ? decision.at : undefined,
          expiredAfterDays: d.outcome === 'expired' ? this.deps.scoreRequestTtlDays : undefined,
        },
        localeOf(to),
      );
    for (const outboxId of request.managerCards) {
      const manager = managerForRecipient(d.org, outboxId);
      await this.deps.outbox.enqueueUpdate(outboxId, await result('managers', request.ref, manager), `decided-${d.outcome}`);
    }
    const submitter = userById(d.org, request.submittedBy);
    if (submitter) {
      const card = await result('submitter', request.ref, submitter);
      const key = { kind: 'approval_result', subject: request._id, period: d.outcome };
      if (request.replyTo) await this.deps.notifier.reply(request.replyTo, card, key);
      else await this.deps.notifier.toUser(submitter, card, key, true);
    }
    return { won: true, decision };
  }

  /** A tier move from a person's own action (an approved score): the owner, and managers when a top-tier customer drops. */
  async tierChanged(org: Org, customer: CustomerRecord, before: TierState | null, state: TierState, policy: Policy, interactive = true): Promise<void> {
    const owner = userById(org, customer.ownerId);
    const recipients: OrgUser[] = owner ? [owner] : [];
    const topRank = Math.max(...policy.tiers.map((t) => t.rank));
    if (before && before.tierRank === topRank && state.tierRank < topRank) {
      for (const id of teamOf(org, customer)?.managerIds ?? []) {
        const m = userById(org, id);
        if (m && m.id !== owner?.id) recipients.push(m);
      }
    }
    const ref = await this.deps.bot.mintRef({ kind: 'tier', customerId: customer.id, audience: [] });
    for (const user of recipients) await this.sendTierChange(user, ref, org, customer, before, state, policy, interactive);
  }

  /** One tier_change card to one person (the recompute's budgeted cards go to the owner only). */
  async tierChangeTo(user: OrgUser, org: Org, customer: CustomerRecord, before: TierState | null, state: TierState, policy: Policy, interactive: boolean): Promise<void> {
    const ref = await this.deps.bot.mintRef({ kind: 'tier', customerId: customer.id, audience: [] });
    await this.sendTierChange(user, ref, org, customer, before, state, policy, interactive);
  }

  private async sendTierChange(user: OrgUser, ref: string, org: Org, customer: CustomerRecord, before: TierState | null, state: TierState, policy: Policy, interactive: boolean) {
    const rule = policy.tiers.find((t) => t.key === state.tier);
    const card = tierChange(
      {
        ref, consoleUrl: await consoleLink(this.deps, user, customer.id), timezone: policy.timezone,
        customer: summary(org, customer), from: tierRef(before), to: tierRef(state)!, explanation: state.explanation,
        playbook: rule?.playbook as never, since: state.since,
      },
      localeOf(user),
    );
    await this.deps.notifier.toUser(user, card, { kind: 'tier_change', subject: customer.id, period: `${before?.tier ?? '-'}>${state.tier}@${state.runId}` }, interactive);
  }

  private requestCardData(request: ScoreRequestDoc, org: Org, customer: CustomerRecord, policy: Policy): ScoreRequest {
    return {
      customer: summary(org, customer),
      tier: tierRef(customer.state),
      submitter: userById(org, request.submittedBy) ?? { name: request.submittedBy },
      submittedAt: request.submittedAt,
      dimensions: dimensions(policy),
      points: request.points,
      metricPoints: metricPoints(policy, customer.state?.metrics),
      total: request.total,
      previousTotal: request.previousTotal,
      comment: request.comment,
    };
  }

  private async customer(id: string): Promise<CustomerRecord> {
    const c = await this.deps.store.getCustomer(id);
    if (!c) throw new NotFound(`customer "${id}"`);
    return c;
  }
}

export class AlreadyDecided extends AppError {
  constructor(readonly decision: DecisionDoc, en: boolean) {
    const outcome = en ? decision.outcome : ({ approved: '通过', rejected: '驳回', superseded: '被新评分取代', expired: '已过期' } as const)[decision.outcome];
    super('already_decided', en ? `Already ${decision.outcome} by ${decision.byName}` : decision.by === 'system' ? `该评分已${outcome}` : `已由 ${decision.byName} ${outcome}`, [
      { outcome: decision.outcome, by: decision.by, at: decision.at },
    ]);
  }
}

/** Owner, a manager of the customer's team, or an admin. */
export function canSubmit(user: OrgUser, org: Org, customer: CustomerRecord): boolean {
  return canActOn(user, org, customer);
}

/** Why `user` may not decide, or null. Only the team's managers or an admin, never the submitter. */
export function decisionRefusal(user: OrgUser, org: Org, customer: CustomerRecord, request: ScoreRequestDoc, en: boolean): string | null {
  if (user.id === request.submittedBy) return en ? 'You cannot approve your own score' : '不能审批自己提交的评分';
  if (user.role !== 'admin' && !isManagerOf(user, teamOf(org, customer))) return en ? "Only a manager of the customer's team or an admin can decide" : '只有客户所在团队的经理或管理员可以审批';
  return null;
}

/** The managers of the customer's team; admins when the team has none. */
export function decidersFor(org: Org, customer: CustomerRecord): OrgUser[] {
  const managers = (teamOf(org, customer)?.managerIds ?? []).map((id) => userById(org, id)).filter((u): u is OrgUser => Boolean(u));
  return managers.length > 0 ? managers : org.users.filter((u) => u.role === 'admin');
}

function managerForRecipient(org: Org, outboxId: string): OrgUser | undefined {
  // outbox ids of approval cards end with the manager's id (the period of the key)
  const managerId = outboxId.split('|').pop();
  return managerId ? userById(org, managerId) : undefined;
}

/** Every manual dimension needs an integer 0–100; the error names each bad field. */
export function validatePoints(policy: Policy, values: Record<string, unknown>, locale: 'zh-CN' | 'en'): Record<string, number> {
  const points: Record<string, number> = {};
  const problems: { path: string; message: string }[] = [];
  for (const d of policy.valueScore.dimensions) {
    if (d.source !== 'manual') continue;
    const raw = values[d.key];
    const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
    const n = Number(text);
    if (!POINTS.test(text) || n > 100) {
      problems.push({ path: d.key, message: locale === 'en' ? `${d.name}: enter a whole number from 0 to 100` : `${d.name}：请输入 0–100 的整数` });
    } else points[d.key] = n;
  }
  if (problems.length > 0) throw new ValidationFailed(problems.map((p) => p.message).join('；'), problems);
  return points;
}
