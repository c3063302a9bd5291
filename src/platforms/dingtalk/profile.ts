// DingTalk's outbound profile: limits and what each API answer means (docs/platforms/dingtalk.md, "Limits and
// behaviour worth knowing"; throttling and its error codes:
// https://open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server).
// Data only; the shared Outbound (src/platforms/shared/outbound.ts) does the waiting, token refresh and failing.
import type { InboundProfile } from '../../inbound/work.ts';
import { isNetworkError, type Answer, type PlatformProfile, type RateLimit, type Verdict } from '../shared/outbound.ts';

export interface DingtalkProfileOptions {
  /**
   * The sliding window of the "20 calls/s per API per app" limit. DingTalk counts arrivals, not our sends, so
   * the default window is 1.2 s: 200 ms of room for network jitter and connection (TLS) setup. Tests scale it.
   */
  windowMs?: number;
  maxPerWindow?: number;
  /** how long to wait after a QpsLimit answer (the docs say: sleep 1 s) */
  qpsRetryMs?: number;
}

/** The new OpenAPI's error body: `{code, message, requestid}` (HTTP 400/401/403/5xx). */
interface ErrorBody {
  code?: unknown;
  message?: unknown;
  /** per-IP ban (10,000 calls / 20 s): `{"status":1111,"wait":5}`, wait in minutes */
  status?: unknown;
  wait?: unknown;
}

/** Fields of successful answers that still mean "not delivered" (card deliver results, batchSend lists). */
interface SuccessBody {
  success?: unknown;
  result?: { deliverResults?: { success?: boolean; errorMsg?: string; spaceId?: string }[] } | unknown;
  invalidStaffIdList?: unknown;
  flowControlledStaffIdList?: unknown;
}

const nonEmpty = (v: unknown): v is unknown[] => Array.isArray(v) && v.length > 0;

export function createDingtalkProfile(opts: DingtalkProfileOptions = {}): PlatformProfile {
  const qpsRetryMs = opts.qpsRetryMs ?? 1000;
  const limits: RateLimit[] = [{ scope: 'app', max: opts.maxPerWindow ?? 20, windowMs: opts.windowMs ?? 1200 }];

  function classify(answer: Answer): Verdict {
    if (answer.error !== undefined) {
      if (isNetworkError(answer.error)) return { kind: 'retry', reason: `network: ${describe(answer.error)}` };
      return { kind: 'give_up', reason: `client error: ${describe(answer.error)}` };
    }
    const status = answer.status ?? 0;
    const body = (answer.body ?? {}) as ErrorBody & SuccessBody;
    const code = typeof body.code === 'string' ? body.code : '';
    const what = `HTTP ${status}${code ? ` ${code}` : ''}${typeof body.message === 'string' ? `: ${body.message}` : ''}`;

    if (body.status === 1111) {
      const minutes = typeof body.wait === 'number' ? body.wait : 5;
      return { kind: 'retry', afterMs: minutes * 60_000, reason: `IP banned for ${minutes} min (${what})` };
    }
    if (code.includes('QpsLimit')) return { kind: 'retry', afterMs: qpsRetryMs, reason: what };
    if (code === 'Forbidden.AccessDenied.ApiCountLimitForOrg') return { kind: 'give_up', reason: `monthly API quota used up (${what})` };
    // an invalid or expired token is HTTP 400 (sometimes 401) with code InvalidAuthentication ("不合法的access_token")
    if (status === 401 || code === 'InvalidAuthentication') return { kind: 'refresh_token', reason: what };
    if (status === 429 || status >= 500) return { kind: 'retry', reason: what };
    if (status < 200 || status >= 300) return { kind: 'give_up', reason: what };

    // 2xx, but per-target results may still say no
    if (body.success === false) return { kind: 'give_up', reason: `not accepted: ${JSON.stringify(body).slice(0, 200)}` };
    const deliverResults = (body.result as { deliverResults?: unknown } | undefined)?.deliverResults;
    if (Array.isArray(deliverResults)) {
      const failed = (deliverResults as { success?: boolean; errorMsg?: string; spaceId?: string }[]).filter((r) => r.success === false);
      if (failed.length) return { kind: 'give_up', reason: `not delivered: ${failed.map((f) => `${f.spaceId ?? '?'} ${f.errorMsg ?? ''}`).join('; ')}` };
    }
    if (nonEmpty(body.flowControlledStaffIdList)) return { kind: 'retry', afterMs: qpsRetryMs, reason: 'recipient flow-controlled' };
    if (nonEmpty(body.invalidStaffIdList)) return { kind: 'give_up', reason: `unknown userId: ${body.invalidStaffIdList.join(',')}` };
    return { kind: 'ok' };
  }

  return { name: 'dingtalk', limits, classify };
}

function describe(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string } };
  return [e?.name, e?.cause?.code, e?.message].filter(Boolean).join(' ');
}

export const dingtalkProfile = createDingtalkProfile();

/**
 * The way in, as data for the shared inbound mechanism (src/inbound/): HTTP callbacks (robot messages, events,
 * card clicks) up to 1 MiB; a card callback is answered within 1.5 s of DingTalk's 2 s
 * (https://open.dingtalk.com/document/development/event-callback-card), a later reply's card goes as an update.
 */
export const dingtalkInbound: InboundProfile = { name: 'dingtalk', maxBodyBytes: 1 << 20, answerWithinMs: 1500 };
