// npm run import: CSV exports streamed to a running tierbot, 10,000 rows a request, every rejected row in
// <file>.rejects.csv with its line; running it again changes nothing.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { importFile } from '../../src/cli/import.ts';
import { fixedClock, startApp, TEST_TOKEN, type TestApp } from '../helpers/app.ts';

const run = promisify(execFile);

describe('npm run import', () => {
  let app: TestApp;
  let dir: string;
  beforeAll(async () => {
    app = await startApp(new MemoryStore(), { clock: fixedClock('2026-06-30T10:00:00+08:00'), env: { TIERBOT_DEMO: '0' } });
    dir = mkdtempSync(join(tmpdir(), 'tierbot-import-'));
    const customers = ['客户编号,客户名称,负责人', ...Array.from({ length: 300 }, (_, i) => `c-${i},"客户 ${i}, 有限公司",u-zhang`)].join('\r\n');
    writeFileSync(join(dir, 'customers.csv'), `\ufeff${customers}\r\n`);
    const lines = ['订单号,客户编号,金额,下单时间'];
    for (let i = 0; i < 25_000; i++) {
      // every 5,000th row is bad: an amount that is none, or a customer nobody knows
      if (i % 5000 === 4999) lines.push(i % 10_000 === 9999 ? `o-${i},c-${i % 300},很多,2026-06-01 10:00` : `o-${i},c-nobody,10,2026-06-01 10:00`);
      else lines.push(`o-${i},c-${i % 300},"¥1,${String(i % 1000).padStart(3, '0')}.00",2026-06-${String(1 + (i % 28)).padStart(2, '0')} 10:00`);
    }
    writeFileSync(join(dir, 'orders.csv'), `${lines.join('\n')}\n`);
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports in requests of 10,000 rows, reports progress, and writes each rejected row with its line', async () => {
    const seen: number[] = [];
    const o = { url: app.url, token: TEST_TOKEN, progress: (p: { rows: number }) => seen.push(p.rows) };
    const customers = await importFile('customers', join(dir, 'customers.csv'), o);
    expect(customers).toMatchObject({ rows: 300, stored: 300, rejects: 0, rejectsFile: null });
    const orders = await importFile('orders', join(dir, 'orders.csv'), o);
    expect(orders).toMatchObject({ rows: 25_000, stored: 24_995, rejects: 5 });
    expect(seen.slice(-3)).toEqual([10_000, 20_000, 25_000]);
    const rejects = parse(readFileSync(orders.rejectsFile!, 'utf8'), { columns: true }) as { line: string; reasons: string; row: string }[];
    // header is line 1: row i is on line i + 2
    expect(rejects.map((r) => Number(r.line))).toEqual([4999, 9999, 14999, 19999, 24999].map((i) => i + 2));
    expect(rejects[1].reasons).toMatch(/^amount: /);
    expect(rejects[0].reasons).toMatch(/^customerId: unknown customer/);
    expect(rejects[0].row).toBe('o-4999,c-nobody,10,2026-06-01 10:00');
    expect((await app.api('/api/v1/customers/c-1')).body.name).toBe('客户 1, 有限公司');

    // again: nothing new
    const again = await importFile('orders', join(dir, 'orders.csv'), o);
    expect(again).toMatchObject({ rows: 25_000, stored: 24_995, rejects: 5 });
  }, 120_000);

  it('reads the first sheet of an Excel workbook: date cells in the policy time zone, numbers and text amounts, rejects by row', async () => {
    const file = join(dir, '订单.xlsx');
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('订单');
    sheet.addRow(['订单号', '客户编号', '金额', '下单时间', '状态']);
    // Excel keeps no time zone: the cell is the wall time 2026-06-29 23:30, which the policy's zone (+08:00) reads
    sheet.addRow(['X-1', 'c-7', 1234.5, new Date(Date.UTC(2026, 5, 29, 23, 30)), '']);
    sheet.addRow(['X-2', 'c-7', '¥2,000.00', new Date(Date.UTC(2026, 5, 20, 9, 0)), '已取消']);
    sheet.addRow([]);
    sheet.addRow(['X-3', 'c-7', '不是金额', new Date(Date.UTC(2026, 5, 21, 9, 0)), '']);
    sheet.addRow(['X-4', 'c-7', { formula: '100*3', result: 300 }, '2026-06-22 09:00', '']);
    await book.xlsx.writeFile(file);

    const r = await importFile('orders', file, { url: app.url, token: TEST_TOKEN });
    expect(r).toMatchObject({ rows: 4, stored: 3, rejects: 1 });
    const rejects = parse(readFileSync(r.rejectsFile!, 'utf8'), { columns: true }) as { line: string; reasons: string }[];
    expect(rejects).toEqual([{ line: '5', reasons: expect.stringMatching(/^amount: /), row: expect.stringContaining('X-3') }]);
    // c-7 also has its CSV orders; the workbook adds 1,234.50 and 300 (X-2 is cancelled)
    const before = (await app.api('/api/v1/customers/c-7')).body.metrics;
    await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} });
    const m = (await app.api('/api/v1/customers/c-7')).body.metrics;
    expect(m.lifetimeValue - (before?.lifetimeValue ?? m.lifetimeValue - 1534.5)).toBeCloseTo(1534.5, 2);
    // 23:30 on the 29th in Shanghai is one day before 10:00 on the 30th (read as UTC it would be the same day)
    expect(m.recencyDays).toBe(1);
  }, 60_000);

  it('runs as a command: customers first, then orders, with a summary', async () => {
    const root = resolve(import.meta.dirname, '../..');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/import.ts', '--customers', join(dir, 'customers.csv'), '--url', app.url, '--token', TEST_TOKEN], { cwd: root });
    expect(stdout).toContain('customers: 300 rows');
    const refused = await run(process.execPath, ['--import', 'tsx', 'src/cli/import.ts', '--url', app.url, '--token', TEST_TOKEN], { cwd: root }).catch((e) => e);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('nothing to import');
  }, 60_000);
});
