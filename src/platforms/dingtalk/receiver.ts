// The DingTalk receiver: one normalisation for both transports (Stream frames and HTTP callbacks) and the
// HTTP callback route `POST /webhooks/dingtalk` (DINGTALK_MODE=webhook).
//
// - Robot messages (Stream topic /v1.0/im/bot/messages/get, or the robot's HTTP "message receive URL") become
//   an InboundMessage; a `/tb <k> <r> [<v>]` command (what a template-free card's action link makes the user's
//   client send, render.ts) becomes an InboundAction whose reply goes back through the message's sessionWebhook.
// - Card callbacks (Stream topic /v1.0/card/instances/callback, or in webhook mode a signed HTTP POST,
//   card-callback.ts) become an InboundAction; the sink's ActionReply is translated into the callback response
//   (card data, and the toast as the clicker's private data). Both transports carry the same data
//   (open-dingtalk/dingtalk-card-examples README: Stream and HTTP differ only in transport and callbackType).
// - HTTP callbacks: event-subscription crypto (check_url and events, answered with the encrypted "success"),
//   robot outgoing messages signed with `timestamp` + `sign` headers, and card clicks signed with the
//   `x-ddpaas-signature*` headers; robot and card signature pairs are accepted once each (robot-signs.ts: those
//   signatures do not cover the body).
import { createHash } from 'node:crypto';
import Router from '@koa/router';
import { z } from 'zod';
import { ACTION_KEYS, type Card } from '../../../cards/model.ts';
import { Inbound, type InboundProfile } from '../../inbound/work.ts';
import { webhook } from '../../inbound/webhook.ts';
import { doc, REFUSED } from '../../inbound/route-doc.ts';
import type { Logger } from '../../logger.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ActionReply, InboundAction, InboundMessage, InboundSink } from '../../ports/messenger.ts';
import { VerificationError } from '../shared/errors.ts';
import { headerValue, parseJsonObject, queryValue, type JsonObject } from '../shared/request-input.ts';
import { parseWith } from '../shared/schema.ts';
import { CARD_CALLBACK_HEADERS, verifyCardCallbackRequest } from './card-callback.ts';
import type { DingtalkClient } from './client.ts';
import { verifyDingtalkRobotRequest, type DingtalkCallbackCrypto } from './crypto.ts';
import type { DingtalkMessenger } from './messenger.ts';
import { dingtalkInbound } from './profile.ts';
import { parseCommand, render, type DingtalkRobotMessage } from './render.ts';
import type { RobotSignClaims } from './robot-signs.ts';
import { parseCardCallback } from './stream-frame.ts';

// ---------------------------------------------------------------------------------------------
// Normalisation (pure)

const robotMessageSchema = z.looseObject({
  msgId: z.string().optional(),
  conversationId: z.string().min(1),
  conversationType: z.union([z.string(), z.number()]).transform(String),
  /** the sender's userId; absent for people outside the org */
  senderStaffId: z.string().optional(),
  msgtype: z.string().optional(),
  text: z.looseObject({ content: z.string() }).optional(),
  content: z.unknown().optional(),
  robotCode: z.string().optional(),
  sessionWebhook: z.string().optional(),
  sessionWebhookExpiredTime: z.number().optional(),
});

export type RobotMessage = z.output<typeof robotMessageSchema>;

export function parseRobotMessage(data: JsonObject): RobotMessage {
  return parseWith(robotMessageSchema, data, 'robot message');
}

/** The message's text: `text.content`, or the text parts of a richText message; '' for other kinds. */
export function robotMessageText(msg: RobotMessage): string {
  if (msg.text) return msg.text.content.trim();
  const rich = (msg.content as { richText?: { text?: unknown }[] } | undefined)?.richText;
  if (Array.isArray(rich)) return rich.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('').trim();
  return '';
}

/**
 * A robot message as the core sees it: a `/tb` command is a click on a template-free card (an action),
 * anything else a chat message. `deliveryId` (the frame's messageId) is used when the message has no msgId.
 */
export function normaliseRobotMessage(msg: RobotMessage, deliveryId: string): InboundAction | InboundMessage | null {
  if (!msg.senderStaffId) return null;
  const actor = { platform: 'dingtalk' as const, platformUserId: msg.senderStaffId };
  const eventId = msg.msgId || deliveryId;
  const text = robotMessageText(msg);
  const command = parseCommand(text);
  if (command) {
    const action: InboundAction = { type: 'action', platform: 'dingtalk', eventId, actor, action: command.k, ref: command.r, values: {} };
    if (command.v !== undefined) action.option = command.v;
    if (command.text !== undefined) action.values.reason = command.text;
    return action;
  }
  if (!text) return null;
  return {
    type: 'message',
    platform: 'dingtalk',
    eventId,
    actor,
    text,
    chat: { id: msg.conversationId, kind: msg.conversationType === '2' ? 'group' : 'p2p' },
  };
}

const PAYLOAD_PARAMS = new Set(['k', 'r', 'v']);
/** What the template's native form sends: the values under `form`, and its own variable back as `current_form`. */
const FORM_VALUES = 'form';
const FORM_ECHO = 'current_form';

function paramsDigest(params: Record<string, unknown>): string {
  const sorted = Object.keys(params)
    .sort()
    .map((k) => [k, params[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('base64url').slice(0, 16);
}

function asString(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object parameter, or a JSON string of one (the echo of a card variable may come either way). */
function objectParam(v: unknown): Record<string, unknown> | null {
  if (isObject(v)) return v;
  if (typeof v !== 'string' || !v.startsWith('{')) return null;
  try {
    const parsed: unknown = JSON.parse(v);
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * A submitted native-form value as text: a SELECT comes as `{index, value}` (examples/表单组件的使用与更新: the
 * submitted values are what the example writes back as `defaultValue`), a TEXT as a string.
 */
function formValue(v: unknown): string {
  if (isObject(v) && 'value' in v) return asString(v.value);
  return asString(v);
}

/**
 * A card callback's `data` → InboundAction. The template's buttons carry {k, r, v} as 回传参数 (render.ts); a
 * native form submit carries its values nested under `form` and its variable (with `submit: {k, r}`) under
 * `current_form`. Every other parameter (a flat form input, a reason) is a value. Null when the click carries no
 * known key.
 * eventId: parseCardCallback's dedupeId (outTrackId + userId + actionIds) plus a digest of the parameters — a
 * redelivery repeats them exactly, while a corrected re-submit of the same form is a new event.
 */
export function cardCallbackToAction(data: string): InboundAction | null {
  const click = parseCardCallback(data);
  const submitted = objectParam(click.params[FORM_VALUES]);
  const echo = submitted ? objectParam(click.params[FORM_ECHO]) : null;
  const submit = echo && isObject(echo.submit) ? echo.submit : {};
  const k = asString(click.params.k ?? submit.k);
  if (!(ACTION_KEYS as readonly string[]).includes(k)) return null;
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(click.params)) {
    if (PAYLOAD_PARAMS.has(name) || (submitted && (name === FORM_VALUES || name === FORM_ECHO))) continue;
    values[name] = asString(value);
  }
  if (submitted) for (const [name, value] of Object.entries(submitted)) values[name] = formValue(value);
  const action: InboundAction = {
    type: 'action',
    platform: 'dingtalk',
    eventId: `${click.dedupeId}#${paramsDigest(click.params)}`,
    actor: { platform: 'dingtalk', platformUserId: click.userId },
    action: k,
    ref: asString(click.params.r ?? submit.r),
    values,
    message: { platform: 'dingtalk', messageId: click.outTrackId, meta: { outTrackId: click.outTrackId } },
  };
  const v = asString(click.params.v);
  if (v) action.option = v;
  return action;
}

/** What a card callback may answer (https://open.dingtalk.com/document/development/event-callback-card, 事件回调响应):
 * sent as `socketCallBackResponse(messageId, response)` over Stream, as the JSON body of the answer over HTTP. */
export interface CardCallbackResponse {
  cardData?: { cardParamMap: Record<string, string> };
  /** only the clicker sees it; the template shows `toast` (text) and `toastKind` (success|info|warning|error) */
  userPrivateData?: { cardParamMap: Record<string, string> };
  cardUpdateOptions: { updateCardDataByKey?: boolean; updatePrivateDataByKey?: boolean };
}

/**
 * ActionReply → card callback response. DingTalk has no toast for cards: the toast becomes the clicker's
 * private card data. `card` replaces the clicked card's data (template mode only). Null = a plain ACK.
 */
export function cardCallbackResponse(reply: ActionReply, renderCard: (card: Card) => Record<string, string> | null): CardCallbackResponse | null {
  const out: CardCallbackResponse = { cardUpdateOptions: {} };
  const cardParamMap = reply.card ? renderCard(reply.card) : null;
  if (cardParamMap) {
    out.cardData = { cardParamMap };
    out.cardUpdateOptions.updateCardDataByKey = true;
  }
  if (reply.toast) {
    out.userPrivateData = { cardParamMap: { toast: reply.toast.text, toastKind: reply.toast.kind } };
    out.cardUpdateOptions.updatePrivateDataByKey = true;
  }
  return out.cardData || out.userPrivateData ? out : null;
}

/** A robot-message rendering as a sessionWebhook body (the custom-robot format of
 * https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages). */
export function sessionMessage(rendered: DingtalkRobotMessage): Record<string, unknown> {
  const p = JSON.parse(rendered.msgParam) as Record<string, string>;
  if (rendered.msgKey === 'sampleMarkdown') return { msgtype: 'markdown', markdown: { title: p.title, text: p.text } };
  if (rendered.msgKey === 'sampleActionCard') {
    return { msgtype: 'actionCard', actionCard: { title: p.title, text: p.text, singleTitle: p.singleTitle, singleURL: p.singleURL } };
  }
  const btns: { title: string; actionURL: string }[] = [];
  for (let i = 1; p[`actionTitle${i}`] !== undefined; i++) btns.push({ title: p[`actionTitle${i}`], actionURL: p[`actionURL${i}`] });
  return { msgtype: 'actionCard', actionCard: { title: p.title, text: p.text, btnOrientation: '0', btns } };
}

// ---------------------------------------------------------------------------------------------
// Handing events to the core

export interface DingtalkInboundDeps {
  sink: InboundSink;
  messenger: DingtalkMessenger;
  client: DingtalkClient;
  clock: Clock;
  log: Logger;
  /** overrides dingtalkInbound's deadline (tests); a later reply's card goes by PUT */
  replyBudgetMs?: number;
}

export class DingtalkInbound {
  /** dingtalkInbound, with the deadline overridden by `replyBudgetMs` when given */
  readonly profile: InboundProfile;
  /** the shared mechanism: background work and the deadline */
  private readonly inbound: Inbound;

  constructor(private readonly deps: DingtalkInboundDeps) {
    this.profile = deps.replyBudgetMs === undefined ? dingtalkInbound : { ...dingtalkInbound, answerWithinMs: deps.replyBudgetMs };
    this.inbound = new Inbound(this.profile, deps.log);
  }

  /** A robot message (Stream `data` or HTTP robot body). Returns at once; the sink runs in the background. */
  robotMessage(data: JsonObject, deliveryId: string): void {
    this.inbound.later('robot message', async () => {
      const msg = parseRobotMessage(data);
      // setup aid (docs/platforms/dingtalk.md): who wrote, and the group's openConversationId
      this.deps.log.debug({ userId: msg.senderStaffId, conversationId: msg.conversationId, conversationType: msg.conversationType }, 'dingtalk: robot message');
      const event = normaliseRobotMessage(msg, deliveryId);
      if (!event) {
        this.deps.log.debug({ msgtype: msg.msgtype, deliveryId }, 'dingtalk: robot message without a sender userId or text ignored');
        return;
      }
      if (event.type === 'message') return this.deps.sink.handleMessage(event);
      const reply = await this.deps.sink.handleAction(event);
      await this.replyInSession(msg, reply);
    });
  }

  /**
   * A card click (Stream frame data, or an HTTP callback's body). Resolves within the reply budget to the
   * callback response; when the sink is slower, resolves to null (plain ACK) and applies the late reply's card
   * with an update in place (after the answer: DingTalk asks not to update a card during its callback).
   */
  async cardCallback(data: string): Promise<CardCallbackResponse | null> {
    const action = cardCallbackToAction(data);
    if (!action) {
      this.deps.log.warn({}, 'dingtalk: card callback without a known action key ignored');
      return null;
    }
    // the late answer is null (a plain ACK); the handler's own answer is never null
    const reply = await this.inbound.answer<ActionReply | null>('card callback', this.deps.sink.handleAction(action), () => null, async (late) => {
      if (late) await this.applyLate(action, late);
    });
    return reply ? cardCallbackResponse(reply, (card) => this.cardParams(card)) : null;
  }

  /** Waits for background work (tests, shutdown). */
  idle(): Promise<void> {
    return this.inbound.idle();
  }

  private cardParams(card: Card): Record<string, string> | null {
    try {
      const rendered = this.deps.messenger.render(card);
      return rendered.type === 'card' ? rendered.cardData.cardParamMap : null;
    } catch (err) {
      this.deps.log.error({ err }, 'dingtalk: reply card cannot be rendered');
      return null;
    }
  }

  private async applyLate(action: InboundAction, reply: ActionReply): Promise<void> {
    if (!reply.card || !action.message || !this.deps.messenger.templateId) return;
    await this.deps.messenger.update(action.message, reply.card, { platform: 'dingtalk', kind: 'user', id: action.actor.platformUserId });
  }

  /** The answer to a command click: the toast as text and the card as a message, in the same conversation. */
  private async replyInSession(msg: RobotMessage, reply: ActionReply): Promise<void> {
    const url = msg.sessionWebhook;
    if (!url || (msg.sessionWebhookExpiredTime !== undefined && msg.sessionWebhookExpiredTime < this.deps.clock.now())) {
      if (reply.toast || reply.card) this.deps.log.warn({ msgId: msg.msgId }, 'dingtalk: no live sessionWebhook; command reply dropped');
      return;
    }
    const at = msg.conversationType === '2' && msg.senderStaffId ? { at: { atUserIds: [msg.senderStaffId] } } : {};
    if (reply.toast) await this.deps.client.replyInSession(url, { msgtype: 'text', text: { content: reply.toast.text }, ...at });
    if (reply.card) {
      const rendered = render(reply.card);
      if (rendered.type === 'robot') await this.deps.client.replyInSession(url, sessionMessage(rendered));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP callbacks: POST /webhooks/dingtalk

export const DINGTALK_WEBHOOK_PATH = '/webhooks/dingtalk';

export interface DingtalkRoutesDeps {
  inbound: DingtalkInbound;
  /** createDingtalkCallbackCrypto({token, aesKey, clientId}) */
  crypto: DingtalkCallbackCrypto;
  /** DINGTALK_CLIENT_SECRET: the key of robot outgoing-message signatures */
  appSecret: string;
  /** DINGTALK_ROBOT_CODE: a signed robot message for another robot is refused */
  robotCode: string;
  /** the registered card callback secret (card-callback.ts); without it (no template) card callbacks are refused */
  cardApiSecret?: string;
  /** each robot and card-callback (timestamp, signature) pair is accepted once, across instances sharing the store */
  robotSigns: RobotSignClaims;
  clock: Clock;
  log: Logger;
}

const looksLikeRobotMessage = (b: JsonObject) => typeof b.conversationId === 'string' && typeof b.msgtype === 'string';

export function createDingtalkRoutes(deps: DingtalkRoutesDeps): Router {
  const router = new Router();
  router.post(
    DINGTALK_WEBHOOK_PATH,
    doc({ summary: 'DingTalk HTTP callbacks: event subscription, robot messages, card callbacks', tag: 'webhooks', auth: 'platform', description: "verified before anything else (docs/platforms/)", bodyTypes: ['application/json'], responses: { 200: { description: "DingTalk's answer: the encrypted success for events and check_url, the callback response for card clicks, or an ACK" }, 400: REFUSED, 401: REFUSED, 403: REFUSED, 413: REFUSED } }),
    webhook(deps.inbound.profile, deps.log, async (ctx, raw) => {
      const now = deps.clock.now();
      const signed = queryValue(ctx.query, 'signature', 'msg_signature') !== undefined;
      if (!signed && headerValue(ctx.headers, CARD_CALLBACK_HEADERS.signature) !== undefined) {
        // a card click (callbackType HTTP, card-callback.ts): plain JSON, answered with the callback response
        if (!deps.cardApiSecret) throw new VerificationError('bad_signature', 'no card callback route is registered');
        const signature = verifyCardCallbackRequest(ctx.headers, deps.cardApiSecret, now);
        const body = parseJsonObject(raw);
        if (body.type !== undefined && body.type !== 'actionCallback') throw new VerificationError('unsupported_payload', 'not an actionCallback');
        parseCardCallback(raw);
        // claimed last, so a malformed request cannot use up the pair of the genuine one
        if (!(await deps.robotSigns.claim(signature, 'card'))) throw new VerificationError('replayed', 'this card callback signature was already used');
        ctx.body = (await deps.inbound.cardCallback(raw)) ?? {};
        return;
      }
      if (!signed && headerValue(ctx.headers, 'sign') !== undefined) {
        // the robot's HTTP message receive URL (instead of Stream)
        const signature = verifyDingtalkRobotRequest(ctx.headers, deps.appSecret, now);
        const body = parseJsonObject(raw);
        if (typeof body.robotCode === 'string' && body.robotCode !== deps.robotCode) {
          throw new VerificationError('wrong_receiver', 'robotCode is not ours');
        }
        const msg = parseRobotMessage(body);
        // claimed last, so a malformed request cannot use up the pair of the genuine one
        if (!(await deps.robotSigns.claim(signature))) throw new VerificationError('replayed', 'this timestamp and sign were already used');
        deps.inbound.robotMessage(body, msg.msgId ?? `robot:${signature.timestamp}`);
        ctx.body = {};
        return;
      }
      const delivery = deps.crypto.openCallback(ctx.query, raw, now);
      if (delivery.kind === 'event') {
        const body = delivery.body;
        // card clicks never come this way: they are sent to the registered card callback URL (above)
        if (looksLikeRobotMessage(body)) deps.inbound.robotMessage(body, delivery.eventId);
        else deps.log.info({ eventType: delivery.eventType, eventId: delivery.eventId }, 'dingtalk: event not used by tierbot');
      }
      ctx.body = deps.crypto.successResponse({ nowMs: now });
    }),
  );
  return router;
}
