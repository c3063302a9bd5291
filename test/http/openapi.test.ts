// The OpenAPI document: every API route documented, structurally OpenAPI 3.1, and real answers on the demo as it says.
import type Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { docOf } from '../../src/inbound/route-doc.ts';
import { startDemoApp, type TestApp } from '../helpers/app.ts';

let app: TestApp;
let doc: any;
beforeAll(async () => {
  app = await startDemoApp();
  const res = await fetch(`${app.url}/api/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = await res.json();
}, 60_000);
afterAll(async () => app?.close());

function routers(): Router[] {
  return app.bot.app.middleware.flatMap((mw) => (mw as unknown as { router?: Router }).router ?? []);
}

/** Validates a body against the document's schema for that operation and status; returns the problems. */
function problems(method: string, path: string, status: number, body: unknown): string[] {
  const op = doc.paths[path]?.[method];
  if (!op) return [`${method} ${path} is not in the document`];
  let response = op.responses[String(status)];
  if (response?.$ref) response = doc.components.responses[response.$ref.split('/').pop()];
  const schema = response?.content?.['application/json']?.schema;
  if (!schema) return [`${method} ${path} documents no JSON answer ${status}`];
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const local = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('"#/components/schemas/', '"#/$defs/'));
  const fixed = { ...local(schema), $defs: local(doc.components.schemas) };
  const validate = ajv.compile(fixed);
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${method} ${path} ${status}: ${e.instancePath} ${e.message}`);
}

describe('the OpenAPI document', () => {
  it('documents every route under /api/v1: its answers, and its query and body where the handler reads them', () => {
    const missing: string[] = [];
    for (const router of routers()) {
      for (const layer of router.stack) {
        const path = String(layer.path);
        if (!path.startsWith('/api/v1')) continue;
        for (const method of layer.methods.filter((m) => m !== 'HEAD')) {
          const d = docOf(layer.stack);
          const source = layer.stack.map((f) => f.toString()).join('\n');
          if (!d) missing.push(`${method} ${path}: no doc()`);
          else {
            if (!Object.keys(d.responses).some((s) => Number(s) < 300)) missing.push(`${method} ${path}: no success answer`);
            if (/ctx\.query/.test(source) && !d.query) missing.push(`${method} ${path}: reads a query, documents none`);
            if (/read(Document|Bulk|PolicyDocument)\(|http\.document\(/.test(source) && !d.body) missing.push(`${method} ${path}: reads a body, documents none`);
            const p = path.replace(/:(\w+)/g, '{$1}');
            if (!doc.paths[p]?.[method.toLowerCase()]) missing.push(`${method} ${path}: not in openapi.json`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('is OpenAPI 3.1 and every $ref resolves', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBeTruthy();
    const refs = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) k === '$ref' ? refs.add(String(x)) : walk(x);
    };
    walk(doc);
    const unresolved = [...refs].filter((r) => {
      if (!r.startsWith('#/')) return true;
      let at: any = doc;
      for (const part of r.slice(2).split('/')) at = at?.[part];
      return at === undefined;
    });
    expect(unresolved).toEqual([]);
    expect(doc.components.schemas.Error).toBeTruthy();
  });

  it('answers on the demo data as documented', async () => {
    const bad: string[] = [];
    const check = async (method: string, docPath: string, url: string, init?: RequestInit & { json?: unknown }, status = 200) => {
      const res = await app.api(url, { method: method.toUpperCase(), ...init });
      expect(res.status, url).toBe(status);
      bad.push(...problems(method, docPath, res.status, res.body));
    };
    const list = (await app.api('/api/v1/customers?limit=5')).body;
    const id = list.items[0].id;
    await check('get', '/api/v1/customers', '/api/v1/customers?limit=5');
    await check('get', '/api/v1/customers/{id}', `/api/v1/customers/${id}`);
    await check('get', '/api/v1/me', '/api/v1/me');
    await check('post', '/api/v1/orders', '/api/v1/orders', { json: [{ orderId: 'o-oa-1', customerId: id, amount: 10, occurredAt: '2026-01-01T00:00:00Z' }, { nope: 1 }] });
    await check('post', '/api/v1/tiering/recompute', '/api/v1/tiering/recompute', { json: {} });
    await check('get', '/api/v1/tiering/runs', '/api/v1/tiering/runs');
    const runId = (await app.api('/api/v1/tiering/runs')).body.items[0].id;
    await check('get', '/api/v1/tiering/runs/{runId}', `/api/v1/tiering/runs/${runId}`);
    const policy = (await app.api('/api/v1/policy')).body;
    await check('get', '/api/v1/policy', '/api/v1/policy');
    await check('post', '/api/v1/tiering/simulate', '/api/v1/tiering/simulate', { json: { policy: policy.policy } });
    for (const r of ['distribution', 'pareto', 'tiers', 'distribution/runs', 'value-at-stake', 'at-risk']) await check('get', `/api/v1/reports/${r}`, `/api/v1/reports/${r}`);
    await check('get', '/api/v1/reports/movements', '/api/v1/reports/movements?since=2020-01-01T00:00:00Z');
    await check('get', '/api/v1/reports/segments', '/api/v1/reports/segments?by=team');
    await check('get', '/api/v1/customers/{id}', '/api/v1/customers/nobody', undefined, 404);
    expect(bad).toEqual([]);
  }, 60_000);

  it('serves /docs from this server: HTML whose scripts and styles are local', async () => {
    const res = await fetch(`${app.url}/docs`);
    expect(res.status).toBe(200);
    const html = await res.text();
    const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(srcs.length).toBeGreaterThan(0);
    expect(srcs.filter((s) => !s.startsWith('/'))).toEqual([]);
    for (const s of srcs) expect((await fetch(app.url + s)).status, s).toBe(200);
  });
});
