// Composition root: wires store, policy, recompute and the HTTP app. No business logic here.
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import type { ConfigFiles } from './config/files.ts';
import type { AppEnv } from './config/env.ts';
import { PolicyService } from './app/policy-service.ts';
import { Recomputer, type EvaluationObserver } from './app/recompute.ts';
import { defaultPoolSize, EvalPool } from './app/eval-pool.ts';
import { Chat } from './chat.ts';
import { Scheduler } from './jobs/scheduler.ts';
import { Recovery } from './jobs/recovery.ts';
import { HEARTBEAT_MS, Instances } from './app/instances.ts';
import { apiRouter } from './http/api.ts';
import { workflowRouter } from './http/workflow-api.ts';
import { policyRouter } from './http/policy-api.ts';
import { backtestRouter } from './http/backtest-api.ts';
import { actAs, AdminRouter, type Gate } from './http/auth.ts';
import { consoleKey, SignedLinks } from './http/links.ts';
import { readDocument, validate } from './http/body.ts';
import { consoleRouter } from './http/console.ts';
import { oauthRouter, type OAuthProvider } from './http/oauth.ts';
import { docsRouter, openApiRouter } from './http/openapi.ts';
import { ErrorBody, Health } from './http/openapi-schemas.ts';
import { doc } from './inbound/route-doc.ts';
import { platforms as registered } from './platforms/registry.ts';
import type { AnyPlatformDescriptor } from './ports/platform.ts';
import { errorSink } from './http/errors.ts';
import { createMetrics, metricsAccess } from './http/metrics.ts';
import type { Services } from './http/services.ts';
import type { Logger } from './logger.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { Store } from './ports/store.ts';

export interface Tierbot extends Services {
  app: Koa;
  chat: Chat;
  scheduler: Scheduler;
  recovery: Recovery;
  /** starts the outbox worker, platform connections and cron schedules */
  startBackground(): Promise<void>;
  listen(): Promise<{ server: Server; url: string }>;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

export interface TierbotOptions {
  env: AppEnv;
  files: ConfigFiles;
  store: Store;
  log: Logger;
  clock?: Clock;
  observers?: EvaluationObserver[];
  chat?: Partial<Pick<import('./chat.ts').ChatOptions, 'outbox' | 'timer' | 'messengers' | 'platforms'>>;
  instance?: string;
}

export async function createTierbot(opts: TierbotOptions): Promise<Tierbot> {
  const { env, files, store, log } = opts;
  const clock = opts.clock ?? systemClock;
  await store.init();
  // the lease comes first: every journal, run and slot this instance writes names it as owner
  const instances = new Instances({ docs: store.docs, clock, id: opts.instance });
  await instances.start();
  store.useLiveness?.(instances);
  const policies = new PolicyService(store, clock);
  await policies.ensure(files.policy);
  const metrics = createMetrics();
  const links = new SignedLinks({ key: consoleKey(env.CONSOLE_SECRET, env.ADMIN_TOKEN), publicBaseUrl: env.PUBLIC_BASE_URL, clock, docs: store.docs, linkDays: env.CONSOLE_LINK_DAYS });
  const gate: Gate = {
    adminToken: env.ADMIN_TOKEN,
    sessions: links,
    userById: async (id) => (await store.getOrg())?.users.find((u) => u.id === id) ?? null,
    origin: new URL(env.PUBLIC_BASE_URL).origin,
  };
  const chat = new Chat({ env, schedule: files.schedule, store, clock, log, policies, links, ...opts.chat });
  await chat.init();
  const workers = env.EVAL_WORKERS ?? defaultPoolSize();
  const pool = workers > 0 ? new EvalPool(workers) : null;
  const recomputer = new Recomputer({
    pool,
    store,
    policies,
    clock,
    liveness: instances,
    batchSize: files.schedule.recomputeBatchSize,
    decide: chat.alerts.decide,
    collect: chat.alerts.collect,
    finish: chat.alerts.finish,
    observers: opts.observers ?? [],
    onFinished: (run) => {
      metrics.recomputeRuns.inc({ status: run.status });
      if (run.status === 'done') {
        metrics.recomputeDuration.set((run.durationMs ?? 0) / 1000);
        metrics.customersEvaluated.set(run.counts.evaluated);
      }
      log.info({ runId: run.id, status: run.status, ...run.counts, durationMs: run.durationMs, error: run.error ?? undefined }, 'recompute finished');
    },
  });

  const services: Services = { env, files, store, clock, log, metrics, policies, recomputer, links, gate, version: VERSION, pool };
  const app = buildApp(services, chat, signInProviders(chat, opts.chat?.platforms ?? registered));
  let server: Server | null = null;
  const timezone = (await policies.active()).policy.timezone;
  const scheduler = new Scheduler({ docs: store.docs, clock, timezone, liveness: instances, log })
    .add({ name: 'recompute', cron: files.schedule.recompute, run: () => recomputer.runScheduled() })
    .add({ name: 'digest', cron: files.schedule.digest, run: async () => void (await chat.digests.run()) })
    .add({ name: 'expire-scores', cron: '17 * * * *', run: async () => void (await chat.scoring.expireOverdue()) });
  const recovery = new Recovery({ store, recomputer, scheduler, log, intervalMs: HEARTBEAT_MS });

  return {
    ...services,
    app,
    chat,
    scheduler,
    recovery,
    async startBackground() {
      await chat.start();
      void recovery.start();
      await scheduler.start();
    },
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
      await scheduler.stop();
      await recovery.stop();
      const running = recomputer.current;
      if (running) {
        log.info({ runId: running }, 'stopping the running recompute after its current batch');
        await recomputer.stopAfterBatch();
      }
      await chat.stop();
      await instances.stop();
      await pool?.close();
      await store.close();
    },
  };
}

/** The configured platforms that offer console sign-in: each one's OAuth with its descriptor's identity mapping. */
function signInProviders(chat: Chat, descriptors: readonly AnyPlatformDescriptor[]): OAuthProvider[] {
  return chat.platforms.flatMap((p) => {
    const descriptor = descriptors.find((d) => d.name === p.platform);
    return p.oauth && descriptor ? [{ platform: p.platform, oauth: p.oauth, identify: (org, id) => descriptor.identify(org, id) }] : [];
  });
}

function buildApp(s: Services, chat: Chat, signIn: OAuthProvider[]): Koa {
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
  open.get('/healthz', doc({ summary: 'Liveness, the store and the version', tag: 'ops', responses: { 200: Health } }), (ctx) => {
    ctx.body = { status: 'ok', store: s.store.kind, version: s.version };
  });
  open.get('/metrics', doc({ summary: 'Prometheus metrics', description: 'With METRICS_TOKEN set, for `Authorization: Bearer $METRICS_TOKEN`; without it, see docs (local clients only when a store is shared).', tag: 'ops', responses: { 200: { description: 'Prometheus text exposition', contentType: 'text/plain' }, 401: { description: 'METRICS_TOKEN is set and not given', schema: ErrorBody }, 403: { description: 'not a client this answers', schema: ErrorBody } } }), metricsAccess(s.env), async (ctx) => {
    ctx.type = s.metrics.registry.contentType;
    ctx.body = await s.metrics.registry.metrics();
  });
  mount(app, open);
  mount(app, consoleRouter(s));
  mount(app, oauthRouter(s, signIn, consoleKey(s.env.CONSOLE_SECRET, s.env.ADMIN_TOKEN)));
  for (const p of chat.platforms) if (p.routes) mount(app, p.routes);
  mount(app, apiRouter(s));
  mount(app, workflowRouter(s, chat));
  mount(app, policyRouter(s));
  mount(app, backtestRouter(s));
  // the console platform's receiver: its act-as routes under /api/v1, behind the admin token
  const consoleApi = new AdminRouter(s.gate);
  chat.console.mount(consoleApi.forUsers, { document: readDocument, validate, actAs });
  mount(app, consoleApi);
  // the API's description, from the routers above, and its reference page
  const routers = () => app.middleware.flatMap((mw) => (mw as unknown as { router?: Router }).router ?? []);
  mount(app, openApiRouter(s.gate, routers, s.version));
  mount(app, docsRouter());
  return app;
}

/**
 * Deny by default: the bearer check belongs to AdminRouter, so a route under /api on any other router would be
 * served to anyone. Refuse to start with one (route paths match in any letter case).
 */
function mount(app: Koa, router: Router): void {
  if (!(router instanceof AdminRouter)) {
    const open = router.stack.find((layer) => typeof layer.path !== 'string' || /^\/api(\/|$)/i.test(layer.path));
    if (open) throw new Error(`route ${String(open.path)} must be registered on an AdminRouter (the /api bearer check)`);
  }
  app.use(router.routes()).use(router.allowedMethods({ throw: false }));
}
