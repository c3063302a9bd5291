import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { HttpError } from './errors.ts';

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

export function bearerToken(ctx: Pick<Context, 'get'>): string {
  return /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'))?.[1]?.trim() ?? '';
}

export function bearerAuth(token: string): Middleware {
  return async (ctx, next) => {
    const given = bearerToken(ctx);
    if (!given || !secretsEqual(given, token)) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'unauthorized', given ? 'wrong token' : 'missing Authorization: Bearer <ADMIN_TOKEN>');
    }
    await next();
  };
}

const ADMIN_PREFIX = '/api/v1';

/**
 * The router of the admin API. Deny by default: it dispatches a request to its routes only with the admin
 * token. A request that matches one of its routes, by the router's own (case-insensitive, trailing-slash
 * tolerant) matching, is answered 401 without it; one that matches none passes on untouched, so an
 * unauthenticated request never even records a match here (which would let another router's 405/OPTIONS
 * answer describe admin routes). A guard on the request path in front of the routers could not be trusted
 * to see the same paths as their matcher.
 */
export class AdminRouter extends Router {
  readonly #check: Middleware;

  constructor(token: string) {
    super({ prefix: ADMIN_PREFIX });
    this.#check = bearerAuth(token);
  }

  override middleware(): ReturnType<Router['middleware']> {
    const dispatch = super.middleware();
    const guarded: typeof dispatch = (ctx, next) => {
      if (this.match(ctx.path, ctx.method).path.length === 0) return next();
      return this.#check(ctx, () => dispatch(ctx, next));
    };
    // the app and its tests find a router's routes through this property, as on the library's own dispatcher
    return Object.assign(guarded, { router: this });
  }
}
