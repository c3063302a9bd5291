// Feishu/Lark as data for the shared outbound mechanism: rate limits and what each API answer means
// (docs/platforms/feishu.md §9). Limits and codes:
//   https://open.feishu.cn/document/server-docs/im-v1/message/create
//   https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control
//   https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code
// The SDK throws an AxiosError for every non-2xx answer (its http/index.ts is a plain axios instance; business
// errors such as 230020 come back as HTTP 400), and returns the body for HTTP 200 even when `code != 0`, so
// both shapes are read here.
import * as lark from '@larksuiteoapi/node-sdk';
import type { InboundProfile } from '../../inbound/work.ts';
import { isNetworkError, type Answer, type PlatformProfile, type RateLimit, type Verdict } from '../shared/outbound.ts';

/** tenant_access_token missing (99991661), invalid/expired (99991663), invalid app/tenant token (99991664/5). */
export const TOKEN_CODES: ReadonlySet<number> = new Set([99991661, 99991663, 99991664, 99991665]);
/** Gateway frequency limit (HTTP 429, `x-ogw-ratelimit-reset` in seconds). */
export const GATEWAY_RATE_LIMIT_CODE = 99991400;
/** IM business frequency limit (HTTP 400). */
export const IM_RATE_LIMIT_CODE = 230020;

/**
 * Our windows are the platform's plus this margin, so requests that leave us at the edge of a window and
 * arrive a little later are still counted by Feishu in the window we counted them in.
 */
export const WINDOW_MARGIN_MS = 100;

/**
 * im/v1/messages (create and patch): 1000/min and 50/s per app; 5/s per user or chat (create) and 5/s per
 * message (patch). The recipient key for a patch is the message id.
 */
export const FEISHU_RATE_LIMITS: RateLimit[] = [
  { scope: 'app', max: 50, windowMs: 1000 + WINDOW_MARGIN_MS },
  { scope: 'app', max: 1000, windowMs: 60_000 + WINDOW_MARGIN_MS },
  { scope: 'recipient', max: 5, windowMs: 1000 + WINDOW_MARGIN_MS },
];

/** FEISHU_DOMAIN without a trailing slash (the SDK joins `${domain}/${url}` as plain strings: client/client.ts),
 * or Feishu's own. */
export function feishuDomain(domain: string | undefined): string | lark.Domain {
  return domain ? domain.replace(/\/+$/, '') : lark.Domain.Feishu;
}

interface HttpLikeError {
  isAxiosError?: boolean;
  message?: string;
  code?: string;
  response?: { status?: number; data?: unknown; headers?: Record<string, unknown> };
}

/** An AxiosError with a response becomes {status, body, headers}; anything else stays an error. */
export function normaliseAnswer(answer: Answer): Answer {
  const e = answer.error as HttpLikeError | undefined;
  if (!e?.response || typeof e.response.status !== 'number') return answer;
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(e.response.headers ?? {})) headers[k.toLowerCase()] = v == null ? undefined : String(v);
  return { status: e.response.status, body: e.response.data, headers };
}

function retryAfter(headers: Answer['headers']): number | undefined {
  const reset = Number(headers?.['x-ogw-ratelimit-reset']);
  return Number.isFinite(reset) && reset >= 0 ? Math.ceil(reset * 1000) : undefined;
}

export function classifyFeishu(raw: Answer): Verdict {
  const answer = normaliseAnswer(raw);
  if (answer.status === undefined) {
    const e = answer.error as HttpLikeError | undefined;
    // No HTTP answer at all: connection refused/reset, timeout (axios ECONNABORTED), DNS.
    if (isNetworkError(e) || e?.isAxiosError) return { kind: 'retry', reason: `network error ${e?.code ?? e?.message ?? ''}`.trim() };
    return { kind: 'give_up', reason: `unexpected error: ${e?.message ?? String(e)}` };
  }
  const body = (answer.body ?? {}) as { code?: unknown; msg?: unknown };
  const code = typeof body.code === 'number' ? body.code : undefined;
  const what = `HTTP ${answer.status}${code === undefined ? '' : ` code ${code}`}${typeof body.msg === 'string' ? ` ${body.msg}` : ''}`;

  if (answer.status >= 200 && answer.status < 300 && code === 0) return { kind: 'ok' };
  if (code !== undefined && TOKEN_CODES.has(code)) return { kind: 'refresh_token', reason: what };
  if (answer.status === 429 || code === GATEWAY_RATE_LIMIT_CODE) return { kind: 'retry', afterMs: retryAfter(answer.headers) ?? 1000, reason: what };
  if (code === IM_RATE_LIMIT_CODE) return { kind: 'retry', afterMs: 1000, reason: what };
  if (answer.status >= 500) return { kind: 'retry', reason: what };
  // Everything else (230001 bad params, 230002 bot not in chat, 230013 out of scope, 230025 too large, …) will
  // not get better by trying again.
  return { kind: 'give_up', reason: what };
}

export const feishuProfile: PlatformProfile = {
  name: 'feishu',
  limits: FEISHU_RATE_LIMITS,
  classify: classifyFeishu,
};

/**
 * The way in, as data for the shared inbound mechanism (src/inbound/). Encrypted events carry message text up to
 * 150 KB (https://open.feishu.cn/document/server-docs/im-v1/message/create) plus base64 overhead: 1 MiB. A card
 * callback must be answered within 3 s, connection included
 * (https://open.feishu.cn/document/feishu-cards/card-callback-communication): we answer by 2.5 s.
 */
export const feishuInbound: InboundProfile = { name: 'feishu', maxBodyBytes: 1 << 20, answerWithinMs: 2500 };
