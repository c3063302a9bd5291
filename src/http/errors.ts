import type { Middleware } from 'koa';
import { AppError } from '../app/errors.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(message);
  }
}

const STATUS: Record<AppError['code'], number> = {
  validation_failed: 422,
  not_found: 404,
  conflict: 409,
  already_decided: 409,
  not_authorized: 403,
  unknown_user: 403,
  busy: 409,
};

/** One sink: every error becomes `{error: {code, message, details}}` with its status. */
export function errorSink(log: { error: (obj: object, msg: string) => void }): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: { code: 'not_found', message: `no route for ${ctx.method} ${ctx.path}`, details: [] } };
      }
    } catch (err) {
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.body = { error: { code: err.code, message: err.message, details: err.details } };
      } else if (err instanceof AppError) {
        ctx.status = STATUS[err.code];
        ctx.body = { error: { code: err.code, message: err.message, details: err.details } };
      } else {
        log.error({ err, path: ctx.path }, 'unhandled error');
        ctx.status = 500;
        ctx.body = { error: { code: 'internal', message: 'internal error', details: [] } };
      }
    }
  };
}
