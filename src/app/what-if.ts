// What a draft policy would do before it is applied: the tiers it would give, who would move, and what people
// would hear about it under the alert budget. Reads only.
import { compilePolicy, evaluateCustomer } from '../domain/engine.ts';
import type { Policy } from '../domain/policy.ts';
import type { Org, Store } from '../ports/store.ts';
import { collectPopulation, RECOMPUTE_BATCH, yieldToEventLoop } from './recompute.ts';
import { alertWorthy, SNOOZES } from './workflows/alerts.ts';

export interface WhatIf {
  asOf: string;
  evaluated: number;
  atRisk: number;
  /** customers per tier under the draft */
  distribution: Record<string, number>;
  /** customers per current tier (`none`: never evaluated) and draft tier */
  matrix: Record<string, Record<string, number>>;
  /** customers whose tier would differ from their current one */
  changed: number;
  /**
   * What the first run under the draft would send. It is the first run of a new policy version, so it
   * sends no individual alert or tier-change cards (a baseline): each person with news gets one summary,
   * each manager of a team with news one team summary.
   */
  notices: { alerts: number; tierChanges: number; cards: number; personalSummaries: number; teamSummaries: number };
}

/** `now`: the instant snoozes are checked against. */
export async function whatIf(store: Store, policy: Policy, asOf: number, org: Org, now: number): Promise<WhatIf> {
  const compiled = compilePolicy(policy, 0);
  const stats = await collectPopulation(store, compiled, asOf);
  const distribution: Record<string, number> = Object.fromEntries(policy.tiers.map((t) => [t.key, 0]));
  const matrix: Record<string, Record<string, number>> = {};
  const users = new Set(org.users.map((u) => u.id));
  const teamOfUser = new Map(org.users.map((u) => [u.id, u.teamId ?? null]));
  const managersOf = new Map(org.teams.map((t) => [t.id, t.managerIds.filter((id) => users.has(id)).length]));
  const people = new Set<string>();
  const teams = new Set<string>();
  let evaluated = 0;
  let atRisk = 0;
  let changed = 0;
  let alerts = 0;
  let tierChanges = 0;
  for await (const batch of store.streamCustomers(RECOMPUTE_BATCH)) {
    const snoozes = await store.docs.find<{ _id: string; until: string }>(SNOOZES, { _id: { $in: batch.map((c) => c.id) } });
    const snoozed = new Set(snoozes.filter((z) => Date.parse(z.until) > now).map((z) => z._id));
    for (const c of batch) {
      const { state } = evaluateCustomer({ rollup: c.rollup, attributes: c.attributes, score: c.score, current: c.state }, { policy: compiled, asOf, stats, runId: 'what-if' });
      evaluated++;
      distribution[state.tier] = (distribution[state.tier] ?? 0) + 1;
      if (state.risk.level !== 'none') atRisk++;
      const from = c.state?.tier ?? 'none';
      matrix[from] ??= {};
      matrix[from][state.tier] = (matrix[from][state.tier] ?? 0) + 1;
      const moved = c.state !== null && c.state.tier !== state.tier;
      if (moved) changed++;
      const alert = !snoozed.has(c.id) && alertWorthy(c.state?.alerted ?? null, state.risk);
      if (!alert && !moved) continue;
      const team = c.teamId ?? teamOfUser.get(c.ownerId) ?? null;
      const managed = team !== null && (managersOf.get(team) ?? 0) > 0;
      if (!users.has(c.ownerId) && !managed) continue;
      if (alert) alerts++;
      if (moved) tierChanges++;
      if (users.has(c.ownerId)) people.add(c.ownerId);
      if (managed) teams.add(team);
    }
    await yieldToEventLoop();
  }
  return {
    asOf: new Date(asOf).toISOString(),
    evaluated,
    atRisk,
    distribution,
    matrix,
    changed,
    notices: { alerts, tierChanges, cards: 0, personalSummaries: people.size, teamSummaries: [...teams].reduce((n, t) => n + (managersOf.get(t) ?? 0), 0) },
  };
}
