// DingTalk Stream mode (DINGTALK_MODE=stream): the official `dingtalk-stream` DWClient with fixes for its 2.1.5
// defects (open-dingtalk/dingtalk-stream-sdk-nodejs issues #13, #16 and #18; PR #17 fixes the storm on GitHub
// only), and the wiring of its two callback topics to the receiver.
//
// SafeDWClient (2.1.5 has a reconnect storm, leaks sockets and cannot be stopped):
// - autoReconnect off; reconnects are driven by the current socket's `close` only, single-flight, with
//   exponential backoff and jitter; `disconnect()` stops everything, including a pending retry.
// - the old socket is detached and terminated before a new one is opened (no leaked sockets/listeners).
// - the gateway is called with our own fetch (request timeout, DINGTALK_GATEWAY_URL for tests, and no debug
//   print of the secret); the WebSocket handshake has a timeout too.
// - a server `disconnect` frame reconnects at once (the server stops delivering ~10 s before it closes), and
//   an idle watchdog pings and reconnects when no frame or pong came for `idleMs` (zombie connections).
// - malformed frames are dropped instead of throwing inside the socket's message handler.
import { DWClient, EventAck, GATEWAY_URL, TOPIC_CARD, TOPIC_ROBOT } from 'dingtalk-stream';
import type { DWClientDownStream } from 'dingtalk-stream';
import type WebSocket from 'ws';
import type { Logger } from '../../logger.ts';
import { parseStreamFrame, parseStreamFrameData } from './stream-frame.ts';
import type { DingtalkInbound } from './receiver.ts';

/** DWClient's private fields we manage (plain fields at runtime, private in its .d.ts). */
interface SdkInternals {
  socket?: WebSocket;
  dw_url?: string;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface SafeStreamOptions {
  clientId: string;
  clientSecret: string;
  /** DINGTALK_GATEWAY_URL: the full gateway URL, or a base URL to which the official path is added */
  gatewayUrl?: string;
  /** gateway request and WebSocket handshake timeout */
  timeoutMs: number;
  log: Logger;
  /** reconnect when no frame or pong arrived for this long (default 60 s) */
  idleMs?: number;
  /** ping this often (default idleMs / 3) */
  pingEveryMs?: number;
  /** first reconnect delay (default 1 s), doubled per failure up to `backoffMaxMs` (default 60 s) */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

const GATEWAY_PATH = new URL(GATEWAY_URL).pathname;

export function gatewayUrlOf(configured?: string): string {
  if (!configured) return GATEWAY_URL;
  const url = new URL(configured);
  if (url.pathname === '/' || url.pathname === '') url.pathname = GATEWAY_PATH;
  return url.toString();
}

export class SafeDWClient extends DWClient {
  /** gateway calls made (tests, metrics) */
  gatewayCalls = 0;
  lastError: Error | undefined;
  private readonly options: Required<Omit<SafeStreamOptions, 'gatewayUrl'>> & { gatewayUrl: string };
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private lastSeen = 0;

  constructor(options: SafeStreamOptions) {
    // autoReconnect is not in the constructor's declared type but is read at runtime (src/client.ts spreads the
    // options over its defaults)
    const config = { clientId: options.clientId, clientSecret: options.clientSecret, ua: 'tierbot', keepAlive: false, autoReconnect: false };
    super(config);
    const idleMs = options.idleMs ?? 60_000;
    this.options = {
      ...options,
      gatewayUrl: gatewayUrlOf(options.gatewayUrl),
      idleMs,
      pingEveryMs: options.pingEveryMs ?? Math.max(10, Math.floor(idleMs / 3)),
      backoffBaseMs: options.backoffBaseMs ?? 1000,
      backoffMaxMs: options.backoffMaxMs ?? 60_000,
    };
  }

  private get sdk(): SdkInternals {
    return this as unknown as SdkInternals;
  }

  get stoppedForGood(): boolean {
    return this.stopped;
  }

  override async getEndpoint(): Promise<this> {
    this.gatewayCalls++;
    const res = await fetch(this.options.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        clientId: this.config.clientId,
        clientSecret: this.config.clientSecret,
        ua: this.config.ua,
        subscriptions: this.config.subscriptions,
      }),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const body = (await res.json().catch(() => null)) as { endpoint?: unknown; ticket?: unknown; code?: unknown; message?: unknown } | null;
    if (!res.ok || typeof body?.endpoint !== 'string' || typeof body?.ticket !== 'string') {
      const detail = [body?.code, body?.message].filter((x) => typeof x === 'string').join(' ');
      throw new GatewayError(res.status, `stream gateway answered HTTP ${res.status}${detail ? ` ${detail}` : ''}`);
    }
    this.sdk.dw_url = `${body.endpoint}?ticket=${body.ticket}`;
    return this;
  }

  /** Opens a connection (single-flight); a failure schedules a retry with backoff. Never rejects. */
  override connect(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    this.dropSocket();
    try {
      await this.getEndpoint();
      const handshake = setTimeout(() => this.sdk.socket?.terminate(), this.options.timeoutMs);
      try {
        await this._connect();
      } finally {
        clearTimeout(handshake);
      }
    } catch (err) {
      this.lastError = err as Error;
      this.dropSocket();
      this.options.log.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'dingtalk: stream connect failed');
      this.scheduleReconnect();
      return;
    }
    const socket = this.sdk.socket;
    if (this.stopped || !socket) {
      this.dropSocket();
      return;
    }
    this.failures = 0;
    this.lastError = undefined;
    this.lastSeen = Date.now();
    socket.on('pong', () => {
      this.lastSeen = Date.now();
    });
    socket.once('close', (code: number) => {
      if (this.sdk.socket !== socket) return;
      this.stopWatchdog();
      this.options.log.info({ code }, 'dingtalk: stream connection closed');
      this.scheduleReconnect();
    });
    this.startWatchdog(socket);
    this.options.log.info({}, 'dingtalk: stream connected');
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    const { backoffBaseMs, backoffMaxMs } = this.options;
    const delay = Math.min(backoffBaseMs * 2 ** this.failures++, backoffMaxMs) * (0.8 + Math.random() * 0.4);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  /** Detaches and terminates the current socket, so it can neither leak nor trigger a reconnect. */
  private dropSocket(): void {
    this.stopWatchdog();
    const socket = this.sdk.socket;
    if (!socket) return;
    this.sdk.socket = undefined;
    socket.removeAllListeners();
    socket.on('error', () => undefined);
    socket.terminate();
    this.connected = false;
    this.registered = false;
  }

  private startWatchdog(socket: WebSocket): void {
    this.stopWatchdog();
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastSeen > this.options.idleMs) {
        this.options.log.warn({ idleMs: this.options.idleMs }, 'dingtalk: stream idle; reconnecting');
        socket.terminate();
        return;
      }
      try {
        socket.ping();
      } catch {
        // closing already; `close` reconnects
      }
    }, this.options.pingEveryMs);
  }

  private stopWatchdog(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  override onDownStream(data: string): void {
    this.lastSeen = Date.now();
    let frame: DWClientDownStream;
    try {
      frame = parseStreamFrame(data) as unknown as DWClientDownStream;
    } catch {
      // SYSTEM frames are handled even when they lack a messageId
      const loose = safeJson(data) as DWClientDownStream | null;
      if (loose?.type !== 'SYSTEM' || typeof loose.headers?.topic !== 'string') {
        this.options.log.warn({}, 'dingtalk: malformed stream frame dropped');
        return;
      }
      frame = loose;
    }
    try {
      if (frame.type === 'SYSTEM') this.onSystem(frame);
      else if (frame.type === 'EVENT') this.onEvent(frame);
      else this.onCallback(frame);
    } catch (err) {
      this.options.log.error({ err: { message: (err as Error).message }, topic: frame.headers.topic }, 'dingtalk: stream frame handler failed');
    }
  }

  override onSystem(frame: DWClientDownStream): void {
    super.onSystem(frame);
    if (frame.headers.topic === 'disconnect') {
      this.options.log.info({}, 'dingtalk: server announced disconnect; reconnecting now');
      this.failures = 0;
      void this.connect();
    }
  }

  override disconnect(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.stopWatchdog();
    if (this.sdk.socket) super.disconnect();
  }

  /** Waits until the socket is closed (after disconnect), at most `ms`. */
  async closed(ms = 2000): Promise<void> {
    const socket = this.sdk.socket;
    if (!socket || socket.readyState === socket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        socket.terminate();
        resolve();
      }, ms);
      socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

function safeJson(data: string | Uint8Array): unknown {
  try {
    return JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch {
    return null;
  }
}

export interface DingtalkStreamDeps extends SafeStreamOptions {
  inbound: DingtalkInbound;
}

export interface DingtalkStream {
  client: SafeDWClient;
  /** resolves once connected; rejects when the gateway refuses the credentials; otherwise keeps retrying */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The Stream receiver: robot messages are ACKed at once and handled afterwards; card callbacks are ACKed
 * with the sink's reply (card data / toast) inside DingTalk's 2 s, or with an empty response at the budget.
 * EVENT frames (org events) are ACKed SUCCESS and not used.
 */
export function createDingtalkStream(deps: DingtalkStreamDeps): DingtalkStream {
  const { inbound, log } = deps;
  const client = new SafeDWClient(deps);

  client.registerCallbackListener(TOPIC_ROBOT, (frame) => {
    const messageId = frame.headers.messageId;
    client.socketCallBackResponse(messageId, null);
    try {
      inbound.robotMessage(parseStreamFrameData(frame as Parameters<typeof parseStreamFrameData>[0]), messageId);
    } catch (err) {
      log.warn({ messageId, message: (err as Error).message }, 'dingtalk: malformed robot message dropped');
    }
  });

  client.registerCallbackListener(TOPIC_CARD, (frame) => {
    const messageId = frame.headers.messageId;
    inbound.cardCallback(frame.data).then(
      (response) => client.socketCallBackResponse(messageId, response),
      (err: unknown) => {
        log.warn({ messageId, message: (err as Error).message }, 'dingtalk: card callback failed');
        client.socketCallBackResponse(messageId, null);
      },
    );
  });

  client.registerAllEventListener((frame) => {
    log.debug({ eventType: frame.headers.eventType, eventId: frame.headers.eventId }, 'dingtalk: stream event not used by tierbot');
    return { status: EventAck.SUCCESS };
  });

  return {
    client,
    async start() {
      await client.connect();
      if (client.connected) return;
      const err = client.lastError;
      if (err instanceof GatewayError && err.status >= 400 && err.status < 500) {
        client.disconnect();
        throw new Error(`dingtalk: the Stream gateway refused DINGTALK_CLIENT_ID/DINGTALK_CLIENT_SECRET (${err.message})`);
      }
      log.error({ message: err?.message }, 'dingtalk: Stream connection failed; retrying in the background');
    },
    async stop() {
      client.disconnect();
      await client.closed();
      await inbound.idle();
    },
  };
}
