// DingTalk (钉钉) as a tierbot platform: the messenger (OpenAPI), and either the Stream receiver
// (DINGTALK_MODE=stream, default: no public URL) or the HTTP callback route (DINGTALK_MODE=webhook). In webhook
// mode with a card template, cards are created with callbackType HTTP and the start registers the card
// callback route (card-callback.ts) for PUBLIC_BASE_URL + /webhooks/dingtalk.
import type { PlatformDeps, PlatformDescriptor, PlatformModule } from '../../ports/platform.ts';
import { PlatformConfigError } from '../shared/errors.ts';
import type { PlatformProfile } from '../shared/outbound.ts';
import { CardCallbackRegistrar, cardCallbackRoute, type CardCallbackRoute } from './card-callback.ts';
import { DingtalkClient } from './client.ts';
import { dingtalkEnv, dingtalkTeam, dingtalkUser, type DingtalkConfig } from './config.ts';
import { createDingtalkCallbackCrypto } from './crypto.ts';
import { DingtalkMessenger } from './messenger.ts';
import { dingtalkOAuth } from './oauth.ts';
import { createDingtalkRoutes, DINGTALK_WEBHOOK_PATH, DingtalkInbound } from './receiver.ts';
import { RobotSignClaims } from './robot-signs.ts';
import { createDingtalkStream, type SafeStreamOptions } from './stream.ts';

export { CardCallbackRegistrar, cardCallbackRoute, cardCallbackSignature, registerCardCallbackRoute } from './card-callback.ts';
export { DingtalkClient } from './client.ts';
export { DingtalkMessenger, outTrackIdFor } from './messenger.ts';
export { createDingtalkProfile, dingtalkProfile } from './profile.ts';
export { DingtalkInbound, createDingtalkRoutes } from './receiver.ts';
export { RobotSignClaims } from './robot-signs.ts';
export { SafeDWClient, createDingtalkStream } from './stream.ts';

/** Test and tuning knobs that are not environment variables. */
export interface DingtalkTuning {
  profile?: PlatformProfile;
  /** overrides dingtalkInbound's answer deadline (tests shorten it) */
  replyBudgetMs?: number;
  /** card callback registration retry delays */
  registration?: { backoffBaseMs?: number; backoffMaxMs?: number };
  stream?: Pick<SafeStreamOptions, 'idleMs' | 'pingEveryMs' | 'backoffBaseMs' | 'backoffMaxMs'>;
}

export type { DingtalkConfig } from './config.ts';

function required(env: DingtalkConfig, key: 'DINGTALK_CLIENT_ID' | 'DINGTALK_CLIENT_SECRET' | 'DINGTALK_ROBOT_CODE' | 'DINGTALK_CALLBACK_TOKEN' | 'DINGTALK_CALLBACK_AES_KEY'): string {
  const value = env[key];
  if (!value) throw new PlatformConfigError('dingtalk', `${key} is required${key.startsWith('DINGTALK_CALLBACK') ? ' when DINGTALK_MODE=webhook' : ''}`);
  return value;
}

/** The platform from its config slice; `tuning` are test knobs. */
export function createDingtalkModule(deps: PlatformDeps, env: DingtalkConfig, tuning: DingtalkTuning = {}): PlatformModule {
  const { sink, clock, log, docs } = deps;
  const clientId = required(env, 'DINGTALK_CLIENT_ID');
  const clientSecret = required(env, 'DINGTALK_CLIENT_SECRET');
  const robotCode = required(env, 'DINGTALK_ROBOT_CODE');
  const webhook = env.DINGTALK_MODE === 'webhook';
  // card clicks over HTTP need a template (robot messages have no callbacks) and a URL DingTalk can reach
  const route: CardCallbackRoute | null =
    webhook && env.DINGTALK_CARD_TEMPLATE_ID ? cardCallbackRoute({ clientId, clientSecret, callbackUrl: env.PUBLIC_BASE_URL + DINGTALK_WEBHOOK_PATH }) : null;

  const client = new DingtalkClient({
    apiBase: env.DINGTALK_API_BASE,
    clientId,
    clientSecret,
    robotCode,
    timeoutMs: env.PLATFORM_TIMEOUT_MS,
    cardCallback: route ? { type: 'HTTP', routeKey: route.routeKey } : { type: 'STREAM' },
    profile: tuning.profile,
    timer: deps.timer,
  });
  const messenger = new DingtalkMessenger(client, { templateId: env.DINGTALK_CARD_TEMPLATE_ID });
  const inbound = new DingtalkInbound({ sink, messenger, client, clock, log, replyBudgetMs: tuning.replyBudgetMs });
  const oauth = dingtalkOAuth(env);

  if (webhook) {
    const crypto = createDingtalkCallbackCrypto({
      token: required(env, 'DINGTALK_CALLBACK_TOKEN'),
      aesKey: required(env, 'DINGTALK_CALLBACK_AES_KEY'),
      clientId,
    });
    if (!docs) throw new PlatformConfigError('dingtalk', 'DINGTALK_MODE=webhook needs the shared document store (single-use robot signatures)');
    const robotSigns = new RobotSignClaims(docs, clock, { onError: (err) => log.warn({ err }, 'dingtalk: deleting old robot signature claims failed') });
    const routes = createDingtalkRoutes({ inbound, crypto, appSecret: clientSecret, robotCode, cardApiSecret: route?.apiSecret, robotSigns, clock, log });
    const registrar = route ? new CardCallbackRegistrar({ client, route, log, ...tuning.registration }) : null;
    return {
      platform: 'dingtalk',
      messenger,
      routes,
      oauth,
      ...(registrar && {
        start: async () => {
          if (/^https?:\/\/(127\.|localhost|\[::1\])/.test(env.PUBLIC_BASE_URL)) {
            log.warn({ callbackUrl: route!.callbackUrl }, 'dingtalk: card callbacks go to PUBLIC_BASE_URL, which DingTalk cannot reach on this host');
          }
          await registrar.start();
        },
      }),
      stop: async () => {
        await registrar?.stop();
        await Promise.all([inbound.idle(), robotSigns.idle()]);
      },
    };
  }

  const stream = createDingtalkStream({
    clientId,
    clientSecret,
    gatewayUrl: env.DINGTALK_GATEWAY_URL,
    timeoutMs: env.PLATFORM_TIMEOUT_MS,
    log,
    inbound,
    ...tuning.stream,
  });
  return { platform: 'dingtalk', messenger, oauth, start: () => stream.start(), stop: () => stream.stop() };
}

/** The factory with the config in the deps (tests pass a whole loaded environment). */
export function createDingtalkPlatform(deps: PlatformDeps & { env: DingtalkConfig }, tuning: DingtalkTuning = {}): PlatformModule {
  return createDingtalkModule(deps, deps.env, tuning);
}

export const dingtalkPlatform = (deps: PlatformDeps & { env: DingtalkConfig }): PlatformModule => createDingtalkPlatform(deps);

export const dingtalk: PlatformDescriptor<'dingtalk', typeof dingtalkEnv, typeof dingtalkUser, typeof dingtalkTeam> = {
  name: 'dingtalk',
  env: {
    shape: dingtalkEnv,
    required: ['DINGTALK_CLIENT_ID', 'DINGTALK_CLIENT_SECRET', 'DINGTALK_ROBOT_CODE'],
    problems: (env) =>
      env.DINGTALK_CLIENT_ID && env.DINGTALK_MODE === 'webhook'
        ? (['DINGTALK_CALLBACK_TOKEN', 'DINGTALK_CALLBACK_AES_KEY'] as const).filter((key) => !env[key]).map((key) => `${key} is required when DINGTALK_MODE=webhook`)
        : [],
  },
  org: { user: dingtalkUser, team: dingtalkTeam, accountKey: (account) => account.userId },
  identify: (org, platformUserId) => org.users.find((u) => u.dingtalk?.userId === platformUserId),
  userRecipient: (user) => (user.dingtalk?.userId ? { platform: 'dingtalk', kind: 'user', id: user.dingtalk.userId } : undefined),
  teamRecipients: (team) => (team.dingtalk?.openConversationId ? [{ platform: 'dingtalk', kind: 'chat', id: team.dingtalk.openConversationId }] : []),
  create: (deps, config) => createDingtalkModule(deps, config),
};
