// API routes of the chat workflows: scores, digests, outbox, audit. (The console's act-as endpoints are the
// console platform's receiver: src/platforms/console/routes.ts, mounted on the admin router by src/service.ts.)
import { z } from 'zod';
import type { Card } from '../../cards/model.ts';
import { NotFound, ValidationFailed } from '../app/errors.ts';
import { userById } from '../app/workflows/context.ts';
import { publicRecipient } from '../app/outbox.ts';
import type { ChatServices, Services } from './services.ts';
import { canSee } from '../app/access.ts';
import { SCORE_DECISIONS, SCORE_REQUESTS, type DecisionDoc, type ScoreRequestDoc } from '../app/workflows/scoring.ts';
import { monthlySpend } from '../domain/engine.ts';
import { AdminRouter, viewer } from './auth.ts';
import { readDocument, validate } from './body.ts';
import { HttpError } from './errors.ts';
import { doc } from '../inbound/route-doc.ts';
import * as S from './openapi-schemas.ts';

const scoreBody = z.strictObject({
  customerId: z.string().min(1),
  points: z.record(z.string(), z.union([z.number(), z.string()])),
  comment: z.string().max(1000).optional(),
  submittedBy: z.string().min(1),
});
const decisionBody = z.strictObject({ decidedBy: z.string().min(1), outcome: z.enum(['approved', 'rejected']), reason: z.string().max(500).optional() });
const digestBody = z.strictObject({ teamId: z.string().min(1).optional() }).default({});
const scoresQuery = z.object({ customerId: z.string().optional(), status: z.enum(['pending', 'approved', 'rejected', 'superseded', 'expired']).optional() });
const outboxQuery = z.object({ status: z.enum(['pending', 'sent', 'dead']).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) });
const auditQuery = z.object({ customerId: z.string().optional(), actor: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).default(200) });
export function workflowRouter(s: Services, chat: ChatServices): AdminRouter {
  const r = new AdminRouter(s.gate);

  r.post('/scores', doc({ summary: 'Submit a manual score (the same flow as the card)', body: scoreBody, responses: { 201: S.ScoreSubmitted } }), async (ctx) => {
    const body = validate(scoreBody, await readDocument(ctx), 'body');
    const org = (await s.store.getOrg()) ?? { users: [], teams: [] };
    const user = userById(org, body.submittedBy);
    if (!user) throw new ValidationFailed('invalid body', [{ path: 'submittedBy', message: `unknown user "${body.submittedBy}"` }]);
    const request = await chat.scoring.submit({ user, customerId: body.customerId, values: body.points, comment: body.comment, replyTo: null, platform: 'api' });
    ctx.status = 201;
    ctx.body = { requestId: request._id, status: request.status, total: request.total, previousTotal: request.previousTotal, expiresAt: request.expiresAt };
  });
  r.post('/scores/:requestId/decision', doc({ summary: 'Approve or reject a score request', body: decisionBody, responses: { 200: S.Decision, 409: { description: 'already decided (by whom in the message)', schema: S.ErrorBody } } }), async (ctx) => {
    const body = validate(decisionBody, await readDocument(ctx), 'body');
    const org = (await s.store.getOrg()) ?? { users: [], teams: [] };
    const user = userById(org, body.decidedBy);
    if (!user) throw new ValidationFailed('invalid body', [{ path: 'decidedBy', message: `unknown user "${body.decidedBy}"` }]);
    const { decision } = await chat.scoring.decide({ user, requestId: ctx.params.requestId, outcome: body.outcome, reason: body.reason, platform: 'api' });
    ctx.body = decision;
  });
  r.get('/scores', doc({ summary: 'Score requests, newest first (at most 200)', query: scoresQuery, responses: { 200: S.ScoreRequests } }), async (ctx) => {
    const q = validate(scoresQuery, ctx.query, 'query');
    const filter: Record<string, string> = {};
    if (q.customerId) filter.customerId = q.customerId;
    if (q.status) filter.status = q.status;
    ctx.body = { items: await s.store.docs.find('scoreRequests', filter, { sort: [['submittedAt', -1]], limit: 200 }) };
  });

  r.post('/digests/run', doc({ summary: 'Send the team digests now', body: digestBody, bodyOptional: true, responses: { 200: S.Digests } }), async (ctx) => {
    const body = validate(digestBody, (await readDocument(ctx)) ?? {}, 'body');
    if (body.teamId && !((await s.store.getOrg())?.teams ?? []).some((t) => t.id === body.teamId)) throw new NotFound(`team "${body.teamId}"`);
    ctx.body = { teams: await chat.digests.run(body.teamId) };
  });

  r.get('/outbox', doc({ summary: 'Outgoing cards: pending, sent and dead letters', query: outboxQuery, responses: { 200: S.OutboxList } }), async (ctx) => {
    const q = validate(outboxQuery, ctx.query, 'query');
    const items = await chat.outbox.list(q.status, q.limit);
    ctx.body = {
      items: items.map(({ card, recipient, ...rest }) => {
        const c = JSON.parse(card) as Card;
        return { ...rest, recipient: publicRecipient(recipient), card: { kind: c.kind, title: c.title, summary: c.summary } };
      }),
    };
  });

  // the customer page: score requests with their decisions, the audit trail and 12 months of spend
  r.forUsers.get('/customers/:id/activity', doc({ summary: "A customer's score requests, audit trail and 12 months of spend", tag: 'customers', responses: { 200: S.CustomerActivity } }), async (ctx) => {
    const c = await s.store.getCustomer(ctx.params.id);
    const org = (await s.store.getOrg()) ?? { users: [], teams: [] };
    if (!c || !canSee(viewer(ctx), org, c)) throw new NotFound(`customer "${ctx.params.id}"`);
    const name = (id: string) => userById(org, id)?.name ?? id;
    const requests = await s.store.docs.find<ScoreRequestDoc>(SCORE_REQUESTS, { customerId: c.id }, { sort: [['submittedAt', -1]], limit: 50 });
    const decisions = await s.store.docs.find<DecisionDoc>(SCORE_DECISIONS, { _id: { $in: requests.map((r) => r._id) } });
    const decisionOf = new Map(decisions.map((d) => [d._id, d]));
    const { policy } = await s.policies.active();
    ctx.body = {
      scoreRequests: requests.map((r) => {
        const d = decisionOf.get(r._id);
        return {
          id: r._id, status: r.status, points: r.points, total: r.total, previousTotal: r.previousTotal, comment: r.comment,
          submittedBy: name(r.submittedBy), submittedAt: r.submittedAt,
          decision: d ? { outcome: d.outcome, by: d.byName, at: d.at, reason: d.reason } : null,
        };
      }),
      audit: (await chat.audit.list({ customerId: c.id }, 200)).map((a) => ({ at: a.at, actor: name(a.actor), action: a.action, outcome: a.outcome, platform: a.platform })),
      spend: monthlySpend(c.rollup, s.clock.now(), policy.timezone, 11),
    };
  });

  r.post('/outbox/:id/retry', doc({ summary: 'Retry a dead letter', responses: { 200: S.Retried, 409: { description: 'the message is not dead', schema: S.ErrorBody } } }), async (ctx) => {
    const item = await chat.outbox.get(ctx.params.id);
    if (!item) throw new NotFound(`outbox message "${ctx.params.id}"`);
    if (!(await chat.outbox.retry(item._id))) throw new HttpError(409, 'conflict', `outbox message "${item._id}" is ${item.status}, not dead`);
    const v = viewer(ctx);
    await chat.audit.record({ actor: v.kind === 'user' ? v.user.id : 'ADMIN_TOKEN', action: 'outbox.retry', customerId: null, requestId: null, outcome: 'ok', platform: 'api', detail: { id: item._id, lastError: item.lastError } });
    ctx.body = { id: item._id, status: 'pending' };
  });

  r.get('/audit', doc({ summary: 'The audit log, newest first', query: auditQuery, responses: { 200: S.AuditList } }), async (ctx) => {
    const q = validate(auditQuery, ctx.query, 'query');
    ctx.body = { items: await chat.audit.list({ customerId: q.customerId, actor: q.actor }, q.limit) };
  });

  return r;
}
