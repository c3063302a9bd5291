// The one shape of a refused request, for every webhook and the API alike: a status and
// `{error: {code, message, details}}`. Platform verification errors (platforms/shared/errors.ts) are refusals
// with their status taken from the reason; the body reader (body.ts) refuses with 413 and 400.
import type { Context } from 'koa';

export class Refusal extends Error {
  override name = 'Refusal';

  /** `message` is for the answer and the log: it never contains secrets, tokens or plaintext. */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string = code,
    readonly details: unknown[] = [],
  ) {
    super(message);
  }
}

export function isRefusal(err: unknown): err is Refusal {
  return err instanceof Refusal;
}

export interface RefusalBody {
  error: { code: string; message: string; details: unknown[] };
}

export function refusalBody(refusal: Refusal): RefusalBody {
  return { error: { code: refusal.code, message: refusal.message, details: refusal.details } };
}

/** Answers the refusal on `ctx`. */
export function refuse(ctx: Context, refusal: Refusal): void {
  ctx.status = refusal.status;
  ctx.body = refusalBody(refusal);
}
