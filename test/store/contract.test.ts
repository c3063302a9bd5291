// The storage contract: what every Store adapter must do, as a user of the app would notice it.
// Runs against the memory store always and against MongoDB (or FerretDB) when the global setup
// found a server (CI requires one, see test/setup/global-setup.ts).
import { stateFingerprint } from '../../src/domain/fingerprint.ts';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { MongoStore } from '../../src/adapters/mongo/mongo-store.ts';
import type { PopulationStats, Rollup, TierState } from '../../src/domain/types.ts';
import type { CustomerInput, HistoryEntry, OrderInput, RunRecord, Store } from '../../src/ports/store.ts';
import { hasMongo, mongoTestDb } from '../setup/mongo.ts';
import { SPEC_EXAMPLE_METRICS } from '../helpers/samples.ts';

// --- fixtures ------------------------------------------------------------------------------

const T0 = Date.parse('2026-01-01T00:00:00+08:00');
const DAY = 86_400_000;

function customer(id: string, over: Partial<CustomerInput> = {}): CustomerInput {
  return { id, name: `Name ${id}`, ownerId: 'u-zhang', teamId: 't-east', attributes: { industry: 'retail' }, tags: [], ...over };
}

function order(orderId: string, customerId: string, over: Partial<OrderInput> = {}): OrderInput {
  const occurredAt = over.occurredAt ?? T0;
  return {
    orderId,
    customerId,
    amountFen: 10_000,
    marginFen: null,
    occurredAt,
    occurredAtText: new Date(occurredAt).toISOString(),
    cancelled: false,
    ...over,
  };
}

function state(tier: string, risk: 'none' | 'low' | 'medium' | 'high', runId: string, over: Partial<TierState> = {}): TierState {
  return {
    tier,
    tierName: tier === 'A' ? '高价值客户' : `Tier ${tier}`,
    tierRank: tier === 'A' ? 4 : 1,
    since: '2026-06-30T02:00:00+08:00',
    previous: null,
    downgradeStreak: 0,
    metrics: {
      ...SPEC_EXAMPLE_METRICS,
      previousTierRank: 0,
      tierRank: 4,
    },
    lifecycle: 'mature',
    risk: { level: risk, reasons: risk === 'none' ? [] : [{ rule: 'spendDrop', severity: 'high', detail: { 'months.back': 3, $pct: 20 } }] },
    explanation: { rule: tier, conditions: [{ metric: 'recencyDays', op: 'lte', value: 30, actual: 12, held: true }] },
    policyVersion: 1,
    evaluatedAt: '2026-06-30T02:00:00+08:00',
    runId,
    ...over,
  };
}

function run(id: string, startedAt: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    kind: 'recompute',
    status: 'running',
    asOf: startedAt,
    policyVersion: 1,
    startedAt,
    finishedAt: null,
    owner: 'i-1',
    heartbeatAt: startedAt,
    checkpoint: null,
    counts: { evaluated: 0, changed: 0, upgrades: 0, downgrades: 0, atRisk: 0 },
    durationMs: null,
    error: null,
    ...over,
  };
}

/** rollup entries as [t, a, g] rows; margins compared with Object.is so NaN matches NaN */
/** a rollup's orders as [t, a, g] (streamed rollups may be typed-array views) */
function rows(r: Rollup): [number, number, number][] {
  return Array.from(r.t, (t, i) => [t, r.a[i], r.g[i]]);
}

/** the same rollup with plain arrays */
const plainRollup = (r: Rollup): Rollup => ({ t: Array.from(r.t), a: Array.from(r.a), g: Array.from(r.g) });

async function rollupOf(store: Store, id: string): Promise<[number, number, number][]> {
  const c = await store.getCustomer(id);
  if (!c) throw new Error(`no customer ${id}`);
  return rows(c.rollup);
}

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const b of it) out.push(b);
  return out;
}

function pad(i: number): string {
  return String(i).padStart(3, '0');
}

// --- the suite -----------------------------------------------------------------------------

export function storeContract(name: string, makeStore: () => Promise<Store>, dispose: (s: Store) => Promise<void> = (s) => s.close()): void {
  describe(`Store contract: ${name}`, () => {
    // every test gets an empty store (the read-only 250-customer tests below share one)
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await dispose(store);
    });

    it('reports its kind', () => {
      expect(['memory', 'mongo']).toContain(store.kind);
    });

    it('round-trips the org and replaces it whole', async () => {
      expect(await store.getOrg()).toBeNull();
      const org = {
        users: [
          { id: 'u-zhang', name: '张三', role: 'rep' as const, teamId: 't-east', locale: 'zh-CN' as const, feishu: { openId: 'ou_1' } },
          { id: 'u-li', name: '李四', role: 'manager' as const, teamId: 't-east', wecom: { userId: 'LiSi' }, dingtalk: { userId: '0123' } },
        ],
        teams: [{ id: 't-east', name: '华东大客户组', managerIds: ['u-li'], wecom: { chatId: 'wc1', webhookKey: 'k' } }],
      };
      await store.putOrg(org);
      expect(await store.getOrg()).toEqual(org);
      const next = { users: [{ id: 'u-wang', name: '王五', role: 'admin' as const }], teams: [] };
      await store.putOrg(next);
      expect(await store.getOrg()).toEqual(next);
    });

    it('scopes lists and tallies to what one person may see: own customers, managed teams, teamless customers of their members', async () => {
      await store.upsertCustomers([
        customer('c-own', { ownerId: 'u-li', teamId: 't-west' }),
        customer('c-east', { ownerId: 'u-zhang', teamId: 't-east' }),
        customer('c-west', { ownerId: 'u-wang', teamId: 't-west' }),
        customer('c-loose', { ownerId: 'u-zhang', teamId: null }),
        customer('c-loose-other', { ownerId: 'u-wang', teamId: null }),
      ]);
      const scope = { ownerId: 'u-li', teamIds: ['t-east'], teamlessOwnerIds: ['u-zhang'] };
      const ids = async (filter: Parameters<Store['listCustomers']>[0]) => (await store.listCustomers(filter, 10)).items.map((c) => c.id);
      expect(await ids({ scope })).toEqual(['c-east', 'c-loose', 'c-own']);
      expect(await ids({ scope, q: 'EAST' })).toEqual(['c-east']);
      expect(await ids({ scope: { ownerId: 'nobody', teamIds: [], teamlessOwnerIds: [] } })).toEqual([]);
      expect(await store.countCustomers({ scope })).toBe(3);
      expect((await store.tally({ scope })).total).toBe(3);
    });

    it('inserts new customers and updates only the descriptive fields of existing ones', async () => {
      expect(await store.upsertCustomers([customer('c1'), customer('c2', { teamId: undefined, attributes: undefined, tags: undefined })])).toEqual({ upserted: 2, updated: 0 });
      const fresh = await store.getCustomer('c2');
      expect(fresh).toMatchObject({ id: 'c2', teamId: null, attributes: {}, tags: [], state: null, stateBeforeRun: null, score: null });
      expect(fresh!.rollup).toEqual({ t: [], a: [], g: [] });
      expect(Date.parse(fresh!.createdAt)).not.toBeNaN();

      await store.ingestOrders([order('o1', 'c1', { amountFen: 12_345 })]);
      const s = state('A', 'none', 'r1');
      await store.writeStates([{ id: 'c1', state: s, stateBeforeRun: null }], []);
      const score = { points: { profitability: 90, strength: 90 }, approvedBy: 'u-li', approvedAt: '2026-06-30T10:00:00+08:00' };
      await store.setScore('c1', score);
      const before = await store.getCustomer('c1');

      const r = await store.upsertCustomers([
        customer('c1', { name: '新名字', ownerId: 'u-li', teamId: 't-west', attributes: { region: '华东' }, tags: ['vip'] }),
        customer('c3'),
      ]);
      expect(r).toEqual({ upserted: 1, updated: 1 });
      const after = await store.getCustomer('c1');
      expect(after).toMatchObject({ name: '新名字', ownerId: 'u-li', teamId: 't-west', attributes: { region: '华东' }, tags: ['vip'] });
      expect(after!.rollup).toEqual(before!.rollup);
      expect(after!.state).toEqual(s);
      expect(after!.score).toEqual(score);
      expect(after!.createdAt).toBe(before!.createdAt);
      expect(await store.countCustomers()).toBe(3);
    });

    it('counts a customer repeated within one upsert batch once as new, then as updated (last one wins)', async () => {
      expect(await store.upsertCustomers([customer('c1', { name: 'first' }), customer('c1', { name: 'second' })])).toEqual({ upserted: 1, updated: 1 });
      expect((await store.getCustomer('c1'))!.name).toBe('second');
    });

    it('returns null for an unknown customer and skips unknown ids in getCustomers', async () => {
      await store.upsertCustomers([customer('c1'), customer('c2'), customer('c3')]);
      expect(await store.getCustomer('nope')).toBeNull();
      const got = await store.getCustomers(['c3', 'nope', 'c1']);
      expect(got.map((c) => c.id)).toEqual(['c3', 'c1']);
    });

    it('ingests idempotently: the same order again is a duplicate and counts once in the rollup', async () => {
      await store.upsertCustomers([customer('c1')]);
      expect(await store.ingestOrders([order('o1', 'c1')])).toEqual({ inserted: 1, updated: 0, duplicates: 0, unknownCustomer: [] });
      expect(await store.ingestOrders([order('o1', 'c1')])).toEqual({ inserted: 0, updated: 0, duplicates: 1, unknownCustomer: [] });
      expect(await store.ingestOrders([order('o2', 'c1'), order('o2', 'c1')])).toEqual({ inserted: 1, updated: 0, duplicates: 1, unknownCustomer: [] });
      expect(await rollupOf(store, 'c1')).toEqual([
        [T0, 10_000, NaN],
        [T0, 10_000, NaN],
      ]);
    });

    it('updates the rollup when an order changes: amount, date (re-sorted), customer, cancelled and back', async () => {
      await store.upsertCustomers([customer('c1'), customer('c2')]);
      await store.ingestOrders([
        order('o1', 'c1', { occurredAt: T0 + 1 * DAY, amountFen: 100 }),
        order('o2', 'c1', { occurredAt: T0 + 2 * DAY, amountFen: 200 }),
        order('o3', 'c1', { occurredAt: T0 + 3 * DAY, amountFen: 300 }),
      ]);

      // amount
      expect(await store.ingestOrders([order('o2', 'c1', { occurredAt: T0 + 2 * DAY, amountFen: 250 })])).toMatchObject({ updated: 1, inserted: 0, duplicates: 0 });
      expect(await rollupOf(store, 'c1')).toEqual([
        [T0 + DAY, 100, NaN],
        [T0 + 2 * DAY, 250, NaN],
        [T0 + 3 * DAY, 300, NaN],
      ]);

      // date: o1 moves after o3, the rollup stays sorted by t
      await store.ingestOrders([order('o1', 'c1', { occurredAt: T0 + 5 * DAY, amountFen: 100 })]);
      expect(await rollupOf(store, 'c1')).toEqual([
        [T0 + 2 * DAY, 250, NaN],
        [T0 + 3 * DAY, 300, NaN],
        [T0 + 5 * DAY, 100, NaN],
      ]);

      // another customer: leaves c1, enters c2
      await store.ingestOrders([order('o3', 'c2', { occurredAt: T0 + 3 * DAY, amountFen: 300 })]);
      expect(await rollupOf(store, 'c1')).toEqual([
        [T0 + 2 * DAY, 250, NaN],
        [T0 + 5 * DAY, 100, NaN],
      ]);
      expect(await rollupOf(store, 'c2')).toEqual([[T0 + 3 * DAY, 300, NaN]]);

      // cancelled: stays an order (sending it again is a duplicate) but leaves the rollup
      const cancelled = order('o2', 'c1', { occurredAt: T0 + 2 * DAY, amountFen: 250, cancelled: true });
      expect(await store.ingestOrders([cancelled])).toMatchObject({ updated: 1 });
      expect(await store.ingestOrders([cancelled])).toMatchObject({ duplicates: 1, updated: 0 });
      expect(await rollupOf(store, 'c1')).toEqual([[T0 + 5 * DAY, 100, NaN]]);

      // un-cancelled: back in the rollup
      expect(await store.ingestOrders([order('o2', 'c1', { occurredAt: T0 + 2 * DAY, amountFen: 250 })])).toMatchObject({ updated: 1 });
      expect(await rollupOf(store, 'c1')).toEqual([
        [T0 + 2 * DAY, 250, NaN],
        [T0 + 5 * DAY, 100, NaN],
      ]);

      // the rollups alone (a run's first pass) are those of the customers, batch by batch
      const streamed: [number, number, number][][] = [];
      for await (const batch of store.streamRollups(1)) for (const r of batch) streamed.push(rows(r));
      const sortKey = (x: unknown) => JSON.stringify(x);
      expect(streamed.map(sortKey).sort()).toEqual([await rollupOf(store, 'c1'), await rollupOf(store, 'c2')].map(sortKey).sort());
    });

    it('streams each customer as an evaluation reads it: owner, team, attributes, score, rollup and the carried part of its state', async () => {
      await store.upsertCustomers([customer('c1', { teamId: 't-east', attributes: { region: '华东', size: 3, vip: true } }), customer('c2'), customer('c3')]);
      await store.ingestOrders([order('o1', 'c1', { amountFen: 500 }), order('o2', 'c1', { occurredAt: T0 - DAY, amountFen: -100, marginFen: 40 }), order('o3', 'c2')]);
      const alerted = { level: 'high' as const, rules: ['overdue', 'spendDrop'], runId: 'r2' };
      await store.writeStates(
        [
          { id: 'c1', state: state('A', 'high', 'r2', { previous: 'B', downgradeStreak: 1, since: '2026-05-01T02:00:00+08:00', alerted }), stateBeforeRun: state('B', 'none', 'r1') },
          { id: 'c2', state: state('C', 'none', 'r2', { alerted: null }), stateBeforeRun: null },
        ],
        [],
      );
      await store.setScore('c2', { points: { profitability: 70 }, approvedBy: 'u-li', approvedAt: '2026-06-30T10:00:00+08:00' });
      const rows = (await collect(store.streamEvalRows(2))).flat();
      // in id order, resumable after a checkpoint
      expect(rows.map((r) => r.id)).toEqual(['c1', 'c2', 'c3']);
      expect((await collect(store.streamEvalRows(1, 'c1'))).map((b) => b.map((r) => r.id))).toEqual([['c2'], ['c3']]);
      for await (const batch of store.streamCustomers(10)) {
        for (const c of batch) {
          const row = rows.find((r) => r.id === c.id)!;
          expect({ ...row, rollup: plainRollup(row.rollup) }).toEqual({
            id: c.id,
            ownerId: c.ownerId,
            teamId: c.teamId,
            attributes: c.attributes,
            score: c.score,
            rollup: c.rollup,
            current: c.state && { tier: c.state.tier, tierRank: c.state.tierRank, since: c.state.since, previous: c.state.previous, downgradeStreak: c.state.downgradeStreak, risk: { level: c.state.risk.level }, alerted: c.state.alerted ?? null },
            // what a run compares its result with, without decoding the state
            fingerprint: c.state && stateFingerprint(c.state),
            writtenBy: c.state?.runId ?? null,
          });
        }
      }
      expect(rows.find((r) => r.id === 'c1')!.current).toMatchObject({ tier: 'A', previous: 'B', downgradeStreak: 1, risk: { level: 'high' }, alerted });
      expect(rows.find((r) => r.id === 'c3')!.current).toBeNull();
    });

    it('stores a new cancelled order without counting it, and counts it once it is un-cancelled', async () => {
      await store.upsertCustomers([customer('c1')]);
      expect(await store.ingestOrders([order('o1', 'c1', { cancelled: true })])).toMatchObject({ inserted: 1 });
      expect(await rollupOf(store, 'c1')).toEqual([]);
      expect(await store.ingestOrders([order('o1', 'c1')])).toMatchObject({ updated: 1, inserted: 0 });
      expect(await rollupOf(store, 'c1')).toEqual([[T0, 10_000, NaN]]);
    });

    it('lets the last occurrence of an orderId in a batch win, with consistent counts', async () => {
      await store.upsertCustomers([customer('c1'), customer('c2')]);
      const r = await store.ingestOrders([
        order('o1', 'c1', { amountFen: 1 }),
        order('o1', 'c1', { amountFen: 2 }),
        order('o1', 'c2', { amountFen: 3 }),
        order('o1', 'c2', { amountFen: 3 }),
      ]);
      expect(r).toEqual({ inserted: 1, updated: 2, duplicates: 1, unknownCustomer: [] });
      expect(await rollupOf(store, 'c1')).toEqual([]);
      expect(await rollupOf(store, 'c2')).toEqual([[T0, 3, NaN]]);
    });

    it('rejects orders of unknown customers and stores nothing for them', async () => {
      await store.upsertCustomers([customer('c1')]);
      const r = await store.ingestOrders([order('o1', 'c1'), order('o2', 'ghost'), order('o3', 'c1'), order('o1', 'ghost')]);
      expect(r).toEqual({ inserted: 2, updated: 0, duplicates: 0, unknownCustomer: [1, 3] });
      expect(await rollupOf(store, 'c1')).toHaveLength(2); // o1 kept its customer
      await store.upsertCustomers([customer('ghost')]);
      // o2 was never stored: now it is new
      expect(await store.ingestOrders([order('o2', 'ghost')])).toMatchObject({ inserted: 1, duplicates: 0 });
      expect(await rollupOf(store, 'ghost')).toHaveLength(1);
    });

    it('round-trips margins (none = NaN, zero, negative), refunds and large amounts exactly', async () => {
      await store.upsertCustomers([customer('c1')]);
      await store.ingestOrders([
        order('o1', 'c1', { occurredAt: T0 + 1, amountFen: 123_456, marginFen: null }),
        order('o2', 'c1', { occurredAt: T0 + 2, amountFen: -5_000, marginFen: -1_200 }),
        order('o3', 'c1', { occurredAt: T0 + 3, amountFen: 0, marginFen: 0 }),
        order('o4', 'c1', { occurredAt: T0 + 4, amountFen: 9_007_199_254_740_991, marginFen: 5_000_000_000 }),
      ]);
      const got = await rollupOf(store, 'c1');
      expect(got).toEqual([
        [T0 + 1, 123_456, NaN],
        [T0 + 2, -5_000, -1_200],
        [T0 + 3, 0, 0],
        [T0 + 4, 9_007_199_254_740_991, 5_000_000_000],
      ]);
      // a margin appearing later is a change
      expect(await store.ingestOrders([order('o1', 'c1', { occurredAt: T0 + 1, amountFen: 123_456, marginFen: 4_000 })])).toMatchObject({ updated: 1 });
      expect((await rollupOf(store, 'c1'))[0]).toEqual([T0 + 1, 123_456, 4_000]);
    });

    it('keeps rollups sorted by time when orders arrive out of order', async () => {
      await store.upsertCustomers([customer('c1')]);
      await store.ingestOrders([order('o3', 'c1', { occurredAt: T0 + 3 * DAY }), order('o1', 'c1', { occurredAt: T0 + DAY })]);
      await store.ingestOrders([order('o2', 'c1', { occurredAt: T0 + 2 * DAY }), order('o0', 'c1', { occurredAt: T0 - DAY })]);
      const r = (await store.getCustomer('c1'))!.rollup;
      expect(r.t).toEqual([T0 - DAY, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]);
    });

    it('keeps every rollup equal to the stored orders under random batches (property)', async () => {
      const ids = ['c0', 'c1', 'c2'];
      await store.upsertCustomers(ids.map((id) => customer(id)));
      const known = new Set(ids);
      const model = new Map<string, { c: string; t: number; a: number; g: number; x: boolean }>();
      const arbOrder = fc.record({
        id: fc.constantFrom('o0', 'o1', 'o2', 'o3', 'o4', 'o5'),
        c: fc.constantFrom('c0', 'c1', 'c2', 'cX'),
        t: fc.integer({ min: 0, max: 3 }),
        a: fc.integer({ min: -2, max: 2 }),
        g: fc.option(fc.integer({ min: 0, max: 1 }), { nil: null }),
        x: fc.boolean(),
      });
      let step = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(arbOrder, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }), async (batches) => {
          for (const batch of batches) {
            step++;
            const input = batch.map((o) => order(o.id, o.c, { occurredAt: T0 + o.t * DAY, amountFen: o.a, marginFen: o.g, cancelled: o.x }));
            const expected = { inserted: 0, updated: 0, duplicates: 0, unknownCustomer: [] as number[] };
            batch.forEach((o, i) => {
              if (!known.has(o.c)) return void expected.unknownCustomer.push(i);
              const prev = model.get(o.id);
              const next = { c: o.c, t: T0 + o.t * DAY, a: o.a, g: o.g ?? NaN, x: o.x };
              if (!prev) expected.inserted++;
              else if (prev.c === next.c && prev.t === next.t && prev.a === next.a && Object.is(prev.g, next.g) && prev.x === next.x) expected.duplicates++;
              else expected.updated++;
              model.set(o.id, next);
            });
            expect(await store.ingestOrders(input), `step ${step}`).toEqual(expected);
            const got = await store.getCustomers(ids);
            for (const c of got) {
              const want = [...model.values()]
                .filter((o) => o.c === c.id && !o.x)
                .map((o): [number, number, number] => [o.t, o.a, o.g]);
              const have = rows(c.rollup);
              expect(c.rollup.t, 'sorted by t').toEqual([...c.rollup.t].sort((p, q) => p - q));
              const byContent = (p: number[], q: number[]) => p[0] - q[0] || p[1] - q[1] || (p[2] || 0) - (q[2] || 0) || Number(Number.isNaN(p[2])) - Number(Number.isNaN(q[2]));
              expect(have.slice().sort(byContent), `customer ${c.id} at step ${step}`).toEqual(want.sort(byContent));
            }
          }
        }),
        { numRuns: store.kind === 'mongo' ? 20 : 100, seed: 20260630 },
      );
    });

    it('writes states and history; history rows are idempotent per run and customer', async () => {
      await store.upsertCustomers([customer('c1'), customer('c2'), customer('c3')]);
      const s1 = state('A', 'high', 'run-1', { evaluatedAt: '2026-06-01T02:00:00+08:00' });
      const h1: HistoryEntry[] = [
        { customerId: 'c1', from: null, to: 'A', at: '2026-06-01T02:00:00+08:00', runId: 'run-1' },
        { customerId: 'c2', from: null, to: 'C', at: '2026-06-01T02:00:00+08:00', runId: 'run-1' },
      ];
      await store.writeStates(
        [
          { id: 'c1', state: s1, stateBeforeRun: null },
          { id: 'c2', state: state('C', 'none', 'run-1'), stateBeforeRun: null },
          { id: 'ghost', state: state('C', 'none', 'run-1'), stateBeforeRun: null },
        ],
        h1,
      );
      // the same run again (a resumed run): same rows, nothing doubles
      await store.writeStates([{ id: 'c1', state: state('A', 'high', 'run-1', { evaluatedAt: '2026-06-01T02:00:00+08:00' }), stateBeforeRun: null }], [...h1, h1[0]]);
      expect(await store.getHistory('c1')).toEqual([h1[0]]);
      expect(await store.getCustomer('ghost')).toBeNull();

      const c1 = await store.getCustomer('c1');
      expect(c1!.state).toEqual(s1);
      expect(c1!.stateBeforeRun).toBeNull();

      // a later run: stateBeforeRun carries the state the run started from
      const s2 = state('C', 'none', 'run-2', { previous: 'A', evaluatedAt: '2026-06-02T02:00:00+08:00' });
      const h2: HistoryEntry = { customerId: 'c1', from: 'A', to: 'C', at: '2026-06-02T02:00:00+08:00', runId: 'run-2' };
      await store.writeStates([{ id: 'c1', state: s2, stateBeforeRun: c1!.state }], [h2]);
      const again = await store.getCustomer('c1');
      expect(again!.state).toEqual(s2);
      expect(again!.stateBeforeRun).toEqual(s1);
      expect(await store.getHistory('c1')).toEqual([h1[0], h2]);
      expect(await store.getHistory('c3')).toEqual([]);

      // the filters follow the current state
      expect((await store.listCustomers({ tier: 'A' }, 10)).items.map((c) => c.id)).toEqual([]);
      expect((await store.listCustomers({ tier: 'C' }, 10)).items.map((c) => c.id)).toEqual(['c1', 'c2']);
      expect(await store.countCustomers({ risk: 'none' })).toBe(2);
      // c3 has never been evaluated: it counts in the total only
      expect(await store.tally()).toEqual({ total: 3, tiers: { C: 2 }, risk: { none: 2 } });

      // history across customers since an instant, oldest first (other offsets compare as instants)
      expect(await store.historySince('2026-05-31T18:00:00Z', 10)).toEqual([h1[0], h1[1], h2]);
      expect(await store.historySince('2026-06-01T18:00:00Z', 10)).toEqual([h2]);
      expect(await store.historySince('2026-01-01T00:00:00Z', 1)).toEqual([h1[0]]);
      expect(await store.historySince('2027-01-01T00:00:00Z', 10)).toEqual([]);
    });

    it('releases the saved stateBeforeRun once the run that wrote it is done', async () => {
      await store.upsertCustomers([customer('c1'), customer('c2')]);
      const old = state('B', 'none', 'run-1');
      await store.writeStates([{ id: 'c1', state: old, stateBeforeRun: null }], []);
      await store.createRun(run('run-2', '2026-06-02T02:00:00+08:00'));
      await store.writeStates(
        [
          { id: 'c1', state: state('A', 'none', 'run-2'), stateBeforeRun: state('B', 'none', 'run-1') },
          { id: 'c2', state: state('C', 'none', 'run-3'), stateBeforeRun: state('B', 'none', 'run-0') },
        ],
        [],
      );
      await store.updateRun('run-2', { checkpoint: 'c1' });
      expect((await store.getCustomer('c1'))!.stateBeforeRun).toEqual(old);
      await store.updateRun('run-2', { status: 'done', finishedAt: '2026-06-02T02:10:00+08:00' });
      expect((await store.getCustomer('c1'))!.stateBeforeRun).toBeNull();
      expect((await store.getCustomer('c1'))!.state?.tier).toBe('A');
      expect((await store.getCustomer('c2'))!.stateBeforeRun).toEqual(state('B', 'none', 'run-0'));
    });

    it('keeps the approved score', async () => {
      await store.upsertCustomers([customer('c1')]);
      const score = { points: { profitability: 90, 'strength.v2': 80 }, approvedBy: 'u-li', approvedAt: '2026-06-30T10:00:00+08:00', submittedBy: 'u-zhang', requestId: 'req-1' };
      await store.setScore('c1', score);
      expect((await store.getCustomer('c1'))!.score).toEqual(score);
      await store.setScore('c1', { ...score, points: { profitability: 10 } });
      expect((await store.getCustomer('c1'))!.score!.points).toEqual({ profitability: 10 });
    });

    it('versions policies 1, 2, 3…; the latest is active; old versions stay readable', async () => {
      expect(await store.getPolicy()).toBeNull();
      expect(await store.listPolicies()).toEqual([]);
      const p1 = { timezone: 'Asia/Shanghai', tiers: [{ key: 'A', name: '高价值客户', playbook: { 'service.level': ['1对1专属客户经理'] } }] };
      const p2 = { ...p1, window: { days: 180 } };
      const p3 = { ...p1, window: { days: 90 }, $weird: null };
      expect(await store.addPolicy(p1, '2026-06-01T00:00:00Z')).toBe(1);
      expect(await store.addPolicy(p2, '2026-06-02T00:00:00Z')).toBe(2);
      expect(await store.addPolicy(p3, '2026-06-03T00:00:00Z')).toBe(3);
      expect(await store.getPolicy()).toEqual({ version: 3, installedAt: '2026-06-03T00:00:00Z', policy: p3 });
      expect(await store.getPolicy(1)).toEqual({ version: 1, installedAt: '2026-06-01T00:00:00Z', policy: p1 });
      expect(await store.getPolicy(9)).toBeNull();
      expect(await store.listPolicies()).toEqual([
        { version: 1, installedAt: '2026-06-01T00:00:00Z' },
        { version: 2, installedAt: '2026-06-02T00:00:00Z' },
        { version: 3, installedAt: '2026-06-03T00:00:00Z' },
      ]);
    });

    it('gives concurrent addPolicy calls distinct versions', async () => {
      const versions = await Promise.all([1, 2, 3, 4].map((i) => store.addPolicy({ i }, `2026-06-0${i}T00:00:00Z`)));
      expect([...versions].sort()).toEqual([1, 2, 3, 4]);
      for (let v = 1; v <= 4; v++) expect((await store.getPolicy(v))!.policy).toEqual({ i: versions.indexOf(v) + 1 });
    });

    it('creates, updates, reads and lists runs (newest first)', async () => {
      const r1 = run('run-1', '2026-06-01T02:00:00+08:00');
      const r2 = run('run-2', '2026-06-02T02:00:00+08:00');
      const r3 = run('run-3', '2026-06-01T20:00:00Z'); // = 2026-06-02T04:00+08:00, the newest
      await store.createRun(r1);
      await store.createRun(r3);
      await store.createRun(r2);
      expect(await store.getRun('run-1')).toEqual(r1);
      expect(await store.getRun('nope')).toBeNull();
      const counts = { evaluated: 10, changed: 3, upgrades: 2, downgrades: 1, atRisk: 4 };
      await store.updateRun('run-1', { checkpoint: 'c-099', counts, heartbeatAt: '2026-06-01T02:01:00+08:00' });
      await store.updateRun('run-1', { status: 'done', finishedAt: '2026-06-01T02:05:00+08:00', durationMs: 300_000 });
      expect(await store.getRun('run-1')).toEqual({ ...r1, checkpoint: 'c-099', counts, heartbeatAt: '2026-06-01T02:01:00+08:00', status: 'done', finishedAt: '2026-06-01T02:05:00+08:00', durationMs: 300_000 });
      await store.updateRun('run-2', { status: 'failed', error: '连接中断' });
      expect((await store.getRun('run-2'))!.error).toBe('连接中断');
      expect((await store.listRuns(10)).map((r) => r.id)).toEqual(['run-3', 'run-2', 'run-1']);
      expect((await store.listRuns(2)).map((r) => r.id)).toEqual(['run-3', 'run-2']);
    });

    it('round-trips population statistics exactly, including 250,000 values', async () => {
      expect(await store.loadPopulationStats('run-x')).toBeNull();
      const small: PopulationStats = {
        n: 3,
        monetaryDesc: new Float64Array([15300.25, 0.1 + 0.2, -12.5]),
        quintiles: { n: 2, recency: [30, 60.5, 90, 180], frequency: [1, 2, 3, 4], monetary: [0.01, 1e-7, 5e15, -0] },
        models: {
          bgnbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, logLikelihood: -9582.4, n: 2357, rows: 1200, distinct: 1200, sampled: false },
          gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44, logLikelihood: -4000.5, n: 946, rows: 900, distinct: 900, sampled: false },
        },
      };
      await store.savePopulationStats('run-s', small);
      expect(await store.loadPopulationStats('run-s')).toEqual(small);

      const n = 250_000;
      const big = new Float64Array(n);
      for (let i = 0; i < n; i++) big[i] = (n - i) * 1.37 + i / 3;
      // statistics without models (saved before the models existed, or a population too small to fit) load with models null
      const stats: PopulationStats = { n, monetaryDesc: big, quintiles: null };
      await store.savePopulationStats('run-b', stats);
      const back = await store.loadPopulationStats('run-b');
      expect(back!.n).toBe(n);
      expect(back!.quintiles).toBeNull();
      expect(back!.models).toBeNull();
      expect(back!.monetaryDesc).toBeInstanceOf(Float64Array);
      expect(Buffer.from(back!.monetaryDesc.buffer, back!.monetaryDesc.byteOffset, back!.monetaryDesc.byteLength).equals(Buffer.from(big.buffer))).toBe(true);

      // saving again for the same run replaces it (also with fewer values)
      await store.savePopulationStats('run-b', { n: 1, monetaryDesc: new Float64Array([7]), quintiles: null });
      expect(Array.from((await store.loadPopulationStats('run-b'))!.monetaryDesc)).toEqual([7]);
      // an empty population
      await store.savePopulationStats('run-e', { n: 0, monetaryDesc: new Float64Array(0), quintiles: null });
      expect((await store.loadPopulationStats('run-e'))!.monetaryDesc).toHaveLength(0);
      // what the store returns is the caller's to keep
      back!.monetaryDesc[0] = -1;
      expect((await store.loadPopulationStats('run-s'))!.monetaryDesc[0]).toBe(15300.25);
    });

    it('round-trips attribute keys with dots, dollars and other odd characters', async () => {
      // JSON.parse makes "__proto__" an own key, as it would be in a request body
      const attributes = JSON.parse('{"a.b":"dot","$x":1,"x$":true,"__proto__":"proto","":null,"k.$.k":"both","区域":"华东","a%2Eb":"escaped-looking"}');
      const input = customer('c1', { attributes });
      await store.upsertCustomers([input]);
      const got = await store.getCustomer('c1');
      expect(got!.attributes).toEqual(input.attributes);
      expect(Object.keys(got!.attributes)).toEqual(Object.keys(input.attributes!));
      expect(Object.getPrototypeOf(got!.attributes)).toBe(Object.prototype);
      expect((await collect(store.streamCustomers(10))).flat()[0].attributes).toEqual(input.attributes);
    });

    it('handles customers and orders in Chinese', async () => {
      await store.upsertCustomers([
        customer('客户-甲', { name: '上海甲乙贸易有限公司', ownerId: '张三', teamId: '华东组', tags: ['重点', 'vip'] }),
        customer('客户-乙', { name: '北京丙丁科技', ownerId: '张三' }),
        customer('customer-1', { name: 'Acme' }),
      ]);
      expect(await store.ingestOrders([order('订单-001', '客户-甲', { amountFen: 880_000, occurredAtText: '2026-01-01T00:00:00+08:00' }), order('订单-002', '客户-丙')])).toEqual({
        inserted: 1,
        updated: 0,
        duplicates: 0,
        unknownCustomer: [1],
      });
      expect(await store.ingestOrders([order('订单-001', '客户-甲', { amountFen: 880_000 })])).toMatchObject({ duplicates: 1 });
      const c = await store.getCustomer('客户-甲');
      expect(c).toMatchObject({ name: '上海甲乙贸易有限公司', ownerId: '张三', teamId: '华东组', tags: ['重点', 'vip'] });
      expect(rows(c!.rollup)).toEqual([[T0, 880_000, NaN]]);
      expect((await store.listCustomers({ q: '贸易' }, 10)).items.map((x) => x.id)).toEqual(['客户-甲']);
      expect((await store.listCustomers({ q: '客户' }, 10)).items.map((x) => x.id)).toEqual(['客户-乙', '客户-甲']); // code point order: 乙 U+4E59 < 甲 U+7532
      expect((await store.listCustomers({ ownerId: '张三' }, 1)).nextCursor).toBe('客户-乙');
      expect((await store.listCustomers({}, 10)).items.map((x) => x.id)).toEqual(['customer-1', '客户-乙', '客户-甲']);
    });
  });

  describe(`Store contract: ${name}, 250 customers (read-only tests on one shared store)`, () => {
    const N = 250;
    const owners = ['u-zhang', 'u-li', 'u-wang'];
    const teams = ['t-east', 't-west'];
    const tierOf = (i: number) => ['A', 'B', 'C', 'W', 'C'][i % 5];
    const riskOf = (i: number) => (['none', 'low', 'medium', 'high'] as const)[i % 4];
    const nameOf = (i: number) => (i % 7 === 0 ? `Shop A+B(${i}) 上海` : i % 11 === 0 ? `华东贸易${i}` : `Company ${i}`);

    let store: Store;
    beforeAll(async () => {
      store = await makeStore();
      const cs: CustomerInput[] = [];
      // inserted in a scrambled order: listing is by id regardless
      for (let k = 0; k < N; k++) {
        const i = (k * 97) % N;
        cs.push(customer(`c-${pad(i)}`, { name: nameOf(i), ownerId: owners[i % 3], teamId: teams[i % 2] }));
      }
      await store.upsertCustomers(cs);
      await store.writeStates(
        Array.from({ length: N }, (_, i) => ({ id: `c-${pad(i)}`, state: state(tierOf(i), riskOf(i), 'r1'), stateBeforeRun: null })),
        [],
      );
    });
    afterAll(async () => {
      await dispose(store);
    });

    async function pages(filter: Parameters<Store['listCustomers']>[0], limit = 100): Promise<{ ids: string[]; sizes: number[] }> {
      const ids: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 100; guard++) {
        const page = await store.listCustomers(filter, limit, cursor);
        ids.push(...page.items.map((c) => c.id));
        sizes.push(page.items.length);
        if (page.nextCursor === null) return { ids, sizes };
        expect(page.items.length).toBe(limit);
        expect(page.nextCursor).toBe(page.items[page.items.length - 1].id);
        cursor = page.nextCursor;
      }
      throw new Error('pagination did not end');
    }

    function expectedIds(pred: (i: number) => boolean): string[] {
      return Array.from({ length: N }, (_, i) => i).filter(pred).map((i) => `c-${pad(i)}`);
    }

    it('pages through all customers in id order, each exactly once', async () => {
      const { ids, sizes } = await pages({});
      expect(sizes).toEqual([100, 100, 50]);
      expect(ids).toEqual(expectedIds(() => true));
      expect(await store.countCustomers()).toBe(N);
    });

    it('returns no cursor when the last page is exactly full', async () => {
      const { sizes } = await pages({}, 125);
      expect(sizes).toEqual([125, 125]);
    });

    it('filters by owner, team, tier and risk, page by page', async () => {
      const cases: [Parameters<Store['listCustomers']>[0], (i: number) => boolean][] = [
        [{ ownerId: 'u-li' }, (i) => owners[i % 3] === 'u-li'],
        [{ teamId: 't-west' }, (i) => teams[i % 2] === 't-west'],
        [{ tier: 'C' }, (i) => tierOf(i) === 'C'],
        [{ risk: 'high' }, (i) => riskOf(i) === 'high'],
        [{ tier: 'A', teamId: 't-east', ownerId: 'u-zhang' }, (i) => tierOf(i) === 'A' && teams[i % 2] === 't-east' && owners[i % 3] === 'u-zhang'],
        [{ tier: 'nope' }, () => false],
      ];
      for (const [filter, pred] of cases) {
        const want = expectedIds(pred);
        const { ids } = await pages(filter, 30);
        expect(ids, JSON.stringify(filter)).toEqual(want);
        expect(await store.countCustomers(filter), JSON.stringify(filter)).toBe(want.length);
      }
    });

    it('tallies customers by tier and risk in one call, for all, a team or an owner', async () => {
      const count = (pred: (i: number) => boolean, key: (i: number) => string) => {
        const out: Record<string, number> = {};
        for (let i = 0; i < N; i++) if (pred(i)) out[key(i)] = (out[key(i)] ?? 0) + 1;
        return out;
      };
      const cases: [Parameters<Store['tally']>[0], (i: number) => boolean][] = [
        [undefined, () => true],
        [{ teamId: 't-west' }, (i) => teams[i % 2] === 't-west'],
        [{ ownerId: 'u-li', teamId: 't-east' }, (i) => owners[i % 3] === 'u-li' && teams[i % 2] === 't-east'],
        [{ ownerId: 'nobody' }, () => false],
      ];
      for (const [filter, pred] of cases) {
        expect(await store.tally(filter), JSON.stringify(filter)).toEqual({
          total: expectedIds(pred).length,
          tiers: count(pred, tierOf),
          risk: count(pred, riskOf),
        });
      }
    });

    it('searches id and name as a case-insensitive literal substring (regex characters included)', async () => {
      const cases: [string, (i: number) => boolean][] = [
        ['a+b(', (i) => i % 7 === 0],
        ['SHOP A+B(', (i) => i % 7 === 0],
        ['华东', (i) => i % 7 !== 0 && i % 11 === 0],
        ['C-01', (i) => pad(i).startsWith('01')],
        ['.*', () => false],
        ['(1', (i) => i % 7 === 0 && String(i).startsWith('1')],
      ];
      for (const [q, pred] of cases) {
        const { ids } = await pages({ q }, 40);
        expect(ids, q).toEqual(expectedIds(pred));
      }
      const { ids } = await pages({ q: 'a+b(', teamId: 't-east' }, 40);
      expect(ids).toEqual(expectedIds((i) => i % 7 === 0 && i % 2 === 0));
    });

    it('streams every customer in id order in batches, and resumes after a checkpoint', async () => {
      const all = await collect(store.streamCustomers(40));
      expect(all.map((b) => b.length)).toEqual([40, 40, 40, 40, 40, 40, 10]);
      const ids = all.flat().map((c) => c.id);
      expect(ids).toEqual(expectedIds(() => true));
      expect(all[0][0].state?.tier).toBe(tierOf(0));

      const rest = (await collect(store.streamCustomers(100, 'c-099'))).flat().map((c) => c.id);
      expect(rest).toEqual(expectedIds((i) => i > 99));
      expect((await collect(store.streamCustomers(100, 'c-0995'))).flat()[0].id).toBe('c-100'); // a checkpoint need not exist
      expect(await collect(store.streamCustomers(100, 'c-249'))).toEqual([]);
      expect((await collect(store.streamCustomers(1000, null))).flat()).toHaveLength(N);
    });
  });
}

// --- the runs ------------------------------------------------------------------------------

storeContract('memory', async () => new MemoryStore());

describe.skipIf(!hasMongo)('mongo', () => {
  storeContract(
    'mongo',
    async () => {
      const t = mongoTestDb('store')!;
      const s = new MongoStore(t.uri, t.dbName);
      await s.init();
      return s;
    },
    async (s) => {
      const m = s as MongoStore;
      try {
        await m.db.dropDatabase();
      } finally {
        await m.close();
      }
    },
  );
});
