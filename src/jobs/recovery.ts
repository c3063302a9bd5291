// Finishing what dead instances left behind, in the background while the server answers: ingest
// batches whose rollups were not written, a recompute run that stopped midway, scheduled slots that
// were running. Runs once at start and again on every lease tick, so work of an instance that dies
// while others live is taken over as soon as its lease expires.
import type { Recomputer } from '../app/recompute.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../ports/store.ts';
import type { Scheduler } from './scheduler.ts';

export interface RecoveryDeps {
  store: Store;
  recomputer: Recomputer;
  scheduler: Scheduler;
  log: Logger;
  intervalMs: number;
}

export interface RecoveryPass {
  rollupsRebuilt: number;
  resumedRun: string | null;
  slotsRecovered: number;
}

export class Recovery {
  private timer: NodeJS.Timeout | null = null;
  private passing: Promise<RecoveryPass> | null = null;

  constructor(private readonly deps: RecoveryDeps) {}

  /** One pass; concurrent calls share the pass in progress. */
  pass(): Promise<RecoveryPass> {
    this.passing ??= this.runPass().finally(() => (this.passing = null));
    return this.passing;
  }

  private async runPass(): Promise<RecoveryPass> {
    const { store, recomputer, scheduler, log } = this.deps;
    // rollups first: a resumed run must read correct ones
    const rollupsRebuilt = (await store.repairRollups?.()) ?? 0;
    if (rollupsRebuilt > 0) log.warn({ customers: rollupsRebuilt }, 'rebuilt rollups left behind by an interrupted ingest');
    const resumed = await recomputer.recoverOrphans();
    const resumedRun = resumed?.runId ?? null;
    if (resumed) {
      log.warn({ runId: resumedRun }, 'resuming a recompute whose instance stopped before it finished');
      resumed.done.catch((err) => log.error({ err, runId: resumedRun }, 'the resumed recompute failed'));
    }
    const slotsRecovered = await scheduler.recoverSlots();
    return { rollupsRebuilt, resumedRun, slotsRecovered };
  }

  /** A first pass now and one every `intervalMs`, all in the background; returns the first pass. */
  start(): Promise<RecoveryPass> {
    const first = this.pass();
    first.catch((err) => this.deps.log.error({ err }, 'recovery pass failed'));
    this.timer ??= setInterval(() => void this.pass().catch((err) => this.deps.log.error({ err }, 'recovery pass failed')), this.deps.intervalMs);
    this.timer.unref();
    return first;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.passing?.catch(() => undefined);
  }
}
