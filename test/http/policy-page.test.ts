// The policy page's API: a draft's what-if before apply (nothing written), problems by path, diffs of versions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { fixedClock, startDemoApp, type TestApp } from '../helpers/app.ts';

describe('policy page API', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startDemoApp({ clock: fixedClock('2026-06-30T10:00:00+08:00') });
  }, 60_000);
  afterAll(async () => {
    await app.close();
  });

  const yamlBody = (text: string) => ({ method: 'POST', body: text, headers: { 'content-type': 'application/yaml' } });

  it('gives the active policy as YAML that parses back to it', async () => {
    const { body } = await app.api('/api/v1/policy/yaml');
    const active = (await app.api('/api/v1/policy')).body;
    expect(body.version).toBe(active.version);
    expect(parse(body.yaml)).toEqual(active.policy);
  });

  it('previews a draft: the tiers it gives, who moves, what the first run would send; nothing is written', async () => {
    const { body: active } = await app.api('/api/v1/policy/yaml');
    const draft = parse(active.yaml);
    // tier A needs more spend
    const a = draft.tiers.find((t: { key: string }) => t.key === 'A');
    const raise = (c: any): any => (c && typeof c === 'object' ? (c.metric === 'monetary' ? { ...c, value: c.value * 3 } : Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Array.isArray(v) ? v.map(raise) : raise(v)]))) : c);
    a.when = raise(a.when);
    const before = (await app.api('/api/v1/reports/distribution')).body;
    const res = await app.api('/api/v1/policy/what-if', yamlBody(stringify(draft)));
    expect(res.status).toBe(200);
    const w = res.body;
    const aBefore = before.tiers.find((t: { key: string }) => t.key === 'A').count;
    expect(w.distribution.A).toBeLessThan(aBefore);
    // every customer who leaves A is a change; the matrix and the count agree
    const offDiagonal = Object.entries(w.matrix as Record<string, Record<string, number>>).reduce((n, [from, row]) => n + Object.entries(row).filter(([to]) => from !== 'none' && to !== from).reduce((m, [, k]) => m + k, 0), 0);
    expect(w.changed).toBe(offDiagonal);
    expect(w.changed).toBeGreaterThanOrEqual(aBefore - w.distribution.A);
    // the same answer as the simulation endpoint
    const sim = await app.api('/api/v1/tiering/simulate', { method: 'POST', json: { policy: draft } });
    expect(w.distribution).toEqual(sim.body.distribution);
    expect(w.matrix).toEqual(sim.body.matrix);
    // a new version's first run is a baseline: summaries, no single cards
    expect(w.notices.cards).toBe(0);
    expect(w.notices.personalSummaries).toBeGreaterThan(0);
    expect(w.notices.tierChanges).toBe(w.changed);
    expect((await app.api('/api/v1/policy/versions')).body.items).toHaveLength(1);
    expect((await app.api('/api/v1/reports/distribution')).body).toEqual(before);
  });

  it('names every problem of a draft by its path', async () => {
    const { body: active } = await app.api('/api/v1/policy/yaml');
    const draft = parse(active.yaml);
    draft.valueScore.dimensions[0].weight = 0.9;
    const res = await app.api('/api/v1/policy/what-if', yamlBody(stringify(draft)));
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: string }) => d.path).join(' ')).toMatch(/valueScore\.dimensions/);
    const broken = await app.api('/api/v1/policy/what-if', yamlBody('tiers: [unclosed'));
    expect(broken.status).toBe(400);
  });

  it('applies a draft as a new version and shows the diff between any two', async () => {
    const { body: active } = await app.api('/api/v1/policy/yaml');
    const text = active.yaml.replace(/downgradeAfterRuns: \d+/, 'downgradeAfterRuns: 3');
    expect(text).not.toBe(active.yaml);
    const put = await app.api('/api/v1/policy', { method: 'PUT', body: text, headers: { 'content-type': 'application/yaml' } });
    expect(put.status).toBe(200);
    const diff = (await app.api(`/api/v1/policy/diff?from=${active.version}&to=${put.body.version}`)).body.diff as string;
    expect(diff).toContain('-  downgradeAfterRuns:');
    expect(diff).toContain('+  downgradeAfterRuns: 3');
    expect(diff.split('\n').filter((l) => /^[+-][^+-]/.test(l))).toHaveLength(2);
    expect((await app.api('/api/v1/policy/diff?from=1&to=99')).status).toBe(404);
  });

  it('is for admins: a rep with a session gets 403', async () => {
    const link = await app.bot.links.url('u-zhang', {});
    const res = await fetch(app.url + link.slice(link.indexOf('/console')), { redirect: 'manual' });
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    expect((await fetch(`${app.url}/api/v1/policy/yaml`, { headers: { cookie } })).status).toBe(403);
  });
});
