// Starts the real app on an ephemeral loopback port over a given store.
import { resolve } from 'node:path';
import { loadEnv } from '../../src/config/env.ts';
import { loadConfigFiles } from '../../src/config/files.ts';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { MongoStore } from '../../src/adapters/mongo/mongo-store.ts';
import { createLogger } from '../../src/logger.ts';
import { createTierbot, type Tierbot, type TierbotOptions } from '../../src/service.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { Store } from '../../src/ports/store.ts';
import { mongoTestDb } from '../setup/mongo.ts';
import { demoData, seedDemo } from '../../src/app/demo.ts';
import { orderSchema, toOrderInput } from '../../src/app/inputs.ts';
import { PolicyService } from '../../src/app/policy-service.ts';

export const TEST_TOKEN = 'test-admin-token-0123456789';

export interface TestApp {
  bot: Tierbot;
  url: string;
  /** fetch with the admin token */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export type StoreKind = 'memory' | 'mongo';

export function makeTestStore(kind: StoreKind, label = 'app'): Store {
  if (kind === 'memory') return new MemoryStore();
  const t = mongoTestDb(label);
  if (!t) throw new Error('no MongoDB-wire server for this run');
  return new MongoStore(t.uri, t.dbName);
}

export interface StartAppOptions {
  clock?: Clock;
  env?: Record<string, string>;
  /** passed to createTierbot: outbox options, a fast rate-limit timer, extra messengers */
  chat?: TierbotOptions['chat'];
  /**
   * open the platforms' long connections (DingTalk Stream, Feishu ws) once listening. The outbox worker and
   * the cron schedules are not started: tests drain with `bot.chat.settle()`.
   */
  connect?: boolean;
}

export async function startApp(store: Store, opts: StartAppOptions = {}): Promise<TestApp> {
  const env = loadEnv({ PORT: '0', ADMIN_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent', ...opts.env });
  const files = await loadConfigFiles(resolve(import.meta.dirname, '../../config'));
  const bot = await createTierbot({ env, files, store, log: createLogger(process.env.TIERBOT_TEST_LOG ?? 'silent'), clock: opts.clock, chat: opts.chat });
  const { url } = await bot.listen();
  if (opts.connect) {
    try {
      for (const p of bot.chat.platforms) await p.start?.();
    } catch (err) {
      await bot.close();
      throw err;
    }
  }
  return {
    bot,
    url,
    async api(path, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${TEST_TOKEN}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      const res = await fetch(url + path, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        /* text body, e.g. /metrics */
      }
      return { status: res.status, body, headers: res.headers };
    },
    async close() {
      await bot.close();
    },
  };
}

/** The app on the demo (its org and 500 customers) after a first recompute, its cards delivered. */
export async function startDemoApp(opts: StartAppOptions = {}): Promise<TestApp> {
  const app = await startApp(new MemoryStore(), { ...opts, env: { TIERBOT_DEMO: '0', ...opts.env } });
  await seedDemo(app.bot.store, app.bot.files.demoOrg!, app.bot.clock.now());
  await app.bot.recomputer.start().done;
  await app.bot.chat.settle();
  return app;
}

/** A clock tests can set. */
export function fixedClock(iso: string): Clock & { set(iso: string): void } {
  let now = Date.parse(iso);
  return { now: () => now, set: (v: string) => (now = Date.parse(v)) };
}

/**
 * A store holding the demo org and `count` demo customers with their orders, and a policy whose
 * downgrades need two consecutive runs (so a run applied twice would show).
 */
export async function seededDemoStore(kind: StoreKind, label: string, count: number, seed: number, clock: Clock) {
  const store = makeTestStore(kind, label);
  await store.init();
  const files = await loadConfigFiles(resolve(import.meta.dirname, '../../config'));
  const policies = new PolicyService(store, clock);
  await policies.ensure({ ...files.policy, stability: { downgradeAfterRuns: 2 } });
  const data = demoData(files.demoOrg!, clock.now(), count, seed);
  await store.putOrg(files.demoOrg!);
  await store.upsertCustomers(data.customers);
  await store.ingestOrders(data.orders.map((o) => toOrderInput(orderSchema.parse(o))));
  return { store, policies };
}
