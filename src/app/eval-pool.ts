// Evaluation on the other cores: a pool of worker threads that evaluate packed batches of rows, so a large
// what-if uses the second core and leaves the event loop free to answer requests meanwhile.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PopulationData } from '../domain/rfm.ts';
import type { PopulationStats } from '../domain/types.ts';
import type { EvalRow } from '../ports/store.ts';
import { packRows, type Attention, type Outcomes, type TallyJob } from './eval-kernel.ts';
import type { BatchMessage, PopulationMessage } from './eval-worker.ts';

/** Below this many customers a pass stays in the thread: starting a worker (~150 ms) would cost more than it saves. */
export const POOL_MIN_CUSTOMERS = 20_000;

/** Workers for a pool on this machine: one per core beside the one the event loop runs on. */
export function defaultPoolSize(): number {
  return Math.max(1, availableParallelism() - 1);
}

// The worker is TypeScript like the rest of the service. A worker's execArgv cannot bring a loader along on
// Node 20 (`--import` there does not reach the worker's own module), so the worker starts as a small script
// that registers tsx and then imports it.
const TSX_API = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
const WORKER_MODULE = new URL('./eval-worker.ts', import.meta.url).href;
const BOOT = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_MODULE)}); })`;

interface Slot {
  worker: Worker;
  busy: number;
  jobs: Set<number>;
}

export class EvalPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { resolve: (o: never) => void; reject: (e: Error) => void; slot: Slot }>();
  private readonly jobIds = new WeakMap<TallyJob, number>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number = defaultPoolSize()) {
    if (!(size >= 1)) throw new Error(`an evaluation pool needs at least one worker (got ${size})`);
  }

  /** Evaluates the rows in a worker; results in row order. Batches of the same job may run on different workers. */
  evaluate(job: TallyJob, rows: readonly EvalRow[]): Promise<Outcomes> {
    return this.send(job, rows, null);
  }

  /** A recompute's attention pass in a worker (attentionOf); `expected` is moved there, not copied. */
  attention(job: TallyJob, rows: readonly EvalRow[], expected: Float64Array<ArrayBuffer>): Promise<Attention> {
    return this.send(job, rows, expected);
  }

  private send<T>(job: TallyJob, rows: readonly EvalRow[], expected: Float64Array<ArrayBuffer> | null): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the evaluation pool is closed'));
    let jobId = this.jobIds.get(job);
    if (jobId === undefined) {
      jobId = this.nextId++;
      this.jobIds.set(job, jobId);
    }
    const slot = this.leastBusy();
    const id = this.nextId++;
    const packed = packRows(rows);
    const message: BatchMessage = { id, jobId, rows: packed, ...(slot.jobs.has(jobId) ? {} : { job }), ...(expected ? { expected } : {}) };
    slot.jobs.add(jobId);
    return this.dispatch<T>(slot, message, [packed.t.buffer, packed.a.buffer, packed.g.buffer, packed.ends.buffer, packed.nums.buffer, packed.refs.buffer, ...(expected ? [expected.buffer] : [])]);
  }

  /** Posts a message whose answer carries its id; `moved`: buffers that go to the worker instead of copies. */
  private dispatch<T>(slot: Slot, message: BatchMessage | PopulationMessage, moved: ArrayBuffer[]): Promise<T> {
    slot.busy++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject, slot });
      slot.worker.postMessage(message, moved);
    });
  }

  /** A run's population statistics on a worker: the sorts and the models' fit (populationStats; the arrays move there). */
  populationStats(data: PopulationData): Promise<PopulationStats> {
    if (this.closed) return Promise.reject(new Error('the evaluation pool is closed'));
    const q = data.quintiles;
    const moved = [data.monetary.buffer, data.sample.repeat.buffer, data.sample.spend.buffer, ...(q ? [q.r.buffer, q.f.buffer, q.m.buffer] : [])];
    return this.dispatch<PopulationStats>(this.leastBusy(), { id: this.nextId++, population: data }, moved);
  }

  /** Lets the workers drop a finished job's compiled policy and statistics. */
  release(job: TallyJob): void {
    const jobId = this.jobIds.get(job);
    if (jobId === undefined) return;
    for (const s of this.slots) if (s.jobs.delete(jobId)) s.worker.postMessage({ forget: jobId });
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private leastBusy(): Slot {
    if (this.slots.length < this.size) {
      const idle = this.slots.find((s) => s.busy === 0);
      if (idle) return idle;
      return this.spawn();
    }
    let best = this.slots[0];
    for (const s of this.slots) if (s.busy < best.busy) best = s;
    return best;
  }

  private spawn(): Slot {
    const worker = new Worker(BOOT, { eval: true });
    const slot: Slot = { worker, busy: 0, jobs: new Set() };
    worker.unref();
    worker.on('message', (m: { id: number; out?: Outcomes; stats?: PopulationStats; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      p.slot.busy--;
      if (m.error !== undefined) p.reject(new Error(`evaluation worker: ${m.error}`));
      else p.resolve((m.out ?? m.stats) as never);
    });
    const fail = (err: Error) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(err);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`evaluation worker exited (code ${code})`));
    });
    this.slots.push(slot);
    return slot;
  }
}

/**
 * Spreads a pass's batches over a pool and the calling thread: a batch goes to the pool while fewer than `depth`
 * batches are unfinished there, else it is evaluated here at once. Neither side then waits for the other while
 * work is left (measured: with one worker and batches only on it, the run's thread sat idle half of the pass).
 */
export class Spread {
  private unfinished = 0;

  constructor(
    private readonly pool: EvalPool | null,
    private readonly depth: number,
  ) {}

  run<T>(onPool: (pool: EvalPool) => Promise<T>, here: () => T): Promise<T> {
    if (this.pool === null || this.unfinished >= this.depth) {
      try {
        return Promise.resolve(here());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    this.unfinished++;
    const out = onPool(this.pool);
    const settled = () => {
      this.unfinished--;
    };
    out.then(settled, settled);
    return out;
  }
}
