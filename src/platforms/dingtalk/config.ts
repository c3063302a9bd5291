// DingTalk's variables (README "Configuration") and its accounts in the org.
import { z } from 'zod';
import type { PlatformConfig } from '../../ports/platform.ts';
import { storableText } from '../../ports/text.ts';
import { envText, envUrl } from '../shared/env.ts';

export const dingtalkEnv = {
  DINGTALK_CLIENT_ID: envText,
  DINGTALK_CLIENT_SECRET: envText,
  DINGTALK_ROBOT_CODE: envText,
  DINGTALK_CARD_TEMPLATE_ID: envText,
  DINGTALK_MODE: z.enum(['stream', 'webhook']).default('stream'),
  DINGTALK_API_BASE: envUrl.default('https://api.dingtalk.com'),
  /** Stream gateway base (tests point it at a fake); the SDK's default otherwise */
  DINGTALK_GATEWAY_URL: envUrl.optional(),
  DINGTALK_CALLBACK_TOKEN: envText,
  DINGTALK_CALLBACK_AES_KEY: z.string().trim().regex(/^[A-Za-z0-9+/]{43}$/, 'must be the 43-character aes_key').optional(),
};

export type DingtalkConfig = PlatformConfig<typeof dingtalkEnv>;

/** `users[].dingtalk`: the person's userId (staffId) */
export const dingtalkUser = z.strictObject({ userId: storableText().min(1) });
/** `teams[].dingtalk`: the team's group conversation */
export const dingtalkTeam = z.strictObject({ openConversationId: storableText().min(1) });
