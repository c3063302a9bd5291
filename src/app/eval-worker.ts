// A worker thread of the evaluation pool: evaluates packed batches of rows (eval-kernel.ts) for the jobs it is sent.
import { parentPort } from 'node:worker_threads';
import { populationStats, type PopulationData } from '../domain/rfm.ts';
import { attentionOf, compileJob, evaluateRows, unpackRows, type CompiledJob, type PackedRows, type TallyJob } from './eval-kernel.ts';

export interface BatchMessage {
  id: number;
  jobId: number;
  /** sent with the first batch of a job this worker sees */
  job?: TallyJob;
  rows: PackedRows;
  /** present for a recompute's attention pass (attentionOf): the stored states' fingerprints */
  expected?: Float64Array<ArrayBuffer>;
}

const jobs = new Map<number, CompiledJob>();

/** A run's population statistics: the sorts and the models' fit (they would otherwise hold the event loop). */
export interface PopulationMessage {
  id: number;
  population: PopulationData;
}

parentPort!.on('message', (m: BatchMessage | PopulationMessage | { forget: number }) => {
  if ('forget' in m) {
    jobs.delete(m.forget);
    return;
  }
  if ('population' in m) {
    try {
      const stats = populationStats(m.population);
      parentPort!.postMessage({ id: m.id, stats }, [stats.monetaryDesc.buffer as ArrayBuffer]);
    } catch (err) {
      parentPort!.postMessage({ id: m.id, error: (err as Error).stack ?? String(err) });
    }
    return;
  }
  try {
    let cj = jobs.get(m.jobId);
    if (!cj) {
      cj = compileJob(m.job!);
      jobs.set(m.jobId, cj);
    }
    if (m.expected) {
      const out = attentionOf(unpackRows(m.rows), m.expected, cj);
      parentPort!.postMessage({ id: m.id, out }, [out.needed.buffer, out.levels.buffer]);
    } else {
      const out = evaluateRows(unpackRows(m.rows), cj);
      parentPort!.postMessage({ id: m.id, out }, [out.tiers.buffer, out.levels.buffer, out.worthy.buffer]);
    }
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).stack ?? String(err) });
  }
});
