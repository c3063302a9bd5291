// What every workflow needs, and the small helpers that turn stored records into card data.
import type { CustomerSummary, DimensionInfo, TierRef } from '../../../cards/common.ts';
import { computeValueScore } from '../../domain/engine.ts';
import type { Policy } from '../../domain/policy.ts';
import type { Metrics, TierState } from '../../domain/types.ts';
import type { DocStore } from '../../ports/doc-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ConsoleLinks, ConsolePage } from '../../ports/links.ts';
import type { CustomerRecord, Org, OrgTeam, OrgUser, Store } from '../../ports/store.ts';
import type { AuditLog } from '../audit.ts';
import type { Bot } from '../bot.ts';
import { AppError } from '../errors.ts';
import type { Notifier } from '../notifier.ts';
import type { Outbox } from '../outbox.ts';
import type { PolicyService } from '../policy-service.ts';
import type { Reevaluator } from '../reevaluate.ts';

export interface WorkflowDeps {
  store: Store;
  docs: DocStore;
  clock: Clock;
  policies: PolicyService;
  bot: Bot;
  notifier: Notifier;
  outbox: Outbox;
  audit: AuditLog;
  reevaluator: Reevaluator;
  /** links into the console that cards carry */
  links: ConsoleLinks;
  /** pending score requests expire after this many days */
  scoreRequestTtlDays: number;
  /** individual churn_alert and tier_change cards a person gets per local day from scheduled runs */
  maxCardsPerDay: number;
  log: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: (o: object, m: string) => void };
}

export class NotAuthorized extends AppError {
  constructor(message: string) {
    super('not_authorized', message);
  }
}

export async function loadOrg(store: Store): Promise<Org> {
  return (await store.getOrg()) ?? { users: [], teams: [] };
}

export const userById = (org: Org, id: string) => org.users.find((u) => u.id === id);
export const teamById = (org: Org, id: string | null) => (id ? org.teams.find((t) => t.id === id) : undefined);

/** The team a customer belongs to: its own, else its owner's. */
export function teamOf(org: Org, c: CustomerRecord): OrgTeam | undefined {
  return teamById(org, c.teamId ?? userById(org, c.ownerId)?.teamId ?? null);
}

export const isManagerOf = (user: OrgUser, team: OrgTeam | undefined) => Boolean(team?.managerIds.includes(user.id));

/** Who may see and act on a customer at all: its owner, its team's managers, admins. */
export function canActOn(user: OrgUser, org: Org, c: CustomerRecord): boolean {
  return user.role === 'admin' || c.ownerId === user.id || isManagerOf(user, teamOf(org, c));
}

export function summary(org: Org, c: CustomerRecord): CustomerSummary {
  return { id: c.id, name: c.name, ownerName: userById(org, c.ownerId)?.name, teamName: teamOf(org, c)?.name };
}

export function tierRef(state: TierState | null | undefined): TierRef | null {
  return state ? { key: state.tier, name: state.tierName, rank: state.tierRank } : null;
}

export function dimensions(policy: Policy): DimensionInfo[] {
  return policy.valueScore.dimensions.map((d) => ({ key: d.key, name: d.name, weight: d.weight, source: d.source, guidance: d.guidance ?? undefined }));
}

/** Points of the metric dimensions for a customer, from its latest metrics. */
export function metricPoints(policy: Policy, metrics: Metrics | null | undefined): Record<string, number> {
  if (!metrics) return {};
  const out: Record<string, number> = {};
  for (const d of computeValueScore({}, policy, metrics).dimensions) if (d.source === 'metric' && d.points !== null) out[d.key] = d.points;
  return out;
}

/**
 * The console opened on one customer (an id) or on a filtered list, for the person a card goes to: signed in
 * as `recipient` (signed, expiring, for that user only); without a recipient (a group chat) behind the sign-in.
 */
export function consoleLink(deps: Pick<WorkflowDeps, 'links'>, recipient: OrgUser | null | undefined, page?: string | ConsolePage): Promise<string> {
  return deps.links.url(recipient?.id ?? null, typeof page === 'string' ? { customer: page } : page);
}
