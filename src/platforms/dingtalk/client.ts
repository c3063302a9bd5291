// DingTalk OpenAPI (api.dingtalk.com) over fetch. Official pages, under https://open.dingtalk.com/document/orgapp/:
// chatbots-send-one-on-one-chat-messages-in-batches, the-robot-sends-a-group-message, create-and-deliver-cards,
// interactive-card-update-interface, obtain-the-access_token-of-an-internal-app, register-card-callback-address
// (request and answer fields: RegisterCallbackRequest / RegisterCallbackResponseBodyResult in the official SDK,
// aliyun/dingtalk-sdk dingtalk/ts/src/card_1_0/client.ts). Every call goes through the shared Outbound: one
// rate-limit gate per API (DingTalk limits each API separately), one token cache per app.
import type { Locale } from '../../../cards/model.ts';
import type { Answer, PlatformProfile, Timer } from '../shared/outbound.ts';
import { DeliveryFailure, Outbound, TokenCache, realTimer } from '../shared/outbound.ts';
import { dingtalkProfile } from './profile.ts';

export interface DingtalkClientOptions {
  /** DINGTALK_API_BASE */
  apiBase: string;
  /** DINGTALK_CLIENT_ID (AppKey) */
  clientId: string;
  /** DINGTALK_CLIENT_SECRET (AppSecret) */
  clientSecret: string;
  /** DINGTALK_ROBOT_CODE */
  robotCode: string;
  /** PLATFORM_TIMEOUT_MS, per request */
  timeoutMs: number;
  /**
   * How clicks on template cards come back: over the Stream connection, or as HTTP POSTs to the URL registered
   * under `routeKey` (https://open.dingtalk.com/document/development/event-callback-card). Default STREAM.
   */
  cardCallback?: CardCallbackMode;
  profile?: PlatformProfile;
  timer?: Timer;
}

export type CardCallbackMode = { type: 'STREAM' } | { type: 'HTTP'; routeKey: string };

/**
 * `lastMessageI18n` keys (the chat-list preview) are DingTalk's language enums — ZH_CN, ZH_TW, EN_US, JA_JP,
 * VI_VN, TH_TH (create-and-deliver-cards, imRobotOpenSpaceModel / imGroupOpenSpaceModel.lastMessageI18n).
 */
export const PREVIEW_LANGUAGE: Record<Locale, string> = { 'zh-CN': 'ZH_CN', en: 'EN_US' };

/** A robot message body part: `msgParam` is a JSON string (batchSend and groupMessages/send pages above). */
export interface RobotMessageBody {
  msgKey: string;
  msgParam: string;
}

export type CardSpace = { kind: 'user'; userId: string } | { kind: 'chat'; openConversationId: string };

export interface CreateCardRequest {
  cardTemplateId: string;
  outTrackId: string;
  cardParamMap: Record<string, string>;
  space: CardSpace;
  /** chat-list preview, in `locale` */
  preview?: string;
  locale?: Locale;
}

/** `POST /v1.0/card/callbacks/register` (RegisterCallbackRequest). */
export interface RegisterCardCallbackRequest {
  callbackRouteKey: string;
  callbackUrl: string;
  apiSecret: string;
  /** false: insert if absent, else answer what is registered; true: overwrite */
  forceUpdate: boolean;
}

/** What is registered under the key afterwards (RegisterCallbackResponseBodyResult). */
export interface RegisteredCardCallback {
  callbackUrl?: string;
  apiSecret?: string;
}

export const DINGTALK_PATHS = {
  token: '/v1.0/oauth2/accessToken',
  otoBatchSend: '/v1.0/robot/oToMessages/batchSend',
  groupSend: '/v1.0/robot/groupMessages/send',
  cardCreateAndDeliver: '/v1.0/card/instances/createAndDeliver',
  cardUpdate: '/v1.0/card/instances',
  cardCallbackRegister: '/v1.0/card/callbacks/register',
} as const;

/** Where a robot message's sessionWebhook may point (we POST to it; never to anywhere a payload names). */
const SESSION_ORIGINS = ['https://oapi.dingtalk.com', 'https://api.dingtalk.com'];

export class DingtalkClient {
  readonly tokens: TokenCache;
  private readonly gates = new Map<string, Outbound>();
  /** session replies need no token; they share the profile (limits, classification) */
  private readonly sessionGate: Outbound;
  private readonly profile: PlatformProfile;
  private readonly timer: Timer;
  private readonly base: string;

  constructor(private readonly opts: DingtalkClientOptions) {
    this.profile = opts.profile ?? dingtalkProfile;
    this.timer = opts.timer ?? realTimer;
    this.base = opts.apiBase.replace(/\/+$/, '');
    this.tokens = new TokenCache(() => this.fetchToken(), this.timer);
    this.sessionGate = new Outbound(this.profile, null, this.timer);
  }

  get robotCode(): string {
    return this.opts.robotCode;
  }

  /** `POST /v1.0/robot/oToMessages/batchSend` to one user → processQueryKey. */
  async sendToUser(userId: string, msg: RobotMessageBody): Promise<{ processQueryKey: string }> {
    const body = { robotCode: this.opts.robotCode, userIds: [userId], msgKey: msg.msgKey, msgParam: msg.msgParam };
    const res = await this.call<{ processQueryKey?: string }>('POST', DINGTALK_PATHS.otoBatchSend, body, userId);
    return { processQueryKey: res?.processQueryKey ?? '' };
  }

  /** `POST /v1.0/robot/groupMessages/send` to a group the robot is in → processQueryKey. */
  async sendToGroup(openConversationId: string, msg: RobotMessageBody): Promise<{ processQueryKey: string }> {
    const body = { robotCode: this.opts.robotCode, openConversationId, msgKey: msg.msgKey, msgParam: msg.msgParam };
    const res = await this.call<{ processQueryKey?: string }>('POST', DINGTALK_PATHS.groupSend, body, openConversationId);
    return { processQueryKey: res?.processQueryKey ?? '' };
  }

  /**
   * `POST /v1.0/card/instances/createAndDeliver`. A repeated `outTrackId` is a no-op at DingTalk, so a retried
   * create after a lost answer does not deliver the card twice. Clicks come back as `cardCallback` says:
   * `callbackType` STREAM, or HTTP with the registered `callbackRouteKey`.
   */
  async createAndDeliverCard(req: CreateCardRequest): Promise<void> {
    const robotCode = this.opts.robotCode;
    const lastMessageI18n = req.preview ? { [PREVIEW_LANGUAGE[req.locale ?? 'zh-CN']]: req.preview } : undefined;
    const callback = this.opts.cardCallback ?? { type: 'STREAM' };
    const body: Record<string, unknown> = {
      cardTemplateId: req.cardTemplateId,
      outTrackId: req.outTrackId,
      callbackType: callback.type,
      ...(callback.type === 'HTTP' && { callbackRouteKey: callback.routeKey }),
      cardData: { cardParamMap: req.cardParamMap },
    };
    if (req.space.kind === 'user') {
      body.openSpaceId = `dtv1.card//IM_ROBOT.${req.space.userId}`;
      body.imRobotOpenSpaceModel = { supportForward: false, ...(lastMessageI18n && { lastMessageI18n }) };
      body.imRobotOpenDeliverModel = { spaceType: 'IM_ROBOT', robotCode };
    } else {
      body.openSpaceId = `dtv1.card//IM_GROUP.${req.space.openConversationId}`;
      body.imGroupOpenSpaceModel = { supportForward: true, ...(lastMessageI18n && { lastMessageI18n }) };
      body.imGroupOpenDeliverModel = { robotCode };
    }
    const key = req.space.kind === 'user' ? req.space.userId : req.space.openConversationId;
    await this.call('POST', DINGTALK_PATHS.cardCreateAndDeliver, body, key);
  }

  /** `PUT /v1.0/card/instances`: the given keys replace the card's public data in place. */
  async updateCard(outTrackId: string, cardParamMap: Record<string, string>): Promise<void> {
    const body = { outTrackId, cardData: { cardParamMap }, cardUpdateOptions: { updateCardDataByKey: true } };
    await this.call('PUT', DINGTALK_PATHS.cardUpdate, body, outTrackId);
  }

  /**
   * `POST /v1.0/card/callbacks/register`: binds `callbackRouteKey` to `callbackUrl` and `apiSecret`. Without
   * `forceUpdate` an existing registration is kept and answered (event-callback-card, forceUpdate).
   */
  async registerCardCallback(req: RegisterCardCallbackRequest): Promise<RegisteredCardCallback> {
    const res = await this.call<{ result?: RegisteredCardCallback }>('POST', DINGTALK_PATHS.cardCallbackRegister, req, req.callbackRouteKey);
    return res?.result ?? {};
  }

  /** Replies inside a conversation through a robot message's `sessionWebhook` (no token, @ works). */
  async replyInSession(sessionWebhook: string, body: Record<string, unknown>): Promise<void> {
    const url = new URL(sessionWebhook);
    const allowed = [...SESSION_ORIGINS, new URL(this.base).origin];
    if (!allowed.includes(url.origin)) throw new DeliveryFailure(false, `dingtalk: sessionWebhook host ${url.origin} is not DingTalk's`);
    await this.sessionGate.call(async () => {
      const answer = await this.request('POST', url.toString(), body);
      // the session webhook answers like the custom robot: {errcode, errmsg}, errcode possibly "0"
      const b = answer.body as { errcode?: unknown; errmsg?: unknown } | undefined;
      if (answer.status === 200 && b && b.errcode !== undefined && String(b.errcode) !== '0') {
        return { status: 400, body: { code: `session.${String(b.errcode)}`, message: b.errmsg } };
      }
      return answer;
    }, 'session');
  }

  /** One API call through its gate; the token comes from the cache, DeliveryFailure on failure. */
  async call<T = unknown>(method: 'POST' | 'PUT', path: string, body: unknown, recipient?: string): Promise<T> {
    // Fetch the token before the rate-limit slot is taken: Outbound takes the slot first, and a slow token
    // fetch between slot and send would let sends bunch up at the platform.
    await this.tokens.get();
    return this.gate(`${method} ${path}`).call<T>((token) => this.request<T>(method, this.base + path, body, token), recipient);
  }

  private gate(api: string): Outbound {
    let gate = this.gates.get(api);
    if (!gate) {
      gate = new Outbound(this.profile, this.tokens, this.timer);
      this.gates.set(api, gate);
    }
    return gate;
  }

  private async fetchToken(): Promise<{ token: string; expiresInMs: number }> {
    const answer = await this.request<{ accessToken?: string; expireIn?: number }>('POST', this.base + DINGTALK_PATHS.token, {
      appKey: this.opts.clientId,
      appSecret: this.opts.clientSecret,
    });
    const verdict = this.profile.classify(answer);
    const token = answer.value?.accessToken;
    if (verdict.kind === 'ok' && typeof token === 'string' && token) {
      return { token, expiresInMs: Number(answer.value?.expireIn ?? 7200) * 1000 };
    }
    const reason = verdict.kind === 'ok' ? 'no accessToken in the answer' : verdict.reason;
    // a refused AppKey/AppSecret is a configuration error: retrying will not help until it is fixed
    throw new DeliveryFailure(verdict.kind === 'retry', `dingtalk: access token: ${reason}`, verdict.kind === 'retry' ? verdict.afterMs : undefined);
  }

  /** fetch with the request timeout; never throws (the error is part of the Answer). */
  private async request<T>(method: 'POST' | 'PUT', url: string, body: unknown, token?: string): Promise<Answer & { value?: T }> {
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' };
      if (token) headers['x-acs-dingtalk-access-token'] = token;
      const res = await fetch(url, { method, headers, body: JSON.stringify(body), signal: AbortSignal.timeout(this.opts.timeoutMs) });
      const text = await res.text();
      let parsed: unknown = {};
      if (text) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = { raw: text.slice(0, 200) };
        }
      }
      return { status: res.status, body: parsed, value: parsed as T };
    } catch (error) {
      return { error };
    }
  }
}
