// zod schemas for everything that comes in through the API or config files.
import { z } from 'zod';
import type { AnyPlatformDescriptor } from '../ports/platform.ts';
import type { CustomerInput, Org, OrderInput } from '../ports/store.ts';
import { LONE_SURROGATE, storableText as text, UNPAIRED_SURROGATE } from '../ports/text.ts';

// Every stored string is checked for lone surrogates (ports/text.ts). The org's platform accounts are the
// fields the platforms add (each descriptor's `org`): the composition passes the registered descriptors in
// (config/org.ts), so use cases never import the platform layer.

const id = text().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

export const isoInstant = z
  .string()
  .regex(ISO_WITH_OFFSET, 'must be an ISO-8601 date-time with an offset, e.g. 2026-06-30T10:00:00+08:00')
  .refine((s) => Number.isFinite(Date.parse(s)), 'is not a real date-time');

const yuan = z
  .number({ error: 'must be a number (yuan)' })
  .finite()
  .refine((n) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6, 'must have at most 2 decimals')
  .refine((n) => Math.abs(n) < 1e13, 'is too large');

const attributeKey = text().min(1).max(100);
const attributeValue = z.union([text().max(1000), z.number().finite(), z.boolean(), z.null()]);

export const customerSchema = z.strictObject({
  id,
  name: text().trim().min(1, 'must not be empty').max(500),
  ownerId: id,
  teamId: id.nullable().optional(),
  attributes: z.record(attributeKey, attributeValue).optional(),
  tags: z.array(text().trim().min(1).max(100)).max(100).optional(),
});

export const orderSchema = z.strictObject({
  orderId: id,
  customerId: id,
  amount: yuan,
  margin: yuan.nullable().optional(),
  occurredAt: isoInstant,
  status: text().trim().max(50).optional(),
});

function accountFields(descriptors: readonly AnyPlatformDescriptor[], side: 'user' | 'team'): Record<string, z.ZodOptional<z.ZodType>> {
  return Object.fromEntries(descriptors.map((d) => [d.name, d.org[side].optional()]));
}

/** The org schema with these platforms' account fields: each descriptor's own schemas, so their types are ports/store.ts's. */
export function orgSchemaFor(descriptors: readonly AnyPlatformDescriptor[]): z.ZodType<Org, unknown> {
  const userSchema = z.strictObject({
    id,
    name: text().trim().min(1).max(200),
    role: z.enum(['rep', 'manager', 'admin']),
    teamId: id.optional(),
    locale: z.enum(['zh-CN', 'en']).optional(),
    ...accountFields(descriptors, 'user'),
  });
  const teamSchema = z.strictObject({
    id,
    name: text().trim().min(1).max(200),
    managerIds: z.array(id).default([]),
    ...accountFields(descriptors, 'team'),
  });
  return z.strictObject({ users: z.array(userSchema), teams: z.array(teamSchema) }) as unknown as z.ZodType<Org, unknown>;
}

type Loose = Record<string, unknown>;
const asList = (v: unknown): Loose[] => (Array.isArray(v) ? v.filter((x): x is Loose => typeof x === 'object' && x !== null) : []);

/**
 * Cross-references of an org (unknown teams and managers, duplicates, shared platform accounts).
 * Runs on the raw input too, so one answer lists these next to the field problems.
 */
function orgReferenceProblems(input: unknown, descriptors: readonly AnyPlatformDescriptor[]): Problem[] {
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Loose;
  const users = asList(raw.users);
  const teams = asList(raw.teams);
  const problems: Problem[] = [];
  const userIds = new Map(users.map((u) => [u.id, u]));
  const teamIds = new Set(teams.map((t) => t.id));
  const seenUsers = new Set<unknown>();
  users.forEach((u, i) => {
    if (seenUsers.has(u.id)) problems.push({ path: `users.${i}.id`, message: `duplicate user id "${String(u.id)}"` });
    seenUsers.add(u.id);
    if (typeof u.teamId === 'string' && !teamIds.has(u.teamId)) problems.push({ path: `users.${i}.teamId`, message: `unknown team "${u.teamId}"` });
  });
  const seenTeams = new Set<unknown>();
  teams.forEach((t, i) => {
    if (seenTeams.has(t.id)) problems.push({ path: `teams.${i}.id`, message: `duplicate team id "${String(t.id)}"` });
    seenTeams.add(t.id);
    (Array.isArray(t.managerIds) ? t.managerIds : []).forEach((m: unknown, j: number) => {
      const user = userIds.get(m);
      if (!user) problems.push({ path: `teams.${i}.managerIds.${j}`, message: `unknown user "${String(m)}"` });
      else if (user.role === 'rep') problems.push({ path: `teams.${i}.managerIds.${j}`, message: `user "${String(m)}" has role rep, not manager or admin` });
    });
  });
  for (const { name: platform, org } of descriptors) {
    if (!org.accountKey) continue;
    const seen = new Map<string, unknown>();
    users.forEach((u, i) => {
      const account = u[platform];
      const key = typeof account === 'object' && account !== null ? org.accountKey!(account as Loose) : undefined;
      if (typeof key !== 'string') return;
      if (seen.has(key)) problems.push({ path: `users.${i}.${platform}`, message: `same ${platform} account as user "${String(seen.get(key))}"` });
      seen.set(key, u.id);
    });
  }
  return problems;
}

export interface Problem {
  path: string;
  message: string;
}

/** A path segment as text that is itself storable and printable: lone surrogates are spelled out as \\uXXXX. */
const pathSegment = (key: PropertyKey) => String(key).replace(/\p{Surrogate}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function problemsOf(error: z.ZodError, prefix: (string | number)[] = []): Problem[] {
  return error.issues.map((i) => ({
    path: [...prefix, ...i.path].map(pathSegment).join('.') || '(root)',
    message: i.code === 'invalid_key' ? `key ${i.issues.map((k) => k.message).join('; ')}` : i.message,
  }));
}

/**
 * Every string value or object key in a parsed document that holds a lone surrogate, by path (at most `max`),
 * for documents whose schema is not ours to change (the policy) or does not look inside every string.
 * Iterative, with paths built only on a hit: a deeply nested document costs linear time and no stack.
 */
export function loneSurrogateProblems(document: unknown, max = 20): Problem[] {
  interface Node {
    value: unknown;
    key: string | null;
    parent: Node | null;
  }
  const pathOf = (node: Node) => {
    const keys: string[] = [];
    for (let n: Node | null = node; n && n.key !== null; n = n.parent) keys.push(pathSegment(n.key));
    return keys.reverse().join('.') || '(root)';
  };
  const problems: Problem[] = [];
  const pending: Node[] = [{ value: document, key: null, parent: null }];
  while (pending.length > 0 && problems.length < max) {
    const node = pending.pop()!;
    if (typeof node.value === 'string') {
      if (LONE_SURROGATE.test(node.value)) problems.push({ path: pathOf(node), message: UNPAIRED_SURROGATE });
    } else if (typeof node.value === 'object' && node.value !== null) {
      const children = Object.entries(node.value).map(([key, value]): Node => ({ value, key, parent: node }));
      for (const child of children) if (LONE_SURROGATE.test(child.key!)) problems.push({ path: pathOf(child), message: `key ${UNPAIRED_SURROGATE}` });
      for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]);
    }
  }
  return problems.slice(0, max);
}

export function toCustomerInput(c: z.infer<typeof customerSchema>): CustomerInput {
  return { ...c, teamId: c.teamId ?? null };
}

export function toOrderInput(o: z.infer<typeof orderSchema>): OrderInput {
  return {
    orderId: o.orderId,
    customerId: o.customerId,
    amountFen: Math.round(o.amount * 100),
    marginFen: o.margin == null ? null : Math.round(o.margin * 100),
    occurredAt: Date.parse(o.occurredAt),
    occurredAtText: o.occurredAt,
    cancelled: o.status?.toLowerCase() === 'cancelled',
  };
}

const ORDER_KEYS = new Set(['orderId', 'customerId', 'amount', 'margin', 'occurredAt', 'status']);
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

function plainId(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= 200 && v.trim() === v && !ANY_SURROGATE.test(v);
}

function plainYuan(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v * 100 - Math.round(v * 100)) < 1e-6 && Math.abs(v) < 1e13;
}

/**
 * The order a row is when it has the common shape (every check of orderSchema, on values that need no
 * trimming and carry no surrogates), or null: then orderSchema decides and names the problems. A bulk
 * import is mostly such rows, and this takes a fraction of a full schema parse. A property test holds it
 * to orderSchema: whatever it accepts, orderSchema accepts with the same result.
 */
export function plainOrderInput(row: unknown): OrderInput | null {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return null;
  const o = row as Record<string, unknown>;
  for (const k in o) if (!ORDER_KEYS.has(k)) return null;
  const { orderId, customerId, amount, margin, occurredAt, status } = o;
  if (!plainId(orderId) || !plainId(customerId) || !plainYuan(amount)) return null;
  if (margin !== undefined && margin !== null && !plainYuan(margin)) return null;
  if (typeof occurredAt !== 'string' || !ISO_WITH_OFFSET.test(occurredAt)) return null;
  const at = Date.parse(occurredAt);
  if (!Number.isFinite(at)) return null;
  if (status !== undefined && (typeof status !== 'string' || status.length > 50 || status.trim() !== status || ANY_SURROGATE.test(status))) return null;
  return {
    orderId,
    customerId,
    amountFen: Math.round(amount * 100),
    marginFen: margin == null ? null : Math.round(margin * 100),
    occurredAt: at,
    occurredAtText: occurredAt,
    cancelled: status?.toLowerCase() === 'cancelled',
  };
}

export type OrgParser = (input: unknown) => { ok: true; org: Org } | { ok: false; problems: Problem[] };

/** The org parser for these platforms: field problems and cross-references (unknown teams, shared accounts) in one answer. */
export function orgParser(descriptors: readonly AnyPlatformDescriptor[]): OrgParser {
  const schema = orgSchemaFor(descriptors);
  return (input) => {
    const parsed = schema.safeParse(input);
    const problems = [...(parsed.success ? [] : problemsOf(parsed.error)), ...orgReferenceProblems(input, descriptors)];
    return parsed.success && problems.length === 0 ? { ok: true, org: parsed.data } : { ok: false, problems };
  };
}
