// The daily digest per team: at-risk customers ranked by value at stake, tier moves since the
// previous digest, pending approvals; to every team chat configured (and the console).
import { dailyDigest, type DigestMove, type DigestRiskRow } from '../../../cards/daily-digest.ts';
import { formatInstant } from '../../domain/time.ts';
import type { Doc } from '../../ports/doc-store.ts';
import type { OrgTeam } from '../../ports/store.ts';
import { atRisk } from '../reports.ts';
import { loadOrg, userById, type WorkflowDeps } from './context.ts';
import type { Scoring } from './scoring.ts';

const DIGEST_STATE = 'digestState';

interface DigestState extends Doc {
  lastAt: string;
}

export interface DigestSummary {
  teamId: string;
  date: string;
  atRisk: number;
  moves: number;
  pending: number;
  queued: number;
}

export class Digests {
  constructor(
    private readonly deps: WorkflowDeps,
    private readonly scoring: Scoring,
  ) {}

  /** Sends the digest of one team (or all); at most once per team and local day. */
  async run(teamId?: string): Promise<DigestSummary[]> {
    const org = await loadOrg(this.deps.store);
    const teams = org.teams.filter((t) => !teamId || t.id === teamId);
    const out: DigestSummary[] = [];
    for (const team of teams) out.push(await this.runTeam(team));
    return out;
  }

  private async runTeam(team: OrgTeam): Promise<DigestSummary> {
    const { store, docs, clock, policies } = this.deps;
    const org = await loadOrg(store);
    const { policy } = await policies.active();
    const now = clock.now();
    const date = formatInstant(now, policy.timezone).slice(0, 10);
    const state = await docs.get<DigestState>(DIGEST_STATE, team.id);
    const since = state?.lastAt ?? new Date(now - 86_400_000).toISOString();

    const risk = await atRisk(store, 10_000, { teamId: team.id });
    const atRiskRows: DigestRiskRow[] = risk.items.map((r) => ({
      customer: { id: r.id, name: r.name, ownerName: userById(org, r.ownerId)?.name },
      tier: { key: r.tier, name: policy.tiers.find((t) => t.key === r.tier)?.name, rank: policy.tiers.find((t) => t.key === r.tier)?.rank },
      risk: r.risk as DigestRiskRow['risk'],
      valueAtStake: r.valueAtStake,
    }));

    const history = (await store.historySince(since, 50_000)).filter((h) => h.from !== null && h.from !== h.to);
    const customers = new Map((await store.getCustomers([...new Set(history.map((h) => h.customerId))])).map((c) => [c.id, c]));
    const rank = (key: string | null) => policy.tiers.find((t) => t.key === key)?.rank ?? 0;
    const moves: DigestMove[] = [];
    for (const h of history) {
      const c = customers.get(h.customerId);
      if (!c || (c.teamId ?? userById(org, c.ownerId)?.teamId) !== team.id) continue;
      const tierOf = (key: string) => ({ key, name: policy.tiers.find((t) => t.key === key)?.name, rank: rank(key) });
      moves.push({ customer: { id: c.id, name: c.name }, from: tierOf(h.from!), to: tierOf(h.to), direction: rank(h.to) > rank(h.from) ? 'upgrade' : 'downgrade' });
    }

    const pendingDocs = await this.scoring.pendingFor({ teamIds: [team.id] });
    const pendingCustomers = new Map((await store.getCustomers(pendingDocs.map((p) => p.customerId))).map((c) => [c.id, c]));
    const pending = pendingDocs.map((p) => ({
      customer: { id: p.customerId, name: pendingCustomers.get(p.customerId)?.name ?? p.customerId },
      submitter: userById(org, p.submittedBy) ?? { name: p.submittedBy },
      total: p.total,
      submittedAt: p.submittedAt,
    }));

    const card = dailyDigest({
      // a group chat: the link opens behind the sign-in
      consoleUrl: await this.deps.links.url(null, { team: team.id }),
      timezone: policy.timezone,
      team: { name: team.name },
      date,
      atRisk: atRiskRows,
      tierMoves: moves,
      pendingApprovals: pending,
    });
    const queued = await this.deps.notifier.toTeam(team, card, { kind: 'daily_digest', subject: team.id, period: date });
    // a repeated run on the same day sends nothing new and keeps the moves window where it was
    if (queued.some((q) => q.created)) await docs.put(DIGEST_STATE, { _id: team.id, lastAt: new Date(now).toISOString() });
    return { teamId: team.id, date, atRisk: atRiskRows.length, moves: moves.length, pending: pending.length, queued: queued.filter((q) => q.created).length };
  }
}
