// What the HTTP routes need from the running service: the contract between src/service.ts (which builds these
// and mounts the routers) and src/http/* (which only use them), so neither imports the other's module.
import type { AuditLog } from '../app/audit.ts';
import type { Bot } from '../app/bot.ts';
import type { EvalPool } from '../app/eval-pool.ts';
import type { Outbox } from '../app/outbox.ts';
import type { PolicyService } from '../app/policy-service.ts';
import type { Recomputer } from '../app/recompute.ts';
import type { Digests } from '../app/workflows/digest.ts';
import type { Scoring } from '../app/workflows/scoring.ts';
import type { AppEnv } from '../config/env.ts';
import type { ConfigFiles } from '../config/files.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import type { Gate } from './auth.ts';
import type { SignedLinks } from './links.ts';
import type { AppMetrics } from './metrics.ts';

export interface Services {
  env: AppEnv;
  files: ConfigFiles;
  store: Store;
  clock: Clock;
  log: Logger;
  metrics: AppMetrics;
  policies: PolicyService;
  recomputer: Recomputer;
  /** signed console links and sessions */
  links: SignedLinks;
  /** who may call the API (the admin token, console sessions) */
  gate: Gate;
  version: string;
  /** worker threads for large read-only evaluations (the what-if); null: in the event loop's thread */
  pool: EvalPool | null;
}

/** The chat side as the workflow routes use it (src/chat.ts's `Chat` is one). */
export interface ChatServices {
  readonly bot: Bot;
  readonly outbox: Outbox;
  readonly audit: AuditLog;
  readonly scoring: Scoring;
  readonly digests: Digests;
  /** waits for handlers' background work and delivers what it queued */
  settle(): Promise<void>;
}
