// Composition root: wires store, policy, recompute and the HTTP app. No business logic here.
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import type { ConfigFiles } from './config/files.ts';
import type { AppEnv } from './config/env.ts';
import { PolicyService } from './app/policy-service.ts';
import { Recomputer, type EvaluationObserver } from './app/recompute.ts';
import { apiRouter } from './http/api.ts';
import { bearerAuth, secretsEqual } from './http/auth.ts';
import { consoleRouter } from './http/console.ts';
import { errorSink } from './http/errors.ts';
import { createMetrics, type AppMetrics } from './http/metrics.ts';
import type { Logger } from './logger.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { Store } from './ports/store.ts';

export interface Services {
  env: AppEnv;
  files: ConfigFiles;
  store: Store;
  clock: Clock;
  log: Logger;
  metrics: AppMetrics;
  policies: PolicyService;
  recomputer: Recomputer;
  version: string;
}

export interface Tierbot extends Services {
  app: Koa;
  listen(): Promise<{ server: Server; url: string }>;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

export async function createTierbot(opts: { env: AppEnv; files: ConfigFiles; store: Store; log: Logger; clock?: Clock; observers?: EvaluationObserver[] }): Promise<Tierbot> {
  const { env, files, store, log } = opts;
  const clock = opts.clock ?? systemClock;
  await store.init();
  const policies = new PolicyService(store, clock);
  await policies.ensure(files.policy);
  const metrics = createMetrics();
  const recomputer = new Recomputer({
    store,
    policies,
    clock,
    observers: opts.observers,
    onFinished: (run) => {
      metrics.recomputeRuns.inc({ status: run.status });
      if (run.status === 'done') {
        metrics.recomputeDuration.set((run.durationMs ?? 0) / 1000);
        metrics.customersEvaluated.set(run.counts.evaluated);
      }
      log.info({ runId: run.id, status: run.status, ...run.counts, durationMs: run.durationMs, error: run.error ?? undefined }, 'recompute finished');
    },
  });

  const services: Services = { env, files, store, clock, log, metrics, policies, recomputer, version: VERSION };
  const app = buildApp(services);
  let server: Server | null = null;

  return {
    ...services,
    app,
    async listen() {
      server = app.listen(env.PORT, env.HOST);
      await new Promise<void>((resolve, reject) => {
        server!.once('listening', resolve);
        server!.once('error', reject);
      });
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : env.PORT;
      return { server, url: `http://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${port}` };
    },
    async close() {
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeAllConnections?.();
      }
      const running = recomputer.current;
      if (running) log.info({ runId: running }, 'waiting for the running recompute batch to finish');
      await store.close();
    },
  };
}

function buildApp(s: Services): Koa {
  const app = new Koa({ proxy: true });
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      s.metrics.httpRequests.observe({ method: ctx.method, route, status: String(ctx.status) }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  });
  app.use(errorSink(s.log));

  const open = new Router();
  open.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok', store: s.store.kind, version: s.version };
  });
  open.get('/metrics', async (ctx) => {
    const token = s.env.METRICS_TOKEN;
    const given = /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'))?.[1] ?? '';
    if (token && !secretsEqual(given, token)) {
      ctx.status = 401;
      ctx.body = { error: { code: 'unauthorized', message: 'wrong metrics token', details: [] } };
      return;
    }
    ctx.type = s.metrics.registry.contentType;
    ctx.body = await s.metrics.registry.metrics();
  });
  app.use(open.routes()).use(open.allowedMethods());
  app.use(consoleRouter(s).routes());

  const api = apiRouter(s);
  app.use(async (ctx, next) => (ctx.path.startsWith('/api/') ? bearerAuth(s.env.ADMIN_TOKEN)(ctx, next) : next()));
  app.use(api.routes()).use(api.allowedMethods({ throw: false }));
  return app;
}
