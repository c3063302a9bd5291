// The chat core: one normalised inbound event in, handlers registered by action key or command.
// Cross-cutting steps (dedupe, identity, reference lookup, error → toast, work after the answer) live here once,
// so handlers cannot forget them. Handlers never write the platform response themselves. How long a platform
// waits for the answer is the platform's (its inbound profile): the receivers answer at that deadline, the bot
// runs no timer of its own.
import { randomBytes } from 'node:crypto';
import type { Doc, DocStore } from '../ports/doc-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { ActionReply, InboundAction, InboundMessage, InboundSink, Platform } from '../ports/messenger.ts';
import type { PlatformDescriptor } from '../ports/platform.ts';
import type { Org, OrgUser, Store } from '../ports/store.ts';
import { AppError } from './errors.ts';
import { t, type Locale } from './texts.ts';

const SEEN = 'seenEvents';
const REFS = 'actionRefs';

/** What a card's action reference stands for; stored server-side, never taken from the click. */
export interface ActionRef extends Doc {
  kind: string;
  customerId?: string;
  requestId?: string;
  /** org users allowed to use it; empty = anyone the handler authorises */
  audience: string[];
  createdAt: string;
  data?: Record<string, unknown>;
}

export interface ActionContext {
  event: InboundAction;
  user: OrgUser;
  org: Org;
  ref: ActionRef;
  locale: Locale;
  /** work to run after the answer went out (sending cards, re-evaluating) */
  later(work: () => Promise<void>): void;
}

export interface CommandContext {
  event: InboundMessage;
  user: OrgUser;
  org: Org;
  args: string;
  locale: Locale;
  later(work: () => Promise<void>): void;
}

export type ActionHandler = (ctx: ActionContext) => Promise<ActionReply | void>;
export type CommandHandler = (ctx: CommandContext) => Promise<void>;

export interface BotDeps {
  store: Store;
  docs: DocStore;
  clock: Clock;
  log: { warn: (o: object, m: string) => void; error: (o: object, m: string) => void };
  /** the platforms' identities: the registry's descriptors and the console's */
  platforms: Identities;
  /** where work after an answer runs (the shared tracker of src/inbound/work.ts); shutdown waits for it */
  background: BackgroundWork;
  /** told when a message comes from someone who is not in the org */
  onUnknownUser?: (event: InboundMessage) => Promise<void>;
  onUnknownCommand?: (ctx: CommandContext) => Promise<void>;
}

/** Work that runs after an answer went out: failures are logged, `idle()` waits for all of it. */
export interface BackgroundWork {
  run(what: string, work: () => Promise<void>): void;
  idle(): Promise<void>;
}

/** How each platform maps its user ids to org users (its descriptor's `identify`). */
export type Identities = readonly Pick<PlatformDescriptor, 'name' | 'identify'>[];

/** The org user behind a platform user: each platform identifies its own (console ids are org user ids). */
export function findUser(org: Org, platforms: Identities, platform: Platform, platformUserId: string): OrgUser | undefined {
  return platforms.find((p) => p.name === platform)?.identify(org, platformUserId);
}

export const localeOf = (user?: OrgUser): Locale => user?.locale ?? 'zh-CN';

export class Bot implements InboundSink {
  private readonly actions = new Map<string, ActionHandler>();
  private readonly commands = new Map<string, CommandHandler>();

  constructor(private readonly deps: BotDeps) {}

  action(key: string, handler: ActionHandler): this {
    this.actions.set(key, handler);
    return this;
  }

  command(names: string[], handler: CommandHandler): this {
    for (const n of names) this.commands.set(n.toLowerCase(), handler);
    return this;
  }

  /** Mints an opaque reference for a card action. */
  async mintRef(ref: Omit<ActionRef, '_id' | 'createdAt'>): Promise<string> {
    const id = randomBytes(12).toString('base64url');
    await this.deps.docs.insert(REFS, { ...ref, _id: id, createdAt: new Date(this.deps.clock.now()).toISOString() });
    return id;
  }

  /** True the first time an event id is seen (across instances: insert-wins). */
  private async firstDelivery(platform: Platform, eventId: string): Promise<boolean> {
    return this.deps.docs.insert(SEEN, { _id: `${platform}:${eventId}`, at: this.deps.clock.now() });
  }

  /** Waits for work scheduled with `later` (tests, shutdown). */
  idle(): Promise<void> {
    return this.deps.background.idle();
  }

  async handleAction(event: InboundAction): Promise<ActionReply> {
    const org = (await this.deps.store.getOrg()) ?? { users: [], teams: [] };
    const user = findUser(org, this.deps.platforms, event.platform, event.actor.platformUserId);
    const locale = localeOf(user);
    if (!(await this.firstDelivery(event.platform, event.eventId))) return { toast: { kind: 'info', text: t(locale, 'duplicateClick') } };
    if (!user) return { toast: { kind: 'warning', text: t(locale, 'unknownUser') } };
    const handler = this.actions.get(event.action);
    const ref = event.ref ? await this.deps.docs.get<ActionRef>(REFS, event.ref) : null;
    if (!handler || !ref) return { toast: { kind: 'warning', text: t(locale, 'staleCard') } };
    if (ref.audience.length > 0 && !ref.audience.includes(user.id) && user.role !== 'admin') {
      return { toast: { kind: 'error', text: t(locale, 'notYourCard') } };
    }

    const deferred: (() => Promise<void>)[] = [];
    const ctx: ActionContext = { event, user, org, ref, locale, later: (w) => deferred.push(w) };
    const reply = await handler(ctx).then(
      (r) => r ?? {},
      (err: unknown) => this.errorReply(err, locale),
    );
    // the answer is decided; deferred work runs after the handler has finished, never before it
    if (deferred.length > 0) {
      this.deps.background.run('action follow-up', async () => {
        for (const w of deferred) await w();
      });
    }
    return reply;
  }

  async handleMessage(event: InboundMessage): Promise<void> {
    if (!(await this.firstDelivery(event.platform, event.eventId))) return;
    const org = (await this.deps.store.getOrg()) ?? { users: [], teams: [] };
    const user = findUser(org, this.deps.platforms, event.platform, event.actor.platformUserId);
    if (!user) {
      if (this.deps.onUnknownUser) this.deps.background.run('unknown-user answer', () => this.deps.onUnknownUser!(event));
      return;
    }
    const text = event.text.replace(/@\S+\s*/g, '').trim();
    const [word = '', ...rest] = text.split(/\s+/);
    const handler = this.commands.get(word.toLowerCase());
    const deferred: (() => Promise<void>)[] = [];
    const ctx: CommandContext = { event, user, org, args: rest.join(' '), locale: localeOf(user), later: (w) => deferred.push(w) };
    this.deps.background.run('command', async () => {
      if (handler) await handler(ctx);
      else await this.deps.onUnknownCommand?.(ctx);
      for (const w of deferred) await w();
    });
  }

  private errorReply(err: unknown, locale: Locale): ActionReply {
    if (err instanceof AppError) return { toast: { kind: err.code === 'validation_failed' ? 'warning' : 'error', text: err.message } };
    this.deps.log.error({ err }, 'action handler failed');
    return { toast: { kind: 'error', text: t(locale, 'internalError') } };
  }
}
