// Card clicks over HTTP (DINGTALK_MODE=webhook with a card template). What DingTalk documents
// (https://open.dingtalk.com/document/development/event-callback-card, "HTTP 模式"):
// - the callback URL is registered once under a `callbackRouteKey` with `POST /v1.0/card/callbacks/register`
//   {callbackRouteKey, callbackUrl, apiSecret, forceUpdate}; without forceUpdate an existing registration is kept
//   and answered, with it the registration is overwritten (request and answer fields: RegisterCallbackRequest and
//   RegisterCallbackResponseBodyResult {callbackUrl, apiSecret} in aliyun/dingtalk-sdk,
//   dingtalk/ts/src/card_1_0/client.ts);
// - cards are created with `callbackType: "HTTP"` and that `callbackRouteKey` (create-and-deliver-cards);
// - a click is a plain JSON POST {type: "actionCallback", outTrackId, corpId, userId, content} to the URL, the
//   same data a Stream card callback carries; with an apiSecret registered it has the headers
//   `x-ddpaas-signature-timestamp` and `x-ddpaas-signature` = base64(HMAC-SHA256(key = apiSecret, the timestamp
//   as a decimal string));
// - it is answered within 2 s with {cardData?, userPrivateData?, cardUpdateOptions} (事件回调响应, 注意事项).
//
// The signature covers the timestamp only, not the body (like the robot's `sign`, crypto.ts), so a captured
// (timestamp, signature) pair could carry any click by anyone while its timestamp is fresh. tierbot therefore
// accepts each pair once across instances (robot-signs.ts) and only within CARD_CALLBACK_WINDOW_MS.
//
// Nothing new to configure: the route key is derived from the Client ID and the callback URL (so two deployments
// of one app, say staging and production, get a route each), the apiSecret from the Client Secret and the URL.
import { createHash, createHmac } from 'node:crypto';
import type { Logger } from '../../logger.ts';
import { safeEqual } from '../shared/compare.ts';
import { PlatformConfigError, VerificationError } from '../shared/errors.ts';
import { DeliveryFailure } from '../shared/outbound.ts';
import { assertFresh } from '../shared/replay-window.ts';
import { headerValue, type ParamBag } from '../shared/request-input.ts';
import type { DingtalkClient } from './client.ts';
import { ROBOT_SIGN_WINDOW_MS, type RobotSignature } from './crypto.ts';

export const CARD_CALLBACK_HEADERS = { timestamp: 'x-ddpaas-signature-timestamp', signature: 'x-ddpaas-signature' } as const;

/**
 * How far a card callback's signed timestamp may be from now: 5 minutes. DingTalk's page names no window. A click
 * is sent when it happens and must be answered within 2 s, so a genuine callback is seconds old; the window only
 * bounds how long a pair that never reached tierbot (intercepted, or copied from a log) stays usable, and how many
 * single-use claims are kept. It is the robot messages' window (ROBOT_SIGN_WINDOW_MS) for the same reasons, and
 * has the same price: a server clock more than 5 minutes off refuses every click (403 stale_timestamp).
 */
export const CARD_CALLBACK_WINDOW_MS = ROBOT_SIGN_WINDOW_MS;

/** base64(HMAC-SHA256(key = apiSecret, timestamp)), the timestamp exactly as sent (epoch ms, decimal). */
export function cardCallbackSignature(apiSecret: string, timestamp: string): string {
  return createHmac('sha256', apiSecret).update(timestamp, 'utf8').digest('base64');
}

/** Throws 401 for a missing/bad signature, 400 for a malformed timestamp, 403 when it is more than `windowMs` away. */
export function verifyCardCallbackRequest(headers: ParamBag, apiSecret: string, nowMs: number, windowMs = CARD_CALLBACK_WINDOW_MS): RobotSignature {
  if (!apiSecret) throw new PlatformConfigError('dingtalk', 'card callback apiSecret is empty');
  const timestamp = headerValue(headers, CARD_CALLBACK_HEADERS.timestamp);
  const sign = headerValue(headers, CARD_CALLBACK_HEADERS.signature);
  if (!timestamp || !sign) throw new VerificationError('missing_signature', `${CARD_CALLBACK_HEADERS.timestamp} or ${CARD_CALLBACK_HEADERS.signature} missing`);
  if (!safeEqual(sign, cardCallbackSignature(apiSecret, timestamp))) throw new VerificationError('bad_signature', 'card callback signature does not match');
  return { timestamp, sign, timestampMs: assertFresh(timestamp, 'ms', nowMs, windowMs) };
}

/** What tierbot registers: derived, never configured. */
export interface CardCallbackRoute {
  routeKey: string;
  callbackUrl: string;
  apiSecret: string;
}

/**
 * The route of this deployment: key = "tierbot-" + 24 hex of SHA-256(Client ID, URL); apiSecret = 32 base64url
 * characters of HMAC-SHA256(Client Secret, URL). A new Client Secret gives a new apiSecret, which the next start
 * registers (forceUpdate).
 */
export function cardCallbackRoute(opts: { clientId: string; clientSecret: string; callbackUrl: string }): CardCallbackRoute {
  const routeKey = 'tierbot-' + createHash('sha256').update(`${opts.clientId}\n${opts.callbackUrl}`, 'utf8').digest('hex').slice(0, 24);
  const apiSecret = createHmac('sha256', opts.clientSecret).update(`tierbot card callback\n${opts.callbackUrl}`, 'utf8').digest('base64url').slice(0, 32);
  return { routeKey, callbackUrl: opts.callbackUrl, apiSecret };
}

export type RegistrationOutcome = 'registered' | 'updated';

/**
 * Registers the route, idempotently: first without forceUpdate (a fresh key is inserted; a key already holding our
 * URL and secret is left alone), then — only when DingTalk answers a different URL or secret for our key, i.e. an
 * older registration of this deployment — once more with forceUpdate.
 */
export async function registerCardCallbackRoute(client: DingtalkClient, route: CardCallbackRoute): Promise<RegistrationOutcome> {
  const req = { callbackRouteKey: route.routeKey, callbackUrl: route.callbackUrl, apiSecret: route.apiSecret };
  const held = await client.registerCardCallback({ ...req, forceUpdate: false });
  const differs = (held.callbackUrl !== undefined && held.callbackUrl !== route.callbackUrl) || (held.apiSecret !== undefined && held.apiSecret !== route.apiSecret);
  if (!differs) return 'registered';
  await client.registerCardCallback({ ...req, forceUpdate: true });
  return 'updated';
}

export interface CardCallbackRegistrarOptions {
  client: DingtalkClient;
  route: CardCallbackRoute;
  log: Logger;
  /** first retry delay after a retryable failure (default 1 s), doubled up to `backoffMaxMs` (default 60 s) */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

/**
 * Registration at start. A refused registration (credentials, permission) stops the start with an error; network
 * trouble and 5xx do not: the start goes on and the registration is retried with backoff until it succeeds or
 * `stop()` is called.
 */
export class CardCallbackRegistrar {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private attempt: Promise<void> | null = null;
  private lastError = '';
  /** set once DingTalk has the route (tests, logs) */
  outcome: RegistrationOutcome | null = null;

  constructor(private readonly opts: CardCallbackRegistrarOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    const first = await this.tryOnce();
    if (first === 'give_up') throw new Error(`dingtalk: card callback registration refused (${this.lastError})`);
    if (first === 'retry') this.scheduleRetry(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.attempt;
  }

  private async tryOnce(): Promise<'ok' | 'retry' | 'give_up'> {
    const { client, route, log } = this.opts;
    let done!: () => void;
    this.attempt = new Promise<void>((resolve) => (done = resolve));
    try {
      this.outcome = await registerCardCallbackRoute(client, route);
      log.info({ routeKey: route.routeKey, callbackUrl: route.callbackUrl, outcome: this.outcome }, 'dingtalk: card callback route registered');
      return 'ok';
    } catch (err) {
      this.lastError = (err as Error).message;
      const retryable = err instanceof DeliveryFailure ? err.retryable : false;
      log.warn({ err: { name: (err as Error).name, message: this.lastError }, retryable }, 'dingtalk: card callback registration failed');
      return retryable ? 'retry' : 'give_up';
    } finally {
      done();
      this.attempt = null;
    }
  }

  private scheduleRetry(failures: number): void {
    if (this.stopped) return;
    const base = this.opts.backoffBaseMs ?? 1000;
    const max = this.opts.backoffMaxMs ?? 60_000;
    const delay = Math.min(max, base * 2 ** failures);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tryOnce().then((r) => {
        if (r !== 'ok') this.scheduleRetry(failures + 1);
      });
    }, delay);
    this.timer.unref?.();
  }
}
