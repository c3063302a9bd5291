// Prometheus metrics; one registry per app instance so tests can run several apps in one process. And who may read them.
import type { Middleware } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppEnv } from '../config/env.ts';
import { bearerToken, secretsEqual } from './auth.ts';
import { HttpError } from './errors.ts';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Histogram({
      name: 'tierbot_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    ordersIngested: new Counter({ name: 'tierbot_orders_ingested_total', help: 'Orders inserted or updated', registers: [registry] }),
    recomputeRuns: new Counter({ name: 'tierbot_recompute_runs_total', help: 'Finished recompute runs by status', labelNames: ['status'] as const, registers: [registry] }),
    recomputeDuration: new Gauge({ name: 'tierbot_recompute_last_duration_seconds', help: 'Duration of the latest recompute', registers: [registry] }),
    customersEvaluated: new Gauge({ name: 'tierbot_recompute_last_evaluated', help: 'Customers evaluated by the latest recompute', registers: [registry] }),
  };
}
export type AppMetrics = ReturnType<typeof createMetrics>;

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/**
 * Who may read /metrics:
 * - METRICS_TOKEN set: whoever sends `Authorization: Bearer $METRICS_TOKEN`;
 * - otherwise, with MONGODB_URI (a deployment): only a client on this host, i.e. the socket's peer is a
 *   loopback address and the request carries no X-Forwarded-For/Forwarded (a proxy on this host would make
 *   every client look local). The socket address, not ctx.ip: the app trusts proxy headers for ctx.ip,
 *   and any client can write them;
 * - otherwise (embedded mode, a developer's machine): anyone.
 */
export function metricsAccess(env: Pick<AppEnv, 'METRICS_TOKEN' | 'MONGODB_URI'>): Middleware {
  const token = env.METRICS_TOKEN;
  if (token) {
    return async (ctx, next) => {
      if (!secretsEqual(bearerToken(ctx), token)) {
        ctx.set('WWW-Authenticate', 'Bearer');
        throw new HttpError(401, 'unauthorized', 'missing or wrong Authorization: Bearer <METRICS_TOKEN>');
      }
      await next();
    };
  }
  if (!env.MONGODB_URI) return (_ctx, next) => next();
  return async (ctx, next) => {
    const local = LOOPBACK.test(ctx.req.socket.remoteAddress ?? '') && !ctx.get('x-forwarded-for') && !ctx.get('forwarded');
    if (!local) throw new HttpError(403, 'forbidden', '/metrics answers only clients on this host unless METRICS_TOKEN is set');
    await next();
  };
}
