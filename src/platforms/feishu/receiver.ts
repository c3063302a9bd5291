// Inbound Feishu/Lark: one mapping from Feishu's card callback (card.action.trigger) and chat message
// (im.message.receive_v1) to the normalised InboundAction / InboundMessage, shared by the webhook route here
// and the long connection (ws.ts), plus the webhook route itself.
//
// Webhook (POST /webhooks/feishu, events and card callbacks on one URL), inside the shared webhook frame
// (src/inbound/webhook.ts: body within the profile's limit, refusals): createFeishuVerifier (url_verification,
// signature/token, decryption, replay window) → our app id → dispatch. Card callbacks are answered with
// `{toast}` (always an object, at least `{}`) by the profile's deadline (feishuInbound); messages are
// acknowledged with `{}` at once and handed to the sink afterwards. The core dedupes by eventId.
import Router from '@koa/router';
import { z } from 'zod';
import { Inbound, type InboundProfile } from '../../inbound/work.ts';
import { webhook } from '../../inbound/webhook.ts';
import { doc, REFUSED } from '../../inbound/route-doc.ts';
import type { FeishuConfig } from './config.ts';
import type { Logger } from '../../logger.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ActionReply, InboundAction, InboundMessage, InboundSink } from '../../ports/messenger.ts';
import { safeEqual } from '../shared/compare.ts';
import { VerificationError } from '../shared/errors.ts';
import { feishuInbound } from './profile.ts';
import { render, type FeishuCard } from './render.ts';
import { createFeishuVerifier } from './verify.ts';

export const FEISHU_WEBHOOK_PATH = '/webhooks/feishu';

export const CARD_ACTION_EVENT = 'card.action.trigger';
export const MESSAGE_EVENT = 'im.message.receive_v1';

/** The body of a card callback answer (https://open.feishu.cn/document/feishu-cards/card-callback-communication). */
export interface FeishuCallbackResponse {
  toast?: { type: 'success' | 'info' | 'warning' | 'error'; content: string };
  card?: { type: 'raw'; data: FeishuCard };
}

const FAILED: FeishuCallbackResponse = { toast: { type: 'error', content: '处理失败，请稍后再试 / Something went wrong, please try again' } };
const UNKNOWN_CARD: FeishuCallbackResponse = { toast: { type: 'warning', content: '此卡片已不可用 / This card can no longer be used' } };

const formValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]);

const cardActionEvent = z.looseObject({
  operator: z.looseObject({ open_id: z.string().min(1) }),
  action: z.looseObject({
    value: z.looseObject({ k: z.string().min(1), r: z.string(), v: z.string().optional() }),
    form_value: z.record(z.string(), formValue).optional(),
    /** a select_static outside a form */
    option: z.string().optional(),
  }),
  context: z.looseObject({ open_message_id: z.string().min(1).optional() }).optional(),
});

const messageEvent = z.looseObject({
  sender: z.looseObject({
    sender_id: z.looseObject({ open_id: z.string().min(1) }),
    sender_type: z.string(),
  }),
  message: z.looseObject({
    chat_id: z.string().min(1),
    chat_type: z.string(),
    message_type: z.string(),
    content: z.string(),
    mentions: z.array(z.looseObject({ key: z.string() })).optional(),
  }),
});

/**
 * card.action.trigger → InboundAction. `event` is the envelope's `event` (webhook) or the SDK's flattened
 * data (long connection, where the event fields sit at the top level); null when it is not one of our cards.
 */
export function toInboundAction(eventId: string, event: unknown): InboundAction | null {
  const parsed = cardActionEvent.safeParse(event);
  if (!parsed.success) return null;
  const { operator, action, context } = parsed.data;
  const values: Record<string, string> = {};
  for (const [name, v] of Object.entries(action.form_value ?? {})) values[name] = Array.isArray(v) ? v.join(',') : String(v);
  const option = action.value.v ?? action.option;
  return {
    type: 'action',
    platform: 'feishu',
    eventId,
    actor: { platform: 'feishu', platformUserId: operator.open_id },
    action: action.value.k,
    ref: action.value.r,
    ...(option !== undefined ? { option } : {}),
    values,
    ...(context?.open_message_id ? { message: { platform: 'feishu' as const, messageId: context.open_message_id } } : {}),
  };
}

/** The text of a text message with every @mention placeholder (`@_user_1`, `@_all`) removed. */
export function messageText(content: string, mentionKeys: string[] = []): string | null {
  let text: unknown;
  try {
    text = (JSON.parse(content) as { text?: unknown }).text;
  } catch {
    return null;
  }
  if (typeof text !== 'string') return null;
  for (const key of mentionKeys) text = (text as string).split(key).join(' ');
  return (text as string).replace(/@_user_\d+|@_all/g, ' ').replace(/\s+/g, ' ').trim();
}

/** im.message.receive_v1 → InboundMessage; null for anything but a person's text message. */
export function toInboundMessage(eventId: string, event: unknown): InboundMessage | null {
  const parsed = messageEvent.safeParse(event);
  if (!parsed.success) return null;
  const { sender, message } = parsed.data;
  if (sender.sender_type !== 'user' || message.message_type !== 'text') return null;
  const text = messageText(message.content, (message.mentions ?? []).map((m) => m.key));
  if (text === null) return null;
  return {
    type: 'message',
    platform: 'feishu',
    eventId,
    actor: { platform: 'feishu', platformUserId: sender.sender_id.open_id },
    text,
    chat: { id: message.chat_id, kind: message.chat_type === 'p2p' ? 'p2p' : 'group' },
  };
}

export function callbackResponse(reply: ActionReply): FeishuCallbackResponse {
  const out: FeishuCallbackResponse = {};
  if (reply.toast) out.toast = { type: reply.toast.kind, content: reply.toast.text };
  if (reply.card) out.card = { type: 'raw', data: render(reply.card) };
  return out;
}

/** The two inbound events, whatever the transport; both always answer an object. */
export class FeishuInbound {
  /** feishuInbound, with the overrides given (tests shorten the deadline) */
  readonly profile: InboundProfile;
  /** the shared mechanism: background work and the deadline */
  private readonly inbound: Inbound;

  constructor(
    private readonly sink: InboundSink,
    private readonly log: Logger,
    profile: Partial<InboundProfile> = {},
  ) {
    this.profile = { ...feishuInbound, ...profile };
    this.inbound = new Inbound(this.profile, log);
  }

  /** The sink's answer by the deadline; past it `{}` (no toast), and the handler finishes in the background. */
  async cardAction(eventId: string, event: unknown): Promise<FeishuCallbackResponse> {
    const action = toInboundAction(eventId, event);
    if (!action) {
      this.log.warn({ eventId }, 'feishu card callback without our {k, r} value');
      return UNKNOWN_CARD;
    }
    const work = this.sink.handleAction(action).then(callbackResponse, (err: unknown) => {
      this.log.error({ err, eventId }, 'feishu card action failed');
      return FAILED;
    });
    return this.inbound.answer('card action', work, () => ({}));
  }

  /** Acknowledges at once; the sink gets the message afterwards. */
  message(eventId: string, event: unknown): Record<string, never> {
    const message = toInboundMessage(eventId, event);
    if (message) this.inbound.later('message handling', () => this.sink.handleMessage(message));
    return {};
  }

  /** Waits for work still running after its answer (shutdown, tests). */
  idle(): Promise<void> {
    return this.inbound.idle();
  }

  /** Events we are not subscribed to (or no longer handle) are acknowledged so Feishu does not re-push them. */
  dispatch(eventType: string, eventId: string, event: unknown): Promise<FeishuCallbackResponse> | Record<string, never> {
    if (eventType === CARD_ACTION_EVENT) return this.cardAction(eventId, event);
    if (eventType === MESSAGE_EVENT) return this.message(eventId, event);
    this.log.debug({ eventType, eventId }, 'feishu event ignored');
    return {};
  }
}

export interface FeishuWebhookDeps {
  env: FeishuConfig;
  clock: Clock;
  log: Logger;
  inbound: FeishuInbound;
}

/** POST /webhooks/feishu: events and card callbacks (same URL for both in the developer console). */
export function feishuWebhookRouter({ env, clock, log, inbound }: FeishuWebhookDeps): Router {
  const verify = createFeishuVerifier({ encryptKey: env.FEISHU_ENCRYPT_KEY, verificationToken: env.FEISHU_VERIFICATION_TOKEN });
  const appId = env.FEISHU_APP_ID!;
  const router = new Router();

  router.post(
    FEISHU_WEBHOOK_PATH,
    doc({ summary: 'Feishu events and card actions', tag: 'webhooks', auth: 'platform', description: "verified before anything else (docs/platforms/)", bodyTypes: ['application/json'], responses: { 200: { description: "Feishu's answer: the URL-verification challenge, a card action's toast or card, or {}" }, 400: REFUSED, 401: REFUSED, 403: REFUSED, 413: REFUSED } }),
    webhook(inbound.profile, log, async (ctx, rawBody) => {
      const inboundEvent = verify({ rawBody, headers: ctx.headers }, clock.now());
      if (inboundEvent.kind === 'event') {
        // v2 envelopes name the app they are for; another app's event is authentic but not ours.
        const header = inboundEvent.body.header as { app_id?: unknown } | undefined;
        const forApp = typeof header?.app_id === 'string' ? header.app_id : undefined;
        if (forApp !== undefined && !safeEqual(forApp, appId)) throw new VerificationError('wrong_receiver', 'event for another app');
      }
      if (inboundEvent.kind === 'url_verification') {
        ctx.body = { challenge: inboundEvent.challenge };
        return;
      }
      if (inboundEvent.schema !== '2.0') {
        ctx.body = {};
        return;
      }
      ctx.body = await inbound.dispatch(inboundEvent.eventType, inboundEvent.eventId, inboundEvent.body.event);
    }),
  );
  return router;
}
