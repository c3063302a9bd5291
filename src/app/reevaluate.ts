// Single-customer re-evaluation (docs/policy.md): after an approved score or on demand, using the
// population statistics of the latest full run.
import { randomUUID } from 'node:crypto';
import { compilePolicy, evaluateCustomer } from '../domain/engine.ts';
import type { PopulationStats, TierState } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { NotFound } from './errors.ts';
import type { PolicyService } from './policy-service.ts';

const EMPTY_STATS: PopulationStats = { n: 0, monetaryDesc: new Float64Array(0), quintiles: null };

export interface Reevaluation {
  before: TierState | null;
  state: TierState;
  change: 'upgrade' | 'downgrade' | null;
}

export class Reevaluator {
  private cached: { runId: string; stats: PopulationStats } | null = null;

  constructor(
    private readonly store: Store,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
  ) {}

  private async latestStats(): Promise<PopulationStats> {
    const latest = (await this.store.listRuns(20)).find((r) => r.status === 'done');
    if (!latest) return EMPTY_STATS;
    if (this.cached?.runId !== latest.id) {
      this.cached = { runId: latest.id, stats: (await this.store.loadPopulationStats(latest.id)) ?? EMPTY_STATS };
    }
    return this.cached.stats;
  }

  async reevaluate(customerId: string): Promise<Reevaluation> {
    const customer = await this.store.getCustomer(customerId);
    if (!customer) throw new NotFound(`customer "${customerId}"`);
    const active = await this.policies.active();
    const runId = `eval-${randomUUID()}`;
    const before = customer.state;
    const { state, change } = evaluateCustomer(
      { rollup: customer.rollup, attributes: customer.attributes, score: customer.score, current: before },
      { policy: compilePolicy(active.policy, active.version), asOf: this.clock.now(), stats: await this.latestStats(), runId },
    );
    state.alerted = before?.alerted ?? null; // what the owner was alerted about still holds
    const history = change || !before ? [{ customerId, from: before?.tier ?? null, to: state.tier, at: state.evaluatedAt, runId }] : [];
    await this.store.writeStates([{ id: customerId, state, stateBeforeRun: before }], history);
    return { before, state, change };
  }
}
