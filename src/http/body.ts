// Request bodies: size-limited, JSON / NDJSON / YAML, with the errors of SPEC §7.
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { parse as parseYaml } from 'yaml';
import { HttpError } from './errors.ts';

export const LIMITS = { default: 1 << 20, bulk: 64 << 20 } as const;

export async function readText(ctx: Context, limit: number): Promise<string> {
  try {
    return await getRawBody(ctx.req, { limit, encoding: 'utf8', length: ctx.get('content-length') || undefined });
  } catch (err) {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.too.large' || e.status === 413) throw new HttpError(413, 'too_large', `request body is larger than ${limit} bytes`);
    throw new HttpError(400, 'malformed', `request body could not be read: ${(err as Error).message}`);
  }
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

/** A JSON (or, when the content type says so, YAML) document. */
export async function readDocument(ctx: Context): Promise<unknown> {
  const text = await readText(ctx, LIMITS.default);
  if (text.trim() === '') return undefined;
  if (isYaml(ctx)) {
    try {
      return parseYaml(text);
    } catch (err) {
      throw new HttpError(400, 'malformed', `body is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return parseJson(text);
}

export interface BulkRows {
  rows: unknown[];
  /** rows that were not even parseable (NDJSON lines), by index */
  unparseable: { index: number; errors: { path: string; message: string }[] }[];
}

/** A bulk body: a JSON array, or NDJSON (one JSON object per line) whose bad lines become rejects. */
export async function readBulk(ctx: Context): Promise<BulkRows> {
  const text = await readText(ctx, LIMITS.bulk);
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
