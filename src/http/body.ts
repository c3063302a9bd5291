// Request bodies: size-limited UTF-8, JSON / NDJSON everywhere, YAML only for a policy; the error statuses of README "HTTP API".
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { isMap, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { ValidationFailed } from '../app/errors.ts';
import { loneSurrogateProblems } from '../app/inputs.ts';
import { HttpError } from './errors.ts';

/**
 * A policy is a few KB. Its bodies get a small limit because YAML parsing is far slower than JSON: 32 KiB of
 * YAML parses in tens of milliseconds, which keeps the event loop free for webhooks with deadlines.
 */
export const LIMITS = { default: 1 << 20, policy: 32 << 10, bulk: 64 << 20 } as const;

const YAML_ROUTES = 'PUT /api/v1/policy and POST /api/v1/tiering/simulate';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readText(ctx: Context, limit: number): Promise<string> {
  let raw: Buffer;
  try {
    raw = await getRawBody(ctx.req, { limit, length: ctx.get('content-length') || undefined });
  } catch (err) {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.too.large' || e.status === 413) throw new HttpError(413, 'too_large', `request body is larger than ${limit} bytes`);
    throw new HttpError(400, 'malformed', `request body could not be read: ${(err as Error).message}`);
  }
  try {
    // fatal: bytes that are not UTF-8 would otherwise be replaced by U+FFFD and stored changed
    return utf8.decode(raw);
  } catch {
    throw new HttpError(400, 'malformed', 'request body is not valid UTF-8');
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
}

/** A bulk body: a JSON array, or NDJSON (one JSON object per line) whose bad lines become rejects. */
export async function readBulk(ctx: Context): Promise<BulkRows> {
  refuseYaml(ctx);
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
