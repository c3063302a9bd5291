// Append-only audit log of every action and decision (who, what, on which customer, outcome).
import { randomBytes } from 'node:crypto';
import type { Doc, DocStore } from '../ports/doc-store.ts';
import type { Clock } from '../ports/clock.ts';

export const AUDIT = 'audit';

export interface AuditEntry extends Doc {
  at: string;
  actor: string;
  action: string;
  customerId: string | null;
  requestId: string | null;
  outcome: 'ok' | 'refused' | 'conflict' | 'invalid';
  platform: string;
  detail: Record<string, unknown>;
}

export class AuditLog {
  private seq = 0;
  constructor(
    private readonly docs: DocStore,
    private readonly clock: Clock,
  ) {}

  async init(): Promise<void> {
    await this.docs.ensureIndex(AUDIT, ['customerId', 'at']);
  }

  async record(entry: Omit<AuditEntry, '_id' | 'at'>): Promise<void> {
    const now = this.clock.now();
    this.seq = (this.seq + 1) % 1_000_000;
    const _id = `${new Date(now).toISOString()}-${String(this.seq).padStart(6, '0')}-${randomBytes(3).toString('hex')}`;
    await this.docs.insert(AUDIT, { ...entry, _id, at: new Date(now).toISOString() });
  }

  /** Oldest first. */
  list(filter: { customerId?: string; actor?: string }, limit = 200): Promise<AuditEntry[]> {
    const f: Record<string, string> = {};
    if (filter.customerId) f.customerId = filter.customerId;
    if (filter.actor) f.actor = filter.actor;
    return this.docs.find<AuditEntry>(AUDIT, f, { sort: [['_id', 1]], limit });
  }
}
