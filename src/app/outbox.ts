// The persistent outbox (docs/architecture.md, "Outbox"): every outgoing card is first stored under its idempotency key,
// then delivered by a worker that claims each attempt by inserting a document (docs/storage.md).
// Nothing is sent twice by us; a crash after a platform accepted a send but before we recorded it is
// covered by the platforms' own dedupe keys (Feishu `uuid`, WeCom duplicate check, DingTalk outTrackId).
import { createHash } from 'node:crypto';
import type { Card } from '../../cards/model.ts';
import type { Doc, DocStore } from '../ports/doc-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { Messenger, Platform, Recipient, SentMessage } from '../ports/messenger.ts';
import { DeliveryFailure } from '../ports/delivery.ts';

export const OUTBOX = 'outbox';
const CLAIMS = 'outboxClaims';

export type OutboxStatus = 'pending' | 'sent' | 'dead';

export interface OutboxItem extends Doc {
  /** the idempotency key: kind | recipient | subject | period */
  _id: string;
  op: 'send' | 'update';
  kind: string;
  recipient: Recipient;
  recipientKey: string;
  /** the card as JSON text: cards hold nested arrays (table rows), which portable storage forbids */
  card: string;
  /** for `update`: the outbox id of the sent message to change */
  updateOf: string | null;
  subject: string;
  status: OutboxStatus;
  attempts: number;
  /** epoch ms; also holds quiet-hours delays */
  nextAttemptAt: number;
  /** creation order, for per-recipient ordering */
  seq: number;
  createdAt: string;
  sentAt: string | null;
  sent: SentMessage | null;
  lastError: string | null;
}

export interface EnqueueRequest {
  kind: string;
  recipient: Recipient;
  card: Card;
  subject: string;
  /** e.g. the day of a digest, the run of an alert, the request of an approval */
  period: string;
  /** hold until this instant (quiet hours); default now */
  notBefore?: number;
}

export interface OutboxOptions {
  maxAttempts?: number;
  /** a claimed attempt that has not finished after this long may be taken over */
  leaseMs?: number;
  concurrency?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  workerId?: string;
}

/** A robot's id is its webhook key, a credential: it never appears in keys, ids or logs. */
export const recipientKey = (r: Recipient) => `${r.platform}:${r.kind}:${r.kind === 'robot' ? `h${createHash('sha256').update(r.id).digest('hex').slice(0, 16)}` : r.id}`;

/** The recipient as shown by the API: robot credentials masked. */
export function publicRecipient(r: Recipient): Recipient {
  return r.kind === 'robot' ? { ...r, id: `${r.id.slice(0, 4)}…` } : r;
}

export class Outbox {
  private seq = 0;
  private readonly opts: Required<OutboxOptions>;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly docs: DocStore,
    private readonly messengers: Map<Platform, Messenger>,
    private readonly clock: Clock,
    options: OutboxOptions = {},
    private readonly log?: { warn: (o: object, m: string) => void },
  ) {
    this.opts = {
      maxAttempts: 8,
      leaseMs: 60_000,
      concurrency: 16,
      baseBackoffMs: 1000,
      maxBackoffMs: 5 * 60_000,
      workerId: `w-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      ...options,
    };
  }

  async init(): Promise<void> {
    await this.docs.ensureIndex(OUTBOX, ['status', 'seq']);
    await this.docs.ensureIndex(OUTBOX, ['recipientKey', 'seq']);
  }

  private nextSeq(): number {
    // unique and increasing within an instance, roughly ordered across instances
    this.seq = Math.max(this.seq + 1, this.clock.now() * 1000);
    return this.seq;
  }

  /** Stores a card for delivery; false when the same (kind, recipient, subject, period) is already queued. */
  async enqueue(req: EnqueueRequest): Promise<{ id: string; created: boolean }> {
    const id = [req.kind, recipientKey(req.recipient), req.subject, req.period].join('|');
    const created = await this.docs.insert(OUTBOX, this.item(id, 'send', req.kind, req.recipient, req.card, null, req.subject, req.notBefore));
    if (created) this.kick();
    return { id, created };
  }

  /** Queues an in-place update of a sent card; `version` makes repeated identical requests idempotent. */
  async enqueueUpdate(originalId: string, card: Card, version: string): Promise<{ id: string; created: boolean } | null> {
    const original = await this.docs.get<OutboxItem>(OUTBOX, originalId);
    if (!original) return null;
    const id = `update|${originalId}|${version}`;
    const created = await this.docs.insert(OUTBOX, this.item(id, 'update', original.kind, original.recipient, card, originalId, original.subject));
    if (created) this.kick();
    return { id, created };
  }

  private item(id: string, op: OutboxItem['op'], kind: string, recipient: Recipient, card: Card, updateOf: string | null, subject: string, notBefore?: number): OutboxItem {
    const now = this.clock.now();
    return {
      _id: id,
      op,
      kind,
      recipient,
      recipientKey: recipientKey(recipient),
      card: JSON.stringify(card),
      updateOf,
      subject,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: Math.max(now, notBefore ?? now),
      seq: this.nextSeq(),
      createdAt: new Date(now).toISOString(),
      sentAt: null,
      sent: null,
      lastError: null,
    };
  }

  async list(status?: OutboxStatus, limit = 100): Promise<OutboxItem[]> {
    return this.docs.find<OutboxItem>(OUTBOX, status ? { status } : {}, { sort: [['seq', -1]], limit });
  }

  /**
   * A dead letter back in the queue for one more attempt (after its cause was fixed, e.g. a platform's
   * credentials). False when it is not dead (unknown, pending or sent).
   */
  async retry(id: string): Promise<boolean> {
    const item = await this.docs.get<OutboxItem>(OUTBOX, id);
    if (!item || item.status !== 'dead') return false;
    // the attempt count stays: the next claim key is a new one, and a failure is final again
    return this.docs.update(OUTBOX, id, { status: 'pending', nextAttemptAt: this.clock.now() });
  }

  async get(id: string): Promise<OutboxItem | null> {
    return this.docs.get<OutboxItem>(OUTBOX, id);
  }

  /**
   * One pass: for every recipient with pending work, attempt its oldest pending item if due.
   * Later items of a recipient wait for earlier ones (order per recipient). Returns attempts made.
   */
  async drainOnce(): Promise<number> {
    const pending = await this.docs.find<OutboxItem>(OUTBOX, { status: 'pending' }, { sort: [['seq', 1]], limit: 5000, fields: ['recipientKey', 'nextAttemptAt', 'attempts', 'seq'] });
    const heads = new Map<string, OutboxItem>();
    for (const item of pending) if (!heads.has(item.recipientKey)) heads.set(item.recipientKey, item);
    const now = this.clock.now();
    const due = [...heads.values()].filter((i) => i.nextAttemptAt <= now);
    let attempts = 0;
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const item = due[next++];
        if (await this.attempt(item)) attempts++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, due.length) }, worker));
    return attempts;
  }

  /** Drains until nothing is due (or `untilMs` passes); for tests, benchmarks and shutdown. */
  async drain(untilMs = 60_000): Promise<void> {
    const end = Date.now() + untilMs;
    while (Date.now() < end) {
      const made = await this.drainOnce();
      if (made === 0) {
        const left = await this.docs.count(OUTBOX, { status: 'pending', nextAttemptAt: { $lte: this.clock.now() } });
        if (left === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** `head` carries only the scan's fields; the whole item is read after the claim. */
  private async attempt(head: Pick<OutboxItem, '_id' | 'attempts'>): Promise<boolean> {
    const slot = Math.floor(this.clock.now() / this.opts.leaseMs);
    const claimed = await this.docs.insert(CLAIMS, { _id: `${head._id}#${head.attempts}#${slot}`, worker: this.opts.workerId, at: this.clock.now() });
    if (!claimed) return false;
    // re-read: another worker may have finished this attempt between our scan and our claim
    const item = await this.docs.get<OutboxItem>(OUTBOX, head._id);
    if (!item || item.status !== 'pending' || item.attempts !== head.attempts) return false;

    const messenger = this.messengers.get(item.recipient.platform);
    try {
      if (!messenger) throw new DeliveryFailure(false, `platform ${item.recipient.platform} is not configured`);
      let sent: SentMessage | null = null;
      if (item.op === 'send') {
        sent = await messenger.send(item.recipient, JSON.parse(item.card) as Card, item._id);
      } else {
        const original = await this.docs.get<OutboxItem>(OUTBOX, item.updateOf!);
        if (!original?.sent) {
          if (original && original.status === 'pending') throw new DeliveryFailure(true, 'the original card is not sent yet');
          throw new DeliveryFailure(false, 'the original card was never sent');
        }
        await messenger.update(original.sent, JSON.parse(item.card) as Card, item.recipient);
        // later updates start from the newest content
        await this.docs.update(OUTBOX, original._id, { card: item.card });
      }
      await this.docs.update(OUTBOX, item._id, { status: 'sent', attempts: item.attempts + 1, sent, sentAt: new Date(this.clock.now()).toISOString(), lastError: null });
    } catch (err) {
      const failure = err instanceof DeliveryFailure ? err : new DeliveryFailure(true, (err as Error).message);
      const attempts = item.attempts + 1;
      const dead = !failure.retryable || attempts >= this.opts.maxAttempts;
      const backoff = Math.min(this.opts.maxBackoffMs, this.opts.baseBackoffMs * 2 ** (attempts - 1)) * (0.75 + Math.random() * 0.5);
      await this.docs.update(OUTBOX, item._id, {
        status: dead ? 'dead' : 'pending',
        attempts,
        lastError: failure.message,
        nextAttemptAt: this.clock.now() + Math.max(backoff, failure.retryAfterMs ?? 0),
      });
      if (dead) this.log?.warn({ id: item._id, error: failure.message }, 'outbox message given up (dead letter)');
    }
    return true;
  }

  /** Starts the background worker. */
  start(intervalMs = 250): void {
    this.stopped = false;
    const tick = async () => {
      if (this.stopped) return;
      try {
        this.draining = this.drainOnce();
        await this.draining;
      } catch (err) {
        this.log?.warn({ err }, 'outbox pass failed');
      } finally {
        this.draining = null;
        if (!this.stopped) this.timer = setTimeout(tick, intervalMs);
      }
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Wakes the worker early after an enqueue. */
  private kick(): void {
    if (this.timer && !this.draining && !this.stopped) {
      clearTimeout(this.timer);
      this.start();
    }
  }

  /** Stops taking new passes and waits for the one in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.draining?.catch(() => undefined);
  }
}
