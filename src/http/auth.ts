import { createHash, timingSafeEqual } from 'node:crypto';
import Router, { type RouterMiddleware } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { ADMIN_TOKEN_VIEWER, isAdmin, type Viewer } from '../app/access.ts';
import type { OrgUser } from '../ports/store.ts';
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
export const SESSION_COOKIE = 'tierbot_session';
export const CSRF_COOKIE = 'tierbot_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Console sessions as the gate needs them (SignedLinks is one). */
export interface SessionVerifier {
  session(token: string): Promise<{ userId: string; csrf: string }>;
}

/** Who may call the API: the admin token, or an org user with a console session. */
export interface Gate {
  adminToken: string;
  sessions?: SessionVerifier;
  /** the org user of a session (null: no longer in the org) */
  userById?: (id: string) => Promise<OrgUser | null>;
  /** this service's public origin (scheme://host[:port]); a state-changing request from neither it nor the request's own host is refused */
  origin?: string;
}

/**
 * The viewer of a request: the bearer admin token; else a console session cookie, whose state-changing
 * requests must carry the session's CSRF value in x-csrf-token (a cross-site form can set neither the header
 * nor read the cookie) and come from this service's origin. Null when neither is there.
 */
export async function viewerOf(ctx: Context, gate: Gate): Promise<Viewer | null> {
  const given = bearerToken(ctx);
  if (given) {
    if (!secretsEqual(given, gate.adminToken)) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'unauthorized', 'wrong token');
    }
    return ADMIN_TOKEN_VIEWER;
  }
  const cookie = ctx.cookies.get(SESSION_COOKIE);
  if (!cookie || !gate.sessions || !gate.userById) return null;
  let session: { userId: string; csrf: string };
  try {
    session = await gate.sessions.session(cookie);
  } catch {
    throw new HttpError(401, 'unauthorized', 'your console session has ended: open the console link from a card again');
  }
  const user = await gate.userById(session.userId);
  if (!user) throw new HttpError(401, 'unauthorized', `user "${session.userId}" is no longer in the org`);
  if (!SAFE.has(ctx.method)) {
    const origin = ctx.get('origin');
    if (origin && origin !== `${ctx.protocol}://${ctx.host}` && origin !== gate.origin) throw new HttpError(403, 'forbidden', `cross-site request from ${origin} refused`);
    const csrf = ctx.get(CSRF_HEADER);
    if (!csrf || !secretsEqual(csrf, session.csrf)) throw new HttpError(403, 'forbidden', `missing or wrong ${CSRF_HEADER} header (the value of the ${CSRF_COOKIE} cookie)`);
  }
  return { kind: 'user', user };
}

/** The viewer the gate let through (set on ctx.state by AdminRouter). */
export function viewer(ctx: Context): Viewer {
  return (ctx.state as { viewer?: Viewer }).viewer ?? ADMIN_TOKEN_VIEWER;
}

/** Whom a console request may act as: anyone for admins (the act-as simulator), else only the caller. */
export function actAs(ctx: Context, requested: string): string {
  const v = viewer(ctx);
  if (isAdmin(v) || (v.kind === 'user' && v.user.id === requested)) return requested;
  throw new HttpError(403, 'forbidden', `you can act only as yourself${v.kind === 'user' ? ` (${v.user.id})` : ''}, not as "${requested}"`);
}

type Verb = 'get' | 'post' | 'put' | 'delete';

/**
 * The router of the API. Deny by default: it dispatches a request to its routes only for a viewer the gate
 * lets through (see viewerOf), and an org user who is not an admin only to the routes registered through
 * `forUsers` (which then scope what they answer to that viewer). A request that matches one of its routes,
 * by the router's own (case-insensitive, trailing-slash tolerant) matching, is answered 401/403 otherwise;
 * one that matches none passes on untouched, so an unauthenticated request never even records a match here
 * (which would let another router's 405/OPTIONS answer describe admin routes). A guard on the request path
 * in front of the routers could not be trusted to see the same paths as their matcher.
 */
export class AdminRouter extends Router {
  readonly #gate: Gate;
  readonly #forUsers = new Set<string>();
  readonly #forAnyone = new Set<string>();
  /** registers a route that org users with a console session may call too */
  readonly forUsers: Record<Verb, (path: string, ...handlers: RouterMiddleware[]) => AdminRouter>;
  /** registers a route anyone may call, without a token or a session (the API's own description) */
  readonly forAnyone: Pick<Record<Verb, (path: string, ...handlers: RouterMiddleware[]) => AdminRouter>, 'get'>;

  constructor(gate: Gate | string) {
    super({ prefix: ADMIN_PREFIX });
    this.#gate = typeof gate === 'string' ? { adminToken: gate } : gate;
    const register = (verb: Verb, set = this.#forUsers) => (path: string, ...handlers: RouterMiddleware[]) => {
      set.add(`${verb.toUpperCase()} ${ADMIN_PREFIX}${path}`);
      (this[verb] as unknown as (p: string, ...h: RouterMiddleware[]) => unknown).call(this, path, ...handlers);
      return this;
    };
    this.forUsers = { get: register('get'), post: register('post'), put: register('put'), delete: register('delete') };
    this.forAnyone = { get: register('get', this.#forAnyone) };
  }

  /** who may call a route of this router (its method and its registered path, prefix included) */
  accessOf(method: string, path: string): 'anyone' | 'users' | 'admins' {
    const key = `${method === 'HEAD' ? 'GET' : method} ${path}`;
    return this.#forAnyone.has(key) ? 'anyone' : this.#forUsers.has(key) ? 'users' : 'admins';
  }

  override middleware(): ReturnType<Router['middleware']> {
    const dispatch = super.middleware();
    const guarded: typeof dispatch = async (ctx, next) => {
      const matched = this.match(ctx.path, ctx.method);
      if (matched.path.length === 0) return next();
      const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
      if (matched.pathAndMethod.length > 0 && matched.pathAndMethod.every((layer) => this.#forAnyone.has(`${method} ${layer.path}`))) return dispatch(ctx, next);
      const v = await viewerOf(ctx, this.#gate);
      if (!v) {
        ctx.set('WWW-Authenticate', 'Bearer');
        throw new HttpError(401, 'unauthorized', 'missing Authorization: Bearer <ADMIN_TOKEN> (people sign in through the console link on a card)');
      }
      if (!isAdmin(v)) {
        const allowed = matched.pathAndMethod.some((layer) => this.#forUsers.has(`${method} ${layer.path}`));
        if (!allowed) throw new HttpError(403, 'forbidden', `${ctx.method} ${ctx.path} is for admins`);
      }
      (ctx.state as { viewer?: Viewer }).viewer = v;
      return dispatch(ctx, next);
    };
    // the app and its tests find a router's routes through this property, as on the library's own dispatcher
    return Object.assign(guarded, { router: this });
  }
}
