// The what-if on worker threads gives exactly what it gives in the event loop's thread, and both equal the bare
// engine over whole customer records, on random populations (orders, margins, refunds, scores, earlier states
// with alerts, snoozes), on both stores.
import { resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EvalPool } from '../../src/app/eval-pool.ts';
import { compileJob, evaluateRows, packRows, unpackRows } from '../../src/app/eval-kernel.ts';
import { PolicyService } from '../../src/app/policy-service.ts';
import { collectPopulation, Recomputer } from '../../src/app/recompute.ts';
import { whatIf } from '../../src/app/what-if.ts';
import { SNOOZES } from '../../src/app/workflows/alerts.ts';
import { loadConfigFiles } from '../../src/config/files.ts';
import { alertWorthy } from '../../src/domain/alerting.ts';
import { compilePolicy, evaluateCustomer, PopulationBuilder } from '../../src/domain/engine.ts';
import type { Policy } from '../../src/domain/policy.ts';
import type { EvalRow, Org, OrderInput, Store } from '../../src/ports/store.ts';
import { makeTestStore, type StoreKind } from '../helpers/app.ts';
import { hasMongo } from '../setup/mongo.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-06-30T02:00:00+08:00');
const files = await loadConfigFiles(resolve(import.meta.dirname, '../../config'));
const POLICY: Policy = files.policy;
// the draft moves customers: B needs less recency, A less spend
const DRAFT: Policy = structuredClone(POLICY);
(DRAFT.tiers[0].when as { all: { value: unknown }[] }).all[2].value = 5000;
(DRAFT.tiers[1].when as { all: { value: unknown }[] }).all[0].value = [20, 120];

const ORG: Org = {
  users: [
    { id: 'u-zhang', name: '张三', teamId: 't-east', platform: 'feishu', platformUserId: 'ou_z' },
    { id: 'u-li', name: '李四', teamId: 't-east', platform: 'feishu', platformUserId: 'ou_l' },
    { id: 'u-wang', name: '王五', teamId: null, platform: 'feishu', platformUserId: 'ou_w' },
  ],
  teams: [{ id: 't-east', name: '华东', managerIds: ['u-li'], chat: null }],
} as unknown as Org;
const OWNERS = ['u-zhang', 'u-li', 'u-wang', 'u-gone'];

const scenarioArb = fc.record({
  customers: fc.integer({ min: 1, max: 30 }),
  orders: fc.array(
    fc.record({
      customer: fc.nat(),
      daysAgo: fc.integer({ min: -3, max: 720 }),
      yuan: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 40_000 }), weight: 9 }, { arbitrary: fc.integer({ min: -3_000, max: -1 }), weight: 1 }),
      margin: fc.option(fc.integer({ min: -500, max: 20_000 }), { nil: null }),
      cancelled: fc.boolean(),
    }),
    { maxLength: 200 },
  ),
  scored: fc.array(fc.nat(), { maxLength: 6 }),
  snoozed: fc.array(fc.nat(), { maxLength: 4 }),
  // the earlier run's states carry an alert for these customers
  alerted: fc.array(fc.nat(), { maxLength: 8 }),
  laterDays: fc.integer({ min: 0, max: 120 }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

const idOf = (i: number) => `c-${String(i).padStart(3, '0')}`;

async function load(store: Store, sc: Scenario): Promise<void> {
  const n = sc.customers;
  await store.upsertCustomers(
    Array.from({ length: n }, (_, i) => ({
      id: idOf(i),
      name: `客户${i}`,
      ownerId: OWNERS[i % OWNERS.length],
      teamId: i % 5 === 0 ? 't-east' : null,
      attributes: { industry: ['制造', '零售', 'IT'][i % 3], vip: i % 4 === 0, size: i * 10 },
    })),
  );
  const orders: OrderInput[] = sc.orders.map((o, k) => ({
    orderId: `o-${k}`,
    customerId: idOf(o.customer % n),
    amountFen: o.yuan * 100,
    marginFen: o.margin === null ? null : o.margin * 100,
    occurredAt: T0 - o.daysAgo * DAY,
    occurredAtText: new Date(T0 - o.daysAgo * DAY).toISOString(),
    cancelled: o.cancelled && o.yuan > 0,
  }));
  await store.ingestOrders(orders);
  for (const s of sc.scored) await store.setScore(idOf(s % n), { points: { profitability: 20 + (s % 80), strength: 50 }, approvedBy: 'u-li', approvedAt: '2026-06-01T10:00:00+08:00' });
  const clock = { now: () => T0 };
  const policies = new PolicyService(store, clock);
  await policies.ensure(POLICY);
  const alerted = new Set(sc.alerted.map((a) => idOf(a % n)));
  const recomputer = new Recomputer({
    store,
    policies,
    clock,
    batchSize: 7,
    decide: async (batch, run) => {
      for (const e of batch) if (alerted.has(e.customer.id) && e.state.risk.level !== 'none') e.state.alerted = { level: e.state.risk.level, rules: e.state.risk.reasons.slice(0, 1).map((r) => r.rule), runId: run.id };
    },
  });
  await recomputer.start(T0).done;
  for (const s of sc.snoozed) await store.docs.put(SNOOZES, { _id: idOf(s % n), until: new Date(T0 + 3 * DAY).toISOString(), by: 'u-zhang' });
}

/** The what-if's counts from whole customer records and the bare engine, as the what-if made them before it had rows and a pool. */
async function reference(store: Store, policy: Policy, asOf: number, now: number) {
  const compiled = compilePolicy(policy, 0);
  const stats = await collectPopulation(store, compiled, asOf);
  const snoozes = await store.docs.find<{ _id: string; until: string }>(SNOOZES, {});
  const snoozed = new Set(snoozes.filter((z) => Date.parse(z.until) > now).map((z) => z._id));
  const distribution: Record<string, number> = Object.fromEntries(policy.tiers.map((t) => [t.key, 0]));
  const matrix: Record<string, Record<string, number>> = {};
  let atRisk = 0;
  let changed = 0;
  let alerts = 0;
  for await (const batch of store.streamCustomers(5)) {
    for (const c of batch) {
      const { state } = evaluateCustomer({ rollup: c.rollup, attributes: c.attributes, score: c.score, current: c.state }, { policy: compiled, asOf, stats, runId: 'what-if' });
      distribution[state.tier]++;
      if (state.risk.level !== 'none') atRisk++;
      const from = c.state?.tier ?? 'none';
      matrix[from] ??= {};
      matrix[from][state.tier] = (matrix[from][state.tier] ?? 0) + 1;
      if (c.state && c.state.tier !== state.tier) changed++;
      // someone hears of it: the owner is in the org, or the customer's team (its own, else its owner's) has a manager
      const team = c.teamId ?? ORG.users.find((u) => u.id === c.ownerId)?.teamId ?? null;
      const heard = ORG.users.some((u) => u.id === c.ownerId) || ORG.teams.some((t) => t.id === team && t.managerIds.length > 0);
      if (!snoozed.has(c.id) && alertWorthy(c.state?.alerted ?? null, state.risk) && heard) alerts++;
    }
  }
  return { distribution, matrix, atRisk, changed, alerts };
}

const pool = new EvalPool(2);
afterAll(() => pool.close());

for (const kind of ['memory', 'mongo'] as StoreKind[]) {
  describe.skipIf(kind === 'mongo' && !hasMongo)(`the what-if on worker threads equals the in-thread what-if and the bare engine (${kind} store)`, () => {
    it('random populations, the active policy and a draft, now and later', { timeout: 240_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (sc) => {
          const store = makeTestStore(kind, 'evalpool');
          await store.init();
          try {
            await load(store, sc);
            for (const policy of [POLICY, DRAFT]) {
              for (const asOf of [T0, T0 + sc.laterDays * DAY]) {
                const inThread = await whatIf(store, policy, asOf, ORG, T0);
                const onWorkers = await whatIf(store, policy, asOf, ORG, T0, { pool, poolFrom: 0 });
                expect(onWorkers).toEqual(inThread);
                const ref = await reference(store, policy, asOf, T0);
                expect(inThread.evaluated).toBe(sc.customers);
                expect(inThread.distribution).toEqual(ref.distribution);
                expect(inThread.matrix).toEqual(ref.matrix);
                expect(inThread.atRisk).toBe(ref.atRisk);
                expect(inThread.changed).toBe(ref.changed);
                expect(inThread.notices.alerts).toBe(ref.alerts);
              }
            }
          } finally {
            await store.close();
          }
        }),
        { numRuns: kind === 'memory' ? 40 : 4 },
      );
    });
  });
}

describe('packed rows', () => {
  it('evaluate exactly like the rows they were packed from (typed-array rollups, JSON attributes, scores and states)', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (sc) => {
        const store = makeTestStore('memory');
        await store.init();
        await load(store, sc);
        const rows: EvalRow[] = [];
        for await (const b of store.streamEvalRows(11)) rows.push(...b);
        const compiled = compilePolicy(POLICY, 0);
        const stats = await collectPopulation(store, compiled, T0);
        const ctx = { policy: compiled, asOf: T0, stats, runId: 'r' };
        const unpacked = unpackRows(packRows(rows));
        for (let i = 0; i < rows.length; i++) {
          const direct = evaluateCustomer(rows[i], ctx);
          expect(evaluateCustomer(unpacked[i], ctx)).toEqual(direct);
        }
        const job = { policy: POLICY, asOf: T0, stats };
        expect(await pool.evaluate(job, rows)).toEqual(evaluateRows(rows, compileJob(job)));
        pool.release(job);
      }),
      { numRuns: 40 },
    );
  });

  it('a worker that fails to evaluate rejects the batch with its error, and the pool keeps serving', async () => {
    const store = makeTestStore('memory');
    await store.init();
    await store.upsertCustomers([{ id: 'c1', name: 'c1', ownerId: 'u-zhang', teamId: null, attributes: {} }]);
    const rows: EvalRow[] = [];
    for await (const b of store.streamEvalRows(10)) rows.push(...b);
    const stats = await collectPopulation(store, compilePolicy(POLICY, 0), T0);
    const broken = { policy: { ...POLICY, tiers: null } as unknown as Policy, asOf: T0, stats };
    await expect(pool.evaluate(broken, rows)).rejects.toThrow(/evaluation worker/);
    const job = { policy: POLICY, asOf: T0, stats };
    expect((await pool.evaluate(job, rows)).tiers).toEqual(evaluateRows(rows, compileJob(job)).tiers);
  });

  it('makes the population statistics on a worker exactly as in the thread (the sorts and the fit leave the event loop)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ x: fc.integer({ min: 0, max: 30 }), tx: fc.integer({ min: 0, max: 700 }), extra: fc.integer({ min: 0, max: 300 }), fen: fc.integer({ min: 0, max: 5_000_000 }) }), { minLength: 0, maxLength: 400 }),
        fc.boolean(),
        async (rows, quintiles) => {
          const builder = new PopulationBuilder(compilePolicy(quintiles ? { ...POLICY, rfm: { method: 'quintiles' } } as Policy : POLICY, 1));
          for (const r of rows) {
            builder.add(r.extra % 50 === 0 ? null : r.extra, r.x + 1, r.fen / 100);
            builder.addRepeat(r.x, r.x === 0 ? 0 : r.tx, (r.x === 0 ? 0 : r.tx) + r.extra, r.x === 0 ? 0 : r.fen);
          }
          expect(await pool.populationStats(builder.data())).toEqual(builder.finish());
        },
      ),
      { numRuns: 15 },
    );
  });
});
