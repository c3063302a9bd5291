// The notice book's invariants, for any notices and any way a run splits them into batches: a person gets
// the most important non-baseline notices as cards (never more than the budget allows), the summary ranks
// the rest the same way, counts add up, and a crash that refolds batches cannot change the outcome.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addNotices, allocate, compareNotices, emptyBook, priorityOf, type Notice, type NoticeKind } from '../../src/app/workflows/notices.ts';
import type { RiskLevel } from '../../src/domain/types.ts';

const CARD_SLOTS = 5;
const ROW_SLOTS = 10;
const limits = { cardSlots: CARD_SLOTS, rowSlots: ROW_SLOTS };

const noticeArb = fc
  .record({
    customer: fc.integer({ min: 0, max: 60 }),
    kind: fc.constantFrom<NoticeKind>('alert', 'downgrade', 'upgrade'),
    level: fc.constantFrom<RiskLevel>('none', 'low', 'medium', 'high'),
    fromTop: fc.boolean(),
    value: fc.integer({ min: 0, max: 5 }).map((v) => v * 1000),
    baseline: fc.boolean(),
    owner: fc.constantFrom('u-a', 'u-b'),
  })
  .filter((n) => n.kind !== 'alert' || n.level !== 'none')
  .map(
    (n): Notice => ({
      customerId: `c-${String(n.customer).padStart(2, '0')}`, name: `客户${n.customer}`, ownerId: n.owner, kind: n.kind, level: n.level,
      priority: priorityOf(n.kind, n.level, n.fromTop), valueAtStake: n.value, baseline: n.baseline, tier: null, from: null, reason: null,
    }),
  );
/** one notice per customer and kind, as a run produces */
const noticesArb = fc.uniqueArray(noticeArb, { selector: (n) => `${n.customerId}|${n.kind}`, maxLength: 80 });

function fold(notices: Notice[], cuts: number[]) {
  const book = emptyBook();
  let start = 0;
  for (const cut of [...cuts.map((c) => c % (notices.length + 1)).sort((a, b) => a - b), notices.length]) {
    // each batch goes through JSON, as the run record does between checkpoints
    const stored = JSON.parse(JSON.stringify(book));
    Object.assign(book, addNotices(stored, notices.slice(start, cut).map((notice) => ({ notice, personal: true, teamId: 't' })), limits));
    start = Math.max(start, cut);
  }
  return book;
}

describe('notice book', () => {
  it('is the same however the run splits the notices into batches and in whatever order it meets them', () => {
    fc.assert(
      fc.property(noticesArb, fc.array(fc.nat(), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 }), (notices, cutsA, cutsB) => {
        const shuffled = [...notices].reverse();
        expect(fold(shuffled, cutsB)).toEqual(fold(notices, cutsA));
      }),
    );
  });

  it('gives a person the top non-baseline notices as cards within the budget, and the rest ranked in the summary', () => {
    fc.assert(
      fc.property(noticesArb, fc.integer({ min: 0, max: 7 }), (notices, remaining) => {
        const book = fold(notices, []);
        for (const owner of ['u-a', 'u-b']) {
          const mine = notices.filter((n) => n.ownerId === owner).sort(compareNotices);
          const ledger = book.people[owner];
          if (mine.length === 0) {
            expect(ledger).toBeUndefined();
            continue;
          }
          const a = allocate(ledger, remaining, ROW_SLOTS);
          const expectedCards = mine.filter((n) => !n.baseline).slice(0, Math.min(remaining, CARD_SLOTS));
          expect(a.cards).toEqual(expectedCards);
          const rest = mine.filter((n) => !expectedCards.includes(n));
          expect(a.rows).toEqual(rest.slice(0, ROW_SLOTS));
          expect(a.total).toBe(rest.length);
          const c = a.counts;
          expect(c.high + c.medium + c.low + c.downgrades + c.upgrades).toBe(rest.length);
          expect(c.upgrades).toBe(rest.filter((n) => n.kind === 'upgrade').length);
        }
      }),
    );
  });

  it('ranks a top-tier downgrade with high risks, any downgrade above an upgrade, and value at stake within a class', () => {
    const n = (id: string, kind: NoticeKind, level: RiskLevel, fromTop: boolean, value: number): Notice => ({
      customerId: id, name: id, ownerId: 'u', kind, level, priority: priorityOf(kind, level, fromTop), valueAtStake: value, baseline: false, tier: null, from: null, reason: null,
    });
    const sorted = [n('up', 'upgrade', 'none', false, 9e6), n('low', 'alert', 'low', false, 1), n('down', 'downgrade', 'none', false, 10), n('topDown', 'downgrade', 'none', true, 5), n('high', 'alert', 'high', false, 50), n('med', 'alert', 'medium', false, 20)].sort(compareNotices);
    expect(sorted.map((x) => x.customerId)).toEqual(['high', 'topDown', 'med', 'down', 'low', 'up']);
  });
});
