// Composition of the chat side: bot core, outbox, platforms (the built-in console and the configured ones from
// the registry, each created from its descriptor), workflows (scoring, alerts, digests, commands). No business
// logic here.
import { platformConfig, type AppEnv } from './config/env.ts';
import type { Schedule } from './config/files.ts';
import { AuditLog } from './app/audit.ts';
import { Bot } from './app/bot.ts';
import { unknownCommandNotice, unknownUserNotice } from './app/texts.ts';
import { Background } from './inbound/work.ts';
import { Notifier } from './app/notifier.ts';
import { Outbox, type OutboxOptions } from './app/outbox.ts';
import type { PolicyService } from './app/policy-service.ts';
import { Reevaluator } from './app/reevaluate.ts';
import { Alerts } from './app/workflows/alerts.ts';
import { Commands } from './app/workflows/commands.ts';
import type { WorkflowDeps } from './app/workflows/context.ts';
import { Digests } from './app/workflows/digest.ts';
import { Scoring } from './app/workflows/scoring.ts';
import type { Logger } from './logger.ts';
import { consolePlatform, type ConsolePlatformModule } from './platforms/console/index.ts';
import { platforms as registered } from './platforms/registry.ts';
import type { Timer } from './ports/delivery.ts';
import type { Clock } from './ports/clock.ts';
import type { ConsoleLinks } from './ports/links.ts';
import type { Messenger, Platform } from './ports/messenger.ts';
import type { AnyPlatformDescriptor, PlatformModule } from './ports/platform.ts';
import type { Store } from './ports/store.ts';

export interface ChatOptions {
  env: AppEnv;
  schedule: Schedule;
  store: Store;
  clock: Clock;
  log: Logger;
  policies: PolicyService;
  /** links into the console that cards carry (signed per recipient) */
  links: ConsoleLinks;
  outbox?: OutboxOptions;
  /** rate-limit timer for platform clients (tests) */
  timer?: Timer;
  /** extra messengers (tests) */
  messengers?: Messenger[];
  /** the platforms, in order of preference: the registry's unless a test brings its own (with loadEnv's) */
  platforms?: readonly AnyPlatformDescriptor[];
}

export class Chat {
  readonly bot: Bot;
  readonly outbox: Outbox;
  readonly notifier: Notifier;
  readonly audit: AuditLog;
  /** the built-in console: its messenger and its act-as routes (mounted by src/service.ts) */
  readonly console: ConsolePlatformModule;
  readonly scoring: Scoring;
  readonly alerts: Alerts;
  readonly digests: Digests;
  readonly reevaluator: Reevaluator;
  readonly platforms: PlatformModule[];

  constructor(private readonly o: ChatOptions) {
    const { env, store, clock, log, policies } = o;
    const docs = store.docs;
    const descriptors: readonly AnyPlatformDescriptor[] = o.platforms ?? registered;
    this.bot = new Bot({
      store,
      docs,
      clock,
      log,
      platforms: [...descriptors, consolePlatform],
      background: new Background((err, what) => log.error({ err }, `bot: ${what} failed`)),
      onUnknownUser: async (event) => {
        await this.notifier.reply({ platform: event.platform, kind: 'user', id: event.actor.platformUserId }, unknownUserNotice(await o.links.url(null)), { kind: 'unknown_user', subject: event.actor.platformUserId, period: new Date(clock.now()).toISOString().slice(0, 10) });
      },
      onUnknownCommand: async (ctx) => {
        await this.notifier.reply({ platform: ctx.event.platform, kind: 'user', id: ctx.event.actor.platformUserId }, unknownCommandNotice(ctx.locale, await o.links.url(null)), { kind: 'reply', subject: ctx.event.eventId, period: 'unknown' });
      },
    });
    this.console = consolePlatform.create({ sink: this.bot, docs, clock, settle: () => this.settle() });
    const deps = { sink: this.bot, clock, log, docs, timer: o.timer };
    const configured = descriptors.filter((d) => (env.platforms as readonly string[]).includes(d.name));
    this.platforms = configured.map((d) => d.create(deps, platformConfig(env, d)));
    const messengers = new Map<Platform, Messenger>([['console', this.console.messenger]]);
    for (const p of this.platforms) messengers.set(p.platform, p.messenger);
    for (const m of o.messengers ?? []) messengers.set(m.platform, m);
    this.outbox = new Outbox(docs, messengers, clock, o.outbox, log);
    const enabled = descriptors.filter((d) => messengers.has(d.name as Platform));
    this.notifier = new Notifier(this.outbox, clock, enabled, async () => ({ hours: o.schedule.quietHours, timezone: (await policies.active()).policy.timezone }));
    this.audit = new AuditLog(docs, clock);
    this.reevaluator = new Reevaluator(store, policies, clock);
    const workflowDeps: WorkflowDeps = {
      store, docs, clock, policies, bot: this.bot, notifier: this.notifier, outbox: this.outbox, audit: this.audit,
      reevaluator: this.reevaluator, links: o.links, scoreRequestTtlDays: o.schedule.scoreRequestTtlDays, maxCardsPerDay: o.schedule.alerts.maxCardsPerDay, log,
    };
    this.scoring = new Scoring(workflowDeps);
    this.alerts = new Alerts(workflowDeps, this.scoring);
    this.digests = new Digests(workflowDeps, this.scoring, { segmentBy: o.schedule.digestSegmentBy });
    new Commands(workflowDeps, this.scoring, this.alerts).register(this.bot);
  }

  async init(): Promise<void> {
    await Promise.all([this.outbox.init(), this.audit.init(), this.scoring.init()]);
  }

  /** Starts the delivery worker and the platforms' long connections. */
  async start(): Promise<void> {
    this.outbox.start();
    for (const p of this.platforms) await p.start?.();
  }

  /** Waits for handlers' background work and delivers what it queued (console actions, tests). */
  async settle(timeoutMs = 3000): Promise<void> {
    await this.bot.idle();
    await this.outbox.drain(timeoutMs);
  }

  async stop(): Promise<void> {
    for (const p of this.platforms) await p.stop?.();
    await this.bot.idle();
    await this.outbox.stop();
  }
}
