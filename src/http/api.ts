// The admin/API routes under /api/v1 (README "HTTP API"). Thin: parse, validate, call the application, shape the answer.
import { z } from 'zod';
import { customerView } from '../app/customer-view.ts';
import { NotFound, ValidationFailed } from '../app/errors.ts';
import { ingestCustomers, ingestOrders } from '../app/ingest.ts';
import { customerSchema, isoInstant, orderSchema } from '../app/inputs.ts';
import { orgSchema, parseOrg } from '../config/org.ts';
import { RecomputeBusyError } from '../app/recompute.ts';
import { atRisk, distribution, distributionByRun, movements, pareto, segments, tierKpis, valueAtStakeBy, type SegmentBy } from '../app/reports.ts';
import { parsePolicy } from '../domain/policy.ts';
import type { Services } from './services.ts';
import { canSee, scopeOf } from '../app/access.ts';
import { whatIf } from '../app/what-if.ts';
import { effectiveMapping, mapCustomer, mapOrder } from '../app/import-map.ts';
import type { Org } from '../ports/store.ts';
import { AdminRouter, viewer } from './auth.ts';
import { readBulk, readDocument, readPolicyDocument, validate } from './body.ts';
import { HttpError } from './errors.ts';
import { doc } from '../inbound/route-doc.ts';
import * as S from './openapi-schemas.ts';
import { policySchema } from '../domain/policy.ts';

const listQuery = z.strictObject({
  tier: z.string().min(1).optional(),
  risk: z.enum(['none', 'low', 'medium', 'high']).optional(),
  ownerId: z.string().min(1).optional(),
  teamId: z.string().min(1).optional(),
  q: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional(),
});

const recomputeBody = z.strictObject({ asOf: isoInstant.optional() }).default({});
const simulateBody = z.strictObject({ policy: z.unknown().describe('a policy document (see PUT /api/v1/policy)'), asOf: isoInstant.optional() });
const movementsQuery = z.object({ since: isoInstant });
const segmentsQuery = z.object({
  by: z.string().regex(/^(attributes\.[^.\s]{1,100}|tags|owner|team)$/, 'must be attributes.<key>, tags, owner or team'),
  tier: z.string().min(1).optional(),
});
const atRiskQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), teamId: z.string().optional(), ownerId: z.string().optional() });
const recomputeQuery = z.object({ wait: z.enum(['true', 'false']).optional().describe('false: answer 202 with the run id at once') });
/** bulk bodies: JSON array, NDJSON (one object a line; bad lines become rejects) or CSV with a header line */
const BULK = ['application/json', 'application/x-ndjson', 'text/csv'] as const;
const bulkRows = (row: z.ZodType) => z.array(row);

export function apiRouter(s: Services): AdminRouter {
  const r = new AdminRouter(s.gate);

  r.get('/org', doc({ summary: 'Read the org', responses: { 200: S.Org } }), async (ctx) => {
    ctx.body = (await s.store.getOrg()) ?? { users: [], teams: [] };
  });
  r.put('/org', doc({ summary: 'Replace the org', body: orgSchema, responses: { 200: S.OrgCounts } }), async (ctx) => {
    const parsed = parseOrg(await readDocument(ctx));
    if (!parsed.ok) throw new ValidationFailed('invalid org', parsed.problems);
    await s.store.putOrg(parsed.org);
    ctx.body = { users: parsed.org.users.length, teams: parsed.org.teams.length };
  });

  r.put('/customers', doc({ summary: 'Upsert customers', description: 'Each row is validated on its own: the valid ones are stored, the others reported by index. CSV columns are mapped by the import map (config/import.yaml).', body: bulkRows(customerSchema), bodyTypes: BULK, responses: { 200: S.CustomersIngested } }), async (ctx) => {
    const { rows, unparseable, csv } = await readBulk(ctx);
    const org = await s.store.getOrg();
    const result = await ingestCustomers(s.store, csv ? rows.map((row) => mapCustomer(row as Record<string, unknown>, s.files.importMap)) : rows, org);
    ctx.body = { ...result, rejected: withLines(mergeRejects(unparseable, result.rejected), csv?.lines) };
  });

  // who is asking, with what they may see (org users see their own scope; the admin token everything)
  r.forUsers.get('/me', doc({ summary: 'Who is asking, and whom they may see', tag: 'org', responses: { 200: S.Me } }), async (ctx) => {
    const v = viewer(ctx);
    const org = await orgOf(s);
    const scope = scopeOf(v, org);
    const teams = scope ? org.teams.filter((t) => scope.teamIds.includes(t.id)) : org.teams;
    const users = scope ? org.users.filter((u) => u.id === scope.ownerId || scope.teamlessOwnerIds.includes(u.id)) : org.users;
    ctx.body = {
      viewer: v.kind === 'user' ? { id: v.user.id, name: v.user.name, role: v.user.role, teamId: v.user.teamId ?? null } : { id: null, name: 'ADMIN_TOKEN', role: 'admin', teamId: null },
      users: users.map((u) => ({ id: u.id, name: u.name, role: u.role, teamId: u.teamId ?? null })),
      teams: teams.map((t) => ({ id: t.id, name: t.name })),
    };
  });

  r.forUsers.get('/customers', doc({ summary: 'List customers (cursor-paginated)', query: listQuery, responses: { 200: S.CustomerPage } }), async (ctx) => {
    const q = validate(listQuery, ctx.query, 'query');
    const { limit, cursor, ...filter } = q;
    const scope = scopeOf(viewer(ctx), await orgOf(s));
    const page = await s.store.listCustomers({ ...filter, scope }, limit, cursor);
    ctx.body = { items: page.items.map((c) => customerView(c)), nextCursor: page.nextCursor };
  });

  r.forUsers.get('/customers/:id', doc({ summary: 'One customer with metrics, tier, explanation, risk, score and history', responses: { 200: S.Customer } }), async (ctx) => {
    const c = await s.store.getCustomer(ctx.params.id);
    // someone else's customer is answered like a missing one: its existence is not theirs to know
    if (!c || !canSee(viewer(ctx), await orgOf(s), c)) throw new NotFound(`customer "${ctx.params.id}"`);
    const v = viewer(ctx);
    ctx.body = customerView(c, await s.store.getHistory(c.id), v.kind === 'user' ? (v.user.locale ?? 'zh-CN') : 'zh-CN');
  });

  // the import map as the bulk endpoints apply it to CSV and workbook headers (the console's import page shows it)
  const fieldHeaders = z.array(z.object({ field: z.string(), headers: z.array(z.string()) }));
  const ImportMapping = z.object({ customers: fieldHeaders, orders: fieldHeaders, statuses: z.object({ cancelled: z.array(z.string()), refund: z.array(z.string()) }) }).meta({ id: 'ImportMapping' });
  r.get('/import/mapping', doc({ summary: 'The effective import mapping', description: 'Per tierbot field, the source headers tried for it in order (config/import.yaml, then the built-in ones): an exact header first, else case-insensitively.', responses: { 200: ImportMapping } }), (ctx) => {
    ctx.body = effectiveMapping(s.files.importMap);
  });
  r.post('/orders', doc({ summary: 'Ingest orders', description: 'Each row is validated on its own; an order seen again is updated or counted as a duplicate. CSV columns are mapped by the import map.', body: bulkRows(orderSchema), bodyTypes: BULK, responses: { 200: S.OrdersIngested } }), async (ctx) => {
    const { rows, unparseable, csv } = await readBulk(ctx);
    const tz = csv ? (await s.policies.active()).policy.timezone : '';
    const result = await ingestOrders(s.store, csv ? rows.map((row) => mapOrder(row as Record<string, unknown>, s.files.importMap, tz)) : rows);
    s.metrics.ordersIngested.inc(result.inserted + result.updated);
    ctx.body = { ...result, rejected: withLines(mergeRejects(unparseable, result.rejected), csv?.lines) };
  });

  r.post('/tiering/recompute', doc({ summary: 'Run a full recompute now', query: recomputeQuery, body: recomputeBody, bodyOptional: true, responses: { 200: S.RecomputeDone, 202: S.RecomputeStarted, 409: { description: 'a run is already going (its id in details)', schema: S.ErrorBody } } }), async (ctx) => {
    const body = validate(recomputeBody, (await readDocument(ctx)) ?? {}, 'body');
    try {
      // busy here (this instance) or when the run starts (another live instance is running one)
      const started = s.recomputer.start(body.asOf ? Date.parse(body.asOf) : undefined);
      if (ctx.query.wait === 'false') {
        started.done.catch(() => undefined);
        await started.created;
        ctx.status = 202;
        ctx.body = { runId: started.runId };
        return;
      }
      const run = await started.done;
      ctx.body = { runId: run.id, ...run.counts, durationMs: run.durationMs };
    } catch (err) {
      if (err instanceof RecomputeBusyError) throw new HttpError(409, 'conflict', err.message, [{ runId: err.runId }]);
      throw err;
    }
  });

  r.get('/tiering/runs/:runId', doc({ summary: "A run's status and counts", responses: { 200: S.Run } }), async (ctx) => {
    const run = await s.store.getRun(ctx.params.runId);
    if (!run) throw new NotFound(`run "${ctx.params.runId}"`);
    ctx.body = run;
  });
  r.get('/tiering/runs', doc({ summary: 'The latest 50 runs', responses: { 200: S.RunList } }), async (ctx) => {
    // the notice book (what a run tells people) is in the run's own record, not in the list
    ctx.body = { items: (await s.store.listRuns(50)).map(({ notices: _notices, ...run }) => run) };
  });

  r.post('/tiering/simulate', doc({ summary: 'What a policy would do (nothing is written)', body: simulateBody, bodyTypes: ['application/json', 'application/yaml'], responses: { 200: S.WhatIf } }), async (ctx) => {
    const body = validate(simulateBody, await readPolicyDocument(ctx), 'body');
    const policy = parsePolicy(body.policy);
    if (!policy.ok) throw new ValidationFailed('the policy is invalid', policy.issues.map((i) => ({ ...i, path: `policy.${i.path}` })));
    ctx.body = await whatIf(s.store, policy.policy, body.asOf ? Date.parse(body.asOf) : s.clock.now(), await orgOf(s), s.clock.now(), { pool: s.pool });
  });

  r.get('/policy', doc({ summary: 'The policy in force', responses: { 200: z.object({ version: z.number().int(), installedAt: z.string(), policy: policySchema }) } }), async (ctx) => {
    ctx.body = await s.policies.active();
  });
  r.put('/policy', doc({ summary: 'Install a new policy version', description: 'JSON, or YAML with content-type application/yaml; every problem is reported with its path and the running policy stays in force.', body: policySchema, bodyTypes: ['application/json', 'application/yaml'], responses: { 200: S.Installed } }), async (ctx) => {
    ctx.body = { version: await s.policies.install(await readPolicyDocument(ctx)) };
  });
  r.get('/policy/versions', doc({ summary: 'Every installed policy version, newest first', responses: { 200: S.PolicyVersions } }), async (ctx) => {
    ctx.body = { items: (await s.store.listPolicies()).sort((a, b) => b.version - a.version) };
  });

  r.forUsers.get('/reports/distribution', doc({ summary: 'Customers per tier and risk level', responses: { 200: S.Distribution } }), async (ctx) => {
    ctx.body = await distribution(s.store, (await s.policies.active()).policy, scopeOf(viewer(ctx), await orgOf(s)));
  });
  r.forUsers.get('/reports/pareto', doc({ summary: 'Revenue concentration (Pareto curve)', responses: { 200: S.Pareto } }), async (ctx) => {
    ctx.body = await pareto(s.store, scopeOf(viewer(ctx), await orgOf(s)));
  });
  r.forUsers.get('/reports/movements', doc({ summary: 'Tier changes since an instant', query: movementsQuery, responses: { 200: S.Movements } }), async (ctx) => {
    const since = validate(movementsQuery, ctx.query, 'query').since;
    ctx.body = await movements(s.store, new Date(Date.parse(since)).toISOString(), scopeOf(viewer(ctx), await orgOf(s)));
  });
  // the dashboard's KPIs per tier and value at stake by team and owner, over what the viewer may see
  r.forUsers.get('/reports/tiers', doc({ summary: 'KPIs per tier', responses: { 200: S.TierKpis } }), async (ctx) => {
    ctx.body = await tierKpis(s.store, (await s.policies.active()).policy, scopeOf(viewer(ctx), await orgOf(s)));
  });
  r.forUsers.get('/reports/segments', doc({ summary: 'Per segment × tier: customers, revenue, share, at risk, value at stake, change since the last run', query: segmentsQuery, responses: { 200: S.Segments } }), async (ctx) => {
    const q = validate(segmentsQuery, ctx.query, 'query');
    const by: SegmentBy = q.by === 'tags' ? { kind: 'tags' } : q.by === 'owner' ? { kind: 'owner' } : q.by === 'team' ? { kind: 'team' } : { kind: 'attribute', key: q.by.slice('attributes.'.length) };
    ctx.body = { by: q.by, ...(await segments(s.store, by, { tier: q.tier, scope: scopeOf(viewer(ctx), await orgOf(s)) })) };
  });
  r.forUsers.get('/reports/distribution/runs', doc({ summary: 'Customers per tier over the latest runs', responses: { 200: S.DistributionByRun } }), async (ctx) => {
    ctx.body = await distributionByRun(s.store, scopeOf(viewer(ctx), await orgOf(s)));
  });
  r.forUsers.get('/reports/value-at-stake', doc({ summary: 'Value at stake by team and owner', responses: { 200: S.ValueAtStake } }), async (ctx) => {
    const org = await orgOf(s);
    ctx.body = await valueAtStakeBy(s.store, org, scopeOf(viewer(ctx), org));
  });
  r.forUsers.get('/reports/at-risk', doc({ summary: 'Customers at risk, most value at stake first', query: atRiskQuery, responses: { 200: S.AtRisk } }), async (ctx) => {
    const q = validate(atRiskQuery, ctx.query, 'query');
    ctx.body = await atRisk(s.store, q.limit, { teamId: q.teamId, ownerId: q.ownerId, scope: scopeOf(viewer(ctx), await orgOf(s)) });
  });

  return r;
}

/** CSV rejects also name the line of the file their row starts on (quoted fields may span lines). */
function withLines<T extends { index: number }>(rejects: T[], lines: number[] | undefined): (T & { line?: number })[] {
  return lines ? rejects.map((r) => ({ ...r, line: lines[r.index] })) : rejects;
}

async function orgOf(s: Services): Promise<Org> {
  return (await s.store.getOrg()) ?? { users: [], teams: [] };
}

/** Unparseable NDJSON lines were also rejected by validation; report each row once. */
function mergeRejects<T extends { index: number }>(unparseable: T[], invalid: T[]): T[] {
  const seen = new Set(unparseable.map((r) => r.index));
  return [...unparseable, ...invalid.filter((r) => !seen.has(r.index))].sort((x, y) => x.index - y.index);
}

