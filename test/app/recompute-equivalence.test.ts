// The recompute through a store (batches, the columnar memory store, MongoDB documents, skipped writes) gives
// exactly what the bare engine gives when it evaluates every customer itself, run after run, on random data.
import { resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EvalPool } from '../../src/app/eval-pool.ts';
import { PolicyService } from '../../src/app/policy-service.ts';
import { Recomputer } from '../../src/app/recompute.ts';
import { loadConfigFiles } from '../../src/config/files.ts';
import { baseMetrics, compilePolicy, evaluateCustomer, PopulationBuilder } from '../../src/domain/engine.ts';
import type { TierState } from '../../src/domain/types.ts';
import type { OrderInput, Store } from '../../src/ports/store.ts';
import { makeTestStore, type StoreKind } from '../helpers/app.ts';
import { hasMongo } from '../setup/mongo.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-06-30T02:00:00+08:00');
const files = await loadConfigFiles(resolve(import.meta.dirname, '../../config'));
// downgrades wait for a second agreeing run, so stability is exercised across runs
const POLICY = { ...files.policy, stability: { downgradeAfterRuns: 2 } };

const orderArb = fc.record({
  customer: fc.nat(),
  daysAgo: fc.integer({ min: -5, max: 720 }),
  yuan: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 60_000 }), weight: 9 }, { arbitrary: fc.integer({ min: -3_000, max: -1 }), weight: 1 }),
  cancelled: fc.boolean(),
});
const scenarioArb = fc.record({
  customers: fc.integer({ min: 1, max: 14 }),
  orders: fc.array(orderArb, { maxLength: 90 }),
  // a second round of orders between run 2 and run 3 (refunds and cancellations of the first round included)
  later: fc.array(orderArb, { maxLength: 25 }),
  gaps: fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 200 })),
});

const ids = (n: number) => Array.from({ length: n }, (_, i) => `c-${String(i).padStart(2, '0')}`);

type OrderRow = { customer: number; daysAgo: number; yuan: number; cancelled: boolean };

function toOrders(rows: OrderRow[], n: number, prefix: string): OrderInput[] {
  return rows.map((o, i) => ({
    orderId: `${prefix}-${i}`,
    customerId: ids(n)[o.customer % n],
    amountFen: o.yuan * 100,
    marginFen: null,
    occurredAt: T0 - o.daysAgo * DAY,
    occurredAtText: new Date(T0 - o.daysAgo * DAY).toISOString(),
    cancelled: o.cancelled && o.yuan > 0,
  }));
}

/** The bare engine: every customer evaluated from its own orders, each run fed the states of the last. */
class Reference {
  private readonly orders = new Map<string, OrderInput>();
  states = new Map<string, TierState | null>();
  constructor(private readonly customers: string[]) {
    for (const id of customers) this.states.set(id, null);
  }
  ingest(orders: OrderInput[]): void {
    for (const o of orders) this.orders.set(o.orderId, o);
  }
  run(asOf: number, runId: string): void {
    const cp = compilePolicy(POLICY as never, 1);
    const rollups = new Map(this.customers.map((id) => [id, { t: [] as number[], a: [] as number[], g: [] as number[] }]));
    const sorted = [...this.orders.values()].filter((o) => !o.cancelled).sort((x, y) => x.occurredAt - y.occurredAt);
    for (const o of sorted) {
      const r = rollups.get(o.customerId)!;
      r.t.push(o.occurredAt);
      r.a.push(o.amountFen);
      r.g.push(NaN);
    }
    const builder = new PopulationBuilder(cp);
    for (const r of rollups.values()) {
      const m = baseMetrics(r, asOf, cp);
      builder.add(m.recencyDays, m.frequency, m.monetary);
    }
    const stats = builder.finish();
    for (const id of this.customers) {
      const { state } = evaluateCustomer({ rollup: rollups.get(id)!, attributes: { industry: 'retail' }, score: null, current: this.states.get(id)! }, { policy: cp, asOf, stats, runId });
      this.states.set(id, state);
    }
  }
}

/** What a user can see of a state (a skipped write keeps the earlier run's id and evaluation instant). */
const visible = (s: TierState | null) => {
  if (!s) return null;
  const { runId: _r, evaluatedAt: _e, metrics, ...rest } = s;
  const { previousTierRank: _p, ...shown } = metrics;
  return { ...rest, metrics: shown };
};

async function storeStates(store: Store): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for await (const batch of store.streamCustomers(7)) for (const c of batch) out.set(c.id, visible(c.state));
  return out;
}

// a worker pool from the first customer: its look at each batch decides which customers are evaluated in full
const pool = new EvalPool(1);
afterAll(() => pool.close());

for (const [kind, via, numRuns] of [['memory', 'thread', 60], ['memory', 'pool', 20], ['mongo', 'thread', 6], ['mongo', 'pool', 3]] as [StoreKind, 'thread' | 'pool', number][]) {
  describe.skipIf(kind === 'mongo' && !hasMongo)(`recompute equals the bare engine (${kind} store, batches looked at in the ${via === 'pool' ? 'worker pool' : 'thread'})`, () => {
    it('three runs over random orders, with late orders, refunds and cancellations in between', { timeout: 240_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (sc) => {
          const store = makeTestStore(kind, 'equivalence');
          await store.init();
          try {
            const clock = { now: () => T0 };
            const policies = new PolicyService(store, clock);
            await policies.ensure(POLICY);
            const customers = ids(sc.customers);
            await store.upsertCustomers(customers.map((id) => ({ id, name: id, ownerId: 'u-zhang', teamId: null, attributes: { industry: 'retail' } })));
            const ref = new Reference(customers);
            const first = toOrders(sc.orders, sc.customers, 'o');
            await store.ingestOrders(first);
            ref.ingest(first);
            // small batches: several per run
            const recomputer = new Recomputer({ store, policies, clock, batchSize: 4, checkpointEveryMs: 0, ...(via === 'pool' ? { pool, poolFrom: 0 } : {}) });
            const asOfs = [T0, T0 + sc.gaps[0] * DAY, T0 + (sc.gaps[0] + sc.gaps[1]) * DAY];
            for (let k = 0; k < asOfs.length; k++) {
              if (k === 2) {
                const later = toOrders(sc.later, sc.customers, 'o');
                await store.ingestOrders(later);
                ref.ingest(later);
              }
              const run = await recomputer.start(asOfs[k]).done;
              ref.run(asOfs[k], run.id);
              expect(run.counts.evaluated).toBe(sc.customers);
              const got = await storeStates(store);
              for (const id of customers) expect(got.get(id), `${id} after run ${k + 1}`).toEqual(visible(ref.states.get(id)!));
            }
          } finally {
            await store.close();
          }
        }),
        { numRuns },
      );
    });
  });
}
