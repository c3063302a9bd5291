// The memory store's columnar tier history against the plain model it replaced (rows as objects).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HistoryLog } from '../../src/adapters/memory/history-log.ts';
import { compareIds } from '../../src/adapters/shared/ingest-plan.ts';
import type { HistoryEntry } from '../../src/ports/store.ts';

const ms = (iso: string) => (Number.isNaN(Date.parse(iso)) ? -Infinity : Date.parse(iso));

class Model {
  rows: HistoryEntry[] = [];
  add(h: HistoryEntry) {
    if (!this.rows.some((r) => r.customerId === h.customerId && r.runId === h.runId)) this.rows.push({ ...h });
  }
  of(id: string) {
    return this.rows.filter((r) => r.customerId === id).sort((x, y) => ms(x.at) - ms(y.at) || compareIds(x.runId, y.runId));
  }
  since(from: number, limit: number) {
    return this.rows
      .filter((r) => ms(r.at) >= from)
      .sort((x, y) => ms(x.at) - ms(y.at) || compareIds(x.customerId, y.customerId) || compareIds(x.runId, y.runId))
      .slice(0, limit);
  }
}

const entry = fc.record({
  customerId: fc.constantFrom('c1', 'c2', 'c10', '客户', 'c\uD83D\uDE00'),
  from: fc.constantFrom(null, 'A', 'B', 'C'),
  to: fc.constantFrom('A', 'B', 'C'),
  // the same instant in other offsets, and text that is no instant at all
  at: fc.constantFrom('2026-06-01T02:00:00+08:00', '2026-05-31T18:00:00Z', '2026-06-02T02:00:00+08:00', '2026-06-01T00:00:00Z', 'not a date'),
  runId: fc.constantFrom('run-1', 'run-2', 'run-3', 'run-10'),
});

describe('HistoryLog (memory store tier history)', () => {
  it('answers every customer and every "since" query as the row-object model does', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 60 }), fc.constantFrom(-Infinity, ms('2026-06-01T00:00:00Z'), ms('2026-06-02T00:00:00Z')), fc.integer({ min: 0, max: 70 }), (rows, from, limit) => {
        const log = new HistoryLog();
        const model = new Model();
        for (const r of rows) {
          log.add(r);
          model.add(r);
        }
        expect(log.size).toBe(model.rows.length);
        for (const id of ['c1', 'c2', 'c10', '客户', 'c\uD83D\uDE00', 'nobody']) expect(log.of(id)).toEqual(model.of(id));
        expect(log.since(from, limit)).toEqual(model.since(from, limit));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the first row of a (run, customer) pair when a re-run writes it again', () => {
    const log = new HistoryLog();
    log.add({ customerId: 'c1', from: null, to: 'A', at: '2026-06-01T00:00:00Z', runId: 'run-1' });
    log.add({ customerId: 'c1', from: 'B', to: 'C', at: '2026-06-01T00:00:00Z', runId: 'run-1' });
    expect(log.of('c1')).toEqual([{ customerId: 'c1', from: null, to: 'A', at: '2026-06-01T00:00:00Z', runId: 'run-1' }]);
  });
});
