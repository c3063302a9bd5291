// What a draft policy would do before it is applied: the tiers it would give, who would move, and what people
// would hear about it under the alert budget. Reads only.
import { compilePolicy } from '../domain/engine.ts';
import type { Policy } from '../domain/policy.ts';
import type { EvalRow, Org, Store } from '../ports/store.ts';
import { compileJob, evaluateRows, LEVELS, type Outcomes, type TallyJob } from './eval-kernel.ts';
import { POOL_MIN_CUSTOMERS, Spread, type EvalPool } from './eval-pool.ts';
import { collectPopulation, RECOMPUTE_BATCH, yieldToEventLoop } from './recompute.ts';
import { SNOOZES } from './workflows/alerts.ts';

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

export interface WhatIfOptions {
  /** evaluates large populations on worker threads; without it (or below POOL_MIN_CUSTOMERS) in this thread */
  pool?: EvalPool | null;
  /** the population from which the pool is used; default POOL_MIN_CUSTOMERS */
  poolFrom?: number;
}

/** Batches evaluated ahead of the one being counted: keeps the pool busy while this thread reads the store. */
const IN_FLIGHT = 4;

/** `now`: the instant snoozes are checked against. */
export async function whatIf(store: Store, policy: Policy, asOf: number, org: Org, now: number, opts: WhatIfOptions = {}): Promise<WhatIf> {
  const compiled = compilePolicy(policy, 0);
  const stats = await collectPopulation(store, compiled, asOf, RECOMPUTE_BATCH, opts.pool ?? null);
  const job: TallyJob = { policy, asOf, stats };
  const pool = opts.pool && stats.n >= (opts.poolFrom ?? POOL_MIN_CUSTOMERS) ? opts.pool : null;
  const local = compileJob(job);
  const spread = new Spread(pool, IN_FLIGHT - 1);
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
  const count = (batch: readonly EvalRow[], out: Outcomes, snoozed: ReadonlySet<string>) => {
    for (let i = 0; i < batch.length; i++) {
      const c = batch[i];
      const tier = policy.tiers[out.tiers[i]].key;
      evaluated++;
      distribution[tier]++;
      if (LEVELS[out.levels[i]] !== 'none') atRisk++;
      const from = c.current?.tier ?? 'none';
      matrix[from] ??= {};
      matrix[from][tier] = (matrix[from][tier] ?? 0) + 1;
      const moved = c.current !== null && c.current.tier !== tier;
      if (moved) changed++;
      const alert = out.worthy[i] === 1 && !snoozed.has(c.id);
      if (!alert && !moved) continue;
      const team = c.teamId ?? teamOfUser.get(c.ownerId) ?? null;
      const managed = team !== null && (managersOf.get(team) ?? 0) > 0;
      if (!users.has(c.ownerId) && !managed) continue;
      if (alert) alerts++;
      if (moved) tierChanges++;
      if (users.has(c.ownerId)) people.add(c.ownerId);
      if (managed) teams.add(team);
    }
  };
  const queue: { batch: EvalRow[]; out: Promise<Outcomes>; snoozed: Promise<Set<string>> }[] = [];
  const settle = async () => {
    const next = queue.shift()!;
    count(next.batch, await next.out, await next.snoozed);
  };
  try {
    for await (const batch of store.streamEvalRows(RECOMPUTE_BATCH)) {
      const snoozed = snoozedOf(store, batch, now);
      const out = spread.run((p) => p.evaluate(job, batch), () => evaluateRows(batch, local));
      out.catch(() => undefined);
      snoozed.catch(() => undefined);
      queue.push({ batch, out, snoozed });
      if (queue.length >= IN_FLIGHT) await settle();
      await yieldToEventLoop();
    }
    while (queue.length > 0) await settle();
  } finally {
    pool?.release(job);
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

async function snoozedOf(store: Store, batch: readonly EvalRow[], now: number): Promise<Set<string>> {
  const snoozes = await store.docs.find<{ _id: string; until: string }>(SNOOZES, { _id: { $in: batch.map((c) => c.id) } });
  return new Set(snoozes.filter((z) => Date.parse(z.until) > now).map((z) => z._id));
}
