// The console's receiver: its act-as endpoints under the admin API (GET /api/v1/console/inbox, POST
// /api/v1/console/action, POST /api/v1/console/command). A click or a command there becomes the same
// normalised InboundAction / InboundMessage the chat platforms hand the sink; the answer waits for the
// handler's work and its cards, so the console shows the result at once.
import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { InboundSink } from '../../ports/messenger.ts';
import { doc } from '../../inbound/route-doc.ts';
import type { ConsoleMessenger } from './messenger.ts';
import { render } from './render.ts';

/** Where the routes go: the API's router, for the org users it lets in as well as for admins. */
export interface ConsoleRouter {
  get(path: string, ...handlers: Middleware[]): unknown;
  post(path: string, ...handlers: Middleware[]): unknown;
}

/** How the admin API reads and validates a body (its limits and error answers), lent to the console's routes. */
export interface ConsoleHttp {
  /** a JSON document (src/http/body.ts readDocument) */
  document(ctx: Context): Promise<unknown>;
  /** the input as the schema's output, or the API's 422 with every problem */
  validate<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S>;
  /** the user the request may act as: the one asked for (admins), else the caller themselves (403 for anyone else) */
  actAs(ctx: Context, requested: string): string;
}

export interface ConsoleRoutesDeps {
  sink: InboundSink;
  messenger: ConsoleMessenger;
  /** waits for the handlers' background work and delivers what it queued */
  settle(): Promise<void>;
}

const actAs = z.string().min(1);
const inboxQuery = z.object({ as: actAs, limit: z.coerce.number().int().min(1).max(200).default(30) });
const consoleAction = z.strictObject({
  as: actAs,
  action: z.string().min(1),
  ref: z.string().min(1),
  option: z.string().optional(),
  values: z.record(z.string(), z.string()).default({}),
  messageId: z.string().optional(),
});
const consoleCommand = z.strictObject({ as: actAs, text: z.string().min(1).max(500) });

// what the routes answer (a card as the console renders it: the platform-neutral card)
const card = z.looseObject({ kind: z.string(), title: z.string() }).meta({ id: 'Card', description: 'a card (cards/model.ts), as the console renders it' });
const inbox = z.object({ items: z.array(z.object({ id: z.string(), createdAt: z.string(), updatedAt: z.string(), card })) });
const actionReply = z
  .object({ toast: z.object({ kind: z.enum(['success', 'info', 'warning', 'error']), text: z.string() }).optional(), card: card.optional().describe('replaces the clicked card') })
  .meta({ id: 'ActionReply' });
const commandDone = z.object({ ok: z.literal(true) });

/** Registers the console's routes on `router` (the admin router, prefix /api/v1: the bearer check is its). */
export function registerConsoleRoutes(router: ConsoleRouter, http: ConsoleHttp, { sink, messenger, settle }: ConsoleRoutesDeps): void {
  router.get('/console/inbox', doc({ summary: "A person's console inbox: the cards sent to them", tag: 'console', query: inboxQuery, responses: { 200: inbox } }), async (ctx) => {
    const q = http.validate(inboxQuery, ctx.query, 'query');
    const cards = await messenger.inbox(http.actAs(ctx, q.as), q.limit);
    ctx.body = { items: cards.map((c) => ({ id: c._id, createdAt: c.createdAt, updatedAt: c.updatedAt, card: render(c.card) })) };
  });
  router.post('/console/action', doc({ summary: 'Click a card action as a person (admins: anyone; others: themselves)', tag: 'console', body: consoleAction, responses: { 200: actionReply } }), async (ctx) => {
    const body = http.validate(consoleAction, await http.document(ctx), 'body');
    const as = http.actAs(ctx, body.as);
    const reply = await sink.handleAction({
      type: 'action',
      platform: 'console',
      eventId: randomUUID(),
      actor: { platform: 'console', platformUserId: as },
      action: body.action,
      ref: body.ref,
      option: body.option,
      values: body.values,
      message: body.messageId ? { platform: 'console', messageId: body.messageId } : undefined,
    });
    await settle();
    ctx.body = reply;
  });
  router.post('/console/command', doc({ summary: 'Send a chat command as a person (admins: anyone; others: themselves)', tag: 'console', body: consoleCommand, responses: { 200: commandDone } }), async (ctx) => {
    const body = http.validate(consoleCommand, await http.document(ctx), 'body');
    const as = http.actAs(ctx, body.as);
    await sink.handleMessage({ type: 'message', platform: 'console', eventId: randomUUID(), actor: { platform: 'console', platformUserId: as }, text: body.text, chat: { id: as, kind: 'p2p' } });
    await settle();
    ctx.body = { ok: true };
  });
}
