// Work a receiver does after it has answered, and the one answer deadline: a platform's inbound profile says
// how large its callbacks may be and how long it waits for an answer; `Inbound` keeps to both.
import type { Logger } from '../logger.ts';

/** What differs per platform on the way in, as data (each platform's profile.ts). */
export interface InboundProfile {
  /** the platform's name, for logs */
  name: string;
  /** the largest request body accepted; larger ones get 413 */
  maxBodyBytes: number;
  /** a callback is answered within this long whatever the handler is doing; 0 = at once, the work goes on after */
  answerWithinMs: number;
}

/** Work that runs after an answer went out: failures are logged, and `idle()` waits for all of it (shutdown, tests). */
export class Background {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly onError: (err: unknown, what: string) => void) {}

  run(what: string, work: () => Promise<void>): void {
    const p: Promise<void> = Promise.resolve()
      .then(work)
      .catch((err: unknown) => this.onError(err, what))
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  get size(): number {
    return this.running.size;
  }

  /** Resolves once nothing runs, including work started by work that was running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

/** `work`'s value if it settles within `ms`, else `late` (work keeps running). A rejection is passed on. */
export async function within<T>(work: Promise<T>, ms: number, late: () => T): Promise<{ value: T; onTime: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ value: T; onTime: boolean }>((resolve) => {
    timer = setTimeout(() => resolve({ value: late(), onTime: false }), ms);
  });
  try {
    return await Promise.race([work.then((value) => ({ value, onTime: true })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; err: unknown };

/** A platform's receiving side: its profile, its background work, its deadline. */
export class Inbound {
  readonly profile: InboundProfile;
  private readonly background: Background;

  constructor(profile: InboundProfile, private readonly log: Pick<Logger, 'warn' | 'error'>) {
    this.profile = profile;
    this.background = new Background((err, what) => {
      const e = err as Error | undefined;
      // name and message only: a platform client's error may carry a request with credentials
      log.error({ err: { name: e?.name, message: e?.message }, platform: profile.name }, `${profile.name}: ${what} failed`);
    });
  }

  /** Runs `work` after the answer; shutdown waits for it. */
  later(what: string, work: () => Promise<void>): void {
    this.background.run(what, work);
  }

  /**
   * The answer to a callback: `work`'s, if it comes within the platform's deadline; otherwise `late()` at the
   * deadline, while `work` goes on in the background and its value is handed to `afterLate` (e.g. to update the
   * card in place). A deadline of 0 answers `late()` at once, and all of `work` runs after.
   */
  async answer<T>(what: string, work: Promise<T>, late: () => T, afterLate?: (value: T) => Promise<void>): Promise<T> {
    // a rejection after the deadline is handled in the background, never unhandled
    const settled: Promise<Outcome<T>> = work.then(
      (value) => ({ ok: true, value }),
      (err: unknown) => ({ ok: false, err }),
    );
    if (this.profile.answerWithinMs > 0) {
      const first = await within<Outcome<T> | null>(settled, this.profile.answerWithinMs, () => null);
      if (first.onTime && first.value) {
        if (first.value.ok) return first.value.value;
        throw first.value.err;
      }
      this.log.warn({ platform: this.profile.name, deadlineMs: this.profile.answerWithinMs }, `${this.profile.name}: ${what} answered at the deadline, finishing in the background`);
    }
    this.later(what, async () => {
      const outcome = await settled;
      if (!outcome.ok) throw outcome.err;
      await afterLate?.(outcome.value);
    });
    return late();
  }

  /** Waits for everything handed to `later` or still running past a deadline. */
  idle(): Promise<void> {
    return this.background.idle();
  }
}
