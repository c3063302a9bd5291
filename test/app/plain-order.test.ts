// The bulk import's fast path for orders must never accept what the schema refuses, nor read a row differently.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { orderSchema, plainOrderInput, toOrderInput } from '../../src/app/inputs.ts';

// mostly ordinary rows, each field sometimes replaced by one the schema trims, refuses or reads differently
const sometimes = <T, U>(ordinary: fc.Arbitrary<T>, odd: fc.Arbitrary<U>) => fc.oneof({ arbitrary: ordinary, weight: 12 }, { arbitrary: odd, weight: 1 });
const idLike = sometimes(
  fc.stringMatching(/^[a-z0-9-]{1,12}$/),
  fc.oneof(fc.constantFrom('', ' o-1', 'o-1 ', '\uD800x', 'a\uD83D\uDE00b', 'x'.repeat(200), 'x'.repeat(201), '客户-1'), fc.integer(), fc.constant(null)),
);
const money = sometimes(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => n / 100),
  fc.oneof(fc.double(), fc.constantFrom(0.005, 1e13, -1e13, 12.345, Infinity, NaN, '12.5', null)),
);
const instant = sometimes(
  fc.date({ min: new Date('2000-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-06-30T10:00:00+08:00', '2026-06-30T10:00+0800', '2026-06-30 10:00:00', '2026-02-30T10:00:00Z', '2026-13-01T00:00:00Z', '', 5),
);
const status = sometimes(fc.constantFrom(undefined, 'paid', 'cancelled', 'CANCELLED', 'refund'), fc.constantFrom(' cancelled', 'x'.repeat(51), '\uDC00', 7, null));

const row = fc
  .record({ orderId: idLike, customerId: idLike, amount: money, margin: fc.oneof(money, fc.constant(undefined)), occurredAt: instant, status })
  .chain((r) =>
    fc.constantFrom<((x: Record<string, unknown>) => Record<string, unknown>)[]>(
      (x) => x,
      (x) => x,
      (x) => x,
      (x) => ({ ...x, extra: 1 }),
      ({ orderId: _, ...x }) => x,
      ({ occurredAt: _, ...x }) => x,
      ({ margin: _, status: __, ...x }) => x,
    ).map((f) => f(r)),
  );

describe('orders in the common shape (the import fast path)', () => {
  it('accepts only rows the schema accepts, with the same result', () => {
    let accepted = 0;
    let runs = 0;
    fc.assert(
      fc.property(row, (r) => {
        runs++;
        const plain = plainOrderInput(r);
        if (plain === null) return;
        accepted++;
        const parsed = orderSchema.safeParse(r);
        expect(parsed.success).toBe(true);
        expect(plain).toEqual(toOrderInput(parsed.data!));
      }),
      { numRuns: 5000 },
    );
    // the property says something only if the fast path takes a good share of the rows
    expect(accepted / runs).toBeGreaterThan(0.2);
  });

  it('takes the ordinary export row, so a bulk import skips the schema', () => {
    const r = { orderId: 'o-1', customerId: 'c-1', amount: 1234.5, margin: 200, occurredAt: '2026-06-30T10:00:00+08:00', status: 'cancelled' };
    expect(plainOrderInput(r)).toEqual({
      orderId: 'o-1',
      customerId: 'c-1',
      amountFen: 123450,
      marginFen: 20000,
      occurredAt: Date.parse('2026-06-30T02:00:00Z'),
      occurredAtText: '2026-06-30T10:00:00+08:00',
      cancelled: true,
    });
    // a padded id goes to the schema, which trims it
    expect(plainOrderInput({ ...r, orderId: ' o-1' })).toBeNull();
    expect(orderSchema.parse({ ...r, orderId: ' o-1' }).orderId).toBe('o-1');
  });
});
