// What request bodies may carry: YAML only for a policy and within a small limit; UTF-8 only; no string that
// storage would silently change (a lone UTF-16 surrogate becomes U+FFFD in MongoDB's UTF-8), on both stores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { parseOrg } from '../../src/config/org.ts';
import { LIMITS } from '../../src/http/body.ts';
import { hasMongo } from '../setup/mongo.ts';
import { makeTestStore, startApp, type StoreKind, type TestApp } from '../helpers/app.ts';

const LONE = '\ud800';
const org = {
  users: [
    { id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east' },
    { id: 'u-li', name: '李经理', role: 'manager', teamId: 't-east' },
  ],
  teams: [{ id: 't-east', name: '华东大客户组', managerIds: ['u-li'] }],
};
const yaml = { 'content-type': 'application/yaml' };
const paths = (res: { body: { error: { details: { path: string }[] } } }) => res.body.error.details.map((d) => d.path);

for (const kind of ['memory', 'mongo'] as StoreKind[]) {
  describe.skipIf(kind === 'mongo' && !hasMongo)(`request bodies on the ${kind} store`, () => {
    let app: TestApp;
    let policy: Record<string, any>;
    beforeAll(async () => {
      app = await startApp(makeTestStore(kind, 'bodies'));
      expect((await app.api('/api/v1/org', { method: 'PUT', json: org })).status).toBe(200);
      await app.api('/api/v1/customers', {
        method: 'PUT',
        json: [
          { id: 'c-keep', name: '上海鼎盛', ownerId: 'u-zhang', tags: ['vip'] },
          // a legitimate U+FFFD in an id: the lone surrogate below would collide with it in UTF-8 storage
          { id: 'c-\ufffd', name: '替换字符公司', ownerId: 'u-zhang' },
        ],
      });
      policy = (await app.api('/api/v1/policy')).body.policy;
    });
    afterAll(async () => {
      await app?.close();
    });

    it('refuses YAML on every route but the policy ones, with 415 naming them, before reading the body', async () => {
      const big = `users: [${'{id: u, name: n, role: rep}, '.repeat(30_000)}]\nteams: []\n`; // ~0.9 MB
      const started = Date.now();
      for (const [method, path] of [['PUT', '/api/v1/org'], ['PUT', '/api/v1/customers'], ['POST', '/api/v1/orders'], ['POST', '/api/v1/scores'], ['POST', '/api/v1/tiering/recompute']]) {
        const res = await app.api(path, { method, body: big, headers: yaml });
        expect(res.status, `${method} ${path}`).toBe(415);
        expect(res.body.error.message).toContain('PUT /api/v1/policy');
      }
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await app.api('/api/v1/org')).body).toEqual(org);
    });

    it('takes a policy as YAML on PUT /policy and POST /simulate, and refuses one over the limit with 413 at once', async () => {
      const version = (await app.api('/api/v1/policy')).body.version;
      const simulated = await app.api('/api/v1/tiering/simulate', { method: 'POST', body: toYaml({ policy, asOf: '2026-06-30T02:00:00+08:00' }), headers: yaml });
      expect(simulated.status).toBe(200);
      expect(simulated.body.matrix).toBeDefined();

      const padded = `${toYaml(policy)}\n# ${'x'.repeat(LIMITS.policy)}\n`;
      const started = Date.now();
      const tooBig = await app.api('/api/v1/policy', { method: 'PUT', body: padded, headers: yaml });
      expect(tooBig.status).toBe(413);
      expect(tooBig.body.error.code).toBe('too_large');
      const huge = await app.api('/api/v1/policy', { method: 'PUT', body: `a: [${'1, '.repeat(300_000)}]`, headers: yaml });
      expect(huge.status).toBe(413);
      expect(Date.now() - started).toBeLessThan(2000);

      const installed = await app.api('/api/v1/policy', { method: 'PUT', body: toYaml(policy), headers: yaml });
      expect(installed.body).toEqual({ version: version + 1 });
    });

    it('refuses a YAML policy with a duplicate key, naming it and its line, instead of silently keeping one', async () => {
      const version = (await app.api('/api/v1/policy')).body.version;
      const res = await app.api('/api/v1/policy', { method: 'PUT', body: `${toYaml(policy)}timezone: UTC\n`, headers: yaml });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/duplicate key "timezone" at line \d+/);
      expect((await app.api('/api/v1/policy')).body.version).toBe(version);
    });

    it('parses a worst-case YAML policy body within the limit quickly', async () => {
      const keys = Math.floor(LIMITS.policy / 12);
      const body = `{${Array.from({ length: keys }, (_, i) => `k${i}: 1`).join(', ')}}`.slice(0, LIMITS.policy - 1);
      const started = performance.now();
      const res = await app.api('/api/v1/policy', { method: 'PUT', body: `${body.slice(0, body.lastIndexOf(','))}}`, headers: yaml });
      expect(res.status).toBe(422); // parsed, then refused as a policy
      expect(performance.now() - started).toBeLessThan(500);
    });

    it('refuses a body that is not UTF-8 instead of storing U+FFFD', async () => {
      const bytes = Buffer.concat([Buffer.from('[{"id":"c-keep","name":"'), Buffer.from([0xe4, 0xb8]), Buffer.from('","ownerId":"u-zhang"}]')]);
      const res = await app.api('/api/v1/customers', { method: 'PUT', body: bytes, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('UTF-8');
      expect((await app.api('/api/v1/customers/c-keep')).body.name).toBe('上海鼎盛');
    });

    it('rejects customer rows with a lone surrogate in any stored string, by path, and keeps the rest', async () => {
      const res = await app.api('/api/v1/customers', {
        method: 'PUT',
        json: [
          { id: `c-${LONE}`, name: 'Collides with c-\ufffd', ownerId: 'u-zhang' },
          { id: 'c-keep', name: `上海${LONE}鼎盛`, ownerId: 'u-zhang' },
          { id: 'c-keep', name: '上海鼎盛', ownerId: 'u-zhang', attributes: { [`in${LONE}dustry`]: 'x', region: `east${LONE}` }, tags: ['ok', `\udc00vip`] },
          { id: 'c-emoji', name: '笑脸 😀 有限公司', ownerId: 'u-zhang', tags: ['🚀'] },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body.upserted).toBe(1);
      expect(res.body.rejected.map((r: { index: number; errors: { path: string; message: string }[] }) => [r.index, r.errors.map((e) => e.path)])).toEqual([
        [0, ['id']],
        [1, ['name']],
        [2, ['attributes.in\\uD800dustry', 'attributes.region', 'tags.1']],
      ]);
      expect(res.body.rejected[0].errors[0].message).toContain('unpaired UTF-16 surrogate');
      expect(res.body.rejected[2].errors[0].message).toMatch(/^key /);

      expect((await app.api('/api/v1/customers/c-keep')).body).toMatchObject({ name: '上海鼎盛', tags: ['vip'] });
      expect((await app.api(`/api/v1/customers/c-${encodeURIComponent('\ufffd')}`)).body.name).toBe('替换字符公司');
      expect((await app.api('/api/v1/customers/c-emoji')).body).toMatchObject({ name: '笑脸 😀 有限公司', tags: ['🚀'] });
    });

    it('rejects orders with a lone surrogate in orderId, customerId or status', async () => {
      const res = await app.api('/api/v1/orders', {
        method: 'POST',
        json: [
          { orderId: `o-${LONE}`, customerId: 'c-keep', amount: 10, occurredAt: '2026-06-01T10:00:00+08:00' },
          { orderId: 'o-2', customerId: `c-${LONE}`, amount: 10, occurredAt: '2026-06-01T10:00:00+08:00' },
          { orderId: 'o-3', customerId: 'c-keep', amount: 10, occurredAt: '2026-06-01T10:00:00+08:00', status: `paid${LONE}` },
        ],
      });
      expect(res.body.inserted).toBe(0);
      expect(res.body.rejected.map((r: { errors: { path: string }[] }) => r.errors[0].path)).toEqual(['orderId', 'customerId', 'status']);
    });

    it('rejects an org, a policy or a workflow body with a lone surrogate, by path, changing nothing', async () => {
      const badOrg = structuredClone(org);
      badOrg.users[1].name = `李${LONE}`;
      (badOrg.teams[0] as Record<string, unknown>).wecom = { chatId: `chat${LONE}` };
      const orgRes = await app.api('/api/v1/org', { method: 'PUT', json: badOrg });
      expect(orgRes.status).toBe(422);
      expect(paths(orgRes)).toEqual(['users.1.name', 'teams.0.wecom.chatId']);
      expect((await app.api('/api/v1/org')).body).toEqual(org);

      const version = (await app.api('/api/v1/policy')).body.version;
      const badPolicy = structuredClone(policy);
      badPolicy.tiers[0].name = `高价值${LONE}`;
      const policyRes = await app.api('/api/v1/policy', { method: 'PUT', json: badPolicy });
      expect(policyRes.status).toBe(422);
      expect(paths(policyRes)).toEqual(['tiers.0.name']);
      const yamlRes = await app.api('/api/v1/policy', { method: 'PUT', body: toYaml(policy).replace('高价值客户', '"高价值\\uD800"'), headers: yaml });
      expect(yamlRes.status, JSON.stringify(yamlRes.body)).toBe(422);
      expect((await app.api('/api/v1/policy')).body.version).toBe(version);

      const score = await app.api('/api/v1/scores', { method: 'POST', json: { customerId: 'c-keep', points: { [`profit${LONE}`]: 90 }, comment: `ok${LONE}`, submittedBy: 'u-zhang' } });
      expect(score.status).toBe(422);
      expect(paths(score)).toEqual(['points.profit\\uD800', 'comment']);
      expect((await app.api('/api/v1/scores')).body.items).toEqual([]);
    });

    it('cannot be handed a lone surrogate through the URL: invalid UTF-8 escapes stay literal', async () => {
      const res = await app.api('/api/v1/customers/c-%ED%A0%80');
      expect(res.status).toBe(404);
      expect(res.body.error.message).toContain('c-%ED%A0%80');
    });
  });
}

describe('org files are held to the same rule', () => {
  it('parseOrg names each field holding a lone surrogate', () => {
    const parsed = parseOrg({ users: [{ id: `u-${LONE}`, name: 'A', role: 'admin', feishu: { openId: `ou_${LONE}` } }], teams: [] });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems.map((p) => p.path)).toEqual(['users.0.id', 'users.0.feishu.openId']);
  });
});
