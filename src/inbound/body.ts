// Reading a request body: one size limit per caller, one 413, one 400 for a body that cannot be read or is not
// UTF-8. Webhook receivers (through webhook.ts, with their platform's limit) and the API's body parsers
// (src/http/body.ts, with theirs) all read through here.
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { Refusal } from './refusal.ts';

export const TOO_LARGE = 'too_large';
export const MALFORMED = 'malformed_request';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The raw bytes, at most `limit`; over it, the rest is discarded (so the client reads the answer, not a reset). */
export async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  try {
    return await getRawBody(ctx.req, { limit, length: ctx.get('content-length') || undefined });
  } catch (err) {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.too.large' || e.status === 413) {
      ctx.req.resume();
      ctx.set('connection', 'close');
      throw new Refusal(413, TOO_LARGE, `request body is larger than ${limit} bytes`);
    }
    throw new Refusal(400, MALFORMED, `request body could not be read: ${e.message ?? 'unknown error'}`);
  }
}

/** The body as text: bytes that are not UTF-8 are refused, never replaced by U+FFFD (which would change what is stored). */
export async function readText(ctx: Context, limit: number): Promise<string> {
  const raw = await readBody(ctx, limit);
  try {
    return utf8.decode(raw);
  } catch {
    throw new Refusal(400, MALFORMED, 'request body is not valid UTF-8');
  }
}
