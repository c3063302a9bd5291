// WeCom (企业微信) as a tierbot platform: a self-built app's messenger (message/send, update_template_card,
// appchat/send, group-robot webhook) and its callback receiver at GET|POST /webhooks/wecom.
import type { PlatformDeps, PlatformDescriptor, PlatformModule } from '../../ports/platform.ts';
import { PlatformConfigError } from '../shared/errors.ts';
import type { PlatformProfile } from '../shared/outbound.ts';
import { WecomClient } from './client.ts';
import { wecomEnv, wecomTeam, wecomUser, type WecomConfig } from './config.ts';
import { createWecomCallbackCrypto } from './crypto.ts';
import { WecomMessenger } from './messenger.ts';
import { wecomOAuth } from './oauth.ts';
import { createWecomReceiver } from './receiver.ts';

export interface WecomPlatformOptions {
  /** overrides of the outbound profiles (tests scale time down) */
  profile?: PlatformProfile;
  robotProfile?: PlatformProfile;
}

export interface WecomPlatformModule extends PlatformModule {
  platform: 'wecom';
  messenger: WecomMessenger;
  /** waits for callback work handed off after answering */
  idle(): Promise<void>;
}

export type { WecomConfig } from './config.ts';

const REQUIRED = ['WECOM_CORP_ID', 'WECOM_AGENT_ID', 'WECOM_SECRET', 'WECOM_TOKEN', 'WECOM_ENCODING_AES_KEY'] as const;

/** The platform from its config slice; `options` are test knobs. */
export function createWecomModule(deps: PlatformDeps, env: WecomConfig, options: WecomPlatformOptions = {}): WecomPlatformModule {
  const { sink, clock, log, timer } = deps;
  const missing = REQUIRED.filter((k) => !env[k]);
  if (missing.length) throw new PlatformConfigError('wecom', `missing ${missing.join(', ')}`);
  const agentId = Number(env.WECOM_AGENT_ID);
  if (!Number.isSafeInteger(agentId)) throw new PlatformConfigError('wecom', 'WECOM_AGENT_ID must be the numeric AgentId');

  const client = new WecomClient({
    baseUrl: env.WECOM_API_BASE,
    corpId: env.WECOM_CORP_ID!,
    secret: env.WECOM_SECRET!,
    timeoutMs: env.PLATFORM_TIMEOUT_MS,
  });
  const messenger = new WecomMessenger({ client, agentId, clock, timer, profile: options.profile, robotProfile: options.robotProfile });
  const crypto = createWecomCallbackCrypto({
    token: env.WECOM_TOKEN!,
    encodingAesKey: env.WECOM_ENCODING_AES_KEY!,
    corpId: env.WECOM_CORP_ID!,
  });
  const receiver = createWecomReceiver({ crypto, sink, messenger, clock, log, agentId: String(agentId) });

  return {
    platform: 'wecom',
    messenger,
    routes: receiver.router,
    oauth: wecomOAuth({ client, baseUrl: env.WECOM_API_BASE, corpId: env.WECOM_CORP_ID!, agentId, timeoutMs: env.PLATFORM_TIMEOUT_MS }),
    idle: () => receiver.idle(),
    stop: () => receiver.idle(),
  };
}

/** The factory with the config in the deps (tests pass a whole loaded environment). */
export function createWecomPlatform(deps: PlatformDeps & { env: WecomConfig }, options: WecomPlatformOptions = {}): WecomPlatformModule {
  return createWecomModule(deps, deps.env, options);
}

export const wecomPlatform = (deps: PlatformDeps & { env: WecomConfig }): WecomPlatformModule => createWecomPlatform(deps);

export const wecom: PlatformDescriptor<'wecom', typeof wecomEnv, typeof wecomUser, typeof wecomTeam> = {
  name: 'wecom',
  env: { shape: wecomEnv, required: REQUIRED },
  org: { user: wecomUser, team: wecomTeam, accountKey: (account) => (typeof account.userId === 'string' ? account.userId.toLowerCase() : undefined) },
  // WeCom user ids are case-insensitive
  identify: (org, platformUserId) => org.users.find((u) => u.wecom?.userId.toLowerCase() === platformUserId.toLowerCase()),
  userRecipient: (user) => (user.wecom?.userId ? { platform: 'wecom', kind: 'user', id: user.wecom.userId } : undefined),
  teamRecipients: (team) =>
    team.wecom?.chatId ? [{ platform: 'wecom', kind: 'chat', id: team.wecom.chatId }] : team.wecom?.webhookKey ? [{ platform: 'wecom', kind: 'robot', id: team.wecom.webhookKey }] : [],
  create: (deps, config) => createWecomModule(deps, config),
};
