// Bulk ingest of customers and orders: each row validated on its own; valid rows are kept,
// rejects are reported with their index and every problem.
import type { z } from 'zod';
import type { Org, OrderInput, Store } from '../ports/store.ts';
import { customerSchema, orderSchema, plainOrderInput, problemsOf, toCustomerInput, toOrderInput, type Problem } from './inputs.ts';

export interface Reject {
  index: number;
  errors: Problem[];
}

const CHUNK = 5000;

function validateRows<S extends z.ZodType>(rows: unknown[], schema: S) {
  const valid: { index: number; value: z.infer<S> }[] = [];
  const rejected: Reject[] = [];
  rows.forEach((row, index) => {
    const parsed = schema.safeParse(row);
    if (parsed.success) valid.push({ index, value: parsed.data });
    else rejected.push({ index, errors: problemsOf(parsed.error) });
  });
  return { valid, rejected };
}

/** A customer without `teamId` belongs to its owner's team. */
export async function ingestCustomers(store: Store, rows: unknown[], org: Org | null) {
  const { valid, rejected } = validateRows(rows, customerSchema);
  const teamOf = new Map((org?.users ?? []).map((u) => [u.id, u.teamId ?? null]));
  for (const v of valid) v.value.teamId ??= teamOf.get(v.value.ownerId) ?? null;
  let upserted = 0;
  let updated = 0;
  for (let i = 0; i < valid.length; i += CHUNK) {
    const r = await store.upsertCustomers(valid.slice(i, i + CHUNK).map((v) => toCustomerInput(v.value)));
    upserted += r.upserted;
    updated += r.updated;
  }
  return { upserted, updated, rejected };
}

/** Orders in the common shape skip the schema parse (plainOrderInput); every other row gets the schema's verdict. */
function validateOrders(rows: unknown[]) {
  const valid: { index: number; value: OrderInput }[] = [];
  const rejected: Reject[] = [];
  for (let index = 0; index < rows.length; index++) {
    const plain = plainOrderInput(rows[index]);
    if (plain !== null) {
      valid.push({ index, value: plain });
      continue;
    }
    const parsed = orderSchema.safeParse(rows[index]);
    if (parsed.success) valid.push({ index, value: toOrderInput(parsed.data) });
    else rejected.push({ index, errors: problemsOf(parsed.error) });
  }
  return { valid, rejected };
}

export async function ingestOrders(store: Store, rows: unknown[]) {
  const { valid, rejected } = validateOrders(rows);
  let inserted = 0;
  let updated = 0;
  let duplicates = 0;
  for (let i = 0; i < valid.length; i += CHUNK) {
    const chunk = valid.slice(i, i + CHUNK);
    const r = await store.ingestOrders(chunk.map((v) => v.value));
    inserted += r.inserted;
    updated += r.updated;
    duplicates += r.duplicates;
    for (const k of r.unknownCustomer) {
      rejected.push({ index: chunk[k].index, errors: [{ path: 'customerId', message: `unknown customer "${chunk[k].value.customerId}"` }] });
    }
  }
  rejected.sort((a, b) => a.index - b.index);
  return { inserted, updated, duplicates, rejected };
}
