// One mechanism for every platform's outgoing API calls: token caching with refresh-on-expiry,
// rate limits, and classification of each answer. What differs per platform is data (a PlatformProfile).

import { DeliveryFailure, realTimer, type Timer } from '../../ports/delivery.ts';

// The delivery contract lives in the ports (the outbox needs nothing from this layer); re-exported for the
// platforms, which get it together with the gate.
export { DeliveryFailure, realTimer, type Timer };

/** What to do with one API answer. */
export type Verdict =
  | { kind: 'ok' }
  | { kind: 'retry'; afterMs?: number; reason: string }
  | { kind: 'refresh_token'; reason: string }
  | { kind: 'give_up'; reason: string };

/** A raw answer as the profile sees it: HTTP status and parsed body, or the error thrown. */
export interface Answer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string | undefined>;
  error?: unknown;
}

export interface RateLimit {
  /** 'app': one window for the whole app; 'recipient': one window per user or chat */
  scope: 'app' | 'recipient';
  max: number;
  windowMs: number;
}

export interface PlatformProfile {
  name: string;
  limits: RateLimit[];
  classify(answer: Answer): Verdict;
}

/** Caches an access token until shortly before it expires; concurrent callers share one fetch. */
export class TokenCache {
  private token: { value: string; expiresAt: number } | null = null;
  private pending: Promise<string> | null = null;

  constructor(
    private readonly fetchToken: () => Promise<{ token: string; expiresInMs: number }>,
    private readonly timer: Timer = realTimer,
    private readonly marginMs = 5 * 60_000,
  ) {}

  async get(): Promise<string> {
    if (this.token && this.timer.now() < this.token.expiresAt) return this.token.value;
    this.pending ??= this.fetchToken()
      .then(({ token, expiresInMs }) => {
        this.token = { value: token, expiresAt: this.timer.now() + Math.max(expiresInMs - this.marginMs, expiresInMs / 2) };
        return token;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }

  /** Forget the token (the platform said it is invalid or expired). */
  invalidate(stale?: string): void {
    if (!stale || this.token?.value === stale) this.token = null;
  }
}

/**
 * Sliding-window rate limiter: at most `max` calls in any `windowMs` per key.
 * A sliding log (not a token bucket) so "30 per minute" never becomes 60 in a minute after a burst.
 */
export class RateLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(
    private readonly limits: RateLimit[],
    private readonly timer: Timer = realTimer,
  ) {}

  /** Waits until every applicable window has room, then records the call. */
  async acquire(recipient?: string): Promise<void> {
    for (;;) {
      const now = this.timer.now();
      let waitMs = 0;
      for (const [i, limit] of this.limits.entries()) {
        const key = this.key(i, limit, recipient);
        if (!key) continue;
        const log = this.prune(key, now, limit.windowMs);
        if (log.length >= limit.max) waitMs = Math.max(waitMs, log[0] + limit.windowMs - now);
      }
      if (waitMs <= 0) break;
      await this.timer.sleep(waitMs);
    }
    const now = this.timer.now();
    for (const [i, limit] of this.limits.entries()) {
      const key = this.key(i, limit, recipient);
      if (key) this.windows.get(key)!.push(now);
    }
  }

  private key(index: number, limit: RateLimit, recipient?: string): string | null {
    if (limit.scope === 'app') return `app:${index}`;
    return recipient ? `to:${recipient}:${index}` : null;
  }

  private prune(key: string, now: number, windowMs: number): number[] {
    let log = this.windows.get(key);
    if (!log) {
      log = [];
      this.windows.set(key, log);
    }
    let drop = 0;
    while (drop < log.length && log[drop] <= now - windowMs) drop++;
    if (drop > 0) log.splice(0, drop);
    return log;
  }
}

/**
 * A platform's outbound gate: every API call goes through `call`, which waits for the rate limits,
 * supplies the token, refreshes it once on an expiry verdict, and turns other failures into DeliveryFailure.
 */
export class Outbound {
  readonly limiter: RateLimiter;

  constructor(
    readonly profile: PlatformProfile,
    readonly tokens: TokenCache | null,
    timer: Timer = realTimer,
  ) {
    this.limiter = new RateLimiter(profile.limits, timer);
  }

  async call<T>(fn: (token: string) => Promise<Answer & { value?: T }>, recipient?: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      // the token first: a slow token fetch must not hold a counted rate slot
      const token = this.tokens ? await this.tokens.get() : '';
      await this.limiter.acquire(recipient);
      let answer: Answer & { value?: T };
      try {
        answer = await fn(token);
      } catch (error) {
        answer = { error };
      }
      const verdict = this.profile.classify(answer);
      switch (verdict.kind) {
        case 'ok':
          return answer.value as T;
        case 'refresh_token':
          this.tokens?.invalidate(token);
          if (attempt === 0 && this.tokens) continue;
          throw new DeliveryFailure(true, `${this.profile.name}: ${verdict.reason}`);
        case 'retry':
          throw new DeliveryFailure(true, `${this.profile.name}: ${verdict.reason}`, verdict.afterMs);
        case 'give_up':
          throw new DeliveryFailure(false, `${this.profile.name}: ${verdict.reason}`);
      }
    }
  }
}

/** Network-level failures (connection refused, reset, timeout) are worth retrying on every platform. */
export function isNetworkError(error: unknown): boolean {
  const e = error as { code?: string; name?: string; cause?: { code?: string } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return (
    e?.name === 'AbortError' ||
    e?.name === 'TimeoutError' ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNABORTED', 'UND_ERR_HEADERS_TIMEOUT'].includes(code ?? '')
  );
}
