// The daily digest per team: at-risk customers ranked by value at stake, tier moves since the
// previous digest, pending approvals, and the top tier's segment that grew most since the previous digest; to
// every team chat configured (and the console).
import { dailyDigest, type DigestMove, type DigestRiskRow } from '../../../cards/daily-digest.ts';
import { formatInstant } from '../../domain/time.ts';
import type { Doc } from '../../ports/doc-store.ts';
import type { OrgTeam } from '../../ports/store.ts';
import { atRisk, NO_VALUE, parseSegmentBy, segments } from '../reports.ts';
import { loadOrg, userById, type WorkflowDeps } from './context.ts';
import type { Scoring } from './scoring.ts';

const DIGEST_STATE = 'digestState';

interface DigestState extends Doc {
  lastAt: string;
  /** the top tier's segments when this digest went out: segment → [customers, revenue] */
  segments?: { by: string; tier: string; rows: Record<string, [number, number]> };
}

export interface DigestOptions {
  /** the grouping of the "top growing segment" line (attributes.<key>, tags, owner or team) */
  segmentBy?: string;
}

type TopSegment = NonNullable<Parameters<typeof dailyDigest>[0]['topSegment']>;

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
    private readonly options: DigestOptions = {},
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

    const growth = await this.topSegment(team, org, policy.tiers, state);

    const card = dailyDigest({
      // a group chat: the link opens behind the sign-in
      consoleUrl: await this.deps.links.url(null, { team: team.id }),
      timezone: policy.timezone,
      team: { name: team.name },
      date,
      atRisk: atRiskRows,
      tierMoves: moves,
      pendingApprovals: pending,
      ...(growth.top ? { topSegment: growth.top } : {}),
    });
    const queued = await this.deps.notifier.toTeam(team, card, { kind: 'daily_digest', subject: team.id, period: date });
    // a repeated run on the same day sends nothing new and keeps the moves window where it was
    if (queued.some((q) => q.created)) await docs.put(DIGEST_STATE, { _id: team.id, lastAt: new Date(now).toISOString(), segments: growth.snapshot });
    return { teamId: team.id, date, atRisk: atRiskRows.length, moves: moves.length, pending: pending.length, queued: queued.filter((q) => q.created).length };
  }

  /**
   * The top tier's customers of the team by segment (the segment report), against the snapshot the previous
   * digest kept: the segment whose revenue grew most (ties: more customers, then name). None without a
   * previous snapshot of the same grouping and tier, or when no segment's revenue grew.
   */
  private async topSegment(team: OrgTeam, org: Awaited<ReturnType<typeof loadOrg>>, tiers: { key: string; rank: number; name?: string }[], state: DigestState | null) {
    const byText = this.options.segmentBy ?? 'attributes.industry';
    const by = parseSegmentBy(byText);
    const topTier = [...tiers].sort((a, b) => b.rank - a.rank)[0];
    if (!topTier) return { top: null, snapshot: undefined };
    const members = org.users.filter((u) => u.teamId === team.id).map((u) => u.id);
    const report = await segments(this.deps.store, by, { tier: topTier.key, scope: { ownerId: '', teamIds: [team.id], teamlessOwnerIds: members } });
    const rows: Record<string, [number, number]> = {};
    for (const r of report.segments) if (r.customers > 0 || r.revenue !== 0) rows[r.segment] = [r.customers, r.revenue];
    const snapshot = { by: byText, tier: topTier.key, rows };
    const before = state?.segments;
    if (!before || before.by !== byText || before.tier !== topTier.key) return { top: null, snapshot };
    let best: { segment: string; revenue: number; customers: number } | null = null;
    for (const [segment, [customers, revenue]] of Object.entries(rows)) {
      if (segment === NO_VALUE) continue;
      const [c0, r0] = before.rows[segment] ?? [0, 0];
      const g = { segment, revenue: Math.round((revenue - r0) * 100) / 100, customers: customers - c0 };
      if (g.revenue <= 0) continue;
      if (!best || g.revenue > best.revenue || (g.revenue === best.revenue && (g.customers > best.customers || (g.customers === best.customers && g.segment < best.segment)))) best = g;
    }
    if (!best) return { top: null, snapshot };
    const shown = by.kind === 'owner' ? (userById(org, best.segment)?.name ?? best.segment) : by.kind === 'team' ? (org.teams.find((t) => t.id === best.segment)?.name ?? best.segment) : best.segment;
    const top: TopSegment = {
      tier: { key: topTier.key, name: topTier.name, rank: topTier.rank },
      dimension: by.kind === 'attribute' ? by.key : by.kind,
      segment: shown,
      revenueChange: best.revenue,
      customerChange: best.customers,
    };
    return { top, snapshot };
  }
}
