// Full recompute (SPEC §6, §9): two streaming passes over the customers, bounded memory,
// only changed customers written, resumable from the run's checkpoint with the same result.
import { randomUUID } from 'node:crypto';
import { baseMetrics, compilePolicy, evaluateCustomer, PopulationBuilder, type CompiledPolicy } from '../domain/engine.ts';
import type { PopulationStats, TierState } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { CustomerRecord, HistoryEntry, RunRecord, StateWrite, Store } from '../ports/store.ts';
import type { PolicyService } from './policy-service.ts';

export const RECOMPUTE_BATCH = 2000;

export interface Evaluated {
  customer: CustomerRecord;
  state: TierState;
  before: TierState | null;
  change: 'upgrade' | 'downgrade' | null;
  riskRose: boolean;
}

/** Told about every written evaluation, batch by batch (alerts and tier-change cards hang off this). */
export type EvaluationObserver = (batch: Evaluated[], run: RunRecord) => Promise<void> | void;

export interface RecomputeDeps {
  store: Store;
  policies: PolicyService;
  clock: Clock;
  observers?: EvaluationObserver[];
  onFinished?: (run: RunRecord) => void;
  /** customers per batch (checkpoint granularity); default RECOMPUTE_BATCH */
  batchSize?: number;
}

export class RecomputeBusyError extends Error {
  constructor(readonly runId: string) {
    super(`a recompute is already running (run ${runId})`);
  }
}

export class RecomputeStopped extends Error {
  constructor(readonly runId: string) {
    super(`recompute ${runId} stopped at its checkpoint (shutting down); it resumes at the next start`);
  }
}

export class Recomputer {
  private running: { runId: string; done: Promise<RunRecord> } | null = null;
  private stopRequested = false;

  /** SIGTERM: finish the current batch, leave the run resumable from its checkpoint. */
  async stopAfterBatch(): Promise<void> {
    this.stopRequested = true;
    await this.running?.done.catch(() => undefined);
  }

  constructor(private readonly deps: RecomputeDeps) {}

  get current(): string | null {
    return this.running?.runId ?? null;
  }

  /** Starts a run; `created` resolves once the run record exists, `done` when the run has finished. */
  start(asOf?: number): { runId: string; created: Promise<void>; done: Promise<RunRecord> } {
    if (this.running) throw new RecomputeBusyError(this.running.runId);
    const runId = `run-${new Date(this.deps.clock.now()).toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
    let created!: () => void;
    const recorded = new Promise<void>((resolve) => (created = resolve));
    const done = this.execute(runId, asOf ?? this.deps.clock.now(), null, created).finally(() => {
      this.running = null;
      created();
    });
    this.running = { runId, done };
    return { runId, created: recorded, done };
  }

  /** Continues an interrupted run from its checkpoint; the result equals an uninterrupted run. */
  resume(run: RunRecord): Promise<RunRecord> {
    if (this.running) throw new RecomputeBusyError(this.running.runId);
    const done = this.execute(run.id, Date.parse(run.asOf), run).finally(() => {
      this.running = null;
    });
    this.running = { runId: run.id, done };
    return done;
  }

  private async execute(runId: string, asOf: number, existing: RunRecord | null, created?: () => void): Promise<RunRecord> {
    const { store, policies, clock } = this.deps;
    const started = clock.now();
    const active = existing ? await policies.byVersion(existing.policyVersion) : await policies.active();
    const compiled = compilePolicy(active.policy, active.version);
    let run: RunRecord = existing ?? {
      id: runId,
      kind: 'recompute',
      status: 'running',
      asOf: new Date(asOf).toISOString(),
      policyVersion: active.version,
      startedAt: new Date(started).toISOString(),
      finishedAt: null,
      heartbeatAt: new Date(started).toISOString(),
      checkpoint: null,
      counts: { evaluated: 0, changed: 0, upgrades: 0, downgrades: 0, atRisk: 0 },
      durationMs: null,
      error: null,
    };
    if (existing) await store.updateRun(runId, { status: 'running', heartbeatAt: new Date(started).toISOString() });
    else await store.createRun(run);
    created?.();

    try {
      const batchSize = this.deps.batchSize ?? RECOMPUTE_BATCH;
      let stats = existing ? await store.loadPopulationStats(runId) : null;
      if (!stats) {
        stats = await collectPopulation(store, compiled, asOf, batchSize);
        await store.savePopulationStats(runId, stats);
      }
      const counts = { ...run.counts };
      for await (const batch of store.streamCustomers(batchSize, run.checkpoint)) {
        const evaluated = evaluateBatch(batch, compiled, asOf, stats, runId);
        const writes: StateWrite[] = [];
        const history: HistoryEntry[] = [];
        for (const e of evaluated.all) {
          counts.evaluated++;
          if (e.state.risk.level !== 'none') counts.atRisk++;
        }
        for (const e of evaluated.changed) {
          counts.changed++;
          writes.push({ id: e.customer.id, state: e.state, stateBeforeRun: e.before });
          if (e.change) {
            counts[e.change === 'upgrade' ? 'upgrades' : 'downgrades']++;
            history.push({ customerId: e.customer.id, from: e.before?.tier ?? null, to: e.state.tier, at: e.state.evaluatedAt, runId });
          } else if (!e.before) {
            history.push({ customerId: e.customer.id, from: null, to: e.state.tier, at: e.state.evaluatedAt, runId });
          }
        }
        if (writes.length > 0) await store.writeStates(writes, history);
        const last = batch[batch.length - 1];
        run = { ...run, checkpoint: last.id, counts: { ...counts }, heartbeatAt: new Date(clock.now()).toISOString() };
        await store.updateRun(runId, { checkpoint: run.checkpoint, counts: run.counts, heartbeatAt: run.heartbeatAt });
        for (const observe of this.deps.observers ?? []) await observe(evaluated.changed, run);
        if (this.stopRequested) throw new RecomputeStopped(runId);
      }
      const finished = clock.now();
      const patch = { status: 'done' as const, finishedAt: new Date(finished).toISOString(), durationMs: finished - started, counts };
      await store.updateRun(runId, patch);
      const finishedRun = { ...run, ...patch };
      this.deps.onFinished?.(finishedRun);
      return finishedRun;
    } catch (err) {
      if (err instanceof RecomputeStopped) throw err;
      const patch = { status: 'failed' as const, finishedAt: new Date(clock.now()).toISOString(), error: (err as Error).message };
      await store.updateRun(runId, patch).catch(() => undefined);
      this.deps.onFinished?.({ ...run, ...patch });
      throw err;
    }
  }
}

/** Pass 1: the statistics that quintile RFM and `monetaryTopPct` need, in typed arrays only. */
export async function collectPopulation(store: Store, compiled: CompiledPolicy, asOf: number, batchSize = RECOMPUTE_BATCH): Promise<PopulationStats> {
  const builder = new PopulationBuilder(compiled);
  for await (const batch of store.streamCustomers(batchSize)) {
    for (const c of batch) {
      const m = baseMetrics(c.rollup, asOf, compiled);
      builder.add(m.recencyDays, m.frequency, m.monetary);
    }
  }
  return builder.finish();
}

/** The state the engine compares against: a re-run of the same run starts from the state before it. */
function priorState(c: CustomerRecord, runId: string): TierState | null {
  return c.state && c.state.runId === runId ? c.stateBeforeRun : c.state;
}

export function evaluateBatch(batch: CustomerRecord[], compiled: CompiledPolicy, asOf: number, stats: PopulationStats, runId: string) {
  const all: Evaluated[] = [];
  const changed: Evaluated[] = [];
  for (const customer of batch) {
    const before = priorState(customer, runId);
    const result = evaluateCustomer({ rollup: customer.rollup, attributes: customer.attributes, score: customer.score, current: before }, { policy: compiled, asOf, stats, runId });
    const e: Evaluated = { customer, state: result.state, before, change: result.change, riskRose: result.riskRose };
    all.push(e);
    if (!sameEvaluation(before, result.state) || customer.state?.runId === runId) changed.push(e);
  }
  return { all, changed };
}

const METRIC_KEYS = [
  'recencyDays', 'frequency', 'monetary', 'margin', 'lifetimeValue', 'orderCount', 'avgOrderValue', 'tenureDays',
  'medianIntervalDays', 'monetaryTopPct', 'r', 'f', 'm', 'rfmTotal', 'valueScore', 'previousTierRank', 'tierRank',
] as const;

/** True when nothing a user can see differs, so the write can be skipped. */
export function sameEvaluation(a: TierState | null, b: TierState): boolean {
  if (!a) return false;
  if (a.tier !== b.tier || a.downgradeStreak !== b.downgradeStreak || a.lifecycle !== b.lifecycle) return false;
  if (a.policyVersion !== b.policyVersion || a.risk.level !== b.risk.level || a.tierName !== b.tierName) return false;
  for (const k of METRIC_KEYS) if (a.metrics[k] !== b.metrics[k]) return false;
  if (a.explanation.rule !== b.explanation.rule || Boolean(a.explanation.keptBy) !== Boolean(b.explanation.keptBy)) return false;
  if (a.risk.reasons.length !== b.risk.reasons.length) return false;
  return a.risk.reasons.length === 0 || JSON.stringify(a.risk.reasons) === JSON.stringify(b.risk.reasons);
}
