// Request bodies: size-limited UTF-8 (read by the shared reader, src/inbound/body.ts, the same that reads every
// webhook), JSON / NDJSON everywhere, YAML only for a policy; the error statuses of README "HTTP API".
import type { Context } from 'koa';
import { parse as parseCsv } from 'csv-parse/sync';
import { isMap, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { ValidationFailed } from '../app/errors.ts';
import { csvLineCounter } from '../app/import-map.ts';
import { xlsxRows } from '../app/import-xlsx.ts';
import { loneSurrogateProblems, problemsOf } from '../app/inputs.ts';
import { Readable } from 'node:stream';
import { readBody, readText as readBodyText, TOO_LARGE } from '../inbound/body.ts';
import { isRefusal } from '../inbound/refusal.ts';
import { HttpError } from './errors.ts';

/**
 * A policy is a few KB. Its bodies get a small limit because YAML parsing is far slower than JSON: 32 KiB of
 * YAML parses in tens of milliseconds, which keeps the event loop free for webhooks with deadlines.
 */
export const LIMITS = { default: 1 << 20, policy: 32 << 10, bulk: 64 << 20, xlsx: 16 << 20 } as const;

const YAML_ROUTES = 'PUT /api/v1/policy and POST /api/v1/tiering/simulate';

/** The raw body, at most `limit` bytes: 413 `too_large` over it, 400 `malformed` when unreadable. */
async function readBytes(ctx: Context, limit: number): Promise<Buffer> {
  try {
    return await readBody(ctx, limit);
  } catch (err) {
    if (!isRefusal(err)) throw err;
    throw new HttpError(err.status, err.code === TOO_LARGE ? TOO_LARGE : 'malformed', err.message);
  }
}

/** The body as UTF-8 text, at most `limit` bytes: 413 `too_large` over it, 400 `malformed` when unreadable or not UTF-8. */
export async function readText(ctx: Context, limit: number): Promise<string> {
  try {
    return await readBodyText(ctx, limit);
  } catch (err) {
    if (!isRefusal(err)) throw err;
    throw new HttpError(err.status, err.code === TOO_LARGE ? TOO_LARGE : 'malformed', err.message);
  }
}

/** `input` as the schema's output, or 422 with every problem by path. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new ValidationFailed(`invalid ${what}`, problemsOf(parsed.error));
  return parsed.data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'malformed', `body is not valid JSON: ${(err as Error).message}`);
  }
}

const isYaml = (ctx: Context) => /yaml/i.test(ctx.get('content-type'));
const isNdjson = (ctx: Context) => /ndjson|jsonl|json-seq/i.test(ctx.get('content-type'));

function refuseYaml(ctx: Context): void {
  if (isYaml(ctx)) throw new HttpError(415, 'unsupported_media_type', `YAML bodies are accepted only by ${YAML_ROUTES}; send JSON (content-type: application/json)`);
}

/** Strings that storage would silently change are refused by path before anything is written. */
function storable<T>(document: T): T {
  const problems = loneSurrogateProblems(document);
  if (problems.length > 0) throw new ValidationFailed('invalid body', problems);
  return document;
}

/** A JSON document; YAML is refused with 415 (it is for policies only, see readPolicyDocument). */
export async function readDocument(ctx: Context): Promise<unknown> {
  refuseYaml(ctx);
  const text = await readText(ctx, LIMITS.default);
  if (text.trim() === '') return undefined;
  return storable(parseJson(text));
}

/** A document carrying a policy: JSON, or YAML when the content type says so; at most LIMITS.policy bytes. */
export async function readPolicyDocument(ctx: Context): Promise<unknown> {
  const text = await readText(ctx, LIMITS.policy);
  if (text.trim() === '') return undefined;
  return storable(isYaml(ctx) ? parseYaml(text) : parseJson(text));
}

function parseYaml(text: string): unknown {
  const lines = new LineCounter();
  let doc: Document;
  try {
    // the library's own duplicate-key check compares every pair of keys (quadratic); duplicateKey is linear
    doc = parseDocument(text, { uniqueKeys: false, lineCounter: lines });
  } catch (err) {
    throw new HttpError(400, 'malformed', `body is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const [error] = doc.errors;
  if (error) throw new HttpError(400, 'malformed', `body is not valid YAML: ${error.message.split('\n')[0]}`);
  const duplicate = duplicateKey(doc);
  if (duplicate) {
    const { line, col } = lines.linePos(duplicate.offset);
    throw new HttpError(400, 'malformed', `body is not valid YAML: duplicate key "${duplicate.key}" at line ${line}, column ${col}`);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new HttpError(400, 'malformed', `body is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The first key that repeats within one mapping (as the JS object would see it: `1` and `"1"` collide). */
function duplicateKey(doc: Document): { key: string; offset: number } | null {
  let found: { key: string; offset: number } | null = null;
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<string>();
      for (const pair of map.items) {
        const node = pair.key as { value?: unknown; range?: [number, number, number] } | null;
        const key = String(node && 'value' in node ? node.value : node);
        if (seen.has(key)) {
          found = { key, offset: node?.range?.[0] ?? 0 };
          return visit.BREAK;
        }
        seen.add(key);
      }
    },
  });
  return found;
}

export interface BulkRows {
  rows: unknown[];
  /** rows that were not even parseable (NDJSON lines), by index */
  unparseable: { index: number; errors: { path: string; message: string }[] }[];
  /** CSV and .xlsx only: the rows as the file's header names them (to be mapped), and the line (sheet row) each row starts on */
  csv?: { lines: number[] };
}

const isCsv = (ctx: Context) => /text\/csv/i.test(ctx.get('content-type'));

/** A CSV body: a header line, then one row a record (BOM, CRLF and quoted fields with commas or line breaks allowed). */
function readCsv(text: string): BulkRows {
  let records: { record: Record<string, string>; raw: string }[];
  try {
    records = parseCsv(text, { bom: true, columns: (header: string[]) => header.map((h) => h.trim()), skip_empty_lines: true, relax_column_count: true, raw: true });
  } catch (err) {
    throw new HttpError(400, 'malformed', `body is not valid CSV: ${(err as Error).message}`);
  }
  if (records.length === 0) throw new HttpError(400, 'malformed', 'body is empty (a header line and at least one row are needed)');
  const lineOf = csvLineCounter();
  const lines = records.map((r) => lineOf(r.raw));
  return { rows: records.map((r) => r.record), unparseable: [], csv: { lines } };
}

const isXlsx = (ctx: Context) => /spreadsheetml\.sheet/i.test(ctx.get('content-type'));

/**
 * An Excel workbook (.xlsx): its first sheet read like a CSV body (the first non-empty row the header, one row
 * a row, each named by its row number). The workbook is at most LIMITS.xlsx bytes; since it is compressed, the
 * text of its cells is also held to LIMITS.bulk, what a CSV body may carry, and a workbook over either gets 413.
 */
async function readXlsx(ctx: Context): Promise<BulkRows> {
  const bytes = await readBytes(ctx, LIMITS.xlsx);
  let header: string[] | null = null;
  const rows: Record<string, string>[] = [];
  const lines: number[] = [];
  let size = 0;
  try {
    for await (const { cells, line } of xlsxRows(Readable.from([bytes]))) {
      for (const c of cells) size += c.length + 1;
      if (size > LIMITS.bulk) throw new HttpError(413, TOO_LARGE, `the workbook's cells hold more than ${LIMITS.bulk} characters; split it into several files`);
      if (!header) {
        header = cells.map((h) => h.trim());
        continue;
      }
      const row: Record<string, string> = {};
      header.forEach((h, i) => {
        if (h !== '') row[h] = cells[i] ?? '';
      });
      rows.push(row);
      lines.push(line);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, 'malformed', `body is not a readable .xlsx workbook: ${(err as Error).message}`);
  }
  if (rows.length === 0) throw new HttpError(400, 'malformed', 'the workbook\'s first sheet is empty (a header row and at least one row are needed)');
  return { rows: rows.map((r) => storable(r)), unparseable: [], csv: { lines } };
}

/** A bulk body: a JSON array, NDJSON (one JSON object per line) whose bad lines become rejects, CSV, or an .xlsx workbook. */
export async function readBulk(ctx: Context): Promise<BulkRows> {
  refuseYaml(ctx);
  if (isXlsx(ctx)) return readXlsx(ctx);
  const text = await readText(ctx, LIMITS.bulk);
  if (isCsv(ctx)) return readCsv(text);
  if (isNdjson(ctx) || !/^\s*\[/.test(text)) {
    if (!isNdjson(ctx) && /^\s*\{/.test(text) && !text.trim().includes('\n')) {
      throw new HttpError(400, 'malformed', 'body must be a JSON array or NDJSON (content-type: application/x-ndjson)');
    }
    const rows: unknown[] = [];
    const unparseable: BulkRows['unparseable'] = [];
    let index = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        rows.push(JSON.parse(line));
      } catch (err) {
        rows.push(undefined);
        unparseable.push({ index, errors: [{ path: '(line)', message: `not valid JSON: ${(err as Error).message}` }] });
      }
      index++;
    }
    if (rows.length === 0) throw new HttpError(400, 'malformed', 'body is empty');
    return { rows, unparseable };
  }
  const doc = parseJson(text);
  if (!Array.isArray(doc)) throw new HttpError(400, 'malformed', 'body must be a JSON array or NDJSON');
  return { rows: doc, unparseable: [] };
}
