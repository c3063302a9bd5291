// Shared by the workflow tests: a known org and data set, and the console messenger as a test client.
import { expect } from 'vitest';
import type { Card } from '../../cards/model.ts';
import type { TestApp } from '../helpers/app.ts';

const AS_OF = '2026-06-30T02:00:00+08:00';
const DAY = 86_400_000;

export const ORG = {
  users: [
    { id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east' },
    { id: 'u-chen', name: '陈晨', role: 'rep', teamId: 't-east' },
    { id: 'u-li', name: '李经理', role: 'manager', teamId: 't-east' },
    { id: 'u-wang', name: '王经理', role: 'manager', teamId: 't-east' },
    { id: 'u-liu', name: '刘洋', role: 'rep', teamId: 't-south' },
    { id: 'u-zhao', name: '赵经理', role: 'manager', teamId: 't-south' },
    { id: 'u-admin', name: 'Ops Admin', role: 'admin', locale: 'en' },
  ],
  teams: [
    { id: 't-east', name: '华东大客户组', managerIds: ['u-li', 'u-wang'] },
    { id: 't-south', name: '华南渠道组', managerIds: ['u-zhao'] },
  ],
};

export async function seed(app: TestApp) {
  expect((await app.api('/api/v1/org', { method: 'PUT', json: ORG })).status).toBe(200);
  await app.api('/api/v1/customers', {
    method: 'PUT',
    json: [
      { id: 'c-a', name: '上海鼎盛科技有限公司', ownerId: 'u-zhang' },
      { id: 'c-b', name: '杭州远航贸易', ownerId: 'u-chen' },
    ],
  });
  const orders = Array.from({ length: 8 }, (_, i) => ({ orderId: `o-a-${i}`, customerId: 'c-a', amount: 3000, occurredAt: new Date(Date.parse(AS_OF) - (3 + i * 90) * DAY).toISOString() }));
  await app.api('/api/v1/orders', { method: 'POST', json: orders });
  await app.api('/api/v1/tiering/recompute', { method: 'POST', json: { asOf: AS_OF } });
}

/** A recompute through the API at `asOf`, then every queued card delivered; the run's counts. */
export async function recomputeAt(app: TestApp, asOf: string) {
  const res = await app.api('/api/v1/tiering/recompute', { method: 'POST', json: { asOf } });
  expect(res.status).toBe(200);
  await app.bot.chat.settle();
  return res.body;
}

export interface InboxItem {
  id: string;
  card: Card;
}

export async function inbox(app: TestApp, as: string): Promise<InboxItem[]> {
  const res = await app.api(`/api/v1/console/inbox?as=${as}`);
  expect(res.status).toBe(200);
  return res.body.items;
}

export async function click(app: TestApp, as: string, item: InboxItem, key: string, values: Record<string, string> = {}, option?: string) {
  const action = key === 'score.submit' ? item.card.form!.submit : item.card.actions.find((a) => a.type === 'callback' && a.key === key);
  if (!action || action.type !== 'callback') throw new Error(`no ${key} on ${item.card.kind}`);
  const res = await app.api('/api/v1/console/action', { method: 'POST', json: { as, action: key, ref: action.ref, values, option, messageId: item.id } });
  expect(res.status).toBe(200);
  return res.body as { toast?: { kind: string; text: string } };
}

export async function command(app: TestApp, as: string, text: string) {
  const res = await app.api('/api/v1/console/command', { method: 'POST', json: { as, text } });
  expect(res.status).toBe(200);
}

