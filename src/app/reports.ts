// Report data for the dashboard and for simulate (README "HTTP API"). Reads only; never writes.
import { compilePolicy, evaluateCustomer } from '../domain/engine.ts';
import type { Policy } from '../domain/policy.ts';
import type { CustomerScope, Store } from '../ports/store.ts';
import { collectPopulation, RECOMPUTE_BATCH, yieldToEventLoop } from './recompute.ts';

export async function distribution(store: Store, policy: Policy, scope?: CustomerScope) {
  const tally = await store.tally(scope ? { scope } : undefined);
  const tiers = policy.tiers.map((t) => ({ key: t.key, name: t.name, rank: t.rank, count: tally.tiers[t.key] ?? 0 }));
  const evaluated = tiers.reduce((s, t) => s + t.count, 0);
  const risk = Object.fromEntries((['high', 'medium', 'low'] as const).map((level) => [level, tally.risk[level] ?? 0] as const));
  return { total: tally.total, unevaluated: tally.total - evaluated, tiers, risk };
}

/** The value pyramid from the latest run: what share of revenue the top x% of customers bring. */
export async function pareto(store: Store) {
  const latest = (await store.listRuns(20)).find((r) => r.status === 'done');
  const stats = latest ? await store.loadPopulationStats(latest.id) : null;
  if (!latest || !stats) return { runId: null, customers: 0, points: [] };
  const values = stats.monetaryDesc;
  let total = 0;
  for (const v of values) if (v > 0) total += v;
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
  return { runId: latest.id, customers: values.length, totalRevenue: Math.round(total * 100) / 100, points };
}

export async function movements(store: Store, since: string) {
  const rows = await store.historySince(since, 100_000);
  const matrix: Record<string, Record<string, number>> = {};
  for (const h of rows) {
    if (h.from === null) continue;
    matrix[h.from] ??= {};
    matrix[h.from][h.to] = (matrix[h.from][h.to] ?? 0) + 1;
  }
  return { since, changes: rows.filter((h) => h.from !== null).length, matrix };
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

/** What `policy` would do at `asOf`: distribution and from→to matrix; nothing is written. */
export async function simulate(store: Store, policy: Policy, asOf: number) {
  const compiled = compilePolicy(policy, 0);
  const stats = await collectPopulation(store, compiled, asOf);
  const distributionCounts: Record<string, number> = Object.fromEntries(policy.tiers.map((t) => [t.key, 0]));
  const matrix: Record<string, Record<string, number>> = {};
  let evaluated = 0;
  let atRiskCount = 0;
  for await (const batch of store.streamCustomers(RECOMPUTE_BATCH)) {
    for (const c of batch) {
      const { state } = evaluateCustomer({ rollup: c.rollup, attributes: c.attributes, score: c.score, current: c.state }, { policy: compiled, asOf, stats, runId: 'simulation' });
      evaluated++;
      distributionCounts[state.tier] = (distributionCounts[state.tier] ?? 0) + 1;
      if (state.risk.level !== 'none') atRiskCount++;
      const from = c.state?.tier ?? 'none';
      matrix[from] ??= {};
      matrix[from][state.tier] = (matrix[from][state.tier] ?? 0) + 1;
    }
    await yieldToEventLoop();
  }
  return { asOf: new Date(asOf).toISOString(), evaluated, atRisk: atRiskCount, distribution: distributionCounts, matrix };
}
