// The WeCom callback receiver (docs/architecture.md, "Inbound verification"; WeCom docs under
// https://developer.work.weixin.qq.com/document/path/: 90238 receiving, 90240 events, 90968 crypto):
//   GET  /webhooks/wecom  URL verification: signature → decrypt echostr → answer its plaintext.
//   POST /webhooks/wecom  raw XML (within wecomInbound's limit) → signature, decrypt, corp id, replay window
//                         (crypto.ts) → answer 200 with an empty body at once → hand the normalised event to
//                         the sink in the background.
// Both run in the shared webhook frame (src/inbound/webhook.ts): body limit, 413 and the one refusal shape.
//
// Click feedback: WeCom cards have no toast. We never answer with a passive reply (it would have to be built
// inside the 5 s and only greys the clicker's button); instead, after answering, the sink's ActionReply is
// carried out through the messenger: `card` → update_template_card with the click's fresh ResponseCode,
// a warning/error `toast` → a short text message to the clicker. Success/info toasts are dropped: the card
// update the core sends is the feedback.
import Router from '@koa/router';
import { Inbound } from '../../inbound/work.ts';
import { refusing, webhook } from '../../inbound/webhook.ts';
import { doc, REFUSED } from '../../inbound/route-doc.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ActionReply, InboundAction, InboundMessage, InboundSink } from '../../ports/messenger.ts';
import type { Logger } from '../../logger.ts';
import type { WecomCallbackCrypto, WecomInbound } from './crypto.ts';
import type { WecomMessenger } from './messenger.ts';
import { wecomInbound } from './profile.ts';
import { decodeKey, KEEP_PREFIX, NO_CHOICE, selectionKey } from './render.ts';
import { xmlText, type WecomXmlNode, type WecomXmlValue } from './xml.ts';

export const WECOM_WEBHOOK_PATH = '/webhooks/wecom';

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

export function createWecomReceiver(deps: WecomReceiverDeps): WecomReceiver {
  const { crypto, sink, messenger, clock, log } = deps;
  const inbound = new Inbound(wecomInbound, log);

  async function carryOut(action: InboundAction, reply: ActionReply): Promise<void> {
    const to = { platform: 'wecom' as const, kind: 'user' as const, id: action.actor.platformUserId };
    if (reply.card && action.message) await messenger.update(action.message, reply.card, to);
    const toast = reply.toast;
    if (toast && (toast.kind === 'warning' || toast.kind === 'error')) await messenger.notify(to.id, toast.text);
  }

  /** The event's work, after the answer (wecomInbound answers at once: the whole handler runs after). */
  async function handle(event: InboundAction | InboundMessage): Promise<void> {
    if (event.type === 'message') return sink.handleMessage(event);
    const taskId = event.message?.meta?.taskId;
    const code = event.message?.meta?.responseCode;
    if (taskId && code) messenger.rememberClick(taskId, code);
    await carryOut(event, await sink.handleAction(event));
  }

  const router = new Router();

  router.get(
    WECOM_WEBHOOK_PATH,
    doc({ summary: "WeCom's URL verification (echostr)", tag: 'webhooks', auth: 'platform', responses: { 200: { description: 'the decrypted echostr', contentType: 'text/plain' }, 400: REFUSED, 401: REFUSED, 403: REFUSED } }),
    refusing(wecomInbound, log, (ctx) => {
      const plaintext = crypto.verifyUrl(ctx.query);
      ctx.type = 'text/plain';
      ctx.body = plaintext; // exactly the plaintext: no quotes, no newline
    }),
  );

  router.post(
    WECOM_WEBHOOK_PATH,
    doc({ summary: 'WeCom events and messages (XML, encrypted)', tag: 'webhooks', auth: 'platform', description: "verified before anything else (docs/platforms/)", bodyTypes: ['text/xml'], responses: { 200: { description: "always 200 with an empty body, at once" }, 400: REFUSED, 401: REFUSED, 403: REFUSED, 413: REFUSED } }),
    webhook(wecomInbound, log, async (ctx, raw) => {
      const delivery: WecomInbound = crypto.openEvent(ctx.query, raw, clock.now());
      // The answer is always 200 with an empty body, by wecomInbound's deadline (at once: WeCom waits 5 s, then
      // retries); the handler's work and its feedback happen after.
      ctx.status = 200;
      ctx.body = '';
      if (delivery.agentId && delivery.agentId !== deps.agentId) {
        log.warn({ agentId: delivery.agentId }, 'wecom callback for another app ignored');
        return;
      }
      const event = toInboundEvent(delivery, clock.now());
      if (event) await inbound.answer('callback handling', handle(event), () => undefined);
    }),
  );

  return { router, idle: () => inbound.idle() };
}
