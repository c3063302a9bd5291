// Shared by the end-to-end platform tests: an org whose people carry one platform's ids, a small data set,
// and ways to wait for the composed app (bot background work + outbox) to reach a state.
import { expect } from 'vitest';
import type { TestApp } from '../helpers/app.ts';

/** The recompute that seeds the tiers (02:00 Shanghai). */
export const AS_OF = '2026-06-30T02:00:00+08:00';
/** The app's fixed clock: a weekday morning in Shanghai, well outside quiet hours (21:00–08:30). */
export const NOW = '2026-06-30T10:00:00+08:00';
const DAY = 86_400_000;

export const CUSTOMER = { id: 'c-a', name: '上海鼎盛科技有限公司' };
/** relationship 55 (tenure ≥ 365 → 30, frequency 5 → 25); 90·0.4 + 90·0.4 + 55·0.2 = 83 */
export const EXPECTED_TOTAL = 83;

export type Platform = 'feishu' | 'wecom' | 'dingtalk';

/** Platform ids of the org's people and team chats. */
export interface PlatformIds {
  zhang: string;
  chen: string;
  li: string;
  wang: string;
  liu: string;
  zhao: string;
  eastChat: string;
  southChat: string;
}

function account(platform: Platform, id: string): Record<string, unknown> {
  if (platform === 'feishu') return { feishu: { openId: id } };
  if (platform === 'wecom') return { wecom: { userId: id } };
  return { dingtalk: { userId: id } };
}

function chat(platform: Platform, id: string): Record<string, unknown> {
  if (platform === 'feishu') return { feishu: { chatId: id } };
  if (platform === 'wecom') return { wecom: { chatId: id } };
  return { dingtalk: { openConversationId: id } };
}

/** The workflow tests' org (test/workflows/helpers.ts), each person with an account on `platform`. */
export function orgFor(platform: Platform, ids: PlatformIds) {
  return {
    users: [
      { id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east', ...account(platform, ids.zhang) },
      { id: 'u-chen', name: '陈晨', role: 'rep', teamId: 't-east', ...account(platform, ids.chen) },
      { id: 'u-li', name: '李经理', role: 'manager', teamId: 't-east', ...account(platform, ids.li) },
      { id: 'u-wang', name: '王经理', role: 'manager', teamId: 't-east', ...account(platform, ids.wang) },
      { id: 'u-liu', name: '刘洋', role: 'rep', teamId: 't-south', ...account(platform, ids.liu) },
      { id: 'u-zhao', name: '赵经理', role: 'manager', teamId: 't-south', ...account(platform, ids.zhao) },
      { id: 'u-admin', name: 'Ops Admin', role: 'admin', locale: 'en' },
    ],
    teams: [
      { id: 't-east', name: '华东大客户组', managerIds: ['u-li', 'u-wang'], ...chat(platform, ids.eastChat) },
      { id: 't-south', name: '华南渠道组', managerIds: ['u-zhao'], ...chat(platform, ids.southChat) },
    ],
  };
}

/** Org, two customers with two years of orders, and a recompute; nothing is sent to anyone by this. */
export async function seed(app: TestApp, platform: Platform, ids: PlatformIds): Promise<void> {
  expect((await app.api('/api/v1/org', { method: 'PUT', json: orgFor(platform, ids) })).status).toBe(200);
  const customers = await app.api('/api/v1/customers', {
    method: 'PUT',
    json: [
      { id: CUSTOMER.id, name: CUSTOMER.name, ownerId: 'u-zhang' },
      { id: 'c-b', name: '杭州远航贸易', ownerId: 'u-chen' },
    ],
  });
  expect(customers.status).toBe(200);
  const orders = Array.from({ length: 8 }, (_, i) => ({
    orderId: `o-a-${i}`,
    customerId: CUSTOMER.id,
    amount: 3000,
    occurredAt: new Date(Date.parse(AS_OF) - (3 + i * 90) * DAY).toISOString(),
  }));
  expect((await app.api('/api/v1/orders', { method: 'POST', json: orders })).status).toBe(200);
  expect((await app.api('/api/v1/tiering/recompute', { method: 'POST', json: { asOf: AS_OF } })).status).toBe(200);
  await app.bot.chat.settle();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until `probe` gives something truthy, letting the app finish its background work and drain its
 * outbox before each look (the outbox worker is not running in these tests).
 */
export async function eventually<T>(app: TestApp, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    await app.bot.chat.settle();
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(15);
  }
}

/** Lets in-flight work finish: a few settle rounds with short pauses (for "nothing else happened" checks). */
export async function quiesce(app: TestApp, extra: () => Promise<void> = async () => undefined): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await extra();
    await app.bot.chat.settle();
    await sleep(30);
  }
}

export interface Snapshot {
  requests: { _id: string; status: string; submittedBy: string; points: Record<string, number>; total: number | null }[];
  audit: { action: string; outcome: string; actor: string; requestId: string | null; platform: string }[];
  customer: any;
  outbox: { _id: string; status: string; lastError: string | null }[];
}

/** What the API says about the scoring state (requests, audit, the customer, the outbox). */
export async function snapshot(app: TestApp): Promise<Snapshot> {
  const [requests, audit, customer, outbox] = await Promise.all([
    app.api(`/api/v1/scores?customerId=${CUSTOMER.id}`),
    app.api(`/api/v1/audit?customerId=${CUSTOMER.id}`),
    app.api(`/api/v1/customers/${CUSTOMER.id}`),
    app.api('/api/v1/outbox'),
  ]);
  return { requests: requests.body.items, audit: audit.body.items, customer: customer.body, outbox: outbox.body.items };
}

/** `action:outcome` of each audit entry, sorted (order-free comparisons). */
export const auditKeys = (s: Snapshot) => s.audit.map((a) => `${a.action}:${a.outcome}:${a.actor}`).sort();

/** Nothing in the outbox failed (dead) or is stuck with an error. */
export function expectCleanOutbox(s: Snapshot): void {
  const bad = s.outbox.filter((o) => o.status !== 'sent' || o.lastError);
  expect(bad, JSON.stringify(bad, null, 2)).toEqual([]);
}

/** Every `{k, r}`-style callback payload found anywhere in a JSON value. */
export function findPayloads(value: unknown, out: { k: string; r: string; v?: string }[] = []): { k: string; r: string; v?: string }[] {
  if (Array.isArray(value)) for (const v of value) findPayloads(v, out);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.k === 'string' && typeof o.r === 'string') out.push({ k: o.k, r: o.r, ...(typeof o.v === 'string' ? { v: o.v } : {}) });
    for (const v of Object.values(o)) findPayloads(v, out);
  }
  return out;
}

/** After a manager clicked approve on an already decided request: only a `conflict` audit entry was added. */
export async function expectOnlyLateConflict(app: TestApp, before: Snapshot): Promise<void> {
  const final = await snapshot(app);
  expect(final.requests).toEqual(before.requests);
  expect(final.customer.score).toEqual(before.customer.score);
  expect(final.audit.filter((a) => a.action === 'score.approve' && a.outcome === 'ok')).toHaveLength(1);
  expect(auditKeys(final)).toEqual([...auditKeys(before), 'score.approve:conflict:u-wang'].sort());
}
