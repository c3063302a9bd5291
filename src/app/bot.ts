// The chat core: one normalised inbound event in, handlers registered by action key or command.
// Cross-cutting steps (dedupe, identity, reference lookup, deadline, error → toast) live here once,
// so handlers cannot forget them. Handlers never write the platform response themselves.
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
  /** the platforms' identities (the registry's descriptors); the console's are built in */
  platforms: Identities;
  /** answer a callback within this long, whatever the handler is doing (Feishu's deadline is 3 s) */
  deadlineMs?: number;
  /** told when a message comes from someone who is not in the org */
  onUnknownUser?: (event: InboundMessage) => Promise<void>;
  onUnknownCommand?: (ctx: CommandContext) => Promise<void>;
}

/** How each platform maps its user ids to org users (its descriptor's `identify`). */
export type Identities = readonly Pick<PlatformDescriptor, 'name' | 'identify'>[];

/** The org user behind a platform user: console ids are org user ids; the other platforms identify their own. */
export function findUser(org: Org, platforms: Identities, platform: Platform, platformUserId: string): OrgUser | undefined {
  if (platform === 'console') return org.users.find((u) => u.id === platformUserId);
  return platforms.find((p) => p.name === platform)?.identify(org, platformUserId);
}

export const localeOf = (user?: OrgUser): Locale => user?.locale ?? 'zh-CN';

export class Bot implements InboundSink {
  private readonly actions = new Map<string, ActionHandler>();
  private readonly commands = new Map<string, CommandHandler>();
  private readonly background = new Set<Promise<void>>();

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

  private run(work: () => Promise<void>): void {
    const p = work()
      .catch((err) => this.deps.log.error({ err }, 'background work failed'))
      .finally(() => this.background.delete(p));
    this.background.add(p);
  }

  /** Waits for work scheduled with `later` (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
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
    const work = handler(ctx).then(
      (reply) => reply ?? {},
      (err: unknown) => this.errorReply(err, locale),
    );
    const deadline = this.deps.deadlineMs ?? 1500; // inside every platform's deadline (DingTalk 2 s, Feishu 3 s, WeCom 5 s)
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<ActionReply>((resolve) => {
      timer = setTimeout(() => resolve({ toast: { kind: 'info', text: t(locale, 'processing') } }), deadline);
    });
    const reply = await Promise.race([work, late]);
    clearTimeout(timer);
    // the answer is decided; deferred work runs after the handler has finished, never before it
    this.run(async () => {
      await work;
      for (const w of deferred) await w();
    });
    return reply;
  }

  async handleMessage(event: InboundMessage): Promise<void> {
    if (!(await this.firstDelivery(event.platform, event.eventId))) return;
    const org = (await this.deps.store.getOrg()) ?? { users: [], teams: [] };
    const user = findUser(org, this.deps.platforms, event.platform, event.actor.platformUserId);
    if (!user) {
      if (this.deps.onUnknownUser) this.run(() => this.deps.onUnknownUser!(event));
      return;
    }
    const text = event.text.replace(/@\S+\s*/g, '').trim();
    const [word = '', ...rest] = text.split(/\s+/);
    const handler = this.commands.get(word.toLowerCase());
    const deferred: (() => Promise<void>)[] = [];
    const ctx: CommandContext = { event, user, org, args: rest.join(' '), locale: localeOf(user), later: (w) => deferred.push(w) };
    this.run(async () => {
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
