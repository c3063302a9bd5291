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
// Not from an official page: the 64-character limit on outTrackId (an unofficial copy of the docs) and the
// exact answer to an expired token (assumed).
import { prng } from '../../src/app/demo.ts';
import { randomUUID } from 'node:crypto';
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

export type Api = 'otoBatchSend' | 'groupSend' | 'cardCreate' | 'cardUpdate';

const API_ROUTES: Record<string, Api> = {
  'POST /v1.0/robot/oToMessages/batchSend': 'otoBatchSend',
  'POST /v1.0/robot/groupMessages/send': 'groupSend',
  'POST /v1.0/card/instances/createAndDeliver': 'cardCreate',
  'PUT /v1.0/card/instances': 'cardUpdate',
};

/** msgParam fields per msgKey (https://open.dingtalk.com/document/development/robot-message-type). */
const MSG_FIELDS: Record<string, string[]> = {
  sampleText: ['content'],
  sampleMarkdown: ['title', 'text'],
  sampleActionCard: ['title', 'text', 'singleTitle', 'singleURL'],
};
for (let n = 2; n <= 5; n++) {
  MSG_FIELDS[`sampleActionCard${n}`] = ['title', 'text', ...Array.from({ length: n }, (_, i) => [`actionTitle${i + 1}`, `actionURL${i + 1}`]).flat()];
}

/** The generic template's variables (render.ts); every card must set them all. */
const TEMPLATE_VARS = ['kind', 'locale', 'tone', 'title', 'subtitle', 'summary', 'url', 'fields', 'markdown', 'actions', 'links', 'form', 'status', 'statusText'];

export interface FakeCard {
  outTrackId: string;
  space: 'IM_ROBOT' | 'IM_GROUP';
  /** userId or openConversationId */
  target: string;
  cardParamMap: Record<string, string>;
  updates: Record<string, string>[];
  at: number;
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
      return checkTemplateVars(map, true);
    }
    if (b.cardTemplateId !== FAKE_APP.templateId) return `unknown cardTemplateId ${b.cardTemplateId}`;
    if (b.callbackType !== 'STREAM') return 'callbackType must be STREAM';
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
      const card: FakeCard = { outTrackId: b.outTrackId, space: space as FakeCard['space'], target, cardParamMap: { ...b.cardData.cardParamMap }, updates: [], at };
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

  /** Kills every stream connection without a close handshake (a network drop). */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Closes every stream connection normally (server-side close). */
  closeConnections(code = 1000): void {
    for (const ws of this.sockets) ws.close(code);
  }
}

function checkTemplateVars(map: Record<string, string>, partial: boolean): string | null {
  if (!partial) {
    for (const v of TEMPLATE_VARS) if (!(v in map)) return `template variable ${v} missing`;
  }
  for (const v of ['fields', 'actions', 'links']) {
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
  if (map.form) {
    try {
      const f = JSON.parse(map.form);
      if (!f.submit?.k || !Array.isArray(f.fields)) return 'form needs submit and fields';
    } catch {
      return 'form is not JSON';
    }
  }
  if (map.status !== undefined && !['open', 'closed'].includes(map.status)) return `status ${map.status}`;
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

export function cardCallbackData(o: { outTrackId: string; userId: string; params: Record<string, unknown>; actionIds?: string[] }) {
  return {
    type: 'actionCallback',
    outTrackId: o.outTrackId,
    corpId: 'dingcorp0001',
    userId: o.userId,
    userIdType: 1,
    spaceType: 'IM_ROBOT',
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
