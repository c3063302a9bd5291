// GET /api/v1/import/mapping: the import map of config/import.yaml as the bulk endpoints apply it; admins only.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFiles } from '../../src/config/files.ts';
import { effectiveMapping, importMapSchema, mapCustomer } from '../../src/app/import-map.ts';
import { startDemoApp, type TestApp } from '../helpers/app.ts';

describe('GET /api/v1/import/mapping', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startDemoApp();
  }, 60_000);
  afterAll(() => app?.close());

  it('answers the effective mapping of config/import.yaml', async () => {
    const files = await loadConfigFiles(resolve(import.meta.dirname, '../../config'));
    const res = await app.api('/api/v1/import/mapping');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(effectiveMapping(files.importMap))));
    const field = (kind: 'customers' | 'orders', f: string) => res.body[kind].find((x: { field: string }) => x.field === f)?.headers;
    expect(field('customers', 'id')).toContain('客户编号');
    expect(field('customers', 'attributes.industry')).toEqual(['industry', '行业']);
    expect(field('orders', 'amount')).toContain('金额');
    expect(res.body.statuses.cancelled).toContain('已取消');
  });

  it('puts the import map’s own headers first, as mapCustomer tries them', () => {
    const map = importMapSchema.parse({ customers: { id: '客户代码X', attributes: { level: '客户等级', region: '大区' } } });
    const m = effectiveMapping(map);
    expect(m.customers.find((f) => f.field === 'id')!.headers[0]).toBe('客户代码X');
    expect(m.customers.find((f) => f.field === 'attributes.region')!.headers).toEqual(['大区']);
    expect(m.customers.find((f) => f.field === 'attributes.level')!.headers).toEqual(['客户等级']);
    expect(mapCustomer({ 客户代码X: 'C1', 大区: '华东', 地区: '华南' }, map)).toMatchObject({ id: 'C1', attributes: { region: '华东' } });
  });

  it('is refused to a rep (403)', async () => {
    const link = new URL(await app.bot.links.url('u-zhang', {}));
    const opened = await fetch(`${app.url}${link.pathname}${link.search}`, { redirect: 'manual' });
    const cookie = opened.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    expect(cookie).toContain('=');
    const res = await app.api('/api/v1/import/mapping', { headers: { authorization: '', cookie } });
    expect(res.status).toBe(403);
    // the same session may read what reps may
    expect((await app.api('/api/v1/me', { headers: { authorization: '', cookie } })).status).toBe(200);
  });
});
