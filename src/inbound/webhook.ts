// A webhook route's frame, the same for every platform: read the body within the platform's limit, hand it to
// the receiver's own part (verification, decryption, payload mapping, the answer), and turn any refusal into
// the one refusal shape, logged once. Receivers never read bodies or write refusals themselves.
import type { Context, Middleware } from 'koa';
import type { Logger } from '../logger.ts';
import { readText } from './body.ts';
import { isRefusal, refuse } from './refusal.ts';
import type { InboundProfile } from './work.ts';

export type WebhookHandler = (ctx: Context, body: string) => Promise<void> | void;

/** A POST (or any request with a body): `handle` gets the body as text. */
export function webhook(profile: InboundProfile, log: Pick<Logger, 'warn'>, handle: WebhookHandler): Middleware {
  return refusing(profile, log, async (ctx) => handle(ctx, await readText(ctx, profile.maxBodyBytes)));
}

/** A request without a body (WeCom's GET URL check): only the refusal mapping. */
export function refusing(profile: Pick<InboundProfile, 'name'>, log: Pick<Logger, 'warn'>, handle: (ctx: Context) => Promise<void> | void): Middleware {
  return async (ctx) => {
    try {
      await handle(ctx);
    } catch (err) {
      if (!isRefusal(err)) throw err;
      log.warn({ platform: profile.name, status: err.status, code: err.code, reason: err.message }, `${profile.name}: request refused`);
      refuse(ctx, err);
    }
  };
}
