// A CRM export and an ERP export as they come (Chinese headers, BOM, CRLF, quoted commas and line breaks,
// ¥ and thousands separators, Excel serial dates, local times without an offset, status words) straight into
// the bulk endpoints; bad rows come back with their line in the file, and nothing valid is lost.
import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import fc from 'fast-check';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { csvLineCounter, DEFAULT_IMPORT_MAP, mapOrder, parseAmount, parseInstant } from '../../src/app/import-map.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';

const fixture = (name: string) => readFileSync(resolve(import.meta.dirname, '../fixtures', name));
const TZ = 'Asia/Shanghai';

describe('line numbers of CSV records', () => {
  it('are the lines the records start on, with blank lines and quoted line breaks, LF or CRLF', () => {
    const field = fc.oneof(fc.stringMatching(/^[a-z0-9]{0,4}$/), fc.constantFrom('"a\nb"', '"x\r\ny\nz"', '"q,""r"""'));
    const record = fc.tuple(field, field);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2), record), { minLength: 1, maxLength: 12 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), (rows, eol, trailing) => {
        let text = `a,b${eol}`;
        let line = 2;
        const expected: number[] = [];
        rows.forEach(([blanks, [x, y]], i) => {
          text += eol.repeat(blanks);
          line += blanks;
          expected.push(line);
          const body = `${x || 'v'},${y}`;
          text += body + (i < rows.length - 1 || trailing ? eol : '');
          line += (body.match(/\r\n|\r|\n/g) ?? []).length + 1;
        });
        const records = parseCsv(text, { columns: true, skip_empty_lines: true, raw: true, relax_column_count: true }) as { raw: string }[];
        const lineOf = csvLineCounter();
        expect(records.map((r) => lineOf(r.raw))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe('values of an export', () => {
  it('reads amounts with currency signs and thousands separators, and leaves what is no amount to the schema', () => {
    expect(parseAmount('¥1,234.50')).toBe(1234.5);
    expect(parseAmount('￥800')).toBe(800);
    expect(parseAmount(' 2,000 元')).toBe(2000);
    expect(parseAmount('RMB -12.30')).toBe(-12.3);
    expect(parseAmount(99)).toBe(99);
    expect(parseAmount('abc')).toBe('abc');
    expect(parseAmount('1.2.3')).toBe('1.2.3');
  });

  it('reads local times in the policy time zone, keeps an offset, and turns Excel serial dates into instants', () => {
    expect(parseInstant('2026-06-03 14:05', TZ)).toBe('2026-06-03T14:05:00+08:00');
    expect(parseInstant('2026/6/3', TZ)).toBe('2026-06-03T00:00:00+08:00');
    expect(parseInstant('2026-06-03 14:05:09', 'America/New_York')).toBe('2026-06-03T14:05:09-04:00');
    expect(parseInstant('2026-06-12T09:00:00Z', TZ)).toBe('2026-06-12T09:00:00Z');
    expect(parseInstant(46176.586805555555, TZ)).toBe('2026-06-03T14:05:00+08:00');
    expect(parseInstant('46176', TZ)).toBe('2026-06-03T00:00:00+08:00');
    expect(parseInstant('2026-02-30 10:00', TZ)).toBe('2026-02-30 10:00');
    expect(parseInstant('下周一', TZ)).toBe('下周一');
  });

  it('maps status words: cancelled orders are cancelled, refunds negative', () => {
    const row = (状态: string, 金额 = '100') => mapOrder({ 订单号: 'o', 客户编号: 'c', 金额, 下单时间: '2026-06-03', 状态 }, DEFAULT_IMPORT_MAP, TZ);
    expect(row('已取消').status).toBe('cancelled');
    expect(row('CANCELED').status).toBe('cancelled');
    expect(row('退款')).toMatchObject({ amount: -100 });
    expect(row('退款')).not.toHaveProperty('status');
    expect(row('已完成').status).toBe('已完成');
  });
});

describe('CSV bodies on the bulk endpoints', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(new MemoryStore(), { clock: fixedClock('2026-06-30T10:00:00+08:00'), env: { TIERBOT_DEMO: '0' } });
  });
  afterAll(async () => {
    await app.close();
  });
  const csv = (path: string, method: string, body: Buffer) => app.api(path, { method, body: new Uint8Array(body), headers: { 'content-type': 'text/csv; charset=utf-8' } });

  it('imports a CRM customer export and an ERP order export, naming each bad row by its line', async () => {
    const customers = await csv('/api/v1/customers', 'PUT', fixture('crm-customers.csv'));
    expect(customers.status).toBe(200);
    expect(customers.body).toMatchObject({ upserted: 3, updated: 0 });
    expect(customers.body.rejected).toEqual([{ index: 3, line: 5, errors: [expect.objectContaining({ path: 'id' })] }]);
    const c1 = (await app.api('/api/v1/customers/c-001')).body;
    expect(c1).toMatchObject({ name: '上海鼎盛科技有限公司,浦东分公司', ownerId: 'u-zhang', attributes: { industry: '制造业', region: '华东' } });
    expect((await app.api('/api/v1/customers/c-003')).body.name).toBe('名字里有"引号"');

    const orders = await csv('/api/v1/orders', 'POST', fixture('erp-orders.csv'));
    expect(orders.status).toBe(200);
    expect(orders.body).toMatchObject({ inserted: 5, updated: 0 });
    expect(orders.body.rejected.map((r: { line: number; errors: { path: string }[] }) => [r.line, r.errors[0].path])).toEqual([
      [6, 'amount'],
      [7, 'customerId'],
    ]);
    // ¥1,234.50 on 2026-06-03 14:05 Beijing time, the cancelled 2,000 ignored; the Excel date and the refund
    await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} });
    expect((await app.api('/api/v1/customers/c-001')).body.metrics).toMatchObject({ orderCount: 1, lifetimeValue: 1234.5 });
    expect((await app.api('/api/v1/customers/c-002')).body.metrics).toMatchObject({ orderCount: 2, lifetimeValue: 500 });
    // a quoted line break inside the last row's date: that row still imports
    expect((await app.api('/api/v1/customers/c-003')).body.metrics).toMatchObject({ orderCount: 1, lifetimeValue: 1000 });

    // the same file again: every order a duplicate
    const again = await csv('/api/v1/orders', 'POST', fixture('erp-orders.csv'));
    expect(again.body).toMatchObject({ inserted: 0, updated: 0, duplicates: 5 });
  });

  it('refuses a CSV that is not one, with the reason', async () => {
    const res = await csv('/api/v1/orders', 'POST', Buffer.from('订单号,金额\r\n"unclosed,1\r\n'));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/not valid CSV/);
    expect((await csv('/api/v1/orders', 'POST', Buffer.from('订单号,金额\r\n'))).status).toBe(400);
  });
});
