// A full run fits the customer-base models in pass 1 and records them: on the run record (GET /tiering/runs/:id
// shows it) and in the population statistics a resumed run reloads.
import { describe, expect, it } from 'vitest';
import { Recomputer } from '../../src/app/recompute.ts';
import { seededDemoStore } from '../helpers/app.ts';

const NOW = Date.parse('2026-06-30T02:00:00+08:00');
const clock = { now: () => NOW };

describe('recompute and the customer-base models (memory store)', () => {
  it('the run record carries the fitted parameters, the saved statistics the same ones', { timeout: 120_000 }, async () => {
    const a = await seededDemoStore('memory', 'models', 600, 7, clock);
    const run = await new Recomputer({ store: a.store, policies: a.policies, clock, batchSize: 200 }).start(NOW).done;
    const stored = (await a.store.getRun(run.id))!;
    const stats = (await a.store.loadPopulationStats(run.id))!;
    expect(stored.models).toBeDefined();
    expect(stored.models).toEqual(stats.models);
    const bg = stored.models?.bgnbd;
    if (bg) for (const k of ['r', 'alpha', 'a', 'b', 'logLikelihood', 'n'] as const) expect(Number.isFinite(bg[k])).toBe(true);
    await a.store.close();
  });
});
