// The chat side, as the core sees it: messengers send and update cards; receivers turn every
// platform and transport into one normalised inbound event. The core never imports a platform SDK.
import type { Card } from '../../cards/model.ts';

/**
 * The names of the chat platforms, as keys. The console is built in; src/platforms/registry.ts adds every
 * registered platform from its list, so a name cannot be added by hand without a descriptor.
 */
export interface PlatformNames {
  console: true;
}

export type Platform = keyof PlatformNames & string;

/** Where a card goes: a person, a team chat, or (WeCom/DingTalk) a group robot webhook. */
export interface Recipient {
  platform: Platform;
  kind: 'user' | 'chat' | 'robot';
  /** open_id / userid / chat_id / openConversationId / webhook key, per platform */
  id: string;
}

/** A sent card, enough to update it in place later. */
export interface SentMessage {
  platform: Platform;
  /** Feishu message_id, WeCom response_code/task_id, DingTalk outTrackId or processQueryKey */
  messageId: string;
  /** platform-specific leftovers needed for updates (e.g. WeCom task_id, DingTalk outTrackId) */
  meta?: Record<string, string>;
}

export interface Messenger {
  readonly platform: Platform;
  /**
   * Sends one card. `idempotencyKey` is passed to the platform where it dedupes (Feishu `uuid`,
   * WeCom duplicate check) so a retried send is not doubled. Throws DeliveryFailure on failure.
   */
  send(to: Recipient, card: Card, idempotencyKey: string): Promise<SentMessage>;
  /** Replaces a sent card's content in place (decided approval requests, superseded cards). */
  update(sent: SentMessage, card: Card, to: Recipient): Promise<void>;
}

export interface Actor {
  platform: Platform;
  /** the platform's user id (Feishu open_id, WeCom userid, DingTalk userId / staffId, console org user id) */
  platformUserId: string;
}

/** A click or form submit on a card. */
export interface InboundAction {
  type: 'action';
  platform: Platform;
  /** the platform's delivery id, for de-duplication */
  eventId: string;
  actor: Actor;
  /** handler key (ActionPayload.k) */
  action: string;
  /** opaque server-side reference (ActionPayload.r) */
  ref: string;
  /** chosen option (ActionPayload.v) */
  option?: string;
  /** form values by field name */
  values: Record<string, string>;
  /** the card that was clicked, when the platform says which */
  message?: SentMessage;
}

/** A text message to the bot (private chat, or @bot in a group). */
export interface InboundMessage {
  type: 'message';
  platform: Platform;
  eventId: string;
  actor: Actor;
  text: string;
  chat: { id: string; kind: 'p2p' | 'group' };
}

export type InboundEvent = InboundAction | InboundMessage;

/**
 * The immediate answer to a card callback, given inside the platform's deadline.
 * Receivers translate it (Feishu toast / card, WeCom passive reply, DingTalk card data).
 */
export interface ActionReply {
  toast?: { kind: 'success' | 'info' | 'warning' | 'error'; text: string };
  /** replace the clicked card right away, where the platform allows */
  card?: Card;
}

/** What every receiver hands its events to. */
export interface InboundSink {
  handleAction(event: InboundAction): Promise<ActionReply>;
  handleMessage(event: InboundMessage): Promise<void>;
}
