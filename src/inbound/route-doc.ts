// What a route documents about itself for the OpenAPI document (src/http/openapi.ts): the zod schemas that
// validate its query and body and those of its answers, attached to the route as its first middleware, so the
// documentation sits next to the route and the schemas it validates with. The middleware itself does nothing.
import type { Middleware } from 'koa';
import { z } from 'zod';

/** An answer: its JSON schema, or a description with another content type (text, HTML, a redirect). */
export type ResponseDoc = z.ZodType | { description: string; schema?: z.ZodType; contentType?: string };

export interface RouteDoc {
  summary: string;
  description?: string;
  /** the group it is listed under (default: from the path) */
  tag?: string;
  /** the query parameters, as the object schema the route validates `ctx.query` with */
  query?: z.ZodObject;
  /** the body, as the schema the route validates it with */
  body?: z.ZodType;
  /** the content types the body may come in (default application/json) */
  bodyTypes?: readonly string[];
  /** the body may be left out */
  bodyOptional?: boolean;
  /** the answers by status; error answers (the one error shape) are added from the route's kind */
  responses: Record<number, ResponseDoc>;
  /** for routes outside the admin router: who may call it (default anyone) */
  auth?: 'none' | 'platform' | 'session';
}

export const ROUTE_DOC = Symbol.for('tierbot.routeDoc');

export type Documented = Middleware & { [ROUTE_DOC]: RouteDoc };

/** The route's documentation, as a middleware that passes straight on: `r.get(path, doc({...}), handler)`. */
export function doc(d: RouteDoc): Documented {
  const pass: Middleware = (_ctx, next) => next();
  return Object.assign(pass, { [ROUTE_DOC]: d });
}

/** The documentation among a route's middleware, if any. */
export function docOf(stack: readonly unknown[]): RouteDoc | undefined {
  for (const mw of stack) {
    const d = (mw as Partial<Documented> | null)?.[ROUTE_DOC];
    if (d) return d;
  }
  return undefined;
}

/** Every error answer of the service, whatever the status: the API's error sink and every refusal (refusal.ts). */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().describe('machine-readable: validation_failed, not_found, unauthorized, forbidden, conflict, already_decided, too_large, …'),
      message: z.string(),
      details: z.array(z.unknown()).describe('for validation_failed: one {path, message} per problem'),
    }),
  })
  .meta({ id: 'Error', description: 'Every error answer, whatever the status' });

/** A webhook's refusal. */
export const REFUSED: ResponseDoc = {
  description: 'refused: malformed (400), not proven to come from the platform (401), not acceptable (403) or too large (413)',
  schema: ErrorBody,
};
