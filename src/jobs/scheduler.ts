// Cron schedules in the policy time zone (config/schedule.yaml). Every slot is elected by inserting `job:slot`
// into the store, so several instances sharing one store run it exactly once; the slot documents
// are also the run ledger. A slot missed while everything was down runs once at the next start,
// and a slot whose instance died while running it is run again by a live one (recoverSlots).
import cron, { type ScheduledTask } from 'node-cron';
import type { Doc, DocStore } from '../ports/doc-store.ts';
import type { Clock } from '../ports/clock.ts';
import { soleOwner, type Liveness } from '../ports/liveness.ts';
import { claim } from '../app/instances.ts';

export const JOB_SLOTS = 'jobSlots';

export interface JobSlot extends Doc {
  job: string;
  slot: string;
  instance: string;
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  catchUp: boolean;
  /** set when a live instance took the slot over from one that died while running it */
  recoveredFrom?: string;
}

export interface JobDefinition {
  name: string;
  cron: string;
  run: (slot: Date) => Promise<void>;
}

export interface SchedulerDeps {
  docs: DocStore;
  clock: Clock;
  timezone: string;
  /** this instance, and whether the instance running a slot is still alive */
  liveness?: Liveness;
  /** this instance's id when no liveness is given */
  instance?: string;
  log: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: (o: object, m: string) => void };
  /** how far back a missed slot is still caught up */
  catchUpWindowMs?: number;
}

export class Scheduler {
  private readonly tasks: { def: JobDefinition; task: ScheduledTask }[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private readonly liveness: Liveness;

  constructor(private readonly deps: SchedulerDeps) {
    this.liveness = deps.liveness ?? soleOwner(deps.instance);
  }

  static validate(expression: string): boolean {
    return cron.validate(expression);
  }

  add(def: JobDefinition): this {
    const task = cron.createTask(def.cron, (ctx) => this.fire(def, ctx.date, false), {
      timezone: this.deps.timezone,
      name: def.name,
      noOverlap: false,
    });
    this.tasks.push({ def, task });
    return this;
  }

  async start(): Promise<void> {
    await this.deps.docs.ensureIndex(JOB_SLOTS, ['job', 'slot']);
    for (const { def, task } of this.tasks) {
      await this.catchUp(def, task);
      await task.start();
    }
  }

  /** Runs the latest missed slot once, if this job has run before and that slot has no record. */
  private async catchUp(def: JobDefinition, task: ScheduledTask): Promise<void> {
    const ran = await this.deps.docs.find<JobSlot>(JOB_SLOTS, { job: def.name }, { sort: [['slot', -1]], limit: 1 });
    if (ran.length === 0) return;
    const last = latestSlotBefore(task, this.deps.clock.now(), this.deps.catchUpWindowMs ?? 2 * 86_400_000);
    if (!last || last.toISOString() <= ran[0].slot) return;
    this.deps.log.info({ job: def.name, slot: last.toISOString() }, 'catching up a missed slot');
    await this.fire(def, last, true);
  }

  /** Elects this instance for the slot (insert wins), runs the job and records the outcome. */
  async fire(def: JobDefinition, when: Date, catchUp: boolean): Promise<boolean> {
    if (this.stopped) return false;
    const slot = new Date(Math.floor(when.getTime() / 1000) * 1000).toISOString();
    const id = `${def.name}:${slot}`;
    const won = await this.deps.docs.insert(JOB_SLOTS, {
      _id: id,
      job: def.name,
      slot,
      instance: this.liveness.self,
      status: 'running',
      startedAt: new Date(this.deps.clock.now()).toISOString(),
      finishedAt: null,
      error: null,
      catchUp,
    } satisfies JobSlot);
    if (!won) return false;
    await this.execute(def, id, slot);
    return true;
  }

  /**
   * Slots left `running` by an instance that died: a live instance claims each, and runs it again
   * when it is still within the catch-up window (jobs are idempotent per slot), else records it failed.
   */
  async recoverSlots(): Promise<number> {
    let recovered = 0;
    for (const s of await this.deps.docs.find<JobSlot>(JOB_SLOTS, { status: 'running' })) {
      const def = this.tasks.find((t) => t.def.name === s.job)?.def;
      if (!def || this.stopped || s.instance === this.liveness.self || !(await this.liveness.isDead(s.instance))) continue;
      if (!(await claim(this.deps.docs, this.liveness, `slot:${s._id}:${s.instance}`))) continue;
      const fresh = this.deps.clock.now() - Date.parse(s.slot) <= (this.deps.catchUpWindowMs ?? 2 * 86_400_000);
      this.deps.log.warn({ job: s.job, slot: s.slot, deadInstance: s.instance, rerun: fresh }, 'taking over a slot whose instance died');
      await this.deps.docs.update(JOB_SLOTS, s._id, { instance: this.liveness.self, recoveredFrom: s.instance });
      if (fresh) await this.execute(def, s._id, s.slot);
      else await this.deps.docs.update(JOB_SLOTS, s._id, { status: 'failed', finishedAt: new Date(this.deps.clock.now()).toISOString(), error: 'its instance died; too old to run again' });
      recovered++;
    }
    return recovered;
  }

  private async execute(def: JobDefinition, id: string, slot: string): Promise<void> {
    const run = (async () => {
      try {
        await def.run(new Date(slot));
        await this.deps.docs.update(JOB_SLOTS, id, { status: 'done', finishedAt: new Date(this.deps.clock.now()).toISOString() });
      } catch (err) {
        this.deps.log.error({ err, job: def.name, slot }, 'scheduled job failed');
        await this.deps.docs.update(JOB_SLOTS, id, { status: 'failed', finishedAt: new Date(this.deps.clock.now()).toISOString(), error: (err as Error).message });
      }
    })();
    this.inFlight.add(run);
    await run.finally(() => this.inFlight.delete(run));
  }

  ledger(job: string, limit = 50): Promise<JobSlot[]> {
    return this.deps.docs.find<JobSlot>(JOB_SLOTS, { job }, { sort: [['slot', -1]], limit });
  }

  /** Stops scheduling new slots and waits for the running ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { task } of this.tasks) await task.stop();
    await Promise.allSettled([...this.inFlight]);
  }
}

/** The most recent instant before `now` (within `windowMs`) that the task's cron expression matches. */
export function latestSlotBefore(task: Pick<ScheduledTask, 'match' | 'getPattern'>, now: number, windowMs: number): Date | null {
  const withSeconds = task.getPattern().trim().split(/\s+/).length === 6;
  const step = withSeconds ? 1000 : 60_000;
  const start = Math.floor((now - 1) / step) * step;
  for (let t = start; t > now - windowMs; t -= step) {
    const d = new Date(t);
    if (task.match(d)) return d;
  }
  return null;
}
