// The HTTP API over real HTTP on an ephemeral port, against both stores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasMongo } from '../setup/mongo.ts';
import { makeTestStore, startApp, TEST_TOKEN, type StoreKind, type TestApp } from '../helpers/app.ts';

const AS_OF = '2026-06-30T02:00:00+08:00';
const DAY = 86_400_000;
const daysBefore = (days: number) => new Date(Date.parse(AS_OF) - days * DAY).toISOString();

const org = {
  users: [
    { id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east' },
    { id: 'u-li', name: '李经理', role: 'manager', teamId: 't-east' },
  ],
  teams: [{ id: 't-east', name: '华东大客户组', managerIds: ['u-li'] }],
};

function ndjson(rows: unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

for (const kind of ['memory', 'mongo'] as StoreKind[]) {
  describe.skipIf(kind === 'mongo' && !hasMongo)(`API on the ${kind} store`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(makeTestStore(kind, 'api'));
    });
    afterAll(async () => {
      await app?.close();
    });

    it('answers /healthz without a token and names the store', async () => {
      const res = await fetch(`${app.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok', store: kind });
    });

    it('refuses the API without or with a wrong token', async () => {
      expect((await app.api('/api/v1/org', { headers: { authorization: '' } })).status).toBe(401);
      const wrong = await app.api('/api/v1/org', { headers: { authorization: `Bearer ${TEST_TOKEN}x` } });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('unauthorized');
    });

    it('rejects an invalid org naming each path, and keeps the stored one', async () => {
      expect((await app.api('/api/v1/org', { method: 'PUT', json: org })).status).toBe(200);
      const bad = await app.api('/api/v1/org', {
        method: 'PUT',
        json: { users: [{ id: 'u-x', name: 'X', role: 'boss', teamId: 't-none' }], teams: [{ id: 't-a', name: 'A', managerIds: ['u-nobody'] }] },
      });
      expect(bad.status).toBe(422);
      const paths = bad.body.error.details.map((d: { path: string }) => d.path);
      expect(paths).toEqual(expect.arrayContaining(['users.0.role', 'teams.0.managerIds.0']));
      expect((await app.api('/api/v1/org')).body.users.map((u: { id: string }) => u.id)).toEqual(['u-zhang', 'u-li']);
    });

    it('upserts customers, keeps the valid rows and lists each reject', async () => {
      const res = await app.api('/api/v1/customers', {
        method: 'PUT',
        json: [
          { id: 'c-a', name: '上海鼎盛科技有限公司', ownerId: 'u-zhang', attributes: { industry: 'software' } },
          { id: 'c-b', name: '杭州远航贸易', ownerId: 'u-zhang' },
          { id: '', name: 'no id', ownerId: 'u-zhang' },
          { id: 'c-bad', ownerId: 'u-zhang', extra: 1 },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ upserted: 2, updated: 0 });
      expect(res.body.rejected.map((r: { index: number }) => r.index)).toEqual([2, 3]);
      expect(res.body.rejected[0].errors[0].path).toBe('id');
      expect(res.body.rejected[1].errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['name']));
      const again = await app.api('/api/v1/customers', { method: 'PUT', json: [{ id: 'c-b', name: '杭州远航贸易集团', ownerId: 'u-zhang' }] });
      expect(again.body).toMatchObject({ upserted: 0, updated: 1 });
      const b = await app.api('/api/v1/customers/c-b');
      expect(b.body).toMatchObject({ name: '杭州远航贸易集团', teamId: 't-east', tier: null, metrics: null });
    });

    it('ingests orders idempotently: same order twice is one, a changed order is updated', async () => {
      const orders = Array.from({ length: 6 }, (_, i) => ({ orderId: `o-a-${i}`, customerId: 'c-a', amount: 2000, occurredAt: daysBefore(5 + i * 8) }));
      const first = await app.api('/api/v1/orders', { method: 'POST', json: orders });
      expect(first.body).toMatchObject({ inserted: 6, updated: 0, duplicates: 0, rejected: [] });
      const second = await app.api('/api/v1/orders', { method: 'POST', json: orders });
      expect(second.body).toMatchObject({ inserted: 0, updated: 0, duplicates: 6 });
      const changed = await app.api('/api/v1/orders', { method: 'POST', json: [{ ...orders[0], amount: 2500.5 }] });
      expect(changed.body).toMatchObject({ inserted: 0, updated: 1, duplicates: 0 });
    });

    it('takes NDJSON, rejecting bad lines and unknown customers without losing the good ones', async () => {
      const body =
        ndjson([{ orderId: 'o-b-1', customerId: 'c-b', amount: 300, occurredAt: daysBefore(40) }]) +
        '{"orderId": "broken",\n' +
        ndjson([
          { orderId: 'o-x-1', customerId: 'c-nobody', amount: 10, occurredAt: daysBefore(1) },
          { orderId: 'o-b-2', customerId: 'c-b', amount: 1.234, occurredAt: daysBefore(2) },
          { orderId: 'o-b-3', customerId: 'c-b', amount: 100, occurredAt: '2026-06-01 10:00' },
        ]);
      const res = await app.api('/api/v1/orders', { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
      expect(res.status).toBe(200);
      expect(res.body.inserted).toBe(1);
      const byIndex = Object.fromEntries(res.body.rejected.map((r: { index: number; errors: { path: string }[] }) => [r.index, r.errors[0].path]));
      expect(byIndex).toEqual({ 1: '(line)', 2: 'customerId', 3: 'amount', 4: 'occurredAt' });
    });

    it('answers malformed JSON with 400 and oversized bodies with 413, changing nothing', async () => {
      const before = (await app.api('/api/v1/customers/c-a')).body;
      const malformed = await app.api('/api/v1/orders', { method: 'POST', body: '[{"orderId": "o-1",', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('malformed');
      const huge = await app.api('/api/v1/org', { method: 'PUT', body: JSON.stringify({ users: [], teams: [], pad: 'x'.repeat(2 << 20) }), headers: { 'content-type': 'application/json' } });
      expect(huge.status).toBe(413);
      expect((await app.api('/api/v1/customers/c-a')).body).toEqual(before);
      expect((await app.api('/api/v1/org')).body.users).toHaveLength(2);
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    });

    it('recomputes at a given asOf and shows tier, metrics, explanation and history', async () => {
      const res = await app.api('/api/v1/tiering/recompute', { method: 'POST', json: { asOf: AS_OF } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ evaluated: 2, changed: 2 });
      const a = (await app.api('/api/v1/customers/c-a')).body;
      expect(a.tier).toMatchObject({ key: 'A', name: '高价值客户', rank: 4, previous: null });
      expect(a.metrics).toMatchObject({ recencyDays: 5, frequency: 6, monetary: 12500.5, orderCount: 6 });
      expect(a.explanation.rule).toBe('A');
      expect(a.explanation.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ metric: 'recencyDays', op: 'lte', value: 30, actual: 5, held: true })]));
      expect(a.evaluatedAt).toBe('2026-06-30T02:00:00+08:00');
      expect(a.history).toEqual([expect.objectContaining({ from: null, to: 'A', runId: res.body.runId })]);
      const run = await app.api(`/api/v1/tiering/runs/${res.body.runId}`);
      expect(run.body).toMatchObject({ status: 'done', counts: { evaluated: 2 } });

      // 400 days later c-a has lapsed: a downgrade, recorded in history
      const later = await app.api('/api/v1/tiering/recompute', { method: 'POST', json: { asOf: '2027-08-04T02:00:00+08:00' } });
      expect(later.body.downgrades).toBeGreaterThanOrEqual(1);
      const lapsed = (await app.api('/api/v1/customers/c-a')).body;
      expect(lapsed.tier).toMatchObject({ key: 'W', previous: 'A' });
      expect(lapsed.history.map((h: { to: string }) => h.to)).toEqual(['A', 'W']);
    });

    it('runs a recompute in the background with wait=false', async () => {
      const res = await app.api('/api/v1/tiering/recompute?wait=false', { method: 'POST', json: { asOf: AS_OF } });
      expect(res.status).toBe(202);
      let run;
      for (let i = 0; i < 100; i++) {
        run = (await app.api(`/api/v1/tiering/runs/${res.body.runId}`)).body;
        if (run.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(run.status).toBe('done');
      expect((await app.api('/api/v1/customers/c-a')).body.tier.key).toBe('A');
    });

    it('rejects a bad asOf with 422 naming the field', async () => {
      const res = await app.api('/api/v1/tiering/recompute', { method: 'POST', json: { asOf: 'yesterday' } });
      expect(res.status).toBe(422);
      expect(res.body.error.details[0].path).toBe('asOf');
    });

    it('pages through customers with a cursor, each exactly once, with filters', async () => {
      const many = Array.from({ length: 120 }, (_, i) => ({ id: `p-${String(i).padStart(3, '0')}`, name: `分页客户 ${i}`, ownerId: 'u-zhang' }));
      expect((await app.api('/api/v1/customers', { method: 'PUT', json: many })).body.upserted).toBe(120);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await app.api(`/api/v1/customers?q=p-&limit=50${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...res.body.items.map((c) => c.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(many.map((c) => c.id));
      const tierA = await app.api('/api/v1/customers?tier=A');
      expect(tierA.body.items.map((c: { id: string }) => c.id)).toEqual(['c-a']);
      expect((await app.api('/api/v1/customers?limit=0')).status).toBe(422);
    });

    it('versions the policy, rejects a bad one with every path and keeps the running one', async () => {
      const current = await app.api('/api/v1/policy');
      expect(current.body.version).toBe(1);
      const bad = structuredClone(current.body.policy);
      bad.valueScore.dimensions[0].weight = 0.9;
      bad.tiers[0].when.all[0].op = 'approx';
      const rejected = await app.api('/api/v1/policy', { method: 'PUT', json: bad });
      expect(rejected.status).toBe(422);
      const paths = rejected.body.error.details.map((d: { path: string }) => d.path).join(' ');
      expect(paths).toContain('tiers.0.when');
      expect(paths).toContain('valueScore');
      expect((await app.api('/api/v1/policy')).body.version).toBe(1);

      const tuned = { ...current.body.policy, window: { days: 180 } };
      const ok = await app.api('/api/v1/policy', { method: 'PUT', json: tuned });
      expect(ok.body).toEqual({ version: 2 });
      const asYaml = await app.api('/api/v1/policy', { method: 'PUT', body: `window: {days: 200}\n` + toYamlish(current.body.policy), headers: { 'content-type': 'application/yaml' } });
      expect(asYaml.status).toBe(200);
      expect(asYaml.body).toEqual({ version: 3 });
      const versions = await app.api('/api/v1/policy/versions');
      expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
      expect((await app.api('/api/v1/policy')).body.policy.window.days).toBe(200);
    });

    it('simulates a policy without writing anything', async () => {
      const before = (await app.api('/api/v1/customers/c-a')).body;
      const policy = (await app.api('/api/v1/policy')).body.policy;
      policy.tiers[0].when = { all: [{ metric: 'monetary', op: 'gt', value: 1_000_000 }] };
      const res = await app.api('/api/v1/tiering/simulate', { method: 'POST', json: { policy, asOf: AS_OF } });
      expect(res.status).toBe(200);
      expect(res.body.matrix.A).toBeDefined();
      expect(res.body.matrix.A.A ?? 0).toBe(0);
      expect((await app.api('/api/v1/customers/c-a')).body).toEqual(before);
    });

    it('reports the distribution and serves Prometheus metrics', async () => {
      const d = await app.api('/api/v1/reports/distribution');
      expect(d.body.tiers.find((t: { key: string }) => t.key === 'A').count).toBe(1);
      const m = await fetch(`${app.url}/metrics`);
      const text = await m.text();
      expect(text).toContain('tierbot_orders_ingested_total');
      expect(text).toMatch(/tierbot_recompute_runs_total\{status="done"\} [1-9]/);
    });

    it('answers an unknown customer with 404 in the error format', async () => {
      const res = await app.api('/api/v1/customers/nope');
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: 'not_found' });
    });
  });
}

/** JSON is valid YAML; this keeps the YAML test honest about the content type without a YAML writer. */
function toYamlish(policy: Record<string, unknown>): string {
  return Object.entries(policy)
    .filter(([k]) => k !== 'window')
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join('\n');
}
