// Cards out to DingTalk. With a card template (DINGTALK_CARD_TEMPLATE_ID): interactive cards, created with an
// outTrackId derived from the outbox's idempotency key and updated in place. Without one: robot messages
// (markdown / ActionCard, shape decided by render.ts), which DingTalk cannot edit, so an "update" is sent
// as a new message.
import { createHash } from 'node:crypto';
import type { Card } from '../../../cards/model.ts';
import type { Messenger, Recipient, SentMessage } from '../../ports/messenger.ts';
import { DeliveryFailure } from '../shared/outbound.ts';
import type { CardSpace, DingtalkClient } from './client.ts';
import { DINGTALK_LIMITS, render, type DingtalkRendered } from './render.ts';

/** ≤ 64 characters, stable per idempotency key: a retried create is the same card instance. */
export function outTrackIdFor(idempotencyKey: string): string {
  const id = 'tb' + createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 48);
  return id.slice(0, DINGTALK_LIMITS.outTrackIdChars);
}

export interface DingtalkMessengerOptions {
  /** DINGTALK_CARD_TEMPLATE_ID; without it cards go as robot messages */
  templateId?: string;
}

export class DingtalkMessenger implements Messenger {
  readonly platform = 'dingtalk' as const;

  constructor(
    private readonly client: DingtalkClient,
    private readonly opts: DingtalkMessengerOptions = {},
  ) {}

  get templateId(): string | undefined {
    return this.opts.templateId;
  }

  /** The platform payload for a card; a card that cannot be rendered will never send, so that is final. */
  render(card: Card): DingtalkRendered {
    try {
      return render(card, { templateId: this.opts.templateId });
    } catch (err) {
      throw new DeliveryFailure(false, `dingtalk: card cannot be rendered: ${(err as Error).message}`);
    }
  }

  async send(to: Recipient, card: Card, idempotencyKey: string): Promise<SentMessage> {
    const space = spaceOf(to);
    const rendered = this.render(card);
    if (rendered.type === 'card') {
      const outTrackId = outTrackIdFor(idempotencyKey);
      await this.client.createAndDeliverCard({
        cardTemplateId: rendered.cardTemplateId,
        outTrackId,
        cardParamMap: rendered.cardData.cardParamMap,
        space,
        preview: card.summary,
        locale: card.locale,
      });
      return { platform: 'dingtalk', messageId: outTrackId, meta: { outTrackId } };
    }
    const msg = { msgKey: rendered.msgKey, msgParam: rendered.msgParam };
    const { processQueryKey } =
      space.kind === 'user' ? await this.client.sendToUser(space.userId, msg) : await this.client.sendToGroup(space.openConversationId, msg);
    return { platform: 'dingtalk', messageId: processQueryKey || `pqk-${outTrackIdFor(idempotencyKey)}`, meta: { processQueryKey } };
  }

  async update(sent: SentMessage, card: Card, to: Recipient): Promise<void> {
    const outTrackId = sent.meta?.outTrackId;
    const rendered = this.render(card);
    if (outTrackId && rendered.type === 'card') {
      await this.client.updateCard(outTrackId, rendered.cardData.cardParamMap);
      return;
    }
    // Robot messages cannot be edited: the new content arrives as a new message. The key is derived from the
    // content, so a retried update re-uses the same outTrackId (cards) and is not doubled.
    const version = createHash('sha256').update(JSON.stringify(card)).digest('hex').slice(0, 16);
    await this.send(to, card, `update|${sent.messageId}|${version}`);
  }
}

function spaceOf(to: Recipient): CardSpace {
  if (to.platform !== 'dingtalk') throw new DeliveryFailure(false, `dingtalk: recipient of platform ${to.platform}`);
  if (!to.id) throw new DeliveryFailure(false, 'dingtalk: recipient id is empty');
  switch (to.kind) {
    case 'user':
      return { kind: 'user', userId: to.id };
    case 'chat':
      return { kind: 'chat', openConversationId: to.id };
    case 'robot':
      throw new DeliveryFailure(false, 'dingtalk: custom group-robot webhooks are not supported; send to the chat (openConversationId) instead');
  }
}
