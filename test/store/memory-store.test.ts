// Memory-store specifics beyond the shared contract: the compact order index, id ordering, and
// that callers cannot change the store's state through what it returns.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareIds } from '../../src/adapters/shared/ingest-plan.ts';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { OrderIndex } from '../../src/adapters/memory/order-index.ts';

const anyId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }), // lone surrogates included
  fc.constantFrom('SO-0001', 'SO-0002', '订单-1', '😀', '\ud800', '\udc00x', 'a'.repeat(300)),
);
const anyFen = fc.oneof(fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(NaN), fc.constant(-0), fc.maxSafeInteger());

describe('OrderIndex', () => {
  it('behaves like a Map from order id to (customer, t, amount, margin, cancelled)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(anyId, fc.nat(1_000_000), fc.double({ noNaN: true }), anyFen, anyFen, fc.boolean()), { maxLength: 400 }),
        (ops) => {
          const index = new OrderIndex(4); // tiny: forces the table to grow
          const model = new Map<string, { slot: number; v: [number, number, number, number, boolean] }>();
          for (const [id, customer, t, a, g, cancelled] of ops) {
            const known = model.get(id);
            const slot = index.find(id);
            expect(slot).toBe(known ? known.slot : -1);
            if (known) index.set(slot, customer, t, a, g, cancelled);
            const s = known ? slot : index.add(id, customer, t, a, g, cancelled);
            model.set(id, { slot: s, v: [customer, t, a, g, cancelled] });
          }
          expect(index.size).toBe(model.size);
          for (const [id, { slot, v }] of model) {
            expect(index.find(id)).toBe(slot);
            expect([index.customer(slot), index.t(slot), index.a(slot), index.g(slot), index.cancelled(slot)]).toEqual(v);
            expect(Object.is(index.a(slot), v[2]) && Object.is(index.g(slot), v[3])).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('holds 300,000 orders and finds each one', () => {
    const index = new OrderIndex();
    for (let i = 0; i < 300_000; i++) index.add(`SO${i}`, i % 1000, i, i, NaN, false);
    for (let i = 0; i < 300_000; i += 997) expect(index.customer(index.find(`SO${i}`))).toBe(i % 1000);
    expect(index.find('SO300000')).toBe(-1);
  });
});

describe('compareIds', () => {
  it('orders by Unicode code point, as MongoDB orders strings (UTF-8 bytes)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (x, y) => {
        const want = Math.sign(Buffer.compare(Buffer.from(x, 'utf8'), Buffer.from(y, 'utf8')));
        expect(Math.sign(compareIds(x, y))).toBe(want);
      }),
      { numRuns: 2000 },
    );
    expect(compareIds('😀', '\uffff')).toBeGreaterThan(0); // '<' says the opposite
  });

  it('lists ids with astral characters in code point order', async () => {
    const store = new MemoryStore();
    const ids = ['b', '😀', '\uffee', 'a', '客户'];
    await store.upsertCustomers(ids.map((id) => ({ id, name: id, ownerId: 'u' })));
    const want = [...ids].sort(compareIds);
    expect(want).toEqual(['a', 'b', '客户', '\uffee', '😀']);
    expect((await store.listCustomers({}, 10)).items.map((c) => c.id)).toEqual(want);
    expect((await store.listCustomers({}, 10, '\uffee')).items.map((c) => c.id)).toEqual(['😀']);
  });
});

describe('MemoryStore isolation', () => {
  it('hands out rollups and states the caller owns, and read-only scores and attributes', async () => {
    const store = new MemoryStore();
    await store.upsertCustomers([{ id: 'c1', name: 'n', ownerId: 'u', attributes: { k: 'v' }, tags: ['t'] }]);
    await store.ingestOrders([{ orderId: 'o1', customerId: 'c1', amountFen: 5, marginFen: null, occurredAt: 1, occurredAtText: '', cancelled: false }]);
    await store.setScore('c1', { points: { p: 1 }, approvedBy: 'm', approvedAt: 'x' });

    const streamed = [];
    for await (const b of store.streamCustomers(10)) streamed.push(...b);
    streamed[0].rollup.a.push(99);
    const got = (await store.getCustomer('c1'))!;
    expect(got.rollup.a).toEqual([5]);
    got.rollup.t[0] = 42;
    expect((await store.getCustomer('c1'))!.rollup.t).toEqual([1]);

    expect(() => {
      (got.attributes as Record<string, unknown>).k = 'changed';
    }).toThrow(TypeError);
    expect(() => got.tags.push('x')).toThrow(TypeError);
    expect(() => {
      got.score!.points.p = 100;
    }).toThrow(TypeError);
    // states are copied in and out: neither the writer nor a reader can change what is stored
    const state = { tier: 'A', risk: { level: 'none', reasons: [] }, runId: 'r1', metrics: { frequency: 1 } } as never;
    await store.writeStates([{ id: 'c1', state, stateBeforeRun: null }], []);
    (state as { metrics: { frequency: number } }).metrics.frequency = 5;
    const read = (await store.getCustomer('c1'))!.state!;
    expect(read.metrics.frequency).toBe(1);
    (read.metrics as { frequency: number }).frequency = 2;
    expect((await store.getCustomer('c1'))!.state!.metrics.frequency).toBe(1);

    const org = { users: [], teams: [] };
    await store.putOrg(org);
    (org.users as unknown[]).push({ id: 'x' });
    expect((await store.getOrg())!.users).toEqual([]);
  });
});
