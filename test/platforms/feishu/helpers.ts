// Shared set-up for the Feishu platform tests: env, a recording sink, a Koa app with the module's routes.
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import Koa from 'koa';
import type { Card } from '../../../cards/model.ts';
import { loadEnv, type AppEnv } from '../../../src/config/env.ts';
import { createLogger } from '../../../src/logger.ts';
import type { ActionReply, InboundAction, InboundMessage, InboundSink } from '../../../src/ports/messenger.ts';
import type { PlatformModule } from '../../../src/platforms/module.ts';

export const APP_ID = 'cli_a1b2c3d4e5f6a7b8';
export const APP_SECRET = 'app-secret-for-tests';
export const ENCRYPT_KEY = 'encrypt-key-for-tests';
export const VERIFICATION_TOKEN = 'verification-token-for-tests';
export const silentLog = createLogger('silent');

export function feishuEnv(domain: string, over: Record<string, string> = {}): AppEnv {
  return loadEnv({
    FEISHU_APP_ID: APP_ID,
    FEISHU_APP_SECRET: APP_SECRET,
    FEISHU_ENCRYPT_KEY: ENCRYPT_KEY,
    FEISHU_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
    FEISHU_DOMAIN: domain,
    PLATFORM_TIMEOUT_MS: '500',
    LOG_LEVEL: 'silent',
    ...over,
  });
}

/** Records what a receiver hands the core; answers with `reply` (after `delayMs`). */
export class RecordingSink implements InboundSink {
  readonly actions: InboundAction[] = [];
  readonly messages: InboundMessage[] = [];
  reply: ActionReply = { toast: { kind: 'success', text: '已认领 / Claimed' } };
  delayMs = 0;
  fail = false;
  private waiters: (() => void)[] = [];

  async handleAction(event: InboundAction): Promise<ActionReply> {
    this.actions.push(event);
    this.wake();
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.fail) throw new Error('store down');
    return this.reply;
  }

  async handleMessage(event: InboundMessage): Promise<void> {
    this.messages.push(event);
    this.wake();
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `cond` holds (checked after every event), or rejects after `ms`. */
  async until(cond: () => boolean, ms = 2000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('sink: condition not met in time');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
    }
  }
}

/** The module's routes in a tiny Koa app on an ephemeral loopback port. */
export async function serveRoutes(module: PlatformModule): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new Koa();
  app.use(module.routes!.routes());
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function testCard(title: string, ref = 'ref-1'): Card {
  return {
    kind: 'churn_alert',
    locale: 'en',
    title,
    tone: 'warning',
    summary: title,
    blocks: [
      { type: 'text', text: '**ACME** has not ordered for 45 days.' },
      { type: 'fields', fields: [{ label: 'Tier', value: 'A' }, { label: 'Risk', value: 'high', tone: 'danger' }] },
    ],
    actions: [
      { type: 'callback', key: 'followup.claim', label: 'Claim', style: 'primary', ref },
      { type: 'link', key: 'console.open', label: 'Open', url: 'http://127.0.0.1:3000/console/customers/c-1' },
    ],
    url: 'http://127.0.0.1:3000/console/customers/c-1',
  };
}
