// The shapes the API answers with, as zod schemas: the OpenAPI document (src/http/openapi.ts) is generated from
// them and the API tests hold real answers to them. Each is named (`.meta({ id })`) where it is a component of
// the document. Request bodies and queries are the schemas the routes validate with, next to the routes.
import { z } from 'zod';

const instant = z.string().describe('ISO 8601 instant');
const count = z.number().int().min(0);
const yuan = z.number().describe('yuan, 2 decimals');

export { ErrorBody } from '../inbound/route-doc.ts';

export const Problem = z.object({ path: z.string(), message: z.string() }).meta({ id: 'Problem' });

// ---------- org and viewer ----------

export const OrgUser = z.looseObject({
  id: z.string(),
  name: z.string(),
  role: z.enum(['rep', 'manager', 'admin']),
  teamId: z.string().optional(),
  locale: z.enum(['zh-CN', 'en']).optional(),
}).meta({ id: 'OrgUser', description: "an org user; each platform's account fields (feishuOpenId, wecomUserId, …) besides" });
export const OrgTeam = z.looseObject({ id: z.string(), name: z.string(), managerIds: z.array(z.string()) }).meta({ id: 'OrgTeam', description: "a team; each platform's chat fields besides" });
export const Org = z.object({ users: z.array(OrgUser), teams: z.array(OrgTeam) }).meta({ id: 'Org' });
export const OrgCounts = z.object({ users: count, teams: count });

const person = z.object({ id: z.string(), name: z.string(), role: z.enum(['rep', 'manager', 'admin']), teamId: z.string().nullable() });
export const Me = z
  .object({
    viewer: person.extend({ id: z.string().nullable().describe('null for the admin token') }),
    users: z.array(person),
    teams: z.array(z.object({ id: z.string(), name: z.string() })),
  })
  .meta({ id: 'Me', description: 'who is asking, and the people and teams they may see' });

// ---------- customers ----------

const nullableNumber = z.number().nullable();
export const Metrics = z
  .object({
    recencyDays: nullableNumber,
    frequency: z.number(),
    monetary: yuan,
    margin: nullableNumber,
    lifetimeValue: z.number(),
    orderCount: count,
    avgOrderValue: nullableNumber,
    tenureDays: nullableNumber,
    medianIntervalDays: nullableNumber,
    monetaryTopPct: nullableNumber,
    r: nullableNumber,
    f: nullableNumber,
    m: nullableNumber,
    rfmTotal: nullableNumber,
    valueScore: nullableNumber,
    previousTierRank: z.number(),
    tierRank: z.number(),
    pAlive: nullableNumber.optional().describe('BG/NBD P(alive)'),
    expectedPurchases90d: nullableNumber.optional(),
    clv12m: nullableNumber.optional().describe('yuan'),
  })
  .meta({ id: 'Metrics' });

export const RiskReason = z
  .object({
    rule: z.string(),
    severity: z.enum(['low', 'medium', 'high']),
    detail: z.record(z.string(), z.unknown()).describe('the numbers that made the rule fire'),
    text: z.string().optional().describe('the sentence a card shows (customer detail only)'),
  })
  .meta({ id: 'RiskReason' });
export const Risk = z.object({ level: z.enum(['none', 'low', 'medium', 'high']), reasons: z.array(RiskReason) }).meta({ id: 'Risk' });

export const Explanation = z
  .object({
    rule: z.string().describe('key of the tier rule that matched'),
    conditions: z.array(z.object({ metric: z.string(), op: z.string(), value: z.unknown(), actual: z.unknown(), held: z.boolean() })),
    keptBy: z.object({ stability: z.literal(true), candidate: z.string(), agreeingRuns: z.number(), needed: z.number() }).optional(),
  })
  .meta({ id: 'Explanation' });

export const ApprovedScore = z
  .object({ points: z.record(z.string(), z.number()), approvedBy: z.string(), approvedAt: instant, submittedBy: z.string().optional(), requestId: z.string().optional() })
  .meta({ id: 'ApprovedScore' });

const attributeValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const HistoryEntry = z.object({ from: z.string().nullable(), to: z.string(), at: instant, runId: z.string() });

export const Customer = z
  .object({
    id: z.string(),
    name: z.string(),
    ownerId: z.string(),
    teamId: z.string().nullable(),
    attributes: z.record(z.string(), attributeValue),
    tags: z.array(z.string()),
    tier: z.object({ key: z.string(), name: z.string(), rank: z.number(), since: instant, previous: z.string().nullable() }).nullable(),
    metrics: Metrics.nullable(),
    lifecycle: z.enum(['prospect', 'new', 'growing', 'mature', 'dormant', 'churned']).nullable(),
    risk: Risk.nullable(),
    explanation: Explanation.nullable(),
    score: ApprovedScore.nullable(),
    policyVersion: z.number().nullable(),
    evaluatedAt: instant.nullable(),
    history: z.array(HistoryEntry).optional().describe('tier changes (customer detail only)'),
  })
  .meta({ id: 'Customer', description: 'null tier, metrics, … until a run has evaluated the customer' });

export const CustomerPage = z.object({ items: z.array(Customer), nextCursor: z.string().nullable().describe('null on the last page') }).meta({ id: 'CustomerPage' });

export const RowReject = z
  .object({ index: count.describe('the row, from 0'), errors: z.array(Problem), line: count.optional().describe('CSV: the line of the file the row starts on') })
  .meta({ id: 'RowReject' });
export const CustomersIngested = z.object({ upserted: count, updated: count, rejected: z.array(RowReject) }).meta({ id: 'CustomersIngested' });
export const OrdersIngested = z.object({ inserted: count, updated: count, duplicates: count, rejected: z.array(RowReject) }).meta({ id: 'OrdersIngested' });

export const CustomerActivity = z
  .object({
    scoreRequests: z.array(
      z.object({
        id: z.string(),
        status: z.string(),
        points: z.record(z.string(), z.number()),
        total: nullableNumber,
        previousTotal: nullableNumber,
        comment: z.string(),
        submittedBy: z.string().describe('name'),
        submittedAt: instant,
        decision: z.object({ outcome: z.enum(['approved', 'rejected']), by: z.string(), at: instant, reason: z.string().nullable() }).nullable(),
      }),
    ),
    audit: z.array(z.object({ at: instant, actor: z.string().describe('name'), action: z.string(), outcome: z.string(), platform: z.string() })),
    spend: z.array(z.object({ month: z.string().describe('YYYY-MM'), amount: yuan })),
  })
  .meta({ id: 'CustomerActivity' });

// ---------- tiering ----------

const runCounts = { evaluated: count, changed: count, upgrades: count, downgrades: count, atRisk: count };
export const RecomputeDone = z.object({ runId: z.string(), ...runCounts, durationMs: z.number().nullable() }).meta({ id: 'RecomputeDone' });
export const RecomputeStarted = z.object({ runId: z.string() }).meta({ id: 'RecomputeStarted' });

export const Run = z
  .object({
    id: z.string(),
    kind: z.literal('recompute'),
    status: z.enum(['running', 'done', 'failed', 'abandoned']),
    asOf: instant,
    policyVersion: z.number(),
    startedAt: instant,
    finishedAt: instant.nullable(),
    owner: z.string().nullable(),
    heartbeatAt: instant,
    checkpoint: z.string().nullable(),
    counts: z.object(runCounts),
    baseline: z.boolean().optional(),
    notices: z.record(z.string(), z.unknown()).nullable().optional().describe("what the run tells people (the run's own record only)"),
    models: z.record(z.string(), z.unknown()).nullable().optional().describe('the customer-base model fits of the run (BG/NBD, Gamma-Gamma)'),
    durationMs: z.number().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'Run' });
export const RunList = z.object({ items: z.array(Run) }).meta({ id: 'RunList' });

export const WhatIf = z
  .object({
    asOf: instant,
    evaluated: count,
    atRisk: count,
    distribution: z.record(z.string(), count).describe('customers per tier under the draft'),
    matrix: z.record(z.string(), z.record(z.string(), count)).describe('current tier (none: never evaluated) → draft tier → customers'),
    changed: count,
    notices: z.object({ alerts: count, tierChanges: count, cards: count, personalSummaries: count, teamSummaries: count }),
  })
  .meta({ id: 'WhatIf', description: 'what a policy would do; nothing is written' });

// ---------- policy ----------

export const PolicyVersion = z.object({ version: z.number().int(), installedAt: instant }).meta({ id: 'PolicyVersionInfo' });
export const Installed = z.object({ version: z.number().int() });
export const PolicyYaml = z.object({ version: z.number().int(), installedAt: instant, yaml: z.string() }).meta({ id: 'PolicyYaml' });
export const PolicyDiff = z.object({ from: z.number().int(), to: z.number().int(), diff: z.string().describe('unified diff of the two versions as YAML') }).meta({ id: 'PolicyDiff' });
export const PolicyVersions = z.object({ items: z.array(PolicyVersion.extend({ policy: z.unknown().optional() })) });

// ---------- reports ----------

export const Distribution = z
  .object({
    total: count,
    unevaluated: count,
    tiers: z.array(z.object({ key: z.string(), name: z.string(), rank: z.number(), count })),
    risk: z.object({ high: count, medium: count, low: count }),
  })
  .meta({ id: 'Distribution' });
export const Pareto = z
  .object({
    runId: z.string().nullable(),
    customers: count,
    totalRevenue: yuan,
    top20SharePct: z.number(),
    points: z.array(z.object({ topPct: z.number(), revenueSharePct: z.number() })),
  })
  .meta({ id: 'Pareto' });
export const Movements = z
  .object({ since: instant, changes: count, matrix: z.record(z.string(), z.record(z.string(), count)).describe('from tier (none: new) → to tier → customers') })
  .meta({ id: 'Movements' });
const kpis = { customers: count, revenue: yuan, revenueSharePct: z.number(), avgLifetimeValue: z.number(), repurchaseRatePct: z.number(), atRisk: count, valueAtStake: yuan };
export const TierKpis = z
  .object({ total: count, unevaluated: count, tiers: z.array(z.object({ key: z.string(), name: z.string(), rank: z.number(), ...kpis })), all: z.object(kpis) })
  .meta({ id: 'TierKpis' });
export const Segments = z
  .object({
    by: z.string(),
    runId: z.string().nullable(),
    tier: z.string().nullable(),
    segments: z.array(
      z.object({
        segment: z.string(),
        customers: count,
        revenue: yuan,
        revenueSharePct: z.number(),
        atRisk: count,
        valueAtStake: yuan,
        tiers: z.record(z.string(), z.object({ customers: count, revenue: yuan, change: z.number().nullable().describe('customers since the previous run') })),
      }),
    ),
  })
  .meta({ id: 'Segments' });
export const DistributionByRun = z
  .object({ complete: z.boolean(), runs: z.array(z.object({ runId: z.string(), asOf: instant, tiers: z.record(z.string(), count), unevaluated: count })) })
  .meta({ id: 'DistributionByRun' });
export const ValueAtStake = z
  .object({
    customers: count,
    valueAtStake: yuan,
    byTeam: z.array(z.object({ id: z.string(), name: z.string(), customers: count, valueAtStake: yuan })),
    byOwner: z.array(z.object({ id: z.string(), name: z.string(), teamName: z.string().nullable(), customers: count, valueAtStake: yuan })),
  })
  .meta({ id: 'ValueAtStake' });
export const AtRisk = z
  .object({
    total: count,
    items: z.array(
      z.object({ id: z.string(), name: z.string(), ownerId: z.string(), teamId: z.string().nullable(), tier: z.string().nullable(), risk: z.enum(['low', 'medium', 'high']), valueAtStake: yuan, reasons: z.array(z.string()) }),
    ),
  })
  .meta({ id: 'AtRisk' });

// ---------- workflows ----------

export const ScoreSubmitted = z
  .object({ requestId: z.string(), status: z.string(), total: nullableNumber, previousTotal: nullableNumber, expiresAt: instant })
  .meta({ id: 'ScoreSubmitted' });
export const Decision = z
  .object({ _id: z.string(), outcome: z.enum(['approved', 'rejected']), by: z.string(), byName: z.string(), at: instant, reason: z.string().nullable() })
  .meta({ id: 'Decision' });
export const ScoreRequest = z
  .looseObject({
    _id: z.string(),
    customerId: z.string(),
    teamId: z.string().nullable(),
    points: z.record(z.string(), z.number()),
    comment: z.string(),
    submittedBy: z.string(),
    submittedAt: instant,
    total: nullableNumber,
    previousTotal: nullableNumber,
    status: z.enum(['pending', 'approved', 'rejected', 'superseded', 'expired']),
    expiresAt: instant,
  })
  .meta({ id: 'ScoreRequest' });
export const ScoreRequests = z.object({ items: z.array(ScoreRequest) });
export const Digests = z.object({ teams: z.array(z.object({ teamId: z.string(), date: z.string(), atRisk: count, moves: count, pending: count, queued: count })) }).meta({ id: 'Digests' });

const recipient = z.object({ platform: z.string(), kind: z.string(), id: z.string().describe('a robot key shows only its first 4 characters') }).loose();
export const OutboxItem = z
  .object({
    _id: z.string().describe('the idempotency key'),
    op: z.enum(['send', 'update']),
    kind: z.string(),
    recipient,
    recipientKey: z.string(),
    card: z.object({ kind: z.string(), title: z.string(), summary: z.string().optional() }).loose(),
    updateOf: z.string().nullable(),
    subject: z.string(),
    status: z.enum(['pending', 'sent', 'dead']),
    attempts: count,
    nextAttemptAt: z.number().describe('epoch ms'),
    seq: z.number(),
    createdAt: instant,
    sentAt: instant.nullable(),
    sent: z.record(z.string(), z.unknown()).nullable(),
    lastError: z.string().nullable(),
  })
  .meta({ id: 'OutboxItem' });
export const OutboxList = z.object({ items: z.array(OutboxItem) });
export const Retried = z.object({ id: z.string(), status: z.literal('pending') });
export const AuditEntry = z
  .object({
    _id: z.string(),
    at: instant,
    actor: z.string(),
    action: z.string(),
    customerId: z.string().nullable(),
    requestId: z.string().nullable(),
    outcome: z.enum(['ok', 'refused', 'conflict', 'invalid']),
    platform: z.string(),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });
export const AuditList = z.object({ items: z.array(AuditEntry) });

// ---------- the rest ----------

export const Health = z.object({ status: z.literal('ok'), store: z.enum(['memory', 'mongo']), version: z.string() }).meta({ id: 'Health' });
export const SignedOut = z.object({ signedOut: z.string() });
