// A fifth chat platform, in test code only: what a new platform folder looks like. One descriptor (the port in
// src/ports/platform.ts) with its own variables, org fields, identity, recipients, a tiny messenger that keeps
// what it was sent, and one webhook route built on the shared inbound mechanism (src/inbound/: its body limit and
// deadline are data in its profile; the route keeps only the token check and the mapping);
// test/platforms/fifth-platform.test.ts registers it next to the
// registry's platforms through createTierbot's `chat.platforms` (production code registers in
// src/platforms/registry.ts, which also does the two type augmentations below for its list).
import Router from '@koa/router';
import { z } from 'zod';
import type { Card } from '../../../cards/model.ts';
import { Refusal } from '../../../src/inbound/refusal.ts';
import { webhook } from '../../../src/inbound/webhook.ts';
import { Inbound, type InboundProfile } from '../../../src/inbound/work.ts';
import type { Messenger, Recipient, SentMessage } from '../../../src/ports/messenger.ts';
import type { PlatformDescriptor } from '../../../src/ports/platform.ts';

declare module '../../../src/ports/messenger.ts' {
  interface PlatformNames {
    fifth: true;
  }
}
declare module '../../../src/ports/store.ts' {
  interface UserAccounts {
    fifth: z.infer<typeof fifthUser>;
  }
  interface TeamAccounts {
    fifth: z.infer<typeof fifthTeam>;
  }
}

export const FIFTH_WEBHOOK_PATH = '/webhooks/fifth';

const fifthEnv = {
  FIFTH_TOKEN: z.string().trim().min(8, 'must be at least 8 characters').optional(),
  FIFTH_ROOM_PREFIX: z.string().trim().min(1).default('room:'),
};
const fifthUser = z.strictObject({ handle: z.string().min(1) });
const fifthTeam = z.strictObject({ room: z.string().min(1) });

/** Keeps every card it is asked to send or update. */
export class FifthMessenger implements Messenger {
  readonly platform = 'fifth' as const;
  readonly sent: { to: Recipient; card: Card; messageId: string }[] = [];
  readonly updates: { messageId: string; card: Card }[] = [];

  async send(to: Recipient, card: Card): Promise<SentMessage> {
    const messageId = `m-${this.sent.length + 1}`;
    this.sent.push({ to, card, messageId });
    return { platform: 'fifth', messageId };
  }

  async update(sent: SentMessage, card: Card): Promise<void> {
    this.updates.push({ messageId: sent.messageId, card });
  }
}

/** What a platform's profile.ts says about the way in: bodies up to 64 KiB, clicks answered within 1 s. */
export const fifthInbound: InboundProfile = { name: 'fifth', maxBodyBytes: 64 * 1024, answerWithinMs: 1000 };

function parseJson(text: string): Record<string, any> {
  try {
    return JSON.parse(text) as Record<string, any>;
  } catch {
    throw new Refusal(400, 'malformed_body', 'body is not JSON');
  }
}

export const fifth: PlatformDescriptor<'fifth', typeof fifthEnv, typeof fifthUser, typeof fifthTeam> = {
  name: 'fifth',
  env: {
    shape: fifthEnv,
    required: ['FIFTH_TOKEN'],
    problems: (env) => (env.FIFTH_TOKEN?.includes(' ') ? ['FIFTH_TOKEN must not contain spaces'] : []),
  },
  org: { user: fifthUser, team: fifthTeam, accountKey: (account) => account.handle },
  identify: (org, platformUserId) => org.users.find((u) => u.fifth?.handle === platformUserId),
  userRecipient: (user) => (user.fifth ? { platform: 'fifth', kind: 'user', id: user.fifth.handle } : undefined),
  teamRecipients: (team) => (team.fifth ? [{ platform: 'fifth', kind: 'chat', id: team.fifth.room }] : []),
  create: ({ sink, log }, config) => {
    const messenger = new FifthMessenger();
    const inbound = new Inbound(fifthInbound, log);
    const routes = new Router();
    // one route for messages and clicks: {token, type, eventId, user, text | action, ref, values}
    routes.post(
      FIFTH_WEBHOOK_PATH,
      webhook(fifthInbound, log, async (ctx, text) => {
        const body = parseJson(text);
        if (body.token !== config.FIFTH_TOKEN) throw new Refusal(401, 'bad_token', 'bad token');
        const actor = { platform: 'fifth' as const, platformUserId: String(body.user) };
        if (body.type === 'message') {
          inbound.later('message', () => sink.handleMessage({ type: 'message', platform: 'fifth', eventId: body.eventId, actor, text: body.text, chat: { id: body.user, kind: 'p2p' } }));
          ctx.body = { ok: true };
          return;
        }
        const action = sink.handleAction({ type: 'action', platform: 'fifth', eventId: body.eventId, actor, action: body.action, ref: body.ref, option: body.option, values: body.values ?? {} });
        ctx.body = await inbound.answer('click', action, () => ({}));
      }),
    );
    return { platform: 'fifth', messenger, routes, stop: () => inbound.idle() };
  },
};
