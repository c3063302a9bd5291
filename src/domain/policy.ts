// The tiering policy (docs/policy.md): zod schema, condition validation and parsePolicy.
import { z } from 'zod';
import { isValidTimeZone } from './time.ts';

/** Metrics usable in conditions (docs/policy.md, "Metrics"). */
export const CONDITION_METRICS = [
  'recencyDays', 'frequency', 'monetary', 'margin', 'lifetimeValue', 'orderCount', 'avgOrderValue',
  'tenureDays', 'medianIntervalDays', 'monetaryTopPct', 'r', 'f', 'm', 'rfmTotal', 'valueScore',
  'previousTierRank', 'tierRank', 'pAlive', 'expectedPurchases90d', 'clv12m',
] as const;
export type MetricName = (typeof CONDITION_METRICS)[number];

/** Metrics a value-score measure may read: everything known before the value score and the tier. */
export const MEASURE_METRICS = CONDITION_METRICS.filter((m) => m !== 'valueScore' && m !== 'tierRank') as Exclude<
  MetricName,
  'valueScore' | 'tierRank'
>[];

export const OPS = ['lt', 'lte', 'gt', 'gte', 'eq', 'ne', 'between', 'in'] as const;
export type Op = (typeof OPS)[number];
const ATTRIBUTE_OPS: readonly Op[] = ['eq', 'ne', 'in'];

export type Scalar = string | number | boolean;
export interface LeafCondition {
  metric: string; // a metric name or `attributes.<name>`
  op: Op;
  value: Scalar | Scalar[];
}
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { always: true }
  | LeafCondition;

/** Where a condition is used: `tierRank` exists only after the tier is chosen. */
type ConditionPlace = 'tier' | 'lifecycle' | 'churn';
type Issue = { path: (string | number)[]; message: string };

const MAX_DEPTH = 32;
const CONDITION_SHAPE = 'expected a condition: {all: [...]}, {any: [...]}, {not: {...}}, {always: true} or {metric, op, value}';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isScalar = (v: unknown): v is Scalar => isNum(v) || typeof v === 'string' || typeof v === 'boolean';

function checkCondition(v: unknown, path: (string | number)[], place: ConditionPlace, out: Issue[], depth = 0): void {
  if (depth > MAX_DEPTH) {
    out.push({ path, message: `conditions nest deeper than ${MAX_DEPTH} levels` });
    return;
  }
  if (!isObject(v)) {
    out.push({ path, message: CONDITION_SHAPE });
    return;
  }
  const keys = Object.keys(v);
  for (const k of ['all', 'any', 'not', 'always'] as const) {
    if (!(k in v)) continue;
    if (keys.length !== 1) {
      out.push({ path, message: `a "${k}" condition takes no other keys (found ${keys.join(', ')})` });
      return;
    }
    const inner = v[k];
    if (k === 'always') {
      if (inner !== true) out.push({ path: [...path, k], message: 'must be true' });
    } else if (k === 'not') {
      checkCondition(inner, [...path, k], place, out, depth + 1);
    } else if (!Array.isArray(inner)) {
      out.push({ path: [...path, k], message: 'expected an array of conditions' });
    } else {
      inner.forEach((c, i) => checkCondition(c, [...path, k, i], place, out, depth + 1));
    }
    return;
  }
  if (!('metric' in v)) {
    out.push({ path, message: CONDITION_SHAPE });
    return;
  }
  for (const k of keys) {
    if (k !== 'metric' && k !== 'op' && k !== 'value') out.push({ path: [...path, k], message: `unknown key "${k}" in a condition` });
  }
  const metric = v.metric;
  let attribute = false;
  if (typeof metric !== 'string') {
    out.push({ path: [...path, 'metric'], message: 'expected a metric name' });
  } else if (metric.startsWith('attributes.')) {
    attribute = true;
    if (metric.length === 'attributes.'.length) out.push({ path: [...path, 'metric'], message: 'attribute name missing after "attributes."' });
  } else if (!(CONDITION_METRICS as readonly string[]).includes(metric)) {
    out.push({ path: [...path, 'metric'], message: `unknown metric "${metric}"; use one of ${CONDITION_METRICS.join(', ')} or attributes.<name>` });
  } else if (metric === 'tierRank' && place === 'tier') {
    out.push({ path: [...path, 'metric'], message: 'tierRank is only available in lifecycle and churn conditions' });
  }
  const op = v.op;
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    out.push({ path: [...path, 'op'], message: `unknown operator ${JSON.stringify(op)}; use one of ${OPS.join(', ')}` });
    return;
  }
  if (attribute && !ATTRIBUTE_OPS.includes(op as Op)) {
    out.push({ path: [...path, 'op'], message: 'attributes only support eq, ne and in' });
    return;
  }
  const value = v.value;
  const vpath = [...path, 'value'];
  const item = attribute ? isScalar : isNum;
  const itemName = attribute ? 'a string, number or boolean' : 'a number';
  if (op === 'between') {
    if (!Array.isArray(value) || value.length !== 2 || !value.every(isNum)) {
      out.push({ path: vpath, message: 'between takes [lo, hi], two numbers' });
    } else if (value[0] > value[1]) {
      out.push({ path: vpath, message: `between needs lo <= hi (got [${value[0]}, ${value[1]}])` });
    }
  } else if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0) {
      out.push({ path: vpath, message: 'in takes a non-empty array' });
    } else {
      value.forEach((x, i) => {
        if (!item(x)) out.push({ path: [...vpath, i], message: `expected ${itemName}` });
      });
    }
  } else if (!item(value)) {
    out.push({ path: vpath, message: `expected ${itemName}` });
  }
}

function condition(place: ConditionPlace) {
  return z.custom<Condition>(() => true).superRefine((v, ctx) => {
    const out: Issue[] = [];
    checkCondition(v, [], place, out);
    for (const i of out) ctx.addIssue({ code: 'custom', message: i.message, path: i.path });
  });
}

// Keys end up as field names in the store and in card payloads.
const key = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1-64 letters, digits, "_" or "-"');
const name = z.string().min(1);
const severity = z.enum(['low', 'medium', 'high']);

const breaks = z.object({
  breaks: z
    .array(z.number())
    .length(4)
    .refine((b) => b.every((x, i) => i === 0 || b[i - 1] < x), { error: 'breaks must be strictly ascending' }),
});

const rfm = z
  .object({
    method: z.enum(['thresholds', 'quintiles']),
    recency: breaks.optional(),
    frequency: breaks.optional(),
    monetary: breaks.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.method !== 'thresholds') return;
    for (const k of ['recency', 'frequency', 'monetary'] as const) {
      if (!v[k]) ctx.addIssue({ code: 'custom', path: [k], message: 'required when method is thresholds' });
    }
  });

const band = z.object({ min: z.number(), points: z.number() });
const measure = z.object({
  metric: z.enum(MEASURE_METRICS as [string, ...string[]]),
  bands: z
    .array(band)
    .min(1)
    .refine((b) => b.every((x, i) => i === 0 || b[i - 1].min < x.min), { error: 'bands must be strictly ascending by min' }),
});

const dimension = z
  .object({
    key,
    name,
    weight: z.number().min(0).max(1),
    source: z.enum(['manual', 'metric']),
    guidance: z.string().optional(),
    measures: z.array(measure).min(1).optional(),
  })
  .superRefine((d, ctx) => {
    if (d.source === 'metric' && !d.measures) ctx.addIssue({ code: 'custom', path: ['measures'], message: 'required for a metric dimension' });
    if (d.source === 'manual' && d.measures) ctx.addIssue({ code: 'custom', path: ['measures'], message: 'only metric dimensions have measures' });
  });

const valueScore = z
  .object({
    // YAML's bare `null` means the string "null" here
    missing: z.preprocess((v) => (v === null ? 'null' : v), z.enum(['null', 'zero'])),
    dimensions: z.array(dimension).min(1),
  })
  .superRefine((v, ctx) => {
    const dims = Array.isArray(v.dimensions) ? v.dimensions : [];
    const sum = dims.reduce((s, d) => s + (isNum(d?.weight) ? d.weight : 0), 0);
    if (Math.abs(sum - 1) > 1e-9) ctx.addIssue({ code: 'custom', path: ['dimensions'], message: `weights must sum to 1 (they sum to ${sum})` });
    duplicates(dims, (d) => d?.key, 'key', ['dimensions'], ctx);
  });

const tier = z.object({
  key,
  name,
  rank: z.number().int().positive(),
  when: condition('tier'),
  // free text lines per section, shown on cards (service, marketing, sales, ...)
  playbook: z.record(z.string(), z.array(z.string())).optional(),
});

const tiers = z
  .array(tier)
  .min(1)
  .superRefine((ts, ctx) => {
    duplicates(ts, (t) => t?.key, 'key', [], ctx);
    duplicates(ts, (t) => t?.rank, 'rank', [], ctx);
    if (ts.length === 0) return;
    const when: unknown = ts[ts.length - 1]?.when;
    if (!(isObject(when) && when.always === true)) {
      ctx.addIssue({ code: 'custom', path: [ts.length - 1, 'when'], message: 'the last tier must be {always: true} so that every customer gets a tier' });
    }
  });

const overdueRule = z.object({
  key,
  severity,
  detector: z.literal('overdue'),
  factor: z.number().positive(),
  minDays: z.number().min(0),
});
const spendDropRule = z.object({
  key,
  severity,
  detector: z.literal('spendDrop'),
  months: z.number().int().min(1).max(24),
  pct: z.number().gt(0).max(100),
});
const pAliveRule = z.object({
  key,
  severity,
  detector: z.literal('pAlive'),
  below: z.number().gt(0).max(1),
  minOrders: z.number().int().min(1),
});
const whenRule = z.object({ key, severity, when: condition('churn') });
const ruleBase = z.looseObject({ key, severity });
export type ChurnRule = z.output<typeof overdueRule> | z.output<typeof spendDropRule> | z.output<typeof pAliveRule> | z.output<typeof whenRule>;

// Chosen by shape rather than z.union so that problems are reported at their exact paths.
const churnRule = z.custom<ChurnRule>(() => true).superRefine((raw, ctx) => {
  const v: unknown = raw;
  let schema: z.ZodType;
  if (!isObject(v)) {
    ctx.addIssue({ code: 'custom', message: 'expected a churn rule object' });
    return;
  } else if ('detector' in v && 'when' in v) {
    ctx.addIssue({ code: 'custom', message: 'a churn rule has either a detector or a when condition, not both' });
    return;
  } else if (v.detector === 'overdue') schema = overdueRule;
  else if (v.detector === 'spendDrop') schema = spendDropRule;
  else if (v.detector === 'pAlive') schema = pAliveRule;
  else if ('detector' in v) {
    ctx.addIssue({ code: 'custom', path: ['detector'], message: 'unknown detector; use overdue, spendDrop or pAlive (or a when condition)' });
    schema = ruleBase;
  } else if ('when' in v) schema = whenRule;
  else {
    ctx.addIssue({ code: 'custom', message: 'a churn rule needs a detector (overdue, spendDrop, pAlive) or a when condition' });
    schema = ruleBase;
  }
  const r = schema.safeParse(v);
  if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: i.path as (string | number)[] });
});

const lifecycle = z
  .object({
    newDays: z.number().int().min(0),
    dormantDays: z.number().int().min(0),
    churnedDays: z.number().int().min(0),
    mature: condition('lifecycle'),
  })
  .superRefine((v, ctx) => {
    if (isNum(v.dormantDays) && isNum(v.churnedDays) && v.dormantDays >= v.churnedDays) {
      ctx.addIssue({ code: 'custom', path: ['dormantDays'], message: 'must be less than churnedDays' });
    }
  });

export const policySchema = z.looseObject({
  timezone: z.string().refine(isValidTimeZone, { error: 'not a known IANA time zone (e.g. Asia/Shanghai)' }),
  window: z.object({ days: z.number().int().positive() }),
  rfm,
  valueScore,
  tiers,
  stability: z.object({ downgradeAfterRuns: z.number().int().min(1) }).default({ downgradeAfterRuns: 1 }),
  lifecycle,
  churn: z
    .array(churnRule)
    .default([])
    .superRefine((rs, ctx) => duplicates(rs, (r) => (isObject(r) ? r.key : undefined), 'key', [], ctx)),
});

export type Policy = z.output<typeof policySchema>;
export type Dimension = Policy['valueScore']['dimensions'][number];
export type TierRule = Policy['tiers'][number];

export interface PolicyIssue {
  path: string;
  message: string;
}

export function parsePolicy(input: unknown): { ok: true; policy: Policy } | { ok: false; issues: PolicyIssue[] } {
  const r = policySchema.safeParse(input);
  if (r.success) return { ok: true, policy: r.data };
  return { ok: false, issues: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) };
}

function duplicates<T>(
  items: readonly T[],
  get: (t: T) => unknown,
  field: string,
  prefix: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  const seen = new Map<unknown, number>();
  items.forEach((it, i) => {
    const k = get(it);
    if (k === undefined) return;
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else ctx.addIssue({ code: 'custom', path: [...prefix, i, field], message: `duplicate ${field} ${JSON.stringify(k)} (also at index ${first})` });
  });
}
