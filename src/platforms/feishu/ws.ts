// Feishu/Lark long connection (FEISHU_MODE=ws; setup: docs/platforms/feishu.md §3c): no public URL needed. The SDK's
// WSClient asks `${domain}/callback/ws/endpoint` for a WebSocket URL, receives protobuf frames and hands each
// event to an EventDispatcher (no signature or decryption over the connection), and sends the handler's
// result back in the ACK frame — only when it is truthy (`if (result)` in the SDK's ws-client/index.ts), so
// handlers always return an object.
// Events and card callbacks use the same mapping as the webhook (FeishuInbound).
import * as lark from '@larksuiteoapi/node-sdk';
import type { FeishuConfig } from './config.ts';
import type { Logger } from '../../logger.ts';
import { PlatformConfigError } from '../shared/errors.ts';
import { sdkLogger, sdkOptions } from './messenger.ts';
import { CARD_ACTION_EVENT, MESSAGE_EVENT, type FeishuInbound } from './receiver.ts';

/** Without a pong watchdog a half-open socket is never noticed and the bot goes deaf; the SDK's
 * `wsConfig.pingTimeout` is off unless set (ws-client/index.ts). */
export const WS_PING_TIMEOUT_S = 10;
export const WS_START_TIMEOUT_MS = 30_000;

/** The SDK flattens `{schema, header, event}` into one object: header fields and event fields side by side. */
type FlatEvent = { event_id?: string } & Record<string, unknown>;

export function feishuEventDispatcher(inbound: FeishuInbound, env: FeishuConfig, log: Logger): lark.EventDispatcher {
  return new lark.EventDispatcher({
    encryptKey: env.FEISHU_ENCRYPT_KEY,
    logger: sdkLogger(log),
    loggerLevel: lark.LoggerLevel.warn,
  }).register({
    [CARD_ACTION_EVENT]: (data: FlatEvent) => inbound.cardAction(data.event_id ?? '', data),
    [MESSAGE_EVENT]: (data: unknown) => inbound.message((data as FlatEvent).event_id ?? '', data),
  });
}

export interface FeishuLongConnectionOptions {
  env: FeishuConfig;
  log: Logger;
  inbound: FeishuInbound;
  pingTimeoutS?: number;
  startTimeoutMs?: number;
}

export class FeishuLongConnection {
  private client: lark.WSClient | null = null;

  constructor(private readonly opts: FeishuLongConnectionOptions) {
    const appId = opts.env.FEISHU_APP_ID ?? '';
    // WSClient.start() silently does nothing for an app id of another shape.
    if (!/^cli_[0-9a-fA-F]{16}$/.test(appId)) throw new PlatformConfigError('feishu', 'FEISHU_APP_ID must look like cli_ followed by 16 hex digits');
  }

  /** Resolves once connected; rejects when Feishu refuses (bad credentials) or nothing connects in time. */
  async start(): Promise<void> {
    const { env, log, inbound, pingTimeoutS = WS_PING_TIMEOUT_S, startTimeoutMs = WS_START_TIMEOUT_MS } = this.opts;
    let settle!: { resolve: () => void; reject: (e: Error) => void };
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const { appId, appSecret, domain, httpInstance, logger, loggerLevel } = sdkOptions(env, log);
    this.client = new lark.WSClient({
      appId,
      appSecret,
      domain,
      httpInstance,
      logger,
      loggerLevel,
      autoReconnect: true,
      handshakeTimeoutMs: env.PLATFORM_TIMEOUT_MS,
      wsConfig: { pingTimeout: pingTimeoutS },
      onReady: () => settle.resolve(),
      onError: (err: Error) => {
        log.error({ err: err.message }, 'feishu long connection failed');
        settle.reject(err);
      },
      onReconnecting: () => log.warn('feishu long connection lost; reconnecting'),
      onReconnected: () => log.info('feishu long connection restored'),
    });
    await this.client.start({ eventDispatcher: feishuEventDispatcher(inbound, env, log) });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`feishu long connection not ready after ${startTimeoutMs} ms`)), startTimeoutMs);
    });
    try {
      await Promise.race([ready, timeout]);
      log.info('feishu long connection ready');
    } catch (err) {
      await this.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    this.client?.close({ force: true });
    this.client = null;
  }

  connectionState(): string {
    return this.client?.getConnectionStatus().state ?? 'idle';
  }
}
