// The backtest's API (admins): a policy (a draft, or the one in force) as of a past instant, measured against
// the following days. Nothing is written.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ValidationFailed } from '../app/errors.ts';
import { detectorFeedback } from '../app/feedback.ts';
import { backtest, DAY_MS, DEFAULT_DROP_BELOW_PCT, MAX_HORIZON_DAYS } from '../app/backtest.ts';
import { isoInstant } from '../app/inputs.ts';
import { parsePolicy, type Policy } from '../domain/policy.ts';
import { AdminRouter, viewer } from './auth.ts';
import { readDocument, validate } from './body.ts';
import { HttpError } from './errors.ts';
import type { Services } from './services.ts';
import { doc } from '../inbound/route-doc.ts';
// answers not yet described field by field: any JSON object
const undescribed = z.looseObject({}).describe('an object; its fields are not described here yet');

export const backtestBody = z.strictObject({
  /** a draft policy (object, or YAML text); absent: the policy in force */
  policy: z.unknown().optional(),
  /** two (or more, at most 4) policies side by side, each a policy object, YAML text or null for the one in force */
  policies: z.array(z.unknown()).min(1).max(4).optional(),
  asOf: isoInstant,
  horizonDays: z.number().int().min(1).max(MAX_HORIZON_DAYS),
  dropBelowPct: z.number().min(0).max(100).default(DEFAULT_DROP_BELOW_PCT),
});

const feedbackQuery = z.object({ from: isoInstant, to: isoInstant, bucket: z.enum(['week', 'month']).default('week') });

export function backtestRouter(s: Services): AdminRouter {
  const r = new AdminRouter(s.gate);

  r.post('/tiering/backtest', doc({ summary: 'Evaluate a policy at a past date on the orders known then; revenue, lapse and alert precision/recall over the horizon (nothing written)', body: backtestBody, bodyTypes: ['application/json', 'application/yaml'], responses: { 200: undescribed } }), async (ctx) => {
    const b = validate(backtestBody, await readDocument(ctx), 'body');
    const asOf = Date.parse(b.asOf);
    const now = s.clock.now();
    if (asOf + b.horizonDays * DAY_MS > now) {
      throw new ValidationFailed('the horizon must have passed', [{ path: asOf > now ? 'asOf' : 'horizonDays', message: `asOf + horizonDays must be at or before now (${new Date(now).toISOString()})` }]);
    }
    if (b.policy !== undefined && b.policies !== undefined) throw new ValidationFailed('give policy or policies, not both', [{ path: 'policies', message: 'give policy or policies, not both' }]);
    const inputs = b.policies ?? [b.policy ?? null];
    const policies: { label: string; policy: Policy }[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const path = b.policies ? `policies.${i}` : 'policy';
      policies.push(await resolve(inputs[i], path));
    }
    const opts = { asOf, horizonDays: b.horizonDays, dropBelowPct: b.dropBelowPct };
    const results = [];
    for (const p of policies) results.push({ label: p.label, ...(await backtest(s.store, p.policy, opts)) });
    ctx.body = b.policies ? { results } : results[0];
  });

  // the alert feedback per detector: managers for their teams' customers, admins for all; reps are refused
  r.forUsers.get('/reports/detector-feedback', doc({ summary: 'How the risk detectors fared: feedback per bucket', query: feedbackQuery, responses: { 200: undescribed } }), async (ctx) => {
    const v = viewer(ctx);
    if (v.kind === 'user' && v.user.role === 'rep') throw new HttpError(403, 'forbidden', 'the detector feedback is for managers (their teams) and admins');
    const q = validate(feedbackQuery, ctx.query, 'query');
    const org = (await s.store.getOrg()) ?? { users: [], teams: [] };
    ctx.body = { from: q.from, to: q.to, bucket: q.bucket, precision: 'confirmed / (confirmed + rejected): confirmed = won back + lost (the risk was real), rejected = marked not at risk', items: await detectorFeedback(s.store, org, v, q) };
  });

  async function resolve(input: unknown, path: string): Promise<{ label: string; policy: Policy }> {
    if (input === null || input === undefined) {
      const active = await s.store.getPolicy();
      if (!active) throw new ValidationFailed('no policy is in force', [{ path, message: 'no policy is in force; give one' }]);
      return { label: `version ${active.version} (in force)`, policy: active.policy as Policy };
    }
    let doc = input;
    if (typeof input === 'string') {
      try {
        doc = parseYaml(input);
      } catch (e) {
        throw new ValidationFailed('the policy is not YAML', [{ path, message: (e as Error).message }]);
      }
    }
    const parsed = parsePolicy(doc);
    if (!parsed.ok) throw new ValidationFailed('the policy is invalid', parsed.issues.map((i) => ({ path: i.path ? `${path}.${i.path}` : path, message: i.message })));
    return { label: `draft ${path}`, policy: parsed.policy };
  }

  return r;
}
