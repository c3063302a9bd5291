// From a CRM or ERP export to tierbot's rows: which source column is which field (config/import.yaml, with
// built-in Chinese and English headers), and the values such exports hold (¥1,234.50, 2026/6/3 14:05, Excel
// serial dates, 已取消). A mapped row still goes through the same validation as any API row.
import { z } from 'zod';
import { formatInstant, zone } from '../domain/time.ts';

const headers = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const importMapSchema = z.strictObject({
  /** tierbot field → the source header(s) that hold it; these come before the built-in headers */
  customers: z
    .strictObject({
      id: headers.optional(),
      name: headers.optional(),
      ownerId: headers.optional(),
      teamId: headers.optional(),
      tags: headers.optional(),
      /** attribute key → source header(s) */
      attributes: z.record(z.string().min(1), headers).optional(),
    })
    .default({}),
  orders: z
    .strictObject({
      orderId: headers.optional(),
      customerId: headers.optional(),
      amount: headers.optional(),
      margin: headers.optional(),
      occurredAt: headers.optional(),
      status: headers.optional(),
    })
    .default({}),
  /** status words, compared case-insensitively after trimming */
  statuses: z
    .strictObject({
      cancelled: z.array(z.string().min(1)).default(['cancelled', 'canceled', 'void', '已取消', '取消', '作废', '已作废']),
      /** a refund with a positive amount is booked as a negative one */
      refund: z.array(z.string().min(1)).default(['refund', 'refunded', 'returned', '退款', '已退款', '退货']),
    })
    .default({ cancelled: ['cancelled', 'canceled', 'void', '已取消', '取消', '作废', '已作废'], refund: ['refund', 'refunded', 'returned', '退款', '已退款', '退货'] }),
});
export type ImportMap = z.infer<typeof importMapSchema>;

const BUILT_IN = {
  customers: {
    id: ['id', 'customerId', 'customer_id', '客户编号', '客户ID', '客户Id', '客户id', '客户代码'],
    name: ['name', 'customerName', '客户名称', '客户名', '名称', '公司名称'],
    ownerId: ['ownerId', 'owner', 'owner_id', '负责人', '负责人编号', '负责人ID', '销售', '销售编号'],
    teamId: ['teamId', 'team', '团队', '团队编号'],
    tags: ['tags', '标签'],
  },
  attributes: { industry: ['industry', '行业'], region: ['region', '地区', '区域', '省份'], channel: ['channel', '渠道'] },
  orders: {
    orderId: ['orderId', 'order_id', '订单号', '订单编号', '单号'],
    customerId: ['customerId', 'customer_id', '客户编号', '客户ID', '客户Id', '客户id', '客户代码'],
    amount: ['amount', '金额', '订单金额', '实付金额', '成交金额'],
    margin: ['margin', '毛利', '毛利额'],
    occurredAt: ['occurredAt', 'occurred_at', '下单时间', '订单时间', '下单日期', '成交时间', '日期'],
    status: ['status', '状态', '订单状态'],
  },
} as const;

const list = (h: string | string[] | undefined): string[] => (h === undefined ? [] : Array.isArray(h) ? h : [h]);

/** The first of `names` present in the row, by exact header, else case-insensitively. */
function pick(row: Record<string, unknown>, names: readonly string[]): unknown {
  for (const n of names) if (n in row && row[n] !== '') return row[n];
  const lower = new Map(Object.keys(row).map((k) => [k.trim().toLowerCase(), k]));
  for (const n of names) {
    const k = lower.get(n.toLowerCase());
    if (k !== undefined && row[k] !== '') return row[k];
  }
  return undefined;
}

const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() : v);

/** `¥1,234.50`, `1 234,00`-free Chinese exports: currency signs, thousands separators and 元 removed; else unchanged (the schema names it). */
export function parseAmount(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim().replace(/^(RMB|CNY)\s*/i, '').replace(/[¥￥,，\s]/g, '').replace(/元$/, '');
  return /^[-+]?\d+(\.\d+)?$/.test(s) ? Number(s) : v;
}

const EXCEL_EPOCH_DAY = -25_569; // 1899-12-30 in days since 1970-01-01 (Excel's day 0, its 1900 leap bug included)

/**
 * An instant as ISO-8601 with its offset. Text with an offset is kept; a local date-time
 * (`YYYY-MM-DD HH:mm[:ss]`, `YYYY/M/D[ H:mm[:ss]]`, a date alone) and an Excel serial date are read in `tz`.
 */
export function parseInstant(v: unknown, tz: string): unknown {
  let serial: number | null = null;
  if (typeof v === 'number') serial = v;
  else if (typeof v === 'string' && /^\d{5}(\.\d+)?$/.test(v.trim())) serial = Number(v.trim());
  if (serial !== null) {
    if (serial < 1 || serial > 2_958_465) return v;
    const wall = Math.round((EXCEL_EPOCH_DAY + serial) * 86_400_000 / 1000) * 1000;
    return formatInstant(localToInstant(wall, tz), tz);
  }
  if (typeof v !== 'string') return v;
  const s = v.trim();
  if (/([zZ]|[+-]\d{2}:?\d{2})$/.test(s) && s.includes('T')) return s;
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/.exec(s);
  if (!m) return v;
  const [y, mo, d, h, mi, sec, ms] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0', (m[7] ?? '0').padEnd(3, '0')].map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return v;
  const wall = Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  if (new Date(wall).getUTCDate() !== d) return v; // 2026-02-30
  return formatInstant(localToInstant(wall, tz), tz);
}

/** The instant whose wall-clock time in `tz` is `wall` (epoch ms read as local time). */
function localToInstant(wall: number, tz: string): number {
  const z = zone(tz);
  return wall - z.offsetAt(wall - z.offsetAt(wall));
}

/** attribute key → its source headers: the built-in ones, replaced by the import map's for the same key */
const attributeHeaders = (map: ImportMap): Record<string, string[]> => ({
  ...Object.fromEntries(Object.entries(BUILT_IN.attributes).map(([k, v]) => [k, [...v]])),
  ...Object.fromEntries(Object.entries(map.customers.attributes ?? {}).map(([k, v]) => [k, list(v)])),
});

/** A tierbot field and the source headers tried for it, in the order mapCustomer/mapOrder try them. */
export interface FieldHeaders {
  field: string;
  headers: string[];
}

/**
 * The effective mapping of an import map, as mapCustomer and mapOrder apply it: per field, the import map's
 * headers, then the built-in ones. A header matches exactly first, else case-insensitively after trimming;
 * a field is taken from the first of its headers whose cell is not empty.
 */
export function effectiveMapping(map: ImportMap): { customers: FieldHeaders[]; orders: FieldHeaders[]; statuses: ImportMap['statuses'] } {
  const c = map.customers;
  const o = map.orders;
  return {
    customers: [
      ...(['id', 'name', 'ownerId', 'teamId', 'tags'] as const).map((f) => ({ field: f, headers: [...list(c[f]), ...BUILT_IN.customers[f]] })),
      ...Object.entries(attributeHeaders(map)).map(([k, headers]) => ({ field: `attributes.${k}`, headers })),
    ],
    orders: (['orderId', 'customerId', 'amount', 'margin', 'occurredAt', 'status'] as const).map((f) => ({ field: f, headers: [...list(o[f]), ...BUILT_IN.orders[f]] })),
    statuses: map.statuses,
  };
}

/** One source row as a customer row of the API (unknown values passed on for the schema to judge). */
export function mapCustomer(row: Record<string, unknown>, map: ImportMap): Record<string, unknown> {
  const c = map.customers;
  const out: Record<string, unknown> = {};
  for (const f of ['id', 'name', 'ownerId', 'teamId'] as const) {
    const v = trimmed(pick(row, [...list(c[f]), ...BUILT_IN.customers[f]]));
    if (v !== undefined) out[f] = typeof v === 'number' ? String(v) : v;
  }
  const tags = pick(row, [...list(c.tags), ...BUILT_IN.customers.tags]);
  if (typeof tags === 'string' && tags.trim()) out.tags = tags.split(/[,，;；|]/).map((t) => t.trim()).filter(Boolean);
  const attributes: Record<string, unknown> = {};
  for (const [key, names] of Object.entries(attributeHeaders(map))) {
    const v = trimmed(pick(row, names));
    if (v !== undefined) attributes[key] = v;
  }
  if (Object.keys(attributes).length > 0) out.attributes = attributes;
  return out;
}

/** One source row as an order row of the API; timestamps without an offset are read in `tz`. */
export function mapOrder(row: Record<string, unknown>, map: ImportMap, tz: string): Record<string, unknown> {
  const o = map.orders;
  const get = (f: keyof typeof BUILT_IN.orders) => trimmed(pick(row, [...list(o[f]), ...BUILT_IN.orders[f]]));
  const out: Record<string, unknown> = {};
  for (const f of ['orderId', 'customerId'] as const) {
    const v = get(f);
    if (v !== undefined) out[f] = typeof v === 'number' ? String(v) : v;
  }
  const amount = parseAmount(get('amount'));
  if (amount !== undefined) out.amount = amount;
  const margin = parseAmount(get('margin'));
  if (margin !== undefined) out.margin = margin;
  const at = get('occurredAt');
  if (at !== undefined) out.occurredAt = parseInstant(at, tz);
  const status = get('status');
  if (typeof status === 'string' && status) {
    const word = status.toLowerCase();
    if (map.statuses.cancelled.some((w) => w.toLowerCase() === word)) out.status = 'cancelled';
    else if (map.statuses.refund.some((w) => w.toLowerCase() === word)) {
      if (typeof out.amount === 'number' && out.amount > 0) out.amount = -out.amount;
    } else out.status = status;
  }
  return out;
}

export const DEFAULT_IMPORT_MAP: ImportMap = importMapSchema.parse({});

const breaks = (s: string) => (s.match(/\r\n|\r|\n/g) ?? []).length;
/** a record's own line ending, as far as csv-parse leaves it in the raw text (\n of LF files, \r of CRLF ones) */
const END = /(\r\n|\r|\n)$/;

/**
 * Counts lines through CSV records as csv-parse gives their raw text (`raw: true`): each call answers the line
 * the record starts on, counting blank lines skipped before it and line breaks inside quoted fields.
 * `first`: the first record's earliest line (2, after a header line).
 */
export function csvLineCounter(first = 2): (raw: string) => number {
  let line = first;
  return (raw) => {
    const leading = /^[\r\n]*/.exec(raw)![0];
    const start = line + breaks(leading);
    line = start + breaks(raw.slice(leading.length).replace(END, '')) + 1;
    return start;
  };
}

/** The text of a record without the blank lines before it and its line ending. */
export const csvRecordText = (raw: string) => raw.replace(/^[\r\n]+/, '').replace(END, '');
