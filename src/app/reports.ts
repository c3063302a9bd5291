// Report data for the dashboard (README "HTTP API"); what a draft policy would do is what-if.ts. Reads only.
import type { Policy } from '../domain/policy.ts';
import type { CustomerRecord, CustomerScope, Org, Store } from '../ports/store.ts';
import { RECOMPUTE_BATCH, yieldToEventLoop } from './recompute.ts';

export async function distribution(store: Store, policy: Policy, scope?: CustomerScope) {
  const tally = await store.tally(scope ? { scope } : undefined);
  const tiers = policy.tiers.map((t) => ({ key: t.key, name: t.name, rank: t.rank, count: tally.tiers[t.key] ?? 0 }));
  const evaluated = tiers.reduce((s, t) => s + t.count, 0);
  const risk = Object.fromEntries((['high', 'medium', 'low'] as const).map((level) => [level, tally.risk[level] ?? 0] as const));
  return { total: tally.total, unevaluated: tally.total - evaluated, tiers, risk };
}

/**
 * The value pyramid: what share of revenue the top x% of customers bring. Everyone's from the latest run's
 * population statistics; a person's (scope) from the current window spend of the customers they may see.
 */
export async function pareto(store: Store, scope?: CustomerScope) {
  if (scope) {
    const values: number[] = [];
    for await (const batch of visibleCustomers(store, scope)) for (const c of batch) if (c.state) values.push(c.state.metrics.monetary);
    values.sort((a, b) => b - a);
    return { runId: null, ...paretoCurve(values) };
  }
  const latest = (await store.listRuns(20)).find((r) => r.status === 'done');
  const stats = latest ? await store.loadPopulationStats(latest.id) : null;
  if (!latest || !stats) return { runId: null, customers: 0, totalRevenue: 0, top20SharePct: null, points: [] };
  return { runId: latest.id, ...paretoCurve(stats.monetaryDesc) };
}

/** The Pareto curve of spends sorted from the highest: cumulative share of the positive revenue at 1–10%, then every 5%. */
export function paretoCurve(values: ArrayLike<number>) {
  let total = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > 0) total += values[i];
  const points: { topPct: number; revenueSharePct: number }[] = [];
  let cumulative = 0;
  let next = 1;
  for (let i = 0; i < values.length; i++) {
    if (values[i] > 0) cumulative += values[i];
    while (next <= 100 && (i + 1) >= (next / 100) * values.length) {
      points.push({ topPct: next, revenueSharePct: total > 0 ? Math.round((cumulative / total) * 10000) / 100 : 0 });
      next += next < 10 ? 1 : 5;
    }
  }
  const top20SharePct = points.find((p) => p.topPct === 20)?.revenueSharePct ?? null;
  return { customers: values.length, totalRevenue: round2(total), top20SharePct, points };
}

/** Tier changes since `since` as a from→to matrix; with a scope, only those of the customers it covers. */
export async function movements(store: Store, since: string, scope?: CustomerScope) {
  let rows = (await store.historySince(since, 100_000)).filter((h) => h.from !== null);
  if (scope) {
    const visible = await visibleIds(store, scope);
    rows = rows.filter((h) => visible.has(h.customerId));
  }
  const matrix: Record<string, Record<string, number>> = {};
  for (const h of rows) {
    matrix[h.from!] ??= {};
    matrix[h.from!][h.to] = (matrix[h.from!][h.to] ?? 0) + 1;
  }
  return { since, changes: rows.length, matrix };
}

const RISK_ORDER = { high: 3, medium: 2, low: 1, none: 0 } as const;

/**
 * What losing a customer would cost per year: its trailing-window spend, or for a customer who has
 * already gone quiet, its average yearly spend over its tenure, whichever is larger.
 */
export function valueAtStake(m: { monetary: number; lifetimeValue: number; tenureDays: number | null }): number {
  const yearly = m.lifetimeValue * (365 / Math.max(m.tenureDays ?? 0, 365));
  return Math.round(Math.max(m.monetary, yearly, 0) * 100) / 100;
}

/** At-risk customers ranked by value at stake, highest risk first on ties. */
export async function atRisk(store: Store, limit: number, filter: { teamId?: string; ownerId?: string; scope?: CustomerScope } = {}) {
  const rows: { id: string; name: string; ownerId: string; teamId: string | null; tier: string; risk: string; valueAtStake: number; reasons: string[] }[] = [];
  for (const level of ['high', 'medium', 'low'] as const) {
    let cursor: string | undefined;
    do {
      const page = await store.listCustomers({ ...filter, risk: level }, 500, cursor);
      for (const c of page.items) {
        const s = c.state!;
        rows.push({ id: c.id, name: c.name, ownerId: c.ownerId, teamId: c.teamId, tier: s.tier, risk: s.risk.level, valueAtStake: valueAtStake(s.metrics), reasons: s.risk.reasons.map((r) => r.rule) });
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  rows.sort((a, b) => b.valueAtStake - a.valueAtStake || RISK_ORDER[b.risk as keyof typeof RISK_ORDER] - RISK_ORDER[a.risk as keyof typeof RISK_ORDER] || a.id.localeCompare(b.id));
  return { total: rows.length, items: rows.slice(0, limit) };
}

/** Every customer the scope covers (all without one), in batches. */
async function* visibleCustomers(store: Store, scope: CustomerScope | undefined): AsyncIterable<CustomerRecord[]> {
  if (!scope) {
    yield* store.streamCustomers(RECOMPUTE_BATCH);
    return;
  }
  let cursor: string | undefined;
  do {
    const page = await store.listCustomers({ scope }, 500, cursor);
    yield page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

async function visibleIds(store: Store, scope: CustomerScope): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const batch of visibleCustomers(store, scope)) for (const c of batch) ids.add(c.id);
  return ids;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const pct = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10000) / 100 : 0);

/**
 * Per tier, over the customers the scope covers: how many, their window revenue and its share, the average
 * lifetime value, the repurchase rate (share with two or more orders in the window) and those at risk with
 * the value at stake.
 */
export async function tierKpis(store: Store, policy: Policy, scope?: CustomerScope) {
  type Acc = { key: string; name: string; rank: number; customers: number; revenue: number; lifetimeValue: number; repurchasers: number; atRisk: number; valueAtStake: number };
  const acc = new Map<string, Acc>(policy.tiers.map((t) => [t.key, { key: t.key, name: t.name, rank: t.rank, customers: 0, revenue: 0, lifetimeValue: 0, repurchasers: 0, atRisk: 0, valueAtStake: 0 }]));
  let total = 0;
  for await (const batch of visibleCustomers(store, scope)) {
    for (const c of batch) {
      total++;
      const s = c.state;
      if (!s) continue;
      let a = acc.get(s.tier);
      // a tier of an earlier policy, until the next run moves its customers
      if (!a) acc.set(s.tier, (a = { key: s.tier, name: s.tierName, rank: s.tierRank, customers: 0, revenue: 0, lifetimeValue: 0, repurchasers: 0, atRisk: 0, valueAtStake: 0 }));
      a.customers++;
      a.revenue += s.metrics.monetary;
      a.lifetimeValue += s.metrics.lifetimeValue;
      if (s.metrics.frequency >= 2) a.repurchasers++;
      if (s.risk.level !== 'none') {
        a.atRisk++;
        a.valueAtStake += valueAtStake(s.metrics);
      }
    }
    await yieldToEventLoop();
  }
  const rows = [...acc.values()];
  const revenue = rows.reduce((sum, t) => sum + t.revenue, 0);
  const evaluated = rows.reduce((sum, t) => sum + t.customers, 0);
  const shape = (t: Omit<Acc, 'key' | 'name' | 'rank'>) => ({
    customers: t.customers,
    revenue: round2(t.revenue),
    revenueSharePct: pct(t.revenue, revenue),
    avgLifetimeValue: t.customers > 0 ? round2(t.lifetimeValue / t.customers) : null,
    repurchaseRatePct: pct(t.repurchasers, t.customers),
    atRisk: t.atRisk,
    valueAtStake: round2(t.valueAtStake),
  });
  const sum = (f: keyof Omit<Acc, 'key' | 'name' | 'rank'>) => rows.reduce((s, t) => s + t[f], 0);
  return {
    total,
    unevaluated: total - evaluated,
    tiers: rows.map((t) => ({ key: t.key, name: t.name, rank: t.rank, ...shape(t) })),
    all: shape({ customers: evaluated, revenue, lifetimeValue: sum('lifetimeValue'), repurchasers: sum('repurchasers'), atRisk: sum('atRisk'), valueAtStake: sum('valueAtStake') }),
  };
}

/** The value at stake of at-risk customers by team and by owner, with their names, highest first. */
export async function valueAtStakeBy(store: Store, org: Org, scope?: CustomerScope) {
  const users = new Map(org.users.map((u) => [u.id, u]));
  const teams = new Map(org.teams.map((t) => [t.id, t.name]));
  type Row = { id: string | null; name: string; customers: number; valueAtStake: number };
  const byTeam = new Map<string | null, Row>();
  const byOwner = new Map<string, Row & { teamName: string | null }>();
  let customers = 0;
  let stake = 0;
  for await (const batch of visibleCustomers(store, scope)) {
    for (const c of batch) {
      if (!c.state || c.state.risk.level === 'none') continue;
      const v = valueAtStake(c.state.metrics);
      customers++;
      stake += v;
      // a customer's team is its own, else its owner's
      const teamId = c.teamId ?? users.get(c.ownerId)?.teamId ?? null;
      const team = byTeam.get(teamId) ?? { id: teamId, name: teamId === null ? '无团队' : (teams.get(teamId) ?? teamId), customers: 0, valueAtStake: 0 };
      team.customers++;
      team.valueAtStake += v;
      byTeam.set(teamId, team);
      const owner = users.get(c.ownerId);
      const ownerTeam = owner?.teamId;
      const row = byOwner.get(c.ownerId) ?? { id: c.ownerId, name: owner?.name ?? c.ownerId, teamName: ownerTeam ? (teams.get(ownerTeam) ?? ownerTeam) : null, customers: 0, valueAtStake: 0 };
      row.customers++;
      row.valueAtStake += v;
      byOwner.set(c.ownerId, row);
    }
    await yieldToEventLoop();
  }
  const ranked = <T extends Row>(rows: Iterable<T>) => [...rows].map((r) => ({ ...r, valueAtStake: round2(r.valueAtStake) })).sort((a, b) => b.valueAtStake - a.valueAtStake || a.name.localeCompare(b.name));
  return { customers, valueAtStake: round2(stake), byTeam: ranked(byTeam.values()), byOwner: ranked(byOwner.values()) };
}

/**
 * The distribution after each of the latest `runs` finished runs, reconstructed from the tier history: the
 * current tally with every later change undone (a first evaluation undone is "unevaluated").
 */
const HISTORY_LIMIT = 5_000_000;

export async function distributionByRun(store: Store, scope?: CustomerScope, runs = 12) {
  const done = (await store.listRuns(50)).filter((r) => r.status === 'done').sort((a, b) => Date.parse(a.asOf) - Date.parse(b.asOf)).slice(-runs);
  if (done.length === 0) return { runs: [] };
  const tally = await store.tally(scope ? { scope } : undefined);
  const counts: Record<string, number> = { ...tally.tiers };
  let unevaluated = tally.total - Object.values(counts).reduce((a, b) => a + b, 0);
  const oldest = new Date(Date.parse(done[0].asOf) + 1).toISOString();
  let rows = await store.historySince(oldest, HISTORY_LIMIT);
  // more changes than that since the oldest run: only the latest run (the current tally) is certain
  const complete = rows.length < HISTORY_LIMIT;
  if (scope) {
    const visible = await visibleIds(store, scope);
    rows = rows.filter((h) => visible.has(h.customerId));
  }
  const out: { runId: string; asOf: string; tiers: Record<string, number>; unevaluated: number }[] = [];
  let i = rows.length - 1;
  for (let k = done.length - 1; k >= 0; k--) {
    const asOf = Date.parse(done[k].asOf);
    for (; i >= 0 && Date.parse(rows[i].at) > asOf; i--) {
      const h = rows[i];
      counts[h.to] = (counts[h.to] ?? 0) - 1;
      if (h.from === null) unevaluated++;
      else counts[h.from] = (counts[h.from] ?? 0) + 1;
    }
    out.push({ runId: done[k].id, asOf: done[k].asOf, tiers: Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0)), unevaluated });
    if (!complete) break;
  }
  return { complete, runs: out.reverse() };
}

/** What a customer is grouped by in a segment report. */
export type SegmentBy = { kind: 'attribute'; key: string } | { kind: 'tags' } | { kind: 'owner' } | { kind: 'team' };

/** How a grouping is written (the segment report's `by`, the digest's `digestSegmentBy`): attributes.<key>, tags, owner or team. */
export const SEGMENT_BY = /^(attributes\.[^.\s]{1,100}|tags|owner|team)$/;

/** `attributes.industry` → the grouping; `by` must match SEGMENT_BY. */
export function parseSegmentBy(by: string): SegmentBy {
  if (!SEGMENT_BY.test(by)) throw new Error(`segments: "${by}" is not attributes.<key>, tags, owner or team`);
  return by === 'tags' ? { kind: 'tags' } : by === 'owner' ? { kind: 'owner' } : by === 'team' ? { kind: 'team' } : { kind: 'attribute', key: by.slice('attributes.'.length) };
}

/** The segment of customers without a value for the grouping. */
export const NO_VALUE = '(none)';

function segmentsOf(c: CustomerRecord, by: SegmentBy): string[] {
  if (by.kind === 'tags') return c.tags.length > 0 ? [...new Set(c.tags)] : [NO_VALUE];
  if (by.kind === 'owner') return [c.ownerId];
  if (by.kind === 'team') return [c.teamId ?? NO_VALUE];
  const v = c.attributes[by.key];
  return [v === undefined || v === null || v === '' ? NO_VALUE : String(v)];
}

/**
 * Tier × segment ("分级 × 细分"): per segment (an attribute's value, a tag, an owner, a team) and tier the
 * customers and window revenue, the segment's revenue share, customers at risk and the value at stake, and
 * how the latest finished run moved customers between tiers (`change`: entered minus left). A customer with
 * several tags counts in each. `tier` keeps only that tier's customers.
 */
export async function segments(store: Store, by: SegmentBy, opts: { tier?: string; scope?: CustomerScope } = {}) {
  const latest = (await store.listRuns(20)).find((r) => r.kind === 'recompute' && r.status === 'done') ?? null;
  const moved = new Map<string, { from: string | null; to: string }>();
  if (latest) for (const h of await store.historySince(latest.startedAt, 1_000_000)) if (h.runId === latest.id) moved.set(h.customerId, h);
  type Cell = { customers: number; revenue: number; change: number };
  type Seg = { segment: string; customers: number; revenue: number; atRisk: number; valueAtStake: number; tiers: Record<string, Cell> };
  const acc = new Map<string, Seg>();
  const cell = (seg: Seg, tier: string) => (seg.tiers[tier] ??= { customers: 0, revenue: 0, change: 0 });
  const segment = (name: string) => {
    let seg = acc.get(name);
    if (!seg) acc.set(name, (seg = { segment: name, customers: 0, revenue: 0, atRisk: 0, valueAtStake: 0, tiers: {} }));
    return seg;
  };
  let revenue = 0;
  for await (const batch of visibleCustomers(store, opts.scope)) {
    for (const c of batch) {
      const s = c.state;
      if (!s) continue;
      const move = moved.get(c.id);
      const inTier = opts.tier === undefined || s.tier === opts.tier;
      const names = segmentsOf(c, by);
      if (inTier) revenue += s.metrics.monetary;
      for (const name of names) {
        // a customer who left the tier asked for still shows as a change of it
        if (!inTier && !(move && move.from === opts.tier)) continue;
        const seg = segment(name);
        if (move && move.from !== move.to) {
          if (opts.tier === undefined || move.to === opts.tier) cell(seg, move.to).change++;
          if (move.from !== null && (opts.tier === undefined || move.from === opts.tier)) cell(seg, move.from).change--;
        }
        if (!inTier) continue;
        seg.customers++;
        seg.revenue += s.metrics.monetary;
        const t = cell(seg, s.tier);
        t.customers++;
        t.revenue += s.metrics.monetary;
        if (s.risk.level !== 'none') {
          seg.atRisk++;
          seg.valueAtStake += valueAtStake(s.metrics);
        }
      }
    }
    await yieldToEventLoop();
  }
  const rows = [...acc.values()]
    .map((g) => ({
      segment: g.segment,
      customers: g.customers,
      revenue: round2(g.revenue),
      revenueSharePct: pct(g.revenue, revenue),
      atRisk: g.atRisk,
      valueAtStake: round2(g.valueAtStake),
      tiers: Object.fromEntries(Object.entries(g.tiers).map(([k, t]) => [k, { customers: t.customers, revenue: round2(t.revenue), change: t.change }])),
    }))
    .sort((a, b) => b.revenue - a.revenue || a.segment.localeCompare(b.segment));
  return { runId: latest?.id ?? null, tier: opts.tier ?? null, segments: rows };
}
