// The console "platform": cards are kept per org user (or team) and shown in the web console,
// where clicks go through the same Bot handlers as the real platforms.
import { randomBytes } from 'node:crypto';
import type { Card } from '../../../cards/model.ts';
import type { Doc, DocStore } from '../../ports/doc-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Messenger, Recipient, SentMessage } from '../../ports/messenger.ts';

export const CONSOLE_INBOX = 'consoleInbox';

export interface ConsoleCard extends Doc {
  /** org user id, or team id for team-chat cards */
  owner: string;
  ownerKind: 'user' | 'chat' | 'robot';
  /** JSON text (cards hold nested arrays, which portable storage forbids) */
  card: string;
  createdAt: string;
  updatedAt: string;
  seq: number;
}

export class ConsoleMessenger implements Messenger {
  readonly platform = 'console' as const;
  private seq = 0;

  constructor(
    private readonly docs: DocStore,
    private readonly clock: Clock,
  ) {}

  async send(to: Recipient, card: Card): Promise<SentMessage> {
    const id = `cm_${randomBytes(9).toString('base64url')}`;
    const now = new Date(this.clock.now()).toISOString();
    this.seq = Math.max(this.seq + 1, this.clock.now() * 1000);
    await this.docs.insert(CONSOLE_INBOX, { _id: id, owner: to.id, ownerKind: to.kind, card: JSON.stringify(card), createdAt: now, updatedAt: now, seq: this.seq });
    return { platform: 'console', messageId: id };
  }

  async update(sent: SentMessage, card: Card): Promise<void> {
    await this.docs.update(CONSOLE_INBOX, sent.messageId, { card: JSON.stringify(card), updatedAt: new Date(this.clock.now()).toISOString() });
  }

  /** Newest first. */
  async inbox(owner: string, limit = 50): Promise<(Omit<ConsoleCard, 'card'> & { card: Card })[]> {
    const docs = await this.docs.find<ConsoleCard>(CONSOLE_INBOX, { owner }, { sort: [['seq', -1]], limit });
    return docs.map((d) => ({ ...d, card: JSON.parse(d.card) as Card }));
  }
}
