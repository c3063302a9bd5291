// A fake DingTalk for tests: the OpenAPI (api.dingtalk.com) over HTTP and the Stream gateway over WebSocket,
// speaking their real wire formats. It CHECKS what it receives (token header, paths, body shapes, card parameter
// limits, msgParam fields), records it, enforces the 20-per-window rate limit, and can inject 5xx, QpsLimit codes,
// token expiry and requests that are processed but never answered. Where each rule comes from (official pages
// under https://open.dingtalk.com/document/, official SDK and docs repositories on GitHub):
//  - access token, `x-acs-dingtalk-access-token` header: orgapp/obtain-the-access_token-of-an-internal-app
//  - robot messages: orgapp/chatbots-send-one-on-one-chat-messages-in-batches (≤ 20 userIds) and
//    orgapp/the-robot-sends-a-group-message (msgParam is a JSON string of ≤ 15,000 bytes); msgParam fields per
//    msgKey: development/robot-message-type
//  - interactive cards: orgapp/create-and-deliver-cards (cardParamMap strings only, keys ≤ 100 bytes, values
//    ≤ 1 KB; an outTrackId already used does nothing) and orgapp/interactive-card-update-interface (without
//    cardUpdateOptions an update replaces the card data)
//  - 20 calls per second per API per app, QpsLimit codes: development/how-to-process-api-throttling-on-the-dingtalk-server
//  - Stream gateway, frames and ACKs: open-dingtalk/developerpedia docs/learn/stream/protocol.md and the SDK,
//    open-dingtalk/dingtalk-stream-sdk-nodejs src/client.ts (GATEWAY_URL, topics, socketCallBackResponse)
//  - card callback data: orgapp/event-callback-card
//  - HTTP card callbacks, development/event-callback-card ("HTTP 模式"): a route is registered with
//    `POST /v1.0/card/callbacks/register` {callbackRouteKey, callbackUrl, apiSecret, forceUpdate} (without
//    forceUpdate an existing key keeps its registration and is answered; with it, it is overwritten; answer
//    fields from RegisterCallbackResponseBodyResult in aliyun/dingtalk-sdk dingtalk/ts/src/card_1_0/client.ts);
//    a card whose `callbackType` is HTTP (upper case, development/interface-for-creating-a-card-instance) names a
//    registered `callbackRouteKey`, and a click on it is a JSON POST to that URL with
//    `x-ddpaas-signature-timestamp` and `x-ddpaas-signature` = base64(HMAC-SHA256(apiSecret, timestamp)); the
//    answer's cardData / userPrivateData update the card by key when cardUpdateOptions say so (事件回调响应); the
//    update API is not to be called while a callback is in progress (注意事项). A Stream card's click comes down
//    the socket only; an HTTP card's never does.
//  - chat-list previews: `lastMessageI18n` keys are ZH_CN, ZH_TW, EN_US, JA_JP, VI_VN, TH_TH
//    (development/interface-for-creating-a-card-instance)
//  - the native form (open-dingtalk/dingtalk-card-examples, examples/表单组件的使用与更新, nodejs/index.ts and the
//    template .json): the card variable `form` is {fields: [{name, label, type, required, placeholder, options:
//    [{value, text}], defaultValue}]}, a SELECT's defaultValue is {index, value}; the client checks required fields
//    before it submits; a submit's params hold the values under `form` (the Form's id; a SELECT as {index, value},
//    what the example writes back as defaultValue) and the template's Form params (`current_form`: the variable)
//  - robot messages over HTTP, signed with `timestamp` + `sign` = base64(HmacSHA256(appSecret, timestamp + "\n" +
//    appSecret)): isvapp/receive-message
//  - which variables exist: the template the admin imports, docs/platforms/dingtalk-card-template.json (DingTalk
//    fills only variables its template declares)
// Not from an official page: the 64-character limit on outTrackId (an unofficial copy of the docs), the exact
// answer to an expired token (assumed), the actionIds of a form submit (['form'] assumed) and what DingTalk does
// with parameters its template does not declare (the fake refuses them, to keep the template and render.ts in step).
import { prng } from '../../src/app/demo.ts';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ActionReply, InboundAction, InboundMessage, InboundSink } from '../../src/ports/messenger.ts';

export const FAKE_APP = {
  clientId: 'dingfakeappkey0001',
  clientSecret: 'fake-app-secret-0123456789abcdef',
  robotCode: 'dingfakeappkey0001',
  templateId: 'tierbot-generic.schema',
} as const;

export const ROBOT_TOPIC = '/v1.0/im/bot/messages/get';
export const CARD_TOPIC = '/v1.0/card/instances/callback';

export type Api = 'otoBatchSend' | 'groupSend' | 'cardCreate' | 'cardUpdate' | 'cardRegister';

const API_ROUTES: Record<string, Api> = {
  'POST /v1.0/robot/oToMessages/batchSend': 'otoBatchSend',
  'POST /v1.0/robot/groupMessages/send': 'groupSend',
  'POST /v1.0/card/instances/createAndDeliver': 'cardCreate',
  'PUT /v1.0/card/instances': 'cardUpdate',
  'POST /v1.0/card/callbacks/register': 'cardRegister',
};

/** lastMessageI18n language keys (development/interface-for-creating-a-card-instance). */
const PREVIEW_LANGUAGES = new Set(['ZH_CN', 'ZH_TW', 'EN_US', 'JA_JP', 'VI_VN', 'TH_TH']);

/** Native form field types of the official form example. */
const FORM_FIELD_TYPES = new Set(['TEXT', 'DATE', 'DATETIME', 'SELECT', 'MULTI_SELECT', 'CHECKBOX']);

/** base64(HMAC-SHA256(key = apiSecret, timestamp)) — development/event-callback-card, 回调签名验证. */
export function ddpaasSignature(apiSecret: string, timestamp: string): string {
  return createHmac('sha256', apiSecret).update(timestamp, 'utf8').digest('base64');
}

/** The robot's HTTP message signature — isvapp/receive-message. */
export function robotSign(timestamp: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`, 'utf8').digest('base64');
}

interface TemplateVariable {
  name: string;
  private: boolean;
}

/** The variables of the template admins import (docs/platforms/dingtalk-card-template.json). */
function templateVariables(): TemplateVariable[] {
  const file = JSON.parse(readFileSync(new URL('../../docs/platforms/dingtalk-card-template.json', import.meta.url), 'utf8')) as { editorData: string };
  return (JSON.parse(file.editorData) as { variableList: TemplateVariable[] }).variableList;
}

/** msgParam fields per msgKey (https://open.dingtalk.com/document/development/robot-message-type). */
const MSG_FIELDS: Record<string, string[]> = {
  sampleText: ['content'],
  sampleMarkdown: ['title', 'text'],
  sampleActionCard: ['title', 'text', 'singleTitle', 'singleURL'],
};
for (let n = 2; n <= 5; n++) {
  MSG_FIELDS[`sampleActionCard${n}`] = ['title', 'text', ...Array.from({ length: n }, (_, i) => [`actionTitle${i + 1}`, `actionURL${i + 1}`]).flat()];
}

/** The generic template's variables: every card sets the public ones it shows (render.ts). */
const TEMPLATE_VARS = ['kind', 'locale', 'tone', 'title', 'subtitle', 'summary', 'url', 'fields', 'markdown', 'actions', 'links', 'form', 'status', 'statusText'];

export interface FakeCard {
  outTrackId: string;
  space: 'IM_ROBOT' | 'IM_GROUP';
  /** userId or openConversationId */
  target: string;
  callbackType: 'STREAM' | 'HTTP';
  /** HTTP cards: the registered route their clicks go to */
  callbackRouteKey?: string;
  /** the create's lastMessageI18n */
  preview?: Record<string, string>;
  cardParamMap: Record<string, string>;
  /** per user: what callback answers set as their private data */
  privateData: Map<string, Record<string, string>>;
  updates: Record<string, string>[];
  at: number;
}

export interface CallbackRoute {
  callbackRouteKey: string;
  callbackUrl: string;
  apiSecret?: string;
}

/** What the fake's HTTP card callback got back. */
export interface HttpCallbackResult {
  status: number;
  body: any;
  ms: number;
}

export interface RobotSend {
  api: 'otoBatchSend' | 'groupSend';
  target: string;
  msgKey: string;
  msgParam: Record<string, string>;
  processQueryKey: string;
  at: number;
}

export interface Arrival {
  api: Api;
  at: number;
  status: number;
}

export interface UpstreamFrame {
  at: number;
  frame: { code?: number; headers?: Record<string, string>; message?: string; data?: string };
}

export interface FakeOptions {
  /** the platform's limit per API (default 20 per 1000 ms); beyond it the fake answers QpsLimit */
  qps?: { max: number; windowMs: number };
  seed?: number;
}

export type FakeSnapshot = Pick<FakeDingtalk, 'arrivals' | 'problems' | 'delivered' | 'robotSends' | 'duplicateCreates' | 'tokenCalls' | 'qpsViolations'>;

/** Most arrivals of `api` in any window of `windowMs`. */
export function maxInWindow(arrivals: readonly Arrival[], api: Api, windowMs: number): number {
  const times = arrivals.filter((a) => a.api === api).map((a) => a.at);
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi] - times[lo] >= windowMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

export type Fault = '5xx' | 'qps' | 'count' | 'hang' | 'forbidden';


const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export class FakeDingtalk {
  url = '';
  wsUrl = '';
  // ---- what it saw ----
  readonly arrivals: Arrival[] = [];
  /** wire-format violations (each also answered 400) */
  readonly problems: string[] = [];
  readonly robotSends: RobotSend[] = [];
  readonly cards = new Map<string, FakeCard>();
  /** cards in delivery order */
  readonly delivered: FakeCard[] = [];
  duplicateCreates = 0;
  readonly updates: { outTrackId: string; cardParamMap: Record<string, string>; options: unknown; at: number }[] = [];
  readonly sessionReplies: { session: string; body: Record<string, any>; at: number }[] = [];
  /** registered card callback routes by key, and every register call as it came */
  readonly routes = new Map<string, CallbackRoute>();
  readonly registrations: { body: Record<string, any>; at: number }[] = [];
  /** outTrackIds with an HTTP card callback waiting for its answer */
  private readonly inCallback = new Set<string>();
  tokenCalls = 0;
  /** answers over the platform's limit (the client should never cause one) */
  qpsViolations = 0;
  readonly gatewayCalls: { at: number; body: any }[] = [];
  readonly upstream: UpstreamFrame[] = [];
  connectionsOpened = 0;
  // ---- fault injection ----
  /** probabilities per API call */
  faults = { p5xx: 0, pQps: 0 };
  /** users batchSend reports in invalidStaffIdList */
  readonly unknownUsers = new Set<string>();
  gatewayMode: 'ok' | 'refuse' | 'dead-ws' = 'ok';
  /** called with the running count at every API call's arrival (schedule one-off faults) */
  onArrival: ((n: number) => void) | null = null;
  /** a zombie connection: open, but neither frames nor pongs come back */
  muted = false;
  pingsSeen = 0;

  private readonly opts: Required<FakeOptions>;
  private readonly random: () => number;
  private readonly tokens = new Set<string>();
  private readonly queued: Fault[] = [];
  private readonly hung = new Set<http.ServerResponse>();
  private readonly tickets = new Set<string>();
  private readonly sockets = new Set<WebSocket>();
  private readonly waiters = new Set<() => void>();
  private server!: http.Server;
  private wss!: WebSocketServer;
  private seq = 0;

  constructor(opts: FakeOptions = {}) {
    this.opts = { qps: { max: 20, windowMs: 1000 }, seed: 42, ...opts };
    this.random = prng(this.opts.seed);
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res).catch((err: Error) => {
        this.problems.push(`fake crashed: ${err.message}`);
        if (!res.headersSent) this.json(res, 500, { code: 'InternalError', message: err.message });
      });
    });
    this.wss = new WebSocketServer({ noServer: true, autoPong: false });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/connect' || !this.tickets.delete(ticket)) {
        this.problems.push(`ws upgrade refused: ${url.pathname} ticket=${ticket ? 'unknown' : 'missing'}`);
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.wsUrl = `ws://127.0.0.1:${port}/connect`;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------------------------------------
  // Fault controls

  /** The next API calls fail this way, in order (before the random faults). */
  failNext(...faults: Fault[]): void {
    this.queued.push(...faults);
  }

  /** Every issued token becomes invalid (DingTalk answers 400 InvalidAuthentication). */
  expireTokens(): void {
    this.tokens.clear();
  }

  /** Most calls of `api` seen in any window of `windowMs` (arrivals, accepted or not). */
  maxInWindow(api: Api, windowMs: number): number {
    return maxInWindow(this.arrivals, api, windowMs);
  }

  /** What it saw, as plain data (to hand across a worker thread). */
  snapshot(): FakeSnapshot {
    return {
      arrivals: this.arrivals,
      problems: this.problems,
      delivered: this.delivered,
      robotSends: this.robotSends,
      duplicateCreates: this.duplicateCreates,
      tokenCalls: this.tokenCalls,
      qpsViolations: this.qpsViolations,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const route = `${req.method} ${url.pathname}`;

    if (route === 'POST /v1.0/oauth2/accessToken') return this.token(req, raw, res);
    if (route === 'POST /v1.0/gateway/connections/open') return this.gateway(req, raw, res);
    if (route === 'POST /robot/sendBySession') return this.session(url, raw, res);
    const api = API_ROUTES[route];
    if (!api) return this.json(res, 404, { code: 'InvalidAction.NotFound', message: `no route ${route}` });
    return this.api(api, req, raw, res);
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': randomUUID() });
    res.end(JSON.stringify(body));
  }

  private parse(req: http.IncomingMessage, raw: string, what: string): Record<string, any> | null {
    if (!/^application\/json/i.test(req.headers['content-type'] ?? '')) this.problems.push(`${what}: content-type ${req.headers['content-type']}`);
    try {
      const v = JSON.parse(raw);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v;
    } catch {
      // fall through
    }
    this.problems.push(`${what}: body is not a JSON object`);
    return null;
  }

  private token(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    this.tokenCalls++;
    const body = this.parse(req, raw, 'accessToken');
    if (!body || body.appKey !== FAKE_APP.clientId || body.appSecret !== FAKE_APP.clientSecret) {
      return this.json(res, 400, { code: 'invalidClientIdOrSecret', message: '无效的clientId或者clientSecret' });
    }
    const token = `tok-${++this.seq}-${randomUUID().slice(0, 8)}`;
    this.tokens.add(token);
    this.json(res, 200, { accessToken: token, expireIn: 7200 });
  }

  private api(api: Api, req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const at = Date.now();
    const arrival: Arrival = { api, at, status: 0 };
    this.arrivals.push(arrival);
    this.onArrival?.(this.arrivals.length);
    const answer = (status: number, body: unknown) => {
      arrival.status = status;
      this.json(res, status, body);
    };

    const token = req.headers['x-acs-dingtalk-access-token'];
    if (typeof token !== 'string' || !this.tokens.has(token)) {
      return answer(400, { code: 'InvalidAuthentication', requestid: randomUUID(), message: '不合法的access_token' });
    }
    const { max, windowMs } = this.opts.qps;
    const recent = this.arrivals.filter((a) => a.api === api && a.at > at - windowMs).length;
    if (recent > max) {
      this.qpsViolations++;
      return answer(403, { code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', message: '应用调用该接口的并发量超过限制' });
    }
    let fault = this.queued.shift();
    if (!fault) {
      const r = this.random();
      if (r < this.faults.p5xx) fault = '5xx';
      else if (r < this.faults.p5xx + this.faults.pQps) fault = 'qps';
    }
    if (fault === '5xx') return answer(503, { code: 'ServiceUnavailable', message: 'service unavailable' });
    if (fault === 'qps') return answer(403, { code: 'Forbidden.AccessDenied.QpsLimitForApi', message: '该接口的并发量超过限制' });
    if (fault === 'count') return answer(403, { code: 'Forbidden.AccessDenied.ApiCountLimitForOrg', message: '本月调用次数已达上限' });
    if (fault === 'forbidden') return answer(403, { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied', message: '没有调用该接口的权限' });

    const body = this.parse(req, raw, api);
    if (!body) return answer(400, { code: 'invalidParameter.body', message: 'bad body' });
    const problem = this.validate(api, body);
    if (problem) {
      this.problems.push(`${api}: ${problem}`);
      return answer(400, { code: `invalidParameter.${api}`, message: problem });
    }
    const result = this.process(api, body, at);
    if (fault === 'hang') {
      // processed, but the answer never comes (the client times out)
      arrival.status = -1;
      this.hung.add(res);
      return;
    }
    answer(result.status, result.body);
  }

  private validate(api: Api, b: Record<string, any>): string | null {
    if (api === 'cardRegister') {
      // RegisterCallbackRequest (aliyun/dingtalk-sdk dingtalk/ts/src/card_1_0/client.ts): callbackRouteKey and
      // callbackUrl required, apiSecret string, forceUpdate boolean; https://open.dingtalk.com/document/development/event-callback-card
      if (typeof b.callbackRouteKey !== 'string' || !b.callbackRouteKey) return 'callbackRouteKey is required';
      if (typeof b.callbackUrl !== 'string' || !/^https?:\/\//.test(b.callbackUrl)) return 'callbackUrl is required';
      if (b.apiSecret !== undefined && typeof b.apiSecret !== 'string') return 'apiSecret must be a string';
      if (b.forceUpdate !== undefined && typeof b.forceUpdate !== 'boolean') return 'forceUpdate must be a boolean';
      return null;
    }
    if (api === 'otoBatchSend' || api === 'groupSend') {
      if (b.robotCode !== FAKE_APP.robotCode) return 'robotCode is not the app robot';
      if (api === 'otoBatchSend') {
        if (!Array.isArray(b.userIds) || b.userIds.length < 1 || b.userIds.length > 20 || !b.userIds.every((u: unknown) => typeof u === 'string' && u)) {
          return 'userIds must be 1..20 userIds';
        }
      } else if (typeof b.openConversationId !== 'string' || !b.openConversationId) return 'openConversationId missing';
      const fields = MSG_FIELDS[b.msgKey];
      if (!fields) return `unknown msgKey ${b.msgKey}`;
      if (typeof b.msgParam !== 'string') return 'msgParam must be a JSON string';
      if (bytes(b.msgParam) > 15000) return 'msgParam over 15000 bytes';
      let p: unknown;
      try {
        p = JSON.parse(b.msgParam);
      } catch {
        return 'msgParam is not JSON';
      }
      for (const f of fields) {
        const v = (p as Record<string, unknown>)[f];
        if (typeof v !== 'string' || !v) return `msgParam.${f} missing for ${b.msgKey}`;
      }
      return null;
    }
    const map = b.cardData?.cardParamMap;
    if (!map || typeof map !== 'object') return 'cardData.cardParamMap missing';
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== 'string') return `cardParamMap.${k} is not a string`;
      if (bytes(k) > 100) return `cardParamMap key ${k} over 100 bytes`;
      if (bytes(v) > 1024) return `cardParamMap.${k} over 1 KB`;
    }
    if (typeof b.outTrackId !== 'string' || !b.outTrackId || b.outTrackId.length > 64) return 'outTrackId must be 1..64 characters';
    if (api === 'cardUpdate') {
      if (!this.cards.has(b.outTrackId)) return `unknown outTrackId ${b.outTrackId}`;
      // "请勿在回调过程中，调用更新接口" — https://open.dingtalk.com/document/development/event-callback-card, 注意事项
      if (this.inCallback.has(b.outTrackId)) return `update of ${b.outTrackId} while its callback is in progress`;
      return checkTemplateVars(map, true);
    }
    if (b.cardTemplateId !== FAKE_APP.templateId) return `unknown cardTemplateId ${b.cardTemplateId}`;
    // https://open.dingtalk.com/document/development/interface-for-creating-a-card-instance: callbackType STREAM |
    // HTTP, upper case; HTTP needs the callbackRouteKey of a registered route (event-callback-card, 前置工作)
    if (b.callbackType !== 'STREAM' && b.callbackType !== 'HTTP') return `callbackType ${b.callbackType} (STREAM or HTTP, upper case)`;
    if (b.callbackType === 'HTTP') {
      if (typeof b.callbackRouteKey !== 'string' || !b.callbackRouteKey) return 'callbackType HTTP needs a callbackRouteKey';
      if (!this.routes.has(b.callbackRouteKey)) return `callbackRouteKey ${b.callbackRouteKey} is not registered`;
    }
    // lastMessageI18n keys: the language enums of interface-for-creating-a-card-instance
    for (const model of [b.imRobotOpenSpaceModel, b.imGroupOpenSpaceModel]) {
      for (const key of Object.keys(model?.lastMessageI18n ?? {})) if (!PREVIEW_LANGUAGES.has(key)) return `lastMessageI18n key ${key} is not a language`;
    }
    const m = /^dtv1\.card\/\/(IM_ROBOT|IM_GROUP)\.(.+)$/.exec(String(b.openSpaceId ?? ''));
    if (!m) return `bad openSpaceId ${b.openSpaceId}`;
    if (m[1] === 'IM_ROBOT') {
      if (b.imRobotOpenDeliverModel?.spaceType !== 'IM_ROBOT' || b.imRobotOpenDeliverModel?.robotCode !== FAKE_APP.robotCode) return 'imRobotOpenDeliverModel {spaceType: IM_ROBOT, robotCode} required';
    } else {
      if (b.imGroupOpenDeliverModel?.robotCode !== FAKE_APP.robotCode) return 'imGroupOpenDeliverModel.robotCode required';
      if (typeof b.imGroupOpenSpaceModel?.supportForward !== 'boolean') return 'imGroupOpenSpaceModel.supportForward required';
    }
    return checkTemplateVars(map, false);
  }

  private process(api: Api, b: Record<string, any>, at: number): { status: number; body: unknown } {
    const processQueryKey = `pqk-${++this.seq}`;
    if (api === 'cardRegister') {
      // forceUpdate false: insert when absent, else keep and answer the registration on file; true: overwrite
      // (https://open.dingtalk.com/document/development/event-callback-card, forceUpdate)
      this.registrations.push({ body: b, at });
      const held = this.routes.get(b.callbackRouteKey);
      if (!held || b.forceUpdate === true) {
        this.routes.set(b.callbackRouteKey, { callbackRouteKey: b.callbackRouteKey, callbackUrl: b.callbackUrl, ...(b.apiSecret !== undefined && { apiSecret: b.apiSecret }) });
      }
      const now = this.routes.get(b.callbackRouteKey)!;
      return { status: 200, body: { success: true, result: { callbackUrl: now.callbackUrl, ...(now.apiSecret !== undefined && { apiSecret: now.apiSecret }) } } };
    }
    if (api === 'otoBatchSend') {
      const invalid = (b.userIds as string[]).filter((u) => this.unknownUsers.has(u));
      for (const u of b.userIds as string[]) {
        if (!invalid.includes(u)) this.robotSends.push({ api, target: u, msgKey: b.msgKey, msgParam: JSON.parse(b.msgParam), processQueryKey, at });
      }
      return { status: 200, body: { processQueryKey, invalidStaffIdList: invalid, flowControlledStaffIdList: [] } };
    }
    if (api === 'groupSend') {
      this.robotSends.push({ api, target: b.openConversationId, msgKey: b.msgKey, msgParam: JSON.parse(b.msgParam), processQueryKey, at });
      return { status: 200, body: { processQueryKey } };
    }
    if (api === 'cardUpdate') {
      const card = this.cards.get(b.outTrackId)!;
      const map = b.cardData.cardParamMap as Record<string, string>;
      card.cardParamMap = b.cardUpdateOptions?.updateCardDataByKey ? { ...card.cardParamMap, ...map } : { ...map };
      card.updates.push(map);
      this.updates.push({ outTrackId: b.outTrackId, cardParamMap: map, options: b.cardUpdateOptions, at });
      return { status: 200, body: { success: true, result: true } };
    }
    const [, space, target] = /^dtv1\.card\/\/(IM_ROBOT|IM_GROUP)\.(.+)$/.exec(b.openSpaceId)!;
    const deliverResults = [{ spaceType: space, spaceId: target, success: true, carrierId: `carrier-${this.seq}` }];
    if (this.cards.has(b.outTrackId)) {
      // DingTalk: reusing an outTrackId does nothing
      this.duplicateCreates++;
    } else {
      const model = space === 'IM_ROBOT' ? b.imRobotOpenSpaceModel : b.imGroupOpenSpaceModel;
      const card: FakeCard = {
        outTrackId: b.outTrackId,
        space: space as FakeCard['space'],
        target,
        callbackType: b.callbackType,
        ...(b.callbackType === 'HTTP' && { callbackRouteKey: b.callbackRouteKey }),
        ...(model?.lastMessageI18n && { preview: model.lastMessageI18n }),
        cardParamMap: { ...b.cardData.cardParamMap },
        privateData: new Map(),
        updates: [],
        at,
      };
      this.cards.set(b.outTrackId, card);
      this.delivered.push(card);
    }
    return { status: 200, body: { success: true, result: { outTrackId: b.outTrackId, deliverResults } } };
  }

  private session(url: URL, raw: string, res: http.ServerResponse): void {
    let body: Record<string, any> | null = null;
    try {
      body = JSON.parse(raw);
    } catch {
      // below
    }
    const ok =
      body &&
      ((body.msgtype === 'text' && typeof body.text?.content === 'string') ||
        (body.msgtype === 'markdown' && typeof body.markdown?.title === 'string' && typeof body.markdown?.text === 'string') ||
        (body.msgtype === 'actionCard' && typeof body.actionCard?.title === 'string'));
    if (!ok || !url.searchParams.get('session')) {
      this.problems.push(`session reply: bad body ${raw.slice(0, 100)}`);
      return this.json(res, 200, { errcode: 400105, errmsg: '不支持的消息类型' });
    }
    this.sessionReplies.push({ session: url.searchParams.get('session')!, body: body!, at: Date.now() });
    this.json(res, 200, { errcode: 0, errmsg: 'ok' });
  }

  // ---------------------------------------------------------------------------------------------
  // Stream gateway

  private gateway(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const body = this.parse(req, raw, 'gateway');
    this.gatewayCalls.push({ at: Date.now(), body });
    if (!/application\/json/.test(String(req.headers.accept))) this.problems.push('gateway: Accept must be application/json');
    if (this.gatewayMode === 'refuse' || !body || body.clientId !== FAKE_APP.clientId || body.clientSecret !== FAKE_APP.clientSecret) {
      return this.json(res, 401, { code: 'InvalidAuthentication', message: 'clientId or clientSecret is wrong' });
    }
    const subs = (body.subscriptions ?? []) as { type: string; topic: string }[];
    for (const topic of [ROBOT_TOPIC, CARD_TOPIC]) {
      if (!subs.some((s) => s.type === 'CALLBACK' && s.topic === topic)) this.problems.push(`gateway: no CALLBACK subscription for ${topic}`);
    }
    const ticket = randomUUID();
    this.tickets.add(ticket);
    // a port nothing listens on: the handshake is refused
    const endpoint = this.gatewayMode === 'dead-ws' ? 'ws://127.0.0.1:9/connect' : this.wsUrl;
    this.json(res, 200, { endpoint, ticket });
  }

  private onConnection(ws: WebSocket): void {
    this.connectionsOpened++;
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('ping', (payload) => {
      this.pingsSeen++;
      if (!this.muted) ws.pong(payload);
    });
    ws.on('message', (data) => {
      let frame: UpstreamFrame['frame'];
      try {
        frame = JSON.parse(data.toString());
      } catch {
        this.problems.push('upstream frame is not JSON');
        return;
      }
      this.upstream.push({ at: Date.now(), frame });
      for (const w of [...this.waiters]) w();
    });
  }

  get openConnections(): number {
    return [...this.sockets].filter((s) => s.readyState === s.OPEN).length;
  }

  /** Sends a downstream frame on the newest open connection; returns its messageId. */
  push(type: 'CALLBACK' | 'EVENT' | 'SYSTEM', topic: string, data: unknown, extraHeaders: Record<string, string> = {}): string {
    if (topic === CARD_TOPIC) {
      // an HTTP card's clicks go to its registered URL, not down the socket (https://open.dingtalk.com/document/development/event-callback-card)
      const outTrackId = (typeof data === 'string' ? JSON.parse(data) : (data as { outTrackId?: string })).outTrackId;
      const card = outTrackId ? this.cards.get(outTrackId) : undefined;
      if (card?.callbackType === 'HTTP') throw new Error(`fake: card ${outTrackId} was created with callbackType HTTP; its clicks do not come over Stream`);
    }
    const open = [...this.sockets].filter((s) => s.readyState === s.OPEN);
    const ws = open[open.length - 1];
    if (!ws) throw new Error('fake: no open stream connection');
    if (this.muted) throw new Error('fake: connection is muted');
    const messageId = `${randomUUID().slice(0, 8)}_${++this.seq}`;
    const frame = {
      specVersion: '1.0',
      type,
      headers: { appId: 'fake-app', connectionId: 'conn-1', contentType: 'application/json', messageId, time: String(Date.now()), topic, ...extraHeaders },
      data: typeof data === 'string' ? data : JSON.stringify(data),
    };
    ws.send(JSON.stringify(frame));
    return messageId;
  }

  pushRaw(text: string): void {
    const open = [...this.sockets].filter((s) => s.readyState === s.OPEN);
    open[open.length - 1]?.send(text);
  }

  /** Waits for the upstream frame answering `messageId`. */
  async waitForAck(messageId: string, timeoutMs = 3000): Promise<UpstreamFrame> {
    return this.waitFor(() => this.upstream.find((u) => u.frame.headers?.messageId === messageId), timeoutMs, `ACK of ${messageId}`);
  }

  async waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 3000, what = 'condition'): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v) return v;
      if (Date.now() > end) throw new Error(`fake: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // What a user's client does on a template card

  /** The card's public data as the client holds it. */
  private card(outTrackId: string): FakeCard {
    const card = this.cards.get(outTrackId);
    if (!card) throw new Error(`fake: no card ${outTrackId}`);
    return card;
  }

  /**
   * A user fills the card's native form and submits: `input` holds what they chose or typed per field name (a
   * SELECT by option value); untouched fields submit their defaultValue. Throws when the client would refuse to
   * submit (a required field empty, a value that is not an option). Returns the callback data DingTalk sends.
   */
  // Client behaviour from examples/表单组件的使用与更新 (README: the client checks required fields before the
  // request; nodejs/index.ts: the values come under params.form, the Form's params under their names).
  formSubmit(outTrackId: string, userId: string, input: Record<string, string>): ReturnType<typeof cardCallbackData> {
    const card = this.card(outTrackId);
    const variable = card.cardParamMap.form;
    if (!variable) throw new Error(`fake: card ${outTrackId} has no form`);
    const form = JSON.parse(variable) as { fields: { name: string; type: string; required?: boolean; options?: { value: string }[]; defaultValue?: unknown }[] };
    for (const name of Object.keys(input)) if (!form.fields.some((f) => f.name === name)) throw new Error(`fake: the form has no field ${name}`);
    const values: Record<string, unknown> = {};
    for (const f of form.fields) {
      let value: unknown = f.defaultValue;
      if (input[f.name] !== undefined) {
        if (f.type === 'SELECT') {
          const index = (f.options ?? []).findIndex((o) => o.value === input[f.name]);
          if (index < 0) throw new Error(`fake: ${input[f.name]} is not an option of ${f.name}`);
          value = { index, value: input[f.name] };
        } else value = input[f.name];
      }
      const empty = value === undefined || value === '';
      if (empty && f.required) throw new Error(`fake: the client refuses to submit: ${f.name} is required`);
      if (!empty) values[f.name] = value;
    }
    return cardCallbackData({ outTrackId, userId, params: { form: values, current_form: JSON.parse(variable) }, actionIds: ['form'], spaceType: card.space });
  }

  /** A user taps a callback button of the card's `actions`: its 回传参数 {k, r, v}. */
  buttonClick(outTrackId: string, userId: string, pick: (a: { k: string; r: string; v?: string; label: string }) => boolean): ReturnType<typeof cardCallbackData> {
    const card = this.card(outTrackId);
    const entry = (JSON.parse(card.cardParamMap.actions || '[]') as { k: string; r: string; v?: string; label: string }[]).find(pick);
    if (!entry) throw new Error(`fake: no such button on ${outTrackId}: ${card.cardParamMap.actions}`);
    const params: Record<string, string> = { k: entry.k, r: entry.r, ...(entry.v ? { v: entry.v } : {}) };
    return cardCallbackData({ outTrackId, userId, params, actionIds: [`${entry.k}:${entry.v ?? ''}`], spaceType: card.space });
  }

  /**
   * Delivers a click on an HTTP card the way DingTalk does: a JSON POST to the URL registered under the card's
   * route key, signed with the route's apiSecret. `sign` overrides the timestamp or the signature (forgeries,
   * replays). The answer's card data is applied to the card.
   */
  // https://open.dingtalk.com/document/development/event-callback-card: 接收事件回调 (POST of the callback JSON), 回调签名验证 (the two headers, signed timestamp in ms).
  async httpCallback(data: ReturnType<typeof cardCallbackData>, sign: { timestamp?: string; signature?: string } = {}): Promise<HttpCallbackResult> {
    const card = this.card(data.outTrackId);
    if (card.callbackType !== 'HTTP') throw new Error(`fake: card ${data.outTrackId} was created with callbackType ${card.callbackType}; its clicks come over Stream`);
    const route = this.routes.get(card.callbackRouteKey!);
    if (!route) throw new Error(`fake: route ${card.callbackRouteKey} is not registered`);
    const timestamp = sign.timestamp ?? String(Date.now());
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (route.apiSecret !== undefined) {
      headers['x-ddpaas-signature-timestamp'] = timestamp;
      headers['x-ddpaas-signature'] = sign.signature ?? ddpaasSignature(route.apiSecret, timestamp);
    }
    const started = Date.now();
    this.inCallback.add(card.outTrackId);
    try {
      const res = await fetch(route.callbackUrl, { method: 'POST', headers, body: JSON.stringify(data), signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      let body: any = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: kept as text
      }
      const ms = Date.now() - started;
      if (res.status === 200) this.applyAnswer(card, data.userId, body);
      return { status: res.status, body, ms };
    } finally {
      this.inCallback.delete(card.outTrackId);
    }
  }

  /** The clicker's private data on a card (what callback answers set). */
  privateDataOf(outTrackId: string, userId: string): Record<string, string> {
    return this.card(outTrackId).privateData.get(userId) ?? {};
  }

  /** A callback answer updates the card: cardData / userPrivateData by key per cardUpdateOptions (https://open.dingtalk.com/document/development/event-callback-card, 事件回调响应). */
  private applyAnswer(card: FakeCard, userId: string, answer: any): void {
    if (!answer || typeof answer !== 'object') return;
    const options = answer.cardUpdateOptions ?? {};
    const pub = answer.cardData?.cardParamMap;
    if (pub && typeof pub === 'object') {
      const problem = checkTemplateVars(pub, true);
      if (problem) this.problems.push(`callback answer: ${problem}`);
      card.cardParamMap = options.updateCardDataByKey ? { ...card.cardParamMap, ...pub } : { ...pub };
    }
    const own = answer.userPrivateData?.cardParamMap;
    if (own && typeof own === 'object') {
      for (const k of Object.keys(own)) if (!DECLARED_NAMES.has(k)) this.problems.push(`callback answer: ${k} is not a variable of the template`);
      card.privateData.set(userId, options.updatePrivateDataByKey ? { ...(card.privateData.get(userId) ?? {}), ...own } : { ...own });
    }
  }

  /** A robot message as DingTalk POSTs it to the robot's HTTP message URL, signed with the app secret
   * (https://open.dingtalk.com/document/isvapp/receive-message). */
  async postRobotMessage(url: string, data: Record<string, unknown>, sign: { timestamp?: string; sign?: string } = {}): Promise<{ status: number; body: any }> {
    const timestamp = sign.timestamp ?? String(Date.now());
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', timestamp, sign: sign.sign ?? robotSign(timestamp, FAKE_APP.clientSecret) },
      body: JSON.stringify(data),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** Kills every stream connection without a close handshake (a network drop). */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Closes every stream connection normally (server-side close). */
  closeConnections(code = 1000): void {
    for (const ws of this.sockets) ws.close(code);
  }
}

const DECLARED = templateVariables();
const DECLARED_NAMES = new Set(DECLARED.map((v) => v.name));

function checkTemplateVars(map: Record<string, string>, partial: boolean): string | null {
  if (!partial) {
    for (const v of TEMPLATE_VARS) if (!(v in map)) return `template variable ${v} missing`;
  }
  for (const k of Object.keys(map)) if (!DECLARED_NAMES.has(k)) return `${k} is not a variable of the template`;
  for (const v of ['fields', 'actions', 'links', 'tableLines']) {
    if (v in map) {
      try {
        if (!Array.isArray(JSON.parse(map[v]))) return `${v} is not a JSON array`;
      } catch {
        return `${v} is not JSON`;
      }
    }
  }
  if (map.actions) {
    for (const a of JSON.parse(map.actions) as Record<string, unknown>[]) {
      if (typeof a.k !== 'string' || typeof a.r !== 'string' || typeof a.label !== 'string') return 'actions entries need label, k and r';
    }
  }
  if (map.form) return checkForm(map.form);
  if (map.status !== undefined && !['open', 'closed'].includes(map.status)) return `status ${map.status}`;
  return null;
}

/**
 * The native form's variable: open-dingtalk/dingtalk-card-examples examples/表单组件的使用与更新/nodejs/index.ts
 * (field types, `options: [{value, text}]`, a SELECT's `defaultValue: {index, value}`), plus tierbot's own
 * `submit` {k, r}, which the template's `current_form` echo carries back (docs/platforms/dingtalk.md §4a).
 */
function checkForm(text: string): string | null {
  let f: any;
  try {
    f = JSON.parse(text);
  } catch {
    return 'form is not JSON';
  }
  if (!f || !Array.isArray(f.fields)) return 'form.fields must be a list';
  if (typeof f.submit?.k !== 'string' || typeof f.submit?.r !== 'string') return 'form.submit needs k and r (the echo carries them)';
  for (const [i, x] of (f.fields as any[]).entries()) {
    const at = `form.fields[${i}]`;
    if (typeof x?.name !== 'string' || !x.name) return `${at}.name missing`;
    if (!FORM_FIELD_TYPES.has(x.type)) return `${at}.type ${x.type}`;
    if (x.required !== undefined && typeof x.required !== 'boolean') return `${at}.required must be a boolean`;
    if (x.type === 'SELECT') {
      if (!Array.isArray(x.options) || !x.options.length) return `${at}: a SELECT needs options`;
      if (!x.options.every((o: any) => typeof o?.value === 'string' && typeof o?.text === 'string')) return `${at}.options must be {value, text}`;
      if (x.defaultValue !== undefined) {
        const d = x.defaultValue;
        if (typeof d?.index !== 'number' || typeof d?.value !== 'string') return `${at}.defaultValue of a SELECT must be {index, value}`;
        if (x.options[d.index]?.value !== d.value) return `${at}.defaultValue ${JSON.stringify(d)} is not option ${d.index}`;
      }
    } else if (x.type === 'TEXT' && x.defaultValue !== undefined && typeof x.defaultValue !== 'string') return `${at}.defaultValue of a TEXT must be a string`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Frames DingTalk pushes (developerpedia docs/learn/stream/protocol.md; robot message data:
// https://open.dingtalk.com/document/orgapp/receive-message; card callback data: https://open.dingtalk.com/document/orgapp/event-callback-card)

export function robotMessageData(o: { text: string; userId: string; msgId?: string; group?: boolean; sessionWebhook?: string; conversationId?: string }) {
  return {
    conversationId: o.conversationId ?? (o.group ? 'cidGROUP0001==' : 'cidP2P0001=='),
    conversationType: o.group ? '2' : '1',
    senderStaffId: o.userId,
    senderId: '$:LWCP_v1:$sender',
    senderNick: '张三',
    chatbotUserId: '$:LWCP_v1:$bot',
    robotCode: FAKE_APP.robotCode,
    msgId: o.msgId ?? `msg${randomUUID().slice(0, 12)}==`,
    msgtype: 'text',
    text: { content: ` ${o.text}` },
    sessionWebhook: o.sessionWebhook ?? 'https://oapi.dingtalk.com/robot/sendBySession?session=none',
    sessionWebhookExpiredTime: Date.now() + 90 * 60_000,
    isAdmin: false,
    createAt: Date.now(),
    senderCorpId: 'dingcorp0001',
  };
}

export function cardCallbackData(o: { outTrackId: string; userId: string; params: Record<string, unknown>; actionIds?: string[]; spaceType?: 'IM_ROBOT' | 'IM_GROUP' }) {
  return {
    type: 'actionCallback',
    outTrackId: o.outTrackId,
    corpId: 'dingcorp0001',
    userId: o.userId,
    userIdType: 1,
    spaceType: o.spaceType ?? 'IM_ROBOT',
    spaceId: o.userId,
    extension: '{}',
    content: JSON.stringify({ cardPrivateData: { actionIds: o.actionIds ?? ['btn-1'], params: o.params } }),
  };
}

// ---------------------------------------------------------------------------------------------
// A recording InboundSink

export class RecordingSink implements InboundSink {
  readonly actions: InboundAction[] = [];
  readonly messages: InboundMessage[] = [];
  /** what handleAction answers, and after how long */
  reply: ActionReply = {};
  actionDelayMs = 0;
  /** handleMessage resolves only when released (slow work) */
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;

  holdMessages(): void {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open();
  }

  async handleAction(event: InboundAction): Promise<ActionReply> {
    this.actions.push(event);
    if (this.actionDelayMs) await new Promise((r) => setTimeout(r, this.actionDelayMs));
    return this.reply;
  }

  async handleMessage(event: InboundMessage): Promise<void> {
    this.messages.push(event);
    await this.gate;
  }
}
