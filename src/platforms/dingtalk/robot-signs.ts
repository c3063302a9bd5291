// Single use of robot-callback and card-callback signatures (HTTP mode). DingTalk's robot `sign` and the card
// callback's `x-ddpaas-signature` cover the timestamp only, not the body (crypto.ts, card-callback.ts), so a
// captured (timestamp, signature) pair could carry any body and sender while the timestamp is fresh. Each verified pair is claimed by inserting a document whose _id is the pair: the first
// insert wins, on every instance sharing the store. Claims are deleted here, in app code (no TTL indexes),
// once the window refuses their timestamp anyway, plus one more window for clock skew between instances;
// so the collection holds at most about three windows' worth of robot messages.
import type { Clock } from '../../ports/clock.ts';
import type { Doc, DocStore } from '../../ports/doc-store.ts';
import { ROBOT_SIGN_WINDOW_MS, type RobotSignature } from './crypto.ts';

export const ROBOT_SIGN_COLLECTION = 'dingtalkRobotSigns';

interface SignClaim extends Doc {
  /** after this (epoch ms) the window refuses the timestamp by itself */
  expiresAt: number;
}

export interface RobotSignClaimsOptions {
  windowMs?: number;
  /** deletions per batch */
  batch?: number;
  onError?: (err: unknown) => void;
}

export class RobotSignClaims {
  private readonly windowMs: number;
  private readonly batch: number;
  private nextSweepAt = 0;
  private indexed = false;
  private sweeping: Promise<unknown> | null = null;

  constructor(
    private readonly docs: DocStore,
    private readonly clock: Clock,
    private readonly opts: RobotSignClaimsOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? ROBOT_SIGN_WINDOW_MS;
    this.batch = opts.batch ?? 500;
  }

  /**
   * True the first time this verified pair is presented to any instance sharing the store. `scope` keeps the two
   * kinds apart (robot claims keep their original ids); both use the same 5-minute window.
   */
  async claim(sig: RobotSignature, scope: 'robot' | 'card' = 'robot'): Promise<boolean> {
    const id = scope === 'robot' ? `${sig.timestamp}:${sig.sign}` : `${scope}:${sig.timestamp}:${sig.sign}`;
    const claim: SignClaim = { _id: id, expiresAt: sig.timestampMs + this.windowMs };
    const won = await this.docs.insert(ROBOT_SIGN_COLLECTION, claim);
    this.sweepNowAndThen();
    return won;
  }

  /** Deletes the claims no replay could use any more; returns how many. */
  async sweep(): Promise<number> {
    if (!this.indexed) {
      await this.docs.ensureIndex(ROBOT_SIGN_COLLECTION, ['expiresAt']);
      this.indexed = true;
    }
    const cutoff = this.clock.now() - this.windowMs;
    let removed = 0;
    for (;;) {
      const old = await this.docs.find<SignClaim>(ROBOT_SIGN_COLLECTION, { expiresAt: { $lt: cutoff } }, { limit: this.batch, fields: ['_id'] });
      for (const c of old) if (await this.docs.remove(ROBOT_SIGN_COLLECTION, c._id)) removed++;
      if (old.length < this.batch) return removed;
    }
  }

  /** Waits for a sweep in progress (shutdown, tests). */
  async idle(): Promise<void> {
    await this.sweeping;
  }

  /** At most one background sweep per window per instance, started by a claim; it never delays the request. */
  private sweepNowAndThen(): void {
    const now = this.clock.now();
    if (this.sweeping || now < this.nextSweepAt) return;
    this.nextSweepAt = now + this.windowMs;
    this.sweeping = this.sweep()
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => {
        this.sweeping = null;
      });
  }
}
