// The policy page's API (admins): the policy as YAML, a draft's what-if before it applies, a diff of two versions.
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { z } from 'zod';
import { NotFound, ValidationFailed } from '../app/errors.ts';
import { isoInstant } from '../app/inputs.ts';
import { whatIf } from '../app/what-if.ts';
import { parsePolicy } from '../domain/policy.ts';
import { AdminRouter } from './auth.ts';
import { readPolicyDocument, validate } from './body.ts';
import type { Services } from './services.ts';
import { doc } from '../inbound/route-doc.ts';
import { policySchema } from '../domain/policy.ts';
import * as S from './openapi-schemas.ts';

const versionQuery = z.object({ version: z.coerce.number().int().min(1).optional() });
const diffQuery = z.object({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1) });
const whatIfQuery = z.object({ asOf: isoInstant.optional() });

export function policyRouter(s: Services): AdminRouter {
  const r = new AdminRouter(s.gate);

  async function yamlOf(version?: number): Promise<{ version: number; installedAt: string; yaml: string }> {
    const p = await s.store.getPolicy(version);
    if (!p) throw new NotFound(`policy version ${version}`);
    return { version: p.version, installedAt: p.installedAt, yaml: stringify(p.policy, { lineWidth: 0 }) };
  }

  r.get('/policy/yaml', doc({ summary: 'A policy version as YAML (default: the one in force)', query: versionQuery, responses: { 200: S.PolicyYaml } }), async (ctx) => {
    const { version } = validate(versionQuery, ctx.query, 'query');
    ctx.body = await yamlOf(version);
  });

  // the body is the draft policy itself (YAML or JSON); nothing is written
  r.post('/policy/what-if', doc({ summary: "A draft policy's what-if (nothing is written)", description: 'The body is the draft policy itself, YAML or JSON.', query: whatIfQuery, body: policySchema, bodyTypes: ['application/yaml', 'application/json'], responses: { 200: S.WhatIf } }), async (ctx) => {
    const { asOf } = validate(whatIfQuery, ctx.query, 'query');
    const parsed = parsePolicy(await readPolicyDocument(ctx));
    if (!parsed.ok) throw new ValidationFailed('the policy is invalid', parsed.issues);
    const org = (await s.store.getOrg()) ?? { users: [], teams: [] };
    ctx.body = await whatIf(s.store, parsed.policy, asOf ? Date.parse(asOf) : s.clock.now(), org, s.clock.now(), { pool: s.pool });
  });

  r.get('/policy/diff', doc({ summary: 'The diff of two policy versions', query: diffQuery, responses: { 200: S.PolicyDiff } }), async (ctx) => {
    const q = validate(diffQuery, ctx.query, 'query');
    const [a, b] = await Promise.all([yamlOf(q.from), yamlOf(q.to)]);
    ctx.body = { from: q.from, to: q.to, diff: createTwoFilesPatch(`version ${a.version}`, `version ${b.version}`, a.yaml, b.yaml, a.installedAt, b.installedAt) };
  });

  return r;
}
