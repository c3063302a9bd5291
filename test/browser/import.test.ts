// The import page in a real browser (Debian's chromium via playwright-core): an admin picks a customers CSV with
// Chinese headers and an orders CSV, sees the header mapped to tierbot's fields, uploads, sees the counts, and
// downloads the rejects (file line, field, reason, the original row); a big CSV goes in chunks with file lines.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, screenshot } from './chromium.ts';
import { useDemoPage } from './demo-page.ts';
import { TEST_TOKEN } from '../helpers/app.ts';

const CUSTOMERS = [
  '客户编号,客户名称,负责人,行业,地区,备注',
  'IMP-1,上海星河贸易有限公司,u-zhang,制造,华东,老客户',
  'IMP-2,缺负责人公司,,零售,华南,',
  'IMP-3,"北京, 云杉科技",u-liu,软件,华北,"两行\n备注"',
].join('\n') + '\n';
const ORDERS = ['订单号,客户编号,金额,下单时间,状态', 'O-IMP-1,IMP-1,"¥1,234.50",2026-06-01 10:00,已完成', 'O-IMP-2,IMP-3,880,2026/6/2,已完成'].join('\n') + '\n';

describe.skipIf(!CHROMIUM)('the import page in chromium', () => {
  const demo = useDemoPage({ width: 390, height: 844 });

  it('maps the headers, uploads customers then orders, counts, and downloads the rejects with their lines', async () => {
    const { app, page } = demo;
    await page.goto(`${app.url}/console/import#token=${TEST_TOKEN}`);
    await page.setInputFiles('#customers-file', { name: '客户.csv', mimeType: 'text/csv', buffer: Buffer.from('\uFEFF' + CUSTOMERS) });
    await page.setInputFiles('#orders-file', { name: '订单.csv', mimeType: 'text/csv', buffer: Buffer.from(ORDERS) });
    // the header as the server maps it
    const mapped = (h: string) => page.locator(`#customers-mapping tr[data-header="${h}"] td`).nth(1).textContent();
    await expect.poll(() => mapped('客户编号')).toBe('id');
    expect(await mapped('负责人')).toBe('ownerId');
    expect(await mapped('行业')).toBe('attributes.industry');
    expect(await mapped('备注')).toContain('不导入');
    expect(await page.locator('#orders-mapping tr[data-header="金额"] td').nth(1).textContent()).toBe('amount');

    await page.click('#upload');
    await expect.poll(() => page.locator('#state').textContent()).toContain('完成');
    const count = (kind: string, name: string) => page.locator(`#counts [data-kind=${kind}] [data-count=${name}] b`).textContent();
    expect(await count('customers', 'accepted')).toBe('2');
    expect(await count('customers', 'rejected')).toBe('1');
    expect(await count('orders', 'accepted')).toBe('2');
    expect(await count('orders', 'rejected')).toBe('0');
    await screenshot(page, 'console-import');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#rejects-link')]);
    const csv = readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '');
    const lines = csv.trim().split(/\r\n/);
    expect(lines[0]).toBe('line,field,reason');
    expect(lines[1]).toBe('# customers,客户.csv,,客户编号,客户名称,负责人,行业,地区,备注');
    // the third line of the file, its field, a reason, and its original columns
    expect(lines[2]).toMatch(/^3,ownerId,"Invalid input: [^"]+",IMP-2,缺负责人公司,,零售,华南,$/);
    expect(lines).toHaveLength(3);

    const stored = await app.api('/api/v1/customers/IMP-1');
    expect(stored.status).toBe(200);
    expect(JSON.stringify(stored.body)).toContain('上海星河贸易有限公司');
    expect((await app.api('/api/v1/customers/IMP-2')).status).toBe(404);
  });

  it('sends a big CSV in chunks, each with the header, and reports rejects by their line in the file', async () => {
    const { app, page } = demo;
    await page.addInitScript(() => Object.assign(window, { TIERBOT_IMPORT_CHUNK_BYTES: 200 }));
    await page.goto('about:blank'); // a new document (the same page with a #fragment would not reload)
    await page.goto(`${app.url}/console/import#token=${TEST_TOKEN}`);
    const rows = Array.from({ length: 40 }, (_, i) => (i === 29 ? `BIG-${i},"第 ${i} 家\n公司",,制造` : `BIG-${i},第 ${i} 家公司,u-zhang,制造`));
    const text = ['客户编号,客户名称,负责人,行业', ...rows].join('\r\n') + '\r\n';
    let requests = 0;
    page.on('request', (r) => void (r.url().endsWith('/api/v1/customers') && r.method() === 'PUT' && requests++));
    await page.setInputFiles('#customers-file', { name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
    await page.click('#upload');
    await expect.poll(() => page.locator('#state').textContent()).toContain('完成');
    expect(requests).toBeGreaterThan(3);
    expect(await page.locator('#counts [data-kind=customers] [data-count=accepted] b').textContent()).toBe('39');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#rejects-link')]);
    const lines = readFileSync((await download.path())!, 'utf8').trim().split(/\r\n/);
    // BIG-29 is the file's 31st line (header on line 1)
    expect(lines[2]).toMatch(/^31,ownerId,/);
    expect(lines[2]).toContain('BIG-29');
    expect((await app.api('/api/v1/customers/BIG-39')).status).toBe(200);
  });
});
