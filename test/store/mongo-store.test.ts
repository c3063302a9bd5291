// MongoDB-store specifics beyond the shared contract: the stored documents stay inside the
// portable subset, and the rollup repair paths (lost updates, crashed ingests) work.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Binary, type Document } from 'mongodb';
import { MongoStore } from '../../src/adapters/mongo/mongo-store.ts';
import { encodeRollup } from '../../src/adapters/mongo/codec.ts';
import type { OrderInput } from '../../src/ports/store.ts';
import { hasMongo, mongoTestDb } from '../setup/mongo.ts';

const T0 = Date.parse('2026-01-01T00:00:00+08:00');

function order(orderId: string, customerId: string, amountFen: number, t = T0): OrderInput {
  return { orderId, customerId, amountFen, marginFen: null, occurredAt: t, occurredAtText: new Date(t).toISOString(), cancelled: false };
}

/** every field name in a stored document, at any depth */
function fieldNames(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) fieldNames(x, out);
  else if (v !== null && typeof v === 'object' && !(v instanceof Binary)) {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      fieldNames(x, out);
    }
  }
  return out;
}

function numbers(v: unknown, out: number[] = []): number[] {
  if (typeof v === 'number') out.push(v);
  else if (Array.isArray(v)) for (const x of v) numbers(x, out);
  else if (v !== null && typeof v === 'object' && !(v instanceof Binary)) for (const x of Object.values(v)) numbers(x, out);
  return out;
}

describe.skipIf(!hasMongo)('MongoStore specifics', () => {
  let store: MongoStore;
  beforeEach(async () => {
    const t = mongoTestDb('mongostore')!;
    store = new MongoStore(t.uri, t.dbName);
    await store.init();
    await store.upsertCustomers([
      { id: 'c1', name: '甲', ownerId: 'u1', attributes: { 'a.b': 1, $x: 'y', 'weird.$key': null } },
      { id: 'c2', name: '乙', ownerId: 'u1' },
    ]);
  });
  afterEach(async () => {
    try {
      await store.db.dropDatabase();
    } finally {
      await store.close();
    }
  });

  async function rollupAmounts(id: string): Promise<number[]> {
    return (await store.getCustomer(id))!.rollup.a;
  }

  it('stores only portable documents: no dotted or $-prefixed field names, no NaN or infinities', async () => {
    await store.ingestOrders([order('o1', 'c1', 100), { ...order('o2', 'c1', 200), marginFen: 50 }]);
    await store.writeStates(
      [
        {
          id: 'c1',
          state: {
            tier: 'A', tierName: 'A', tierRank: 1, since: 'x', previous: null, downgradeStreak: 0, lifecycle: 'new', policyVersion: 1, evaluatedAt: 'x', runId: 'r',
            metrics: { recencyDays: null, frequency: 0, monetary: 0, margin: null, lifetimeValue: 0, orderCount: 0, avgOrderValue: null, tenureDays: null, medianIntervalDays: null, monetaryTopPct: null, r: null, f: null, m: null, rfmTotal: null, valueScore: null, previousTierRank: 0, tierRank: 1, pAlive: null, expectedPurchases90d: null, clv12m: null },
            risk: { level: 'high', reasons: [{ rule: 'x', severity: 'high', detail: { 'a.b': 1, $c: 2 } }] },
            explanation: { rule: 'A', conditions: [] },
          },
          stateBeforeRun: null,
        },
      ],
      [{ customerId: 'c1', from: null, to: 'A', at: '2026-06-30T02:00:00+08:00', runId: 'r' }],
    );
    await store.setScore('c1', { points: { 'dim.1': 10 }, approvedBy: 'u', approvedAt: 'x' });
    await store.addPolicy({ '$odd.key': [1, 2] }, 'x');
    await store.putOrg({ users: [], teams: [] });
    for (const name of ['customers', 'orders', 'tierHistory', 'policies', 'org']) {
      const docs: Document[] = await store.db.collection(name).find({}).toArray();
      expect(docs.length, name).toBeGreaterThan(0);
      for (const d of docs) {
        for (const k of fieldNames(d)) expect(k.includes('.') || k.startsWith('$'), `${name}: field ${k}`).toBe(false);
        for (const x of numbers(d)) expect(Number.isFinite(x), `${name}: number ${x}`).toBe(true);
      }
    }
    const c1 = await store.db.collection('customers').findOne({ _id: 'c1' as never });
    expect(c1!.attributes).toEqual([
      { k: 'a.b', v: 1 },
      { k: '$x', v: 'y' },
      { k: 'weird.$key', v: null },
    ]);
    expect(c1!.rollup).toBeInstanceOf(Binary);
    expect(c1!.tier).toBe('A');
    expect(c1!.risk).toBe('high');
    const o2 = await store.db.collection('orders').findOne({ _id: 'o2' as never });
    expect(o2).toMatchObject({ customerId: 'c1', t: T0, a: 200, g: 50, cancelled: false });
  });

  it('keeps rollups right by delta alone (no repair) through inserts, updates, moves and cancels in one batch', async () => {
    await store.ingestOrders([order('o1', 'c1', 100), order('o2', 'c1', 200), order('o3', 'c2', 300)]);
    const r = await store.ingestOrders([
      order('o4', 'c1', 400, T0 + 4),
      order('o4', 'c1', 450, T0 + 4), // inserted and changed in the same batch
      order('o1', 'c2', 100), // moved
      { ...order('o3', 'c2', 300), cancelled: true },
      order('o2', 'c1', 250, T0 - 1), // amount and date
      order('o3', 'c2', 300), // un-cancelled again
    ]);
    expect(r).toEqual({ inserted: 1, updated: 5, duplicates: 0, unknownCustomer: [] });
    expect((await store.getCustomer('c1'))!.rollup).toEqual({ t: [T0 - 1, T0 + 4], a: [250, 450], g: [NaN, NaN] });
    expect((await store.getCustomer('c2'))!.rollup.a.slice().sort()).toEqual([100, 300]);
    expect(store.rebuilds).toBe(0);
  });

  it('rebuilds a rollup from the orders when it lacks an entry the batch has to remove', async () => {
    await store.ingestOrders([order('o1', 'c1', 100), order('o2', 'c1', 200)]);
    // damage the stored rollup (as a lost update would)
    await store.db.collection('customers').updateOne({ _id: 'c1' as never }, { $set: { rollup: encodeRollup({ t: [T0], a: [999], g: [NaN] }), rv: 'damaged' } });
    expect(await store.ingestOrders([order('o1', 'c1', 150)])).toMatchObject({ updated: 1 });
    expect(await rollupAmounts('c1')).toEqual([150, 200]);
  });

  it('rebuilds the rollup when another writer changed it between read and write (lost update)', async () => {
    await store.ingestOrders([order('o1', 'c1', 100)]);
    // another ingest slips in after this one has read the customer: it stores o9 and its rollup
    const internals = store as unknown as { loadForIngest: (...args: unknown[]) => Promise<unknown> };
    const load = internals.loadForIngest.bind(store);
    let slipped = false;
    internals.loadForIngest = async (...args: unknown[]) => {
      const read = await load(...args);
      if (!slipped) {
        slipped = true;
        await store.db.collection('orders').insertOne({ _id: 'o9', customerId: 'c1', t: T0 + 9, a: 900, g: null, cancelled: false, occurredAtText: '' } as never);
        await store.db.collection('customers').updateOne({ _id: 'c1' as never }, { $set: { rollup: encodeRollup({ t: [T0, T0 + 9], a: [100, 900], g: [NaN, NaN] }), rv: 'other-writer' } });
      }
      return read;
    };
    expect(await store.ingestOrders([order('o2', 'c1', 200, T0 + 2)])).toMatchObject({ inserted: 1 });
    expect(await rollupAmounts('c1')).toEqual([100, 200, 900]);
  });

  /** what a crashed ingest leaves: its journal and its orders, but not its rollups */
  async function crashedBatch(owner: string | undefined, orders: { _id: string; customerId: string; a: number; t: number }[]) {
    await store.db.collection('ingestJournal').insertOne({ _id: `j-${owner}-${orders[0]._id}`, at: Date.now(), owner, customers: [...new Set(orders.map((o) => o.customerId))] } as never);
    await store.db.collection('orders').insertMany(orders.map((o) => ({ ...o, g: null, cancelled: false, occurredAtText: '' })) as never[]);
  }
  const liveness = { self: 'me', isDead: async (owner: string | null | undefined) => owner !== 'me' && owner !== 'alive-elsewhere' };

  it('repairs the rollups of ingests whose instance died between writing orders and rollups, and leaves live ones alone', async () => {
    store.useLiveness(liveness);
    await store.ingestOrders([order('o1', 'c1', 100)]);
    await crashedBatch('dead-instance', [{ _id: 'o7', customerId: 'c1', t: T0 + 7, a: 700 }, { _id: 'o8', customerId: 'c2', t: T0 + 8, a: 800 }]);
    await crashedBatch(undefined, [{ _id: 'o6', customerId: 'c2', t: T0 + 6, a: 600 }]); // a journal of an older version: no owner
    await crashedBatch('alive-elsewhere', [{ _id: 'o5', customerId: 'c2', t: T0 + 5, a: 500 }]);
    expect(await rollupAmounts('c1')).toEqual([100]);

    expect(await store.repairRollups()).toBe(3);
    expect(await rollupAmounts('c1')).toEqual([100, 700]);
    // the live instance's order is in the orders collection, so a rebuild includes it; its journal stays for it to finish
    expect(await rollupAmounts('c2')).toEqual([500, 600, 800]);
    expect(await store.db.collection('ingestJournal').find({}).map((d) => d.owner).toArray()).toEqual(['alive-elsewhere']);
    expect(await store.repairRollups()).toBe(0);
  });

  it('re-sending the batch of a dead instance repairs its rollups without counting an order twice', async () => {
    store.useLiveness(liveness);
    await store.ingestOrders([order('o1', 'c1', 100)]);
    await crashedBatch('dead-instance', [{ _id: 'o2', customerId: 'c1', t: T0 + 2, a: 200 }, { _id: 'o3', customerId: 'c2', t: T0 + 3, a: 300 }]);
    expect(await rollupAmounts('c1')).toEqual([100]);
    // the client's retry: the same orders, plus one that never made it
    const again = await store.ingestOrders([order('o2', 'c1', 200, T0 + 2), order('o3', 'c2', 300, T0 + 3), order('o4', 'c2', 400, T0 + 4)]);
    expect(again).toMatchObject({ inserted: 1, duplicates: 2 });
    expect(await rollupAmounts('c1')).toEqual([100, 200]);
    expect(await rollupAmounts('c2')).toEqual([300, 400]);
    // and once more: nothing changes
    await store.ingestOrders([order('o2', 'c1', 200, T0 + 2), order('o3', 'c2', 300, T0 + 3), order('o4', 'c2', 400, T0 + 4)]);
    expect(await rollupAmounts('c1')).toEqual([100, 200]);
    expect(await rollupAmounts('c2')).toEqual([300, 400]);
  });

  it('leaves no journal behind after an ingest', async () => {
    await store.ingestOrders([order('o1', 'c1', 100), order('o2', 'c2', 5)]);
    expect(await store.db.collection('ingestJournal').countDocuments({})).toBe(0);
  });

  it('rebuildRollup recomputes from the orders and reports unknown customers', async () => {
    await store.ingestOrders([order('o1', 'c2', 300, T0 + 3), order('o2', 'c2', 100, T0 + 1), { ...order('o3', 'c2', 5), cancelled: true }]);
    await store.db.collection('customers').updateOne({ _id: 'c2' as never }, { $set: { rollup: encodeRollup({ t: [], a: [], g: [] }) } });
    expect(await store.rebuildRollup('c2')).toBe(true);
    expect((await store.getCustomer('c2'))!.rollup).toEqual({ t: [T0 + 1, T0 + 3], a: [100, 300], g: [NaN, NaN] });
    expect(await store.rebuildRollup('nobody')).toBe(false);
  });

  it('writes more than one update command worth of customers and orders (FerretDB batches)', async () => {
    const ids = Array.from({ length: 130 }, (_, i) => `k${String(i).padStart(3, '0')}`);
    expect(await store.upsertCustomers(ids.map((id) => ({ id, name: id, ownerId: 'u1' })))).toEqual({ upserted: 130, updated: 0 });
    expect(await store.upsertCustomers(ids.map((id) => ({ id, name: `${id}!`, ownerId: 'u1' })))).toEqual({ upserted: 0, updated: 130 });
    const orders = ids.map((id, i) => order(`x${i}`, id, i));
    expect(await store.ingestOrders(orders)).toMatchObject({ inserted: 130 });
    expect(await store.ingestOrders(orders.map((o) => ({ ...o, amountFen: o.amountFen + 1 })))).toMatchObject({ updated: 130 });
    const all = await store.getCustomers(ids);
    expect(all.map((c) => c.rollup.a[0])).toEqual(ids.map((_, i) => i + 1));
  });
});
