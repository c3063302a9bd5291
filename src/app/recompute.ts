// Full recompute (docs/architecture.md, "Recompute"): two streaming passes over the customers, bounded memory,
// only changed customers written, resumable from the run's checkpoint with the same result.
import { randomUUID } from 'node:crypto';
import { baseMetrics, compilePolicy, evaluateCustomer, PopulationBuilder, repeatCounts, type CompiledPolicy } from '../domain/engine.ts';
import { VISIBLE_METRICS } from '../domain/fingerprint.ts';
import type { PopulationStats, Rollup, TierState } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { CustomerRecord, EvalRow, HistoryEntry, RunRecord, StateWrite, Store } from '../ports/store.ts';
import { attentionOf, compileJob, type Attention, type TallyJob } from './eval-kernel.ts';
import { soleOwner, type Liveness } from '../ports/liveness.ts';
import { POOL_MIN_CUSTOMERS, Spread, type EvalPool } from './eval-pool.ts';
import { claim } from './instances.ts';
import type { PolicyService } from './policy-service.ts';

export const RECOMPUTE_BATCH = 2000;
/**
 * The run record (checkpoint, counts, notice book) is saved at most this often, and after the last batch.
 * Batches in between are written as usual; a crash repeats them from the saved checkpoint with the same result.
 */
export const CHECKPOINT_EVERY_MS = 1000;

export interface Evaluated {
  customer: CustomerRecord;
  state: TierState;
  /** what the owner last saw: the state as it was before this run (history and cards compare with it) */
  before: TierState | null;
  change: 'upgrade' | 'downgrade' | null;
  riskRose: boolean;
  /** decided before the write (see RecomputeDeps.decide): this evaluation alerts the owner */
  alert: boolean;
}

/** Told about every written evaluation, batch by batch (alerts and tier-change cards hang off this). */
export type EvaluationObserver = (batch: Evaluated[], run: RunRecord) => Promise<void> | void;

export interface RecomputeDeps {
  store: Store;
  policies: PolicyService;
  clock: Clock;
  /** this instance and the liveness of others: runs of dead instances are taken over */
  liveness?: Liveness;
  /**
   * Decides, for a whole batch before it is written, what each evaluation notifies (sets `alert`
   * and `state.alerted`), so the decision is stored in the same write as the state it follows.
   */
  decide?: (batch: Evaluated[], run: RunRecord) => Promise<void>;
  /** run after the batch's write and before its checkpoint: a crash in between repeats them (idempotent) */
  observers?: EvaluationObserver[];
  /**
   * Folds a written batch into what the run will tell people (`run.notices`, saved with the checkpoint,
   * so a crash neither loses nor repeats any of it). It may update `run.notices` in place (the run object
   * is this run's own); returns the notices, or null when nothing changed.
   */
  collect?: (batch: Evaluated[], run: RunRecord) => Promise<RunRecord['notices'] | null>;
  /** after the last batch, before the run is marked done: tells people (idempotent: a crash repeats it) */
  finish?: (run: RunRecord) => Promise<void>;
  onFinished?: (run: RunRecord) => void;
  /** worker threads for the population statistics and each batch's first look (from poolFrom customers); without it both run in this thread */
  pool?: EvalPool | null;
  /** the population from which the pool evaluates; default POOL_MIN_CUSTOMERS */
  poolFrom?: number;
  /** customers per batch; default RECOMPUTE_BATCH */
  batchSize?: number;
  /** how often the checkpoint is saved; default CHECKPOINT_EVERY_MS (0: after every batch) */
  checkpointEveryMs?: number;
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

/** Batches looked at ahead of the one being written: keeps the pool busy while this thread reads and writes. */
const IN_FLIGHT = 3;

/** How many recent runs are looked at for orphans and unfinished runs. */
const RECENT_RUNS = 50;

export class Recomputer {
  private running: { runId: string; done: Promise<RunRecord> } | null = null;
  private stopRequested = false;
  private readonly liveness: Liveness;

  constructor(private readonly deps: RecomputeDeps) {
    this.liveness = deps.liveness ?? soleOwner();
  }

  /** SIGTERM: finish the current batch, leave the run resumable from its checkpoint. */
  async stopAfterBatch(): Promise<void> {
    this.stopRequested = true;
    await this.running?.done.catch(() => undefined);
  }

  get current(): string | null {
    return this.running?.runId ?? null;
  }

  /**
   * Starts a run; `created` resolves once the run record exists (and rejects like `done` when the
   * run could not start, e.g. another instance is running one), `done` when the run has finished.
   * Runs that died with their instance are superseded (abandoned), never resumed after this one.
   */
  start(asOf?: number): { runId: string; created: Promise<void>; done: Promise<RunRecord> } {
    if (this.running) throw new RecomputeBusyError(this.running.runId);
    const runId = `run-${new Date(this.deps.clock.now()).toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
    let created!: () => void;
    let failed!: (err: unknown) => void;
    const recorded = new Promise<void>((resolve, reject) => {
      created = resolve;
      failed = reject;
    });
    recorded.catch(() => undefined);
    const done = (async () => {
      await this.supersedeOrphans();
      return this.execute(runId, asOf ?? this.deps.clock.now(), null, created);
    })()
      .catch((err) => {
        failed(err);
        throw err;
      })
      .finally(() => {
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

  /**
   * Takes over the newest run if its instance died (resumed from its checkpoint at once) and
   * abandons older orphans. Returns the resumed run (its completion in `done`), or null when there was none.
   */
  async recoverOrphans(): Promise<{ runId: string; done: Promise<RunRecord> } | null> {
    if (this.running) return null;
    const runs = await this.deps.store.listRuns(RECENT_RUNS);
    const newest = runs[0];
    if (!newest || newest.status !== 'running' || !(await this.liveness.isDead(newest.owner))) {
      await this.abandonOrphans(runs.slice(1));
      return null;
    }
    await this.abandonOrphans(runs.slice(1));
    if (!(await claim(this.deps.store.docs, this.liveness, `resume:${newest.id}:${newest.owner ?? '-'}`))) return null;
    if (this.running) return null;
    return { runId: newest.id, done: this.resume(newest) };
  }

  /** The scheduled job: joins a run in progress, else resumes a dead instance's run, else starts one. */
  async runScheduled(): Promise<void> {
    if (this.running) {
      await this.running.done;
      return;
    }
    const resumed = await this.recoverOrphans();
    if (resumed) await resumed.done;
    else await this.start().done;
  }

  /** Before a new run: a run still owned by a live instance makes this one wait (busy); dead ones are superseded. */
  private async supersedeOrphans(): Promise<void> {
    const runs = await this.deps.store.listRuns(RECENT_RUNS);
    for (const r of runs) {
      if (r.status === 'running' && r.owner !== this.liveness.self && !(await this.liveness.isDead(r.owner))) throw new RecomputeBusyError(r.id);
    }
    await this.abandonOrphans(runs);
  }

  private async abandonOrphans(runs: RunRecord[]): Promise<void> {
    for (const r of runs) {
      if (r.status !== 'running' || r.owner === this.liveness.self || !(await this.liveness.isDead(r.owner))) continue;
      await this.deps.store.updateRun(r.id, {
        status: 'abandoned',
        finishedAt: new Date(this.deps.clock.now()).toISOString(),
        error: 'its instance stopped before it finished, and a newer run supersedes it',
      });
    }
  }

  private async execute(runId: string, asOf: number, existing: RunRecord | null, created?: () => void): Promise<RunRecord> {
    const { store, policies, clock } = this.deps;
    const started = clock.now();
    const active = existing ? await policies.byVersion(existing.policyVersion) : await policies.active();
    const compiled = compilePolicy(active.policy, active.version);
    const owner = this.liveness.self;
    const recent = await store.listRuns(RECENT_RUNS);
    const lastDone = recent.find((r) => r.kind === 'recompute' && r.status === 'done');
    let run: RunRecord = existing
      ? { ...existing, status: 'running', owner, notices: existing.notices ? structuredClone(existing.notices) : null }
      : {
          id: runId,
          kind: 'recompute',
          status: 'running',
          asOf: new Date(asOf).toISOString(),
          policyVersion: active.version,
          startedAt: new Date(started).toISOString(),
          finishedAt: null,
          owner,
          heartbeatAt: new Date(started).toISOString(),
          checkpoint: null,
          counts: { evaluated: 0, changed: 0, upgrades: 0, downgrades: 0, atRisk: 0 },
          baseline: !lastDone || lastDone.policyVersion !== active.version,
          notices: null,
          durationMs: null,
          error: null,
        };
    if (existing) await store.updateRun(runId, { status: 'running', owner, heartbeatAt: new Date(started).toISOString() });
    else await store.createRun(run);
    created?.();

    try {
      const batchSize = this.deps.batchSize ?? RECOMPUTE_BATCH;
      const unfinished = new Set(recent.filter((r) => r.status === 'failed' || r.status === 'abandoned').map((r) => r.id));
      let stats = existing ? await store.loadPopulationStats(runId) : null;
      if (!stats) {
        stats = await collectPopulation(store, compiled, asOf, batchSize, this.deps.pool ?? null);
        await store.savePopulationStats(runId, stats);
        await store.updateRun(runId, { models: stats.models ?? null });
        run = { ...run, models: stats.models ?? null };
      }
      const counts = { ...run.counts };
      const every = this.deps.checkpointEveryMs ?? CHECKPOINT_EVERY_MS;
      let savedAt = performance.now();
      let unsaved = false;
      const save = async () => {
        await store.updateRun(runId, { checkpoint: run.checkpoint, counts: run.counts, heartbeatAt: run.heartbeatAt, notices: run.notices ?? null });
        savedAt = performance.now();
        unsaved = false;
      };
      // Each batch is looked at first (on the pool, or here for small populations): only the customers whose
      // visible state would change or who would be alerted are then read whole and evaluated in this thread.
      const job: TallyJob = { policy: active.policy, version: active.version, asOf, stats };
      const pool = this.deps.pool && stats.n >= (this.deps.poolFrom ?? POOL_MIN_CUSTOMERS) ? this.deps.pool : null;
      const local = compileJob(job);
      const spread = new Spread(pool, IN_FLIGHT - 1);
      const settle = async (rows: EvalRow[], attention: Attention) => {
        const ids: string[] = [];
        for (let i = 0; i < rows.length; i++) {
          if (attention.needed[i] === 1) ids.push(rows[i].id);
          else {
            counts.evaluated++;
            if (attention.levels[i] !== 0) counts.atRisk++;
          }
        }
        const evaluated = ids.length > 0 ? evaluateBatch(await store.getCustomers(ids), compiled, asOf, stats, runId, unfinished) : [];
        // a batch where many changed (a first run, a new policy) is a few tens of ms per step: let requests in between
        if (evaluated.length > 0) {
          await yieldToEventLoop();
          await this.deps.decide?.(evaluated, run);
        }
        const changed = evaluated.filter((e) => e.alert || e.customer.state?.runId === runId || !sameEvaluation(e.customer.state, e.state));
        const writes: StateWrite[] = [];
        const history: HistoryEntry[] = [];
        for (const e of evaluated) {
          counts.evaluated++;
          if (e.state.risk.level !== 'none') counts.atRisk++;
        }
        for (const e of changed) {
          counts.changed++;
          writes.push({ id: e.customer.id, state: e.state, stateBeforeRun: e.before });
          if (e.change) counts[e.change === 'upgrade' ? 'upgrades' : 'downgrades']++;
          if (e.change || !e.before) history.push({ customerId: e.customer.id, from: e.before?.tier ?? null, to: e.state.tier, at: e.state.evaluatedAt, runId });
        }
        if (writes.length > 0) {
          await store.writeStates(writes, history);
          await yieldToEventLoop();
        }
        for (const observe of this.deps.observers ?? []) await observe(changed, run);
        const notices = changed.length > 0 ? ((await this.deps.collect?.(changed, run)) ?? null) : null;
        run = { ...run, checkpoint: rows[rows.length - 1].id, counts: { ...counts }, heartbeatAt: new Date(clock.now()).toISOString(), ...(notices ? { notices } : {}) };
        unsaved = true;
        if (this.stopRequested || performance.now() - savedAt >= every) await save();
        if (this.stopRequested) throw new RecomputeStopped(runId);
      };
      const queue: { rows: EvalRow[]; attention: Promise<Attention> }[] = [];
      try {
        for await (const rows of store.streamEvalRows(batchSize, run.checkpoint)) {
          if (rows.length === 0) continue;
          // a state this run or an unfinished one left is no baseline: the full evaluation decides
          const expected = new Float64Array(rows.length);
          let comparable = 0;
          for (let i = 0; i < rows.length; i++) {
            const { fingerprint, writtenBy } = rows[i];
            expected[i] = fingerprint === null || writtenBy === runId || (writtenBy !== null && unfinished.has(writtenBy)) ? NaN : fingerprint;
            if (!Number.isNaN(expected[i])) comparable++;
          }
          // nothing to compare with (a first run): every row needs the full evaluation, no look needed
          const attention = comparable === 0
            ? Promise.resolve({ needed: new Uint8Array(rows.length).fill(1), levels: new Uint8Array(rows.length) })
            : spread.run((p) => p.attention(job, rows, expected), () => attentionOf(rows, expected, local));
          attention.catch(() => undefined);
          queue.push({ rows, attention });
          if (queue.length >= IN_FLIGHT) {
            const next = queue.shift()!;
            await settle(next.rows, await next.attention);
          }
          await yieldToEventLoop();
        }
        while (queue.length > 0) {
          const next = queue.shift()!;
          await settle(next.rows, await next.attention);
          await yieldToEventLoop();
        }
      } finally {
        pool?.release(job);
      }
      if (unsaved) await save();
      await this.deps.finish?.(run);
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

/**
 * Pass 1: the statistics that quintile RFM and `monetaryTopPct` need, in typed arrays only, and the BG/NBD and
 * Gamma-Gamma fits on the same customers (`stats.models`).
 */
export async function collectPopulation(store: Store, compiled: CompiledPolicy, asOf: number, batchSize = RECOMPUTE_BATCH, pool: EvalPool | null = null): Promise<PopulationStats> {
  const builder = new PopulationBuilder(compiled);
  for await (const batch of store.streamRollups(batchSize)) {
    for (const rollup of batch) addToPopulation(builder, rollup, asOf, compiled);
    await yieldToEventLoop();
  }
  // the sorts and the models' fit hold the thread ~1 s at 1M (sorting and sampling the summaries, the search): on a worker
  return pool && builder.size >= POOL_MIN_CUSTOMERS ? pool.populationStats(builder.data()) : builder.finish();
}

/** One customer's part of pass 1 (also used by the backtest over rollups cut at a past instant). */
export function addToPopulation(builder: PopulationBuilder, rollup: Rollup, asOf: number, compiled: CompiledPolicy): void {
  const m = baseMetrics(rollup, asOf, compiled);
  builder.add(m.recencyDays, m.frequency, m.monetary);
  const rc = repeatCounts(rollup, asOf, compiled);
  if (rc !== null) builder.addRepeat(rc.x, rc.tx, rc.T, rc.repeatFen);
}

/**
 * Lets timers and I/O run between batches. An in-process store answers every await from the microtask queue,
 * so without this a whole run would hold the event loop: no request (not even /healthz) would be served.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The state stability builds on: the one a finished run left. A re-run of the same run, or a
 * customer last written by a run that never finished, starts from the state before that run.
 */
function engineState(c: CustomerRecord, runId: string, unfinished: ReadonlySet<string>): TierState | null {
  return c.state && (c.state.runId === runId || unfinished.has(c.state.runId)) ? c.stateBeforeRun : c.state;
}

/** The state the owner has seen (history rows and cards compare with it): a re-run compares with the state before it. */
export function shownState(c: CustomerRecord, runId: string): TierState | null {
  return c.state && c.state.runId === runId ? c.stateBeforeRun : c.state;
}

export function evaluateBatch(
  batch: CustomerRecord[],
  compiled: CompiledPolicy,
  asOf: number,
  stats: PopulationStats,
  runId: string,
  unfinished: ReadonlySet<string> = new Set(),
): Evaluated[] {
  return batch.map((customer) => {
    const current = engineState(customer, runId, unfinished);
    const result = evaluateCustomer({ rollup: customer.rollup, attributes: customer.attributes, score: customer.score, current }, { policy: compiled, asOf, stats, runId });
    const before = shownState(customer, runId);
    const state = result.state;
    const change = before === current ? result.change : !before || before.tier === state.tier || before.tierRank === state.tierRank ? null : state.tierRank > before.tierRank ? 'upgrade' : 'downgrade';
    return { customer, state, before, change, riskRose: result.riskRose, alert: false };
  });
}

/** True when nothing a user can see differs, so the write can be skipped. */
export function sameEvaluation(a: TierState | null, b: TierState): boolean {
  if (!a) return false;
  if ((a.alerted?.runId ?? null) !== (b.alerted?.runId ?? null)) return false;
  if (a.tier !== b.tier || a.downgradeStreak !== b.downgradeStreak || a.lifecycle !== b.lifecycle) return false;
  if (a.policyVersion !== b.policyVersion || a.risk.level !== b.risk.level || a.tierName !== b.tierName) return false;
  for (const k of VISIBLE_METRICS) if (a.metrics[k] !== b.metrics[k]) return false;
  if (a.explanation.rule !== b.explanation.rule || Boolean(a.explanation.keptBy) !== Boolean(b.explanation.keptBy)) return false;
  if (a.risk.reasons.length !== b.risk.reasons.length) return false;
  return a.risk.reasons.length === 0 || samePlain(a.risk.reasons, b.risk.reasons);
}

/** Deep equality of plain data (numbers, strings, arrays, objects), key order included, as JSON would compare it. */
function samePlain(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!samePlain(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i] || !samePlain((a as Record<string, unknown>)[ka[i]], (b as Record<string, unknown>)[kb[i]])) return false;
  }
  return true;
}
