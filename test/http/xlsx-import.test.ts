// An Excel workbook (.xlsx) on the bulk endpoints: mapped and rejected like a CSV body. The same CRM and ERP
// exports (test/fixtures) sent as text/csv, as an .xlsx body, and through `npm run import` (CSV and .xlsx)
// leave exactly the same customers and orders behind, with the same rejects by line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { importFile } from '../../src/cli/import.ts';
import { fixedClock, startApp, TEST_TOKEN, type TestApp } from '../helpers/app.ts';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const fixture = (name: string) => readFileSync(resolve(import.meta.dirname, '../fixtures', name));
const rowsOf = (name: string) => parseCsv(fixture(name), { bom: true, relax_column_count: true }) as string[][];

/** The fixture exports as workbooks, with the cell types Excel would hold: a real date cell, an Excel serial date, a number amount. */
async function workbooks(dir: string): Promise<{ customers: string; orders: string }> {
  const customers = new ExcelJS.Workbook();
  const cs = customers.addWorksheet('客户');
  for (const row of rowsOf('crm-customers.csv')) cs.addRow(row);
  const orders = new ExcelJS.Workbook();
  const os = orders.addWorksheet('订单');
  for (const row of rowsOf('erp-orders.csv')) {
    const cells: ExcelJS.CellValue[] = [...row];
    if (row[0] === 'SO-1') cells[3] = new Date(Date.UTC(2026, 5, 3, 14, 5)); // the wall time 2026-06-03 14:05
    if (row[0] === 'SO-3') cells[3] = 46176.586805555555; // a date kept as a number
    if (row[0] === 'SO-4') cells[2] = 300;
    os.addRow(cells);
  }
  const paths = { customers: join(dir, '客户.xlsx'), orders: join(dir, '订单.xlsx') };
  await customers.xlsx.writeFile(paths.customers);
  await orders.xlsx.writeFile(paths.orders);
  return paths;
}

type Way = 'text/csv' | 'xlsx body' | 'cli csv' | 'cli xlsx';

describe('.xlsx bodies on the bulk endpoints', () => {
  let dir: string;
  let files: { customers: string; orders: string };
  const apps: TestApp[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tierbot-xlsx-'));
    files = await workbooks(dir);
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function importBy(way: Way) {
    const app = await startApp(new MemoryStore(), { clock: fixedClock('2026-06-30T10:00:00+08:00'), env: { TIERBOT_DEMO: '0' } });
    apps.push(app);
    const lines: { customers: number[]; orders: number[] } = { customers: [], orders: [] };
    for (const kind of ['customers', 'orders'] as const) {
      const csvFile = kind === 'customers' ? 'crm-customers.csv' : 'erp-orders.csv';
      const method = kind === 'customers' ? 'PUT' : 'POST';
      if (way === 'cli csv' || way === 'cli xlsx') {
        const file = way === 'cli csv' ? join(dir, csvFile) : files[kind];
        if (way === 'cli csv') writeFileSync(file, fixture(csvFile));
        const r = await importFile(kind, file, { url: app.url, token: TEST_TOKEN });
        lines[kind] = r.rejectsFile ? (parseCsv(readFileSync(r.rejectsFile), { columns: true }) as { line: string }[]).map((x) => Number(x.line)) : [];
        continue;
      }
      const body = way === 'text/csv' ? fixture(csvFile) : readFileSync(files[kind]);
      const res = await app.api(`/api/v1/${kind}`, { method, body: new Uint8Array(body), headers: { 'content-type': way === 'text/csv' ? 'text/csv; charset=utf-8' : XLSX } });
      expect(res.status).toBe(200);
      lines[kind] = res.body.rejected.map((r: { line: number }) => r.line);
    }
    await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} });
    const list = (await app.api('/api/v1/customers?limit=500')).body.items as Record<string, unknown>[];
    const stored = list.map((c) => ({ id: c.id, name: c.name, ownerId: c.ownerId, attributes: c.attributes, tags: c.tags, metrics: c.metrics, tier: (c.tier as { key: string } | null)?.key }));
    return { app, lines, stored };
  }

  it('stores the same customers and orders, with the same rejected lines, as text/csv and the import command', async () => {
    const csv = await importBy('text/csv');
    // what the exports hold: c-001's ¥1,234.50 (its 2,000 cancelled), c-002's ¥800 on an Excel date less its refund of 300
    expect(csv.lines).toEqual({ customers: [5], orders: [6, 7] });
    const byId = Object.fromEntries(csv.stored.map((c) => [c.id, c]));
    expect(Object.keys(byId).sort()).toEqual(['c-001', 'c-002', 'c-003']);
    expect(byId['c-001']).toMatchObject({ name: '上海鼎盛科技有限公司,浦东分公司', attributes: { industry: '制造业', region: '华东' }, metrics: { orderCount: 1, lifetimeValue: 1234.5 } });
    expect(byId['c-002'].metrics).toMatchObject({ orderCount: 2, lifetimeValue: 500 });
    expect(byId['c-003'].metrics).toMatchObject({ orderCount: 1, lifetimeValue: 1000 });

    for (const way of ['xlsx body', 'cli csv', 'cli xlsx'] as const) {
      const other = await importBy(way);
      expect({ way, lines: other.lines }).toEqual({ way, lines: csv.lines });
      expect({ way, stored: other.stored }).toEqual({ way, stored: csv.stored });
    }
  }, 60_000);

  it('reads a real date cell as wall time in the policy time zone (23:30 on the 29th in Shanghai is a day before the 30th)', async () => {
    const { app } = await importBy('text/csv');
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('订单');
    sheet.addRow(['订单号', '客户编号', '金额', '下单时间']);
    sheet.addRow(['LATE-1', 'c-001', 10, new Date(Date.UTC(2026, 5, 29, 23, 30))]);
    const res = await app.api('/api/v1/orders', { method: 'POST', body: new Uint8Array(await book.xlsx.writeBuffer()), headers: { 'content-type': XLSX } });
    expect(res.body).toMatchObject({ inserted: 1, rejected: [] });
    await app.api('/api/v1/tiering/recompute', { method: 'POST', json: {} });
    expect((await app.api('/api/v1/customers/c-001')).body.metrics).toMatchObject({ recencyDays: 1, lifetimeValue: 1244.5 });
  }, 30_000);

  it('refuses a workbook over the size limit with 413, and a body that is no workbook with 400', async () => {
    const app = apps[0];
    const big = await app.api('/api/v1/orders', { method: 'POST', body: new Uint8Array((16 << 20) + 1), headers: { 'content-type': XLSX } });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatchObject({ code: 'too_large', message: expect.stringContaining(String(16 << 20)) });
    const junk = await app.api('/api/v1/orders', { method: 'POST', body: 'SO-1,c-001,10', headers: { 'content-type': XLSX } });
    expect(junk.status).toBe(400);
    expect(junk.body.error.message).toMatch(/not a readable \.xlsx workbook/);
    const empty = new ExcelJS.Workbook();
    empty.addWorksheet('空');
    const none = await app.api('/api/v1/orders', { method: 'POST', body: new Uint8Array(await empty.xlsx.writeBuffer()), headers: { 'content-type': XLSX } });
    expect(none.status).toBe(400);
    expect(none.body.error.message).toMatch(/first sheet is empty/);
  }, 30_000);
});
