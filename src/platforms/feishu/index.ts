// Feishu/Lark as one platform descriptor: the messenger (cards to users by open_id and to team chats by
// chat_id), the webhook route POST /webhooks/feishu when a verification token or encrypt key is configured, and
// the long connection when FEISHU_MODE=ws. Both receivers feed the same FeishuInbound mapping.
import type { PlatformDeps, PlatformDescriptor, PlatformModule } from '../../ports/platform.ts';
import { PlatformConfigError } from '../shared/errors.ts';
import { feishuEnv, feishuTeam, feishuUser, type FeishuConfig } from './config.ts';
import { FeishuMessenger } from './messenger.ts';
import { feishuOAuth } from './oauth.ts';
import { FeishuInbound, feishuWebhookRouter } from './receiver.ts';
import { FeishuLongConnection } from './ws.ts';

export type { FeishuConfig } from './config.ts';

export function createFeishuPlatform({ sink, clock, log, timer }: PlatformDeps, env: FeishuConfig): PlatformModule {
  const missing = (['FEISHU_APP_ID', 'FEISHU_APP_SECRET'] as const).filter((k) => !env[k]);
  if (missing.length > 0) throw new PlatformConfigError('feishu', `set ${missing.join(' and ')}`);
  const webhook = Boolean(env.FEISHU_ENCRYPT_KEY || env.FEISHU_VERIFICATION_TOKEN);
  if (env.FEISHU_MODE === 'webhook' && !webhook) {
    throw new PlatformConfigError('feishu', 'webhook mode needs FEISHU_ENCRYPT_KEY or FEISHU_VERIFICATION_TOKEN');
  }

  const flog = log.child({ platform: 'feishu' });
  const messenger = new FeishuMessenger({ env, log: flog, timer });
  const inbound = new FeishuInbound(sink, flog);
  const routes = webhook ? feishuWebhookRouter({ env, clock, log: flog, inbound }) : undefined;
  const oauth = feishuOAuth(env);
  if (env.FEISHU_MODE !== 'ws') return { platform: 'feishu', messenger, routes, oauth, stop: () => inbound.idle() };

  const connection = new FeishuLongConnection({ env, log: flog, inbound });
  return {
    platform: 'feishu',
    messenger,
    routes,
    oauth,
    start: () => connection.start(),
    stop: async () => {
      await connection.stop();
      await inbound.idle();
    },
  };
}

/** The factory with the config in the deps (tests pass a whole loaded environment). */
export const feishuPlatform = (deps: PlatformDeps & { env: FeishuConfig }): PlatformModule => createFeishuPlatform(deps, deps.env);

export const feishu: PlatformDescriptor<'feishu', typeof feishuEnv, typeof feishuUser, typeof feishuTeam> = {
  name: 'feishu',
  env: {
    shape: feishuEnv,
    required: ['FEISHU_APP_ID', 'FEISHU_APP_SECRET'],
    optional: ['FEISHU_VERIFICATION_TOKEN', 'FEISHU_ENCRYPT_KEY'],
    problems: (env) =>
      env.FEISHU_APP_ID && (env.FEISHU_MODE ?? 'webhook') === 'webhook' && !env.FEISHU_VERIFICATION_TOKEN && !env.FEISHU_ENCRYPT_KEY
        ? ['FEISHU_VERIFICATION_TOKEN or FEISHU_ENCRYPT_KEY is required in webhook mode']
        : [],
  },
  org: { user: feishuUser, team: feishuTeam, accountKey: (account) => account.openId ?? account.userId },
  identify: (org, platformUserId) => org.users.find((u) => u.feishu?.openId === platformUserId || u.feishu?.userId === platformUserId),
  userRecipient: (user) => (user.feishu?.openId || user.feishu?.userId ? { platform: 'feishu', kind: 'user', id: user.feishu.openId ?? user.feishu.userId! } : undefined),
  teamRecipients: (team) => (team.feishu?.chatId ? [{ platform: 'feishu', kind: 'chat', id: team.feishu.chatId }] : []),
  create: createFeishuPlatform,
};
