// A fake Feishu/Lark open platform on 127.0.0.1 speaking the real wire formats, for the real
// @larksuiteoapi/node-sdk to talk to:
//  - POST /open-apis/auth/v3/tenant_access_token/internal   {app_id, app_secret} → {code:0, tenant_access_token, expire}
//  - POST /open-apis/im/v1/messages?receive_id_type=…         Bearer token; interactive Card JSON 2.0; uuid dedupe
//  - PATCH /open-apis/im/v1/messages/:message_id              Bearer token; Card JSON 2.0
//  - POST /callback/ws/endpoint {AppID, AppSecret} → {code:0, data:{URL, ClientConfig}}, then a WebSocket at /ws
//    carrying pbbp2 protobuf frames (the SDK's codec, rebuilt here from the same field numbers).
// It checks what it receives (token, URL, body shape, card JSON), records everything, and injects faults:
// 5xx, 429/99991400 with x-ogw-ratelimit-reset, 400/230020, token expiry (99991663), and requests that are
// never answered. It also plays Feishu's side of webhooks: encrypted, signed event and callback deliveries.
// Where each rule comes from (official pages under https://open.feishu.cn/document/, and the SDK's source,
// larksuite/node-sdk):
//  - token: server-docs/authentication-management/access-token/tenant_access_token_internal (2 h lifetime)
//  - create, `uuid` dedupe within an hour, 230020: server-docs/im-v1/message/create;
//    patch: server-docs/im-v1/message-card/patch
//  - 429/99991400 with x-ogw-ratelimit-reset: server-docs/api-call-guide/frequency-control; 99991663 and the other
//    token codes: server-docs/api-call-guide/generic-error-code
//  - card JSON 2.0 rules (./feishu-card-schema.ts): feishu-cards/card-json-v2-structure (≤ 200 elements or
//    components), feishu-cards/card-json-v2-breaking-changes-release-notes (unlisted properties are an error),
//    the component pages under feishu-cards/card-json-v2-components/, and the 230099 answer with its sub-codes
//    (11310 element exceeds the limit, 200861 removed tag) from server-docs/im-v1/message/create
//  - webhook signature and encryption:
//    server-docs/event-subscription-guide/event-subscription-configure-/encrypt-key-encryption-configuration-case;
//    event envelope: server-docs/event-subscription-guide/overview;
//    card callbacks: feishu-cards/card-callback-communication
//  - the long connection (endpoint request, pbbp2 frames, ACK payload): the SDK's ws-client/ (index.ts, proto-buf/)
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';
import { WebSocketServer, type WebSocket } from 'ws';
import { cardRejection, describeProblems } from './feishu-card-schema.ts';

// ---------------------------------------------------------------------------------------------- wire formats

export const TOKEN_PATH = '/open-apis/auth/v3/tenant_access_token/internal';
export const MESSAGES_PATH = '/open-apis/im/v1/messages';
export const WS_ENDPOINT_PATH = '/callback/ws/endpoint';

const pb = protobuf.Root.fromJSON({
  nested: {
    pbbp2: {
      nested: {
        Header: {
          fields: { key: { rule: 'required', type: 'string', id: 1 }, value: { rule: 'required', type: 'string', id: 2 } },
        },
        Frame: {
          fields: {
            SeqID: { rule: 'required', type: 'uint64', id: 1 },
            LogID: { rule: 'required', type: 'uint64', id: 2 },
            service: { rule: 'required', type: 'int32', id: 3 },
            method: { rule: 'required', type: 'int32', id: 4 },
            headers: { rule: 'repeated', type: 'Header', id: 5 },
            payloadEncoding: { type: 'string', id: 6 },
            payloadType: { type: 'string', id: 7 },
            payload: { type: 'bytes', id: 8 },
            LogIDNew: { type: 'string', id: 9 },
          },
        },
      },
    },
  },
});
const Frame = pb.lookupType('pbbp2.Frame');

export interface WsFrame {
  SeqID: number;
  LogID: number;
  service: number;
  /** 0 control (ping/pong), 1 data (events and their ACKs) */
  method: number;
  headers: { key: string; value: string }[];
  payload?: Uint8Array;
}

export function encodeFrame(frame: WsFrame): Uint8Array {
  return Frame.encode(Frame.fromObject(frame)).finish();
}

export function decodeFrame(bytes: Uint8Array): WsFrame {
  return Frame.toObject(Frame.decode(bytes), { longs: Number, defaults: true }) as WsFrame;
}

const header = (f: WsFrame, key: string) => f.headers.find((h) => h.key === key)?.value;

/** AES-256-CBC, key = sha256(encryptKey), base64(iv ‖ ciphertext): from Feishu's encrypt-key page, independent of src/. */
export function encryptForFeishu(encryptKey: string, plaintext: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(encryptKey).digest(), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

export function signForFeishu(timestamp: string, nonce: string, encryptKey: string, rawBody: string): string {
  return createHash('sha256').update(timestamp + nonce + encryptKey + rawBody, 'utf8').digest('hex');
}

// ----------------------------------------------------------------------------------------- card validation

// Card JSON 2.0 as the platform checks it (listed properties per component, the 200-element count, the
// 230099 answer): ./feishu-card-schema.ts, with the official page behind each rule.
export { cardProblems, cardRejection, describeProblems, elementCount } from './feishu-card-schema.ts';

// ---------------------------------------------------------------------------------------------- the server

export type Fault =
  | { kind: 'http_5xx'; status?: number }
  /** gateway limit: HTTP 429, code 99991400, x-ogw-ratelimit-reset */
  | { kind: 'rate_limit'; resetS?: number }
  /** IM business limit: HTTP 400, code 230020 */
  | { kind: 'im_rate_limit' }
  /** every token issued so far stops working; this request gets 99991663 */
  | { kind: 'token_expired' }
  /** the request is never answered; with `process` the message is created first (the answer is what is lost) */
  | { kind: 'hang'; process?: boolean }
  | { kind: 'code'; status: number; code: number; msg?: string };

export interface ApiCall {
  n: number;
  /** performance.now() at arrival */
  at: number;
  method: string;
  path: string;
  kind: 'token' | 'create' | 'patch' | 'ws_endpoint' | 'other';
  /** create: `${receive_id_type}:${receive_id}`; patch: the message id */
  target?: string;
  authorization?: string;
  status?: number;
  code?: number;
  fault?: Fault['kind'];
}

export interface FakeMessage {
  messageId: string;
  receiveIdType: string;
  receiveId: string;
  uuid?: string;
  card: Record<string, any>;
  /** creation order across the whole fake */
  seq: number;
  updates: Record<string, any>[];
}

export interface FakeFeishuOptions {
  appId: string;
  appSecret: string;
  tokenTtlS?: number;
  /** what the ws endpoint hands the client (seconds, as Feishu sends them) */
  wsClientConfig?: { PingInterval: number; ReconnectCount: number; ReconnectInterval: number; ReconnectNonce: number };
  /** answer ping frames with pong frames (false: a half-dead server) */
  answerPings?: boolean;
}

interface PendingAck {
  resolve: (ack: { code: number; data?: unknown; elapsedMs: number }) => void;
  started: number;
}

export class FakeFeishu {
  url = '';
  readonly calls: ApiCall[] = [];
  readonly messages: FakeMessage[] = [];
  /** requests refused for their shape (wrong URL, body, card JSON): always a bug on our side */
  readonly invalid: { call: ApiCall; problems: string[] }[] = [];
  readonly tokensIssued: string[] = [];
  readonly wsConnections: { deviceId: string | null; serviceId: string | null; socket: WebSocket; pings: number }[] = [];
  readonly wsAcks: WsFrame[] = [];
  /** faults for the next calls of a kind, consumed first */
  readonly queued: { kind: 'create' | 'patch' | 'any'; fault: Fault }[] = [];
  /** decides a fault per create/patch call (after `queued`) */
  injector: ((call: ApiCall) => Fault | null) | null = null;
  answerPings: boolean;

  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly liveTokens = new Set<string>();
  private readonly byUuid = new Map<string, FakeMessage>();
  private readonly byId = new Map<string, FakeMessage>();
  private readonly pendingAcks = new Map<string, PendingAck>();
  private readonly hanging = new Set<http.ServerResponse>();
  private n = 0;

  constructor(readonly opts: FakeFeishuOptions) {
    this.answerPings = opts.answerPings ?? true;
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/ws') return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onWs(ws, url));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    for (const c of this.wsConnections) c.socket.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  inject(fault: Fault, kind: 'create' | 'patch' | 'any' = 'any', times = 1): void {
    for (let i = 0; i < times; i++) this.queued.push({ kind, fault });
  }

  /** Every token issued so far becomes invalid (as after its 2 h lifetime). */
  expireTokens(): void {
    this.liveTokens.clear();
  }

  messagesTo(receiveId: string): FakeMessage[] {
    return this.messages.filter((m) => m.receiveId === receiveId);
  }

  // ------------------------------------------------------------------------------------------------ HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrived = performance.now();
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const call: ApiCall = { n: ++this.n, at: arrived, method: req.method ?? '', path: url.pathname, kind: 'other', authorization: req.headers.authorization };
    this.calls.push(call);
    const send = (status: number, body: object, headers: Record<string, string> = {}) => {
      call.status = status;
      call.code = (body as { code?: number }).code;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    const refuse = (problems: string[], code = 230001) => {
      this.invalid.push({ call, problems });
      send(400, { code, msg: `invalid request: ${problems.join('; ')}` });
    };
    let body: Record<string, any> = {};
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return refuse(['body is not JSON'], 9499);
      }
    }

    if (req.method === 'POST' && url.pathname === TOKEN_PATH) {
      call.kind = 'token';
      if (body.app_id !== this.opts.appId || body.app_secret !== this.opts.appSecret) return send(400, { code: 10014, msg: 'app secret invalid' });
      const token = `t-${randomBytes(12).toString('hex')}`;
      this.liveTokens.add(token);
      this.tokensIssued.push(token);
      return send(200, { code: 0, msg: 'ok', tenant_access_token: token, expire: this.opts.tokenTtlS ?? 7200 });
    }
    if (req.method === 'POST' && url.pathname === WS_ENDPOINT_PATH) {
      call.kind = 'ws_endpoint';
      if (body.AppID !== this.opts.appId || body.AppSecret !== this.opts.appSecret) return send(200, { code: 514, msg: 'auth failed', data: {} });
      const wsUrl = `${this.url.replace('http', 'ws')}/ws?device_id=dev-${this.wsConnections.length + 1}&service_id=77`;
      const ClientConfig = this.opts.wsClientConfig ?? { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30 };
      return send(200, { code: 0, msg: 'ok', data: { URL: wsUrl, ClientConfig } });
    }

    const patchMatch = /^\/open-apis\/im\/v1\/messages\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'POST' && url.pathname === MESSAGES_PATH) call.kind = 'create';
    else if (req.method === 'PATCH' && patchMatch) call.kind = 'patch';
    else return send(404, { code: 404, msg: `no route ${req.method} ${url.pathname}` });

    const receiveIdType = call.kind === 'create' ? (url.searchParams.get('receive_id_type') ?? '') : '';
    call.target = call.kind === 'create' ? `${receiveIdType}:${body.receive_id}` : patchMatch![1];

    // Authorization first, as the gateway does.
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return send(400, { code: 99991661, msg: 'Missing access token for authorization.' });
    if (!this.liveTokens.has(token)) return send(400, { code: 99991663, msg: 'Invalid access token for authorization.' });

    // Shape checks before faults, so a malformed request is always reported.
    const problems: string[] = [];
    let card: Record<string, any> | null = null;
    let rejected: ReturnType<typeof cardRejection> = null;
    const content = body.content;
    if (typeof content !== 'string') problems.push('content must be a JSON string');
    else {
      try {
        card = JSON.parse(content);
        rejected = cardRejection(card);
      } catch {
        problems.push('content is not JSON');
      }
    }
    if (Buffer.byteLength(text, 'utf8') > 30 * 1024) return refuse(['request body larger than 30 KB'], 230025);
    if (call.kind === 'create') {
      if (!['open_id', 'chat_id'].includes(receiveIdType)) problems.push(`receive_id_type ${receiveIdType || '(missing)'}`);
      const prefix = receiveIdType === 'chat_id' ? 'oc_' : 'ou_';
      if (typeof body.receive_id !== 'string' || !body.receive_id.startsWith(prefix)) problems.push(`receive_id must start with ${prefix}`);
      if (body.msg_type !== 'interactive') problems.push(`msg_type ${body.msg_type}`);
      if (body.uuid !== undefined && (typeof body.uuid !== 'string' || body.uuid.length === 0 || body.uuid.length > 50)) problems.push('uuid must be 1..50 characters');
    } else {
      const unknownKeys = Object.keys(body).filter((k) => k !== 'content');
      if (unknownKeys.length) problems.push(`unexpected fields ${unknownKeys.join(',')}`);
    }
    if (problems.length) return refuse(problems);
    // A card Feishu cannot build: HTTP 400, 230099 "Failed to create card content, ext=…" (message/create).
    if (rejected) {
      this.invalid.push({ call, problems: describeProblems(rejected.problems) });
      return send(400, { code: rejected.code, msg: rejected.msg });
    }

    const fault = this.faultFor(call);
    if (fault) {
      call.fault = fault.kind;
      switch (fault.kind) {
        case 'http_5xx':
          return send(fault.status ?? 500, { code: 1, msg: 'internal error' });
        case 'rate_limit':
          return send(429, { code: 99991400, msg: 'request trigger frequency limit' }, { 'x-ogw-ratelimit-limit': '50', 'x-ogw-ratelimit-reset': String(fault.resetS ?? 1) });
        case 'im_rate_limit':
          return send(400, { code: 230020, msg: 'This operation triggers the frequency limit.' });
        case 'token_expired':
          this.expireTokens();
          return send(400, { code: 99991663, msg: 'Invalid access token for authorization.' });
        case 'code':
          return send(fault.status, { code: fault.code, msg: fault.msg ?? 'error' });
        case 'hang':
          if (fault.process) this.apply(call, body, receiveIdType, card!);
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
      }
    }
    const answer = this.apply(call, body, receiveIdType, card!);
    if ('error' in answer) return send(400, answer.error);
    return send(200, { code: 0, msg: 'success', data: answer.data });
  }

  private faultFor(call: ApiCall): Fault | null {
    const i = this.queued.findIndex((q) => q.kind === 'any' || q.kind === call.kind);
    if (i >= 0) return this.queued.splice(i, 1)[0].fault;
    return this.injector?.(call) ?? null;
  }

  /** Creates (uuid-deduplicated, like Feishu) or patches a message. */
  private apply(call: ApiCall, body: Record<string, any>, receiveIdType: string, card: Record<string, any>): { data: object } | { error: object } {
    if (call.kind === 'patch') {
      const msg = this.byId.get(call.target!);
      if (!msg) return { error: { code: 230001, msg: 'message not found' } };
      msg.updates.push(card);
      return { data: {} };
    }
    const existing = body.uuid ? this.byUuid.get(body.uuid) : undefined;
    const msg = existing ?? {
      messageId: `om_${randomBytes(12).toString('hex')}`,
      receiveIdType,
      receiveId: body.receive_id,
      uuid: body.uuid,
      card,
      seq: this.messages.length,
      updates: [],
    };
    if (!existing) {
      this.messages.push(msg);
      this.byId.set(msg.messageId, msg);
      if (msg.uuid) this.byUuid.set(msg.uuid, msg);
    }
    const chatId = receiveIdType === 'chat_id' ? msg.receiveId : `oc_p2p_${msg.receiveId.slice(3)}`;
    return { data: { message_id: msg.messageId, msg_type: 'interactive', chat_id: chatId, body: { content: body.content } } };
  }

  // ------------------------------------------------------------------------------------------- WebSocket

  private onWs(socket: WebSocket, url: URL): void {
    const conn = { deviceId: url.searchParams.get('device_id'), serviceId: url.searchParams.get('service_id'), socket, pings: 0 };
    this.wsConnections.push(conn);
    socket.on('message', (data: Buffer) => {
      const frame = decodeFrame(data);
      const type = header(frame, 'type');
      if (frame.method === 0 && type === 'ping') {
        conn.pings++;
        if (!this.answerPings) return;
        const ClientConfig = this.opts.wsClientConfig ?? { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30 };
        socket.send(encodeFrame({ SeqID: 0, LogID: 0, service: frame.service, method: 0, headers: [{ key: 'type', value: 'pong' }], payload: Buffer.from(JSON.stringify(ClientConfig)) }));
        return;
      }
      if (frame.method === 1) {
        this.wsAcks.push(frame);
        const id = header(frame, 'message_id') ?? '';
        const pending = this.pendingAcks.get(id);
        if (!pending) return;
        this.pendingAcks.delete(id);
        const ack = JSON.parse(Buffer.from(frame.payload ?? []).toString('utf8')) as { code: number; data?: string };
        const decoded = ack.data === undefined ? undefined : JSON.parse(Buffer.from(ack.data, 'base64').toString('utf8'));
        pending.resolve({ code: ack.code, data: decoded, elapsedMs: performance.now() - pending.started });
      }
    });
  }

  /** The newest open long connection. */
  openSocket(): WebSocket | undefined {
    return [...this.wsConnections].reverse().find((c) => c.socket.readyState === 1)?.socket;
  }

  /**
   * Pushes an event (or card callback) over the long connection as Feishu does: a data frame of type
   * `event`, optionally split into fragments; resolves with the decoded ACK (or code 0 when none came in time).
   */
  pushEvent(envelope: object, opts: { fragments?: number; timeoutMs?: number } = {}): Promise<{ code: number; data?: unknown; elapsedMs: number }> {
    const socket = this.openSocket();
    if (!socket) throw new Error('no open long connection');
    const messageId = `msg-${randomBytes(6).toString('hex')}`;
    const bytes = Buffer.from(JSON.stringify(envelope), 'utf8');
    const parts = Math.max(1, opts.fragments ?? 1);
    const size = Math.ceil(bytes.length / parts);
    const started = performance.now();
    const result = new Promise<{ code: number; data?: unknown; elapsedMs: number }>((resolve) => {
      this.pendingAcks.set(messageId, { resolve, started });
      setTimeout(() => {
        if (this.pendingAcks.delete(messageId)) resolve({ code: 0, elapsedMs: performance.now() - started });
      }, opts.timeoutMs ?? 3000);
    });
    for (let seq = 0; seq < parts; seq++) {
      socket.send(
        encodeFrame({
          SeqID: this.n++,
          LogID: 0,
          service: 77,
          method: 1,
          headers: [
            { key: 'type', value: 'event' },
            { key: 'message_id', value: messageId },
            { key: 'sum', value: String(parts) },
            { key: 'seq', value: String(seq) },
            { key: 'trace_id', value: `trace-${messageId}` },
          ],
          payload: bytes.subarray(seq * size, (seq + 1) * size),
        }),
      );
    }
    return result;
  }
}

/** The largest number of `times` (ms, ascending or not) inside any window of `windowMs`. */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

// ------------------------------------------------------------------------------ Feishu's side of webhooks

export interface EnvelopeOptions {
  appId: string;
  verificationToken?: string;
  eventId?: string;
}

function envelope(eventType: string, event: object, o: EnvelopeOptions) {
  return {
    schema: '2.0',
    header: {
      event_id: o.eventId ?? randomBytes(16).toString('hex'),
      token: o.verificationToken ?? '',
      create_time: String(Date.now() * 1000),
      event_type: eventType,
      tenant_key: '736588c9260f175d',
      app_id: o.appId,
    },
    event,
  };
}

/**
 * A card.action.trigger callback (feishu-cards/card-callback-communication) for a click on one of our buttons.
 * `action.name` is the clicked component's name: only buttons inside a form container have one (the button
 * page lists `name` for those alone), so it is sent with a form submit (`formValue`) or when given.
 */
export function cardActionEnvelope(
  o: EnvelopeOptions & { openId: string; value: object; formValue?: Record<string, unknown>; name?: string; messageId?: string; chatId?: string },
) {
  const name = o.name ?? (o.formValue ? 'submit' : undefined);
  return envelope(
    'card.action.trigger',
    {
      operator: { tenant_key: '736588c9260f175d', open_id: o.openId, union_id: 'on_8b2f3c4d5e6f7a8b9c0d1e2f3a4b5c6d' },
      token: `c-${randomBytes(20).toString('hex')}`,
      action: {
        value: o.value,
        tag: 'button',
        ...(name ? { name } : {}),
        ...(o.formValue ? { form_value: o.formValue } : {}),
        timezone: 'Asia/Shanghai',
      },
      host: 'im_message',
      context: { open_message_id: o.messageId ?? 'om_e5b2a4f8c1d3b6a9e7f0c2d4b6a8e0f1', open_chat_id: o.chatId ?? 'oc_a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6' },
    },
    o,
  );
}

/** An im.message.receive_v1 event for a text message; `@_user_1` marks the bot's mention in group chats. */
export function messageEnvelope(
  o: EnvelopeOptions & { openId: string; text: string; chatId?: string; chatType?: 'p2p' | 'group'; senderType?: string; messageType?: string },
) {
  const chatType = o.chatType ?? 'p2p';
  const mentions = o.text.includes('@_user_1') ? [{ key: '@_user_1', id: { open_id: 'ou_bot' }, name: 'tierbot', tenant_key: '736588c9260f175d' }] : undefined;
  return envelope(
    'im.message.receive_v1',
    {
      sender: { sender_id: { open_id: o.openId, union_id: 'on_x', user_id: 'u1' }, sender_type: o.senderType ?? 'user', tenant_key: '736588c9260f175d' },
      message: {
        message_id: `om_${randomBytes(8).toString('hex')}`,
        create_time: String(Date.now()),
        chat_id: o.chatId ?? 'oc_p2pchat0000000000000000000000',
        chat_type: chatType,
        message_type: o.messageType ?? 'text',
        content: JSON.stringify({ text: o.text }),
        ...(mentions ? { mentions } : {}),
      },
    },
    o,
  );
}

export interface DeliverOptions {
  encryptKey?: string;
  /** default: encrypt when an encrypt key is given */
  encrypt?: boolean;
  /** default: sign when an encrypt key is given (url_verification is delivered unsigned) */
  sign?: boolean;
  timestampS?: number;
  nonce?: string;
  /** send this body instead (it is still signed) */
  rawBody?: string;
  /** corrupt the signature */
  badSignature?: boolean;
}

/** POSTs a payload to a webhook URL the way Feishu does: body = JSON.stringify({encrypt}) signed over that exact string. */
export async function deliverWebhook(url: string, payload: object, o: DeliverOptions = {}): Promise<{ status: number; body: any; text: string; elapsedMs: number; contentType: string | null }> {
  const encrypt = o.encrypt ?? Boolean(o.encryptKey);
  const rawBody = o.rawBody ?? JSON.stringify(encrypt ? { encrypt: encryptForFeishu(o.encryptKey!, JSON.stringify(payload)) } : payload);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if ((o.sign ?? Boolean(o.encryptKey)) && o.encryptKey) {
    const ts = String(o.timestampS ?? Math.floor(Date.now() / 1000));
    const nonce = o.nonce ?? randomBytes(8).toString('hex');
    headers['x-lark-request-timestamp'] = ts;
    headers['x-lark-request-nonce'] = nonce;
    headers['x-lark-signature'] = o.badSignature ? signForFeishu(ts, nonce, 'wrong key', rawBody) : signForFeishu(ts, nonce, o.encryptKey, rawBody);
  }
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body: rawBody, signal: AbortSignal.timeout(3000) });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, elapsedMs: performance.now() - started, contentType: res.headers.get('content-type') };
}
