// Outgoing cards through the Lark SDK: im.v1.message.create to a user (open_id) or a team chat (chat_id),
// im.v1.message.patch to update in place. Every call goes through the shared Outbound (rate limits, token,
// classification via profile.ts). API pages:
//   https://open.feishu.cn/document/server-docs/im-v1/message/create
//   https://open.feishu.cn/document/server-docs/im-v1/message-card/patch
//
// Token: the SDK's own cache (client/token-manager.ts) is never refreshed when Feishu answers 99991663 (the SDK
// has no retry at all), so it is switched off (`disableTokenCache`) and our TokenCache fetches
// /open-apis/auth/v3/tenant_access_token/internal; each call carries the token with `lark.withTenantToken`,
// and Outbound invalidates exactly that token when Feishu rejects it.
import { createHash } from 'node:crypto';
import * as lark from '@larksuiteoapi/node-sdk';
import type { Card } from '../../../cards/model.ts';
import type { FeishuConfig } from './config.ts';
import type { Logger } from '../../logger.ts';
import type { Messenger, Recipient, SentMessage } from '../../ports/messenger.ts';
import { DeliveryFailure, Outbound, TokenCache, realTimer, type PlatformProfile, type Timer } from '../shared/outbound.ts';
import { feishuDomain, feishuProfile } from './profile.ts';
import { render } from './render.ts';

export const TOKEN_PATH = '/open-apis/auth/v3/tenant_access_token/internal';

/** The SDK's http client with a timeout on every request (the SDK sets none for API calls). */
export function timedHttp(timeoutMs: number, base: { request(opts: object): Promise<unknown> } = lark.defaultHttpInstance): lark.HttpInstance {
  const request = (opts: lark.HttpRequestOptions<unknown>): Promise<any> => base.request({ timeout: timeoutMs, ...opts });
  const bodiless = (method: string) => (url: string, opts?: lark.HttpRequestOptions<unknown>) => request({ ...opts, url, method });
  const withBody = (method: string) => (url: string, data?: unknown, opts?: lark.HttpRequestOptions<unknown>) =>
    request({ ...opts, url, method, data });
  return {
    request,
    get: bodiless('get'),
    delete: bodiless('delete'),
    head: bodiless('head'),
    options: bodiless('options'),
    post: withBody('post'),
    put: withBody('put'),
    patch: withBody('patch'),
  };
}

/**
 * The SDK logs whole AxiosErrors (with the request config: the app secret of a token request, the
 * Authorization header). This logger keeps only messages, codes and statuses.
 */
export function sdkLogger(log: Logger) {
  const brief = (item: unknown): unknown => {
    if (typeof item === 'string') return item.length > 300 ? `${item.slice(0, 300)}…` : item;
    if (!item || typeof item !== 'object') return item;
    const e = item as { message?: unknown; code?: unknown; msg?: unknown; response?: { status?: unknown; data?: { code?: unknown } } };
    const kept = { message: e.message, code: e.code, msg: e.msg, status: e.response?.status, feishuCode: e.response?.data?.code };
    return Object.fromEntries(Object.entries(kept).filter(([, v]) => typeof v === 'string' || typeof v === 'number'));
  };
  const at = (level: 'warn' | 'debug' | 'trace') => (...msg: unknown[]) => {
    // LoggerProxy passes its arguments as one array; formatErrors adds another level
    log[level]({ sdk: (msg.flat(3) as unknown[]).map(brief) }, 'feishu sdk');
  };
  return { error: at('warn'), warn: at('warn'), info: at('debug'), debug: at('debug'), trace: at('trace') };
}

/** What the SDK clients (HTTP and long connection) share. */
export function sdkOptions(env: FeishuConfig, log: Logger) {
  return {
    appId: env.FEISHU_APP_ID!,
    appSecret: env.FEISHU_APP_SECRET!,
    domain: feishuDomain(env.FEISHU_DOMAIN),
    httpInstance: timedHttp(env.PLATFORM_TIMEOUT_MS),
    logger: sdkLogger(log),
    loggerLevel: lark.LoggerLevel.warn,
  };
}

/** A ≤ 50-character uuid for im/v1/messages: the same idempotency key always gives the same uuid. */
export function feishuUuid(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 32);
}

export function feishuTarget(to: Recipient): { receiveIdType: 'open_id' | 'chat_id'; receiveId: string } {
  if (to.kind === 'user') return { receiveIdType: 'open_id', receiveId: to.id };
  if (to.kind === 'chat') return { receiveIdType: 'chat_id', receiveId: to.id };
  throw new DeliveryFailure(false, `feishu: cannot send to a ${to.kind} recipient`);
}

export interface FeishuMessengerDeps {
  env: FeishuConfig;
  log: Logger;
  timer?: Timer;
  /** tests may scale windows; the platform's own by default */
  profile?: PlatformProfile;
}

export class FeishuMessenger implements Messenger {
  readonly platform = 'feishu' as const;
  readonly client: lark.Client;
  readonly outbound: Outbound;

  constructor({ env, log, timer = realTimer, profile = feishuProfile }: FeishuMessengerDeps) {
    this.client = new lark.Client({ ...sdkOptions(env, log), disableTokenCache: true, cache: new lark.DefaultCache() });
    const tokens = new TokenCache(() => this.fetchToken(env.FEISHU_APP_ID!, env.FEISHU_APP_SECRET!, profile), timer);
    this.outbound = new Outbound(profile, tokens, timer);
  }

  private async fetchToken(appId: string, appSecret: string, profile: PlatformProfile): Promise<{ token: string; expiresInMs: number }> {
    let answer: { status?: number; body?: unknown; error?: unknown };
    try {
      const body = await this.client.request({ method: 'POST', url: TOKEN_PATH, data: { app_id: appId, app_secret: appSecret } });
      answer = { status: 200, body };
    } catch (error) {
      answer = { error };
    }
    const verdict = profile.classify(answer);
    const body = (answer.body ?? {}) as { tenant_access_token?: unknown; expire?: unknown };
    if (verdict.kind === 'ok' && typeof body.tenant_access_token === 'string' && typeof body.expire === 'number') {
      return { token: body.tenant_access_token, expiresInMs: body.expire * 1000 };
    }
    const reason = verdict.kind === 'ok' ? 'answer without tenant_access_token' : verdict.reason;
    throw new DeliveryFailure(verdict.kind === 'retry', `feishu: tenant_access_token: ${reason}`, verdict.kind === 'retry' ? verdict.afterMs : undefined);
  }

  async send(to: Recipient, card: Card, idempotencyKey: string): Promise<SentMessage> {
    const { receiveIdType, receiveId } = feishuTarget(to);
    const data = { receive_id: receiveId, msg_type: 'interactive', content: JSON.stringify(render(card)), uuid: feishuUuid(idempotencyKey) };
    const messageId = await this.outbound.call(async (token) => {
      const body = await this.client.im.v1.message.create({ params: { receive_id_type: receiveIdType }, data }, lark.withTenantToken(token));
      return { status: 200, body, value: body.data?.message_id };
    }, `${receiveIdType}:${receiveId}`);
    if (!messageId) throw new DeliveryFailure(false, 'feishu: message created without a message_id');
    return { platform: 'feishu', messageId };
  }

  async update(sent: SentMessage, card: Card): Promise<void> {
    const content = JSON.stringify(render(card));
    await this.outbound.call(async (token) => {
      const body = await this.client.im.v1.message.patch({ path: { message_id: sent.messageId }, data: { content } }, lark.withTenantToken(token));
      return { status: 200, body };
    }, `message:${sent.messageId}`);
  }
}
