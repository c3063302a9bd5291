// How a chat platform plugs in: a messenger for outgoing cards, and receivers (webhook routes and/or
// a long connection) that hand normalised events to the core's InboundSink. Composition lives in
// src/platforms/index.ts; the core never imports a platform folder.
import type Router from '@koa/router';
import type { AppEnv } from '../config/env.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { DocStore } from '../ports/doc-store.ts';
import type { InboundSink, Messenger, Platform } from '../ports/messenger.ts';
import type { Timer } from '../ports/delivery.ts';

export interface PlatformDeps {
  env: AppEnv;
  sink: InboundSink;
  clock: Clock;
  log: Logger;
  /** the shared documents, for claims that must hold across instances (DingTalk webhook mode needs it) */
  docs?: DocStore;
  /** rate-limit waits; tests may pass a fast timer */
  timer?: Timer;
}

export interface PlatformModule {
  platform: Platform;
  messenger: Messenger;
  /** webhook routes, mounted at the app root (e.g. POST /webhooks/feishu) */
  routes?: Router;
  /** opens long connections (Feishu ws, DingTalk Stream); resolves once connected or failed loudly */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export type PlatformFactory = (deps: PlatformDeps) => PlatformModule;
