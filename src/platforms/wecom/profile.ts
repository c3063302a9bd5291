// WeCom's outbound profile: rate limits and what each answer means (docs/platforms/wecom.md, "How tierbot uses
// WeCom"; official pages under https://developer.work.weixin.qq.com/document/path/: 90236 message/send, 90312
// rate limits, 90313 global error codes, 91770 group robot). Data only; the mechanism (token cache, limiter,
// refresh-once) is src/platforms/shared/outbound.ts.
import type { InboundProfile } from '../../inbound/work.ts';
import { isNetworkError, type Answer, type PlatformProfile, type RateLimit, type Verdict } from '../shared/outbound.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Our windows are 2 % + 250 ms longer than WeCom's, so jitter (clock drift, varying latency between our
 * limiter and their arrival) cannot squeeze one extra call into their window. The 250 ms is latency, so it is
 * not time-scaled. Per-member excess is *silently dropped* by WeCom (90236, 90312): the limiter is the only
 * protection, so it must never be optimistic.
 */
const JITTER_MARGIN = 1.02;
const LATENCY_ALLOWANCE_MS = 250;

export interface WecomProfileOptions {
  /**
   * Multiplies every window and retry delay (tests run "a minute" in 600 ms with 0.01). The counts stay
   * WeCom's real ones. Default 1.
   */
  timeScale?: number;
}

/** WeCom's own limits, before our margin and scaling (for fakes that enforce them). */
export const WECOM_RATE_LIMITS = {
  /** message/send, per app per member: 30/min and 1000/hour; the excess is dropped, not refused */
  memberPerMinute: 30,
  memberPerHour: 1000,
  /** base limits per corp per API */
  appPerMinute: 10_000,
  appPerHour: 150_000,
  /** group robot: 20 messages/min per robot; over it answers 45009 */
  robotPerMinute: 20,
} as const;

/** errcodes that are our mistake or WeCom's "no": retrying cannot help (90313). */
const GIVE_UP: Record<number, string> = {
  40001: 'invalid corpsecret (check WECOM_SECRET; repeated tries get the IP banned for 1 h)',
  40003: 'invalid userid',
  40013: 'invalid corpid (check WECOM_CORP_ID)',
  40056: 'invalid agentid (check WECOM_AGENT_ID)',
  40058: 'invalid parameter',
  41001: 'access_token missing',
  42014: 'task_id invalid or already used',
  42045: 'template_card.card_action missing or invalid',
  44004: 'empty content',
  45002: 'content too large',
  48002: 'API forbidden for this app (permissions)',
  60020: 'server IP is not in the app\'s trusted IPs (企业可信IP)',
  81013: 'no valid recipient: every userid/party/tag is invalid or outside the app\'s visible range',
  93000: 'invalid group-robot webhook key',
};

const INVALID_LISTS = ['invaliduser', 'invalidparty', 'invalidtag', 'unlicenseduser'] as const;

interface WecomBody {
  errcode?: unknown;
  errmsg?: unknown;
  [list: string]: unknown;
}

function errmsgOf(body: WecomBody): string {
  return typeof body.errmsg === 'string' ? body.errmsg.slice(0, 200) : '';
}

/** Classifies one WeCom answer. `errcode` decides, never `errmsg` (its text changes and carries a hint). */
export function classifyWecom(answer: Answer, timeScale = 1): Verdict {
  if (answer.error !== undefined) {
    const message = (answer.error as Error)?.message ?? String(answer.error);
    return isNetworkError(answer.error)
      ? { kind: 'retry', reason: `network error: ${message}` }
      : { kind: 'give_up', reason: `request failed: ${message}` };
  }
  const status = answer.status ?? 0;
  if (status >= 500 || status === 429) return { kind: 'retry', reason: `HTTP ${status}` };
  if (status !== 200) return { kind: 'give_up', reason: `HTTP ${status}` };
  const body = answer.body as WecomBody | undefined;
  if (typeof body !== 'object' || body === null || typeof body.errcode !== 'number') {
    return { kind: 'retry', reason: 'answer is not a WeCom JSON result' };
  }
  const code = body.errcode;
  const what = `errcode ${code} ${errmsgOf(body)}`.trim();
  switch (code) {
    case 0: {
      // Partly invalid recipients are still "ok" to WeCom; our sends have exactly one recipient, so any
      // entry here means the card was not delivered (90236: userids come back lower-cased).
      for (const list of INVALID_LISTS) {
        const value = body[list];
        if (typeof value === 'string' && value !== '') {
          return { kind: 'give_up', reason: `${list} "${value}": not delivered (unknown, disabled or unlicensed member, or outside the app's visible range)` };
        }
      }
      return { kind: 'ok' };
    }
    case 40014:
    case 42001:
      return { kind: 'refresh_token', reason: what };
    case -1:
      return { kind: 'retry', afterMs: Math.round(1000 * timeScale), reason: `${what} (system busy)` };
    case 45009:
      // a per-minute block lasts 60 s (90312); an hour block is longer, the outbox's backoff grows from here
      return { kind: 'retry', afterMs: Math.round(MINUTE * JITTER_MARGIN * timeScale), reason: `${what} (frequency limit)` };
    case 45033:
      return { kind: 'retry', afterMs: Math.round(2000 * timeScale), reason: `${what} (too many concurrent calls)` };
    default: {
      const meaning = GIVE_UP[code];
      return { kind: 'give_up', reason: meaning ? `${what} (${meaning})` : what };
    }
  }
}

function scaled(max: number, windowMs: number, scope: RateLimit['scope'], timeScale: number): RateLimit {
  return { scope, max, windowMs: Math.round(windowMs * JITTER_MARGIN * timeScale) + LATENCY_ALLOWANCE_MS };
}

/** The app API (gettoken, message/send, update_template_card, appchat/send). Recipient = one member or chat. */
export function wecomProfile(options: WecomProfileOptions = {}): PlatformProfile {
  const s = options.timeScale ?? 1;
  const L = WECOM_RATE_LIMITS;
  return {
    name: 'wecom',
    limits: [
      scaled(L.memberPerMinute, MINUTE, 'recipient', s),
      scaled(L.memberPerHour, HOUR, 'recipient', s),
      scaled(L.appPerMinute, MINUTE, 'app', s),
      scaled(L.appPerHour, HOUR, 'app', s),
    ],
    classify: (answer) => classifyWecom(answer, s),
  };
}

/** The group-robot webhook: no token, 20/min per robot key (its own gate, it does not count against the app). */
export function wecomRobotProfile(options: WecomProfileOptions = {}): PlatformProfile {
  const s = options.timeScale ?? 1;
  return {
    name: 'wecom-robot',
    limits: [scaled(WECOM_RATE_LIMITS.robotPerMinute, MINUTE, 'recipient', s)],
    classify: (answer) => classifyWecom(answer, s),
  };
}

/**
 * The way in, as data for the shared inbound mechanism (src/inbound/). Callback bodies are a few KiB (a 2048-byte
 * text message, base64-encrypted, in an XML wrapper: 90238, 90240): 64 KiB. WeCom waits 5 s and then retries
 * (90238); tierbot answers 200 with an empty body at once (0 ms) and gives its feedback through the API after.
 */
export const wecomInbound: InboundProfile = { name: 'wecom', maxBodyBytes: 64 * 1024, answerWithinMs: 0 };
