// The WeCom callback receiver (docs/architecture.md, "Inbound verification"; WeCom docs under
// https://developer.work.weixin.qq.com/document/path/: 90238 receiving, 90240 events, 90968 crypto):
//   GET  /webhooks/wecom  URL verification: signature → decrypt echostr → answer its plaintext.
//   POST /webhooks/wecom  raw XML (size-limited) → signature, decrypt, corp id, replay window (crypto.ts)
//                         → answer 200 with an empty body at once → hand the normalised event to the sink.
//
// Click feedback: WeCom cards have no toast. We never answer with a passive reply (it would have to be built
// inside the 5 s and only greys the clicker's button); instead, after answering, the sink's ActionReply is
// carried out through the messenger: `card` → update_template_card with the click's fresh ResponseCode,
// a warning/error `toast` → a short text message to the clicker. Success/info toasts are dropped: the card
// update the core sends is the feedback.
import Router from '@koa/router';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import type { Clock } from '../../ports/clock.ts';
import type { ActionReply, InboundAction, InboundMessage, InboundSink } from '../../ports/messenger.ts';
import type { Logger } from '../../logger.ts';
import { isVerificationError } from '../shared/errors.ts';
import type { WecomCallbackCrypto, WecomInbound } from './crypto.ts';
import type { WecomMessenger } from './messenger.ts';
import { decodeKey, KEEP_PREFIX, NO_CHOICE, selectionKey } from './render.ts';
import { xmlText, type WecomXmlNode, type WecomXmlValue } from './xml.ts';

export const WECOM_WEBHOOK_PATH = '/webhooks/wecom';
/** Callback bodies are a few KiB (a 2048-byte text message, base64-encrypted, in an XML wrapper). */
export const MAX_CALLBACK_BYTES = 64 * 1024;

const CARD_EVENTS = new Set(['template_card_event', 'template_card_menu_event']);

/** `SelectedItems` → values by question key; several chosen options are joined with ','. */
export function selectedValues(fields: WecomXmlNode): Record<string, string> {
  const values: Record<string, string> = {};
  const items = asNode(fields.SelectedItems)?.SelectedItem;
  for (const item of Array.isArray(items) ? items : []) {
    const node = asNode(item);
    const key = node && typeof node.QuestionKey === 'string' ? node.QuestionKey : undefined;
    if (!node || !key) continue;
    const ids = asNode(node.OptionIds)?.OptionId;
    values[key] = (Array.isArray(ids) ? ids : []).filter((id): id is string => typeof id === 'string').join(',');
  }
  return values;
}

/**
 * A score form's selects → form values: `keep:<points>` ("unchanged") is the current points the card
 * offered; NO_CHOICE ("not scored") is no value at all, so the server names the dimension as missing.
 */
export function formValues(selected: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, id] of Object.entries(selected)) {
    if (id === NO_CHOICE || id === '') continue;
    values[key] = id.startsWith(KEEP_PREFIX) ? id.slice(KEEP_PREFIX.length) : id;
  }
  return values;
}

function asNode(value: WecomXmlValue | undefined): WecomXmlNode | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

/**
 * A verified delivery → the core's event, or null for what tierbot ignores (other events, non-text messages,
 * keys that are not ours). FromUserName is the member's userid, passed on as WeCom wrote it.
 */
export function toInboundEvent(inbound: WecomInbound, receivedAt: number): InboundAction | InboundMessage | null {
  const actor = { platform: 'wecom' as const, platformUserId: inbound.fromUser };
  const f = inbound.fields;
  if (inbound.kind === 'message') {
    if (inbound.msgType !== 'text') return null;
    return {
      type: 'message',
      platform: 'wecom',
      eventId: inbound.eventId,
      actor,
      text: xmlText(f, 'Content') ?? '',
      chat: { id: inbound.fromUser, kind: 'p2p' },
    };
  }
  if (!inbound.event || !CARD_EVENTS.has(inbound.event)) return null;
  const payload = decodeKey(xmlText(f, 'EventKey') ?? '');
  if (!payload) return null;
  const selected = selectedValues(f);
  let option = payload.v;
  let values: Record<string, string> = {};
  if (xmlText(f, 'CardType') === 'button_interaction') {
    // A button card's one dropdown (button_selection) is reported with every click on the card, touched or
    // not (90240 SelectedItems; WeCom preselects the first option, 90236). It belongs to the button whose
    // action its question key names; `—` (NO_CHOICE) is no choice. A button card has no form fields.
    const own = selected[selectionKey(payload.k)];
    if (option === undefined && own && own !== NO_CHOICE) option = own;
  } else {
    values = formValues(selected);
  }
  const taskId = xmlText(f, 'TaskId');
  const responseCode = xmlText(f, 'ResponseCode');
  const action: InboundAction = {
    type: 'action',
    platform: 'wecom',
    eventId: inbound.eventId,
    actor,
    action: payload.k,
    ref: payload.r,
    values,
  };
  if (option !== undefined) action.option = option;
  if (taskId) {
    const meta: Record<string, string> = { kind: 'user', userId: inbound.fromUser, taskId, at: String(receivedAt) };
    if (responseCode) meta.responseCode = responseCode;
    action.message = { platform: 'wecom', messageId: taskId, meta };
  }
  return action;
}

export interface WecomReceiverDeps {
  crypto: WecomCallbackCrypto;
  sink: InboundSink;
  messenger: WecomMessenger;
  clock: Clock;
  log: Logger;
  /** WECOM_AGENT_ID: deliveries for another app of the corp sharing the URL are acknowledged and ignored */
  agentId: string;
}

export interface WecomReceiver {
  router: Router;
  /** Resolves when the work handed off after answering has finished (shutdown, tests). */
  idle(): Promise<void>;
}

function refuse(ctx: Context, err: unknown, log: Logger): void {
  if (!isVerificationError(err)) throw err;
  log.warn({ reason: err.reason, status: err.status }, `wecom callback refused: ${err.message}`);
  ctx.status = err.status;
  ctx.body = err.reason;
}

export function createWecomReceiver(deps: WecomReceiverDeps): WecomReceiver {
  const { crypto, sink, messenger, clock, log } = deps;
  const inFlight = new Set<Promise<void>>();

  async function carryOut(action: InboundAction, reply: ActionReply): Promise<void> {
    const to = { platform: 'wecom' as const, kind: 'user' as const, id: action.actor.platformUserId };
    if (reply.card && action.message) await messenger.update(action.message, reply.card, to);
    const toast = reply.toast;
    if (toast && (toast.kind === 'warning' || toast.kind === 'error')) await messenger.notify(to.id, toast.text);
  }

  function handOff(event: InboundAction | InboundMessage): void {
    const work = (async () => {
      if (event.type === 'message') return sink.handleMessage(event);
      const taskId = event.message?.meta?.taskId;
      const code = event.message?.meta?.responseCode;
      if (taskId && code) messenger.rememberClick(taskId, code);
      await carryOut(event, await sink.handleAction(event));
    })()
      .catch((err) => log.error({ err, eventId: event.eventId }, 'wecom callback handling failed'))
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  }

  const router = new Router();

  router.get(WECOM_WEBHOOK_PATH, (ctx) => {
    try {
      const plaintext = crypto.verifyUrl(ctx.query);
      ctx.type = 'text/plain';
      ctx.body = plaintext; // exactly the plaintext: no quotes, no newline
    } catch (err) {
      refuse(ctx, err, log);
    }
  });

  router.post(WECOM_WEBHOOK_PATH, async (ctx) => {
    let raw: string;
    try {
      raw = await getRawBody(ctx.req, { limit: MAX_CALLBACK_BYTES, encoding: 'utf8', length: ctx.get('content-length') || undefined });
    } catch (err) {
      const tooLarge = (err as { type?: string }).type === 'entity.too.large';
      ctx.status = tooLarge ? 413 : 400;
      ctx.body = tooLarge ? 'too_large' : 'malformed_request';
      return;
    }
    let inbound: WecomInbound;
    try {
      inbound = crypto.openEvent(ctx.query, raw, clock.now());
    } catch (err) {
      refuse(ctx, err, log);
      return;
    }
    // Answer first (WeCom waits 5 s, then retries); everything else happens after.
    ctx.status = 200;
    ctx.body = '';
    if (inbound.agentId && inbound.agentId !== deps.agentId) {
      log.warn({ agentId: inbound.agentId }, 'wecom callback for another app ignored');
      return;
    }
    const event = toInboundEvent(inbound, clock.now());
    if (event) handOff(event);
  });

  return {
    router,
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
