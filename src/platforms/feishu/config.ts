// Feishu's variables (README "Configuration") and its accounts in the org.
import { z } from 'zod';
import type { PlatformConfig } from '../../ports/platform.ts';
import { storableText } from '../../ports/text.ts';
import { envText, envUrl } from '../shared/env.ts';

export const feishuEnv = {
  FEISHU_APP_ID: envText,
  FEISHU_APP_SECRET: envText,
  FEISHU_VERIFICATION_TOKEN: envText,
  FEISHU_ENCRYPT_KEY: envText,
  FEISHU_DOMAIN: envUrl.optional(),
  FEISHU_MODE: z.enum(['webhook', 'ws']).default('webhook'),
};

export type FeishuConfig = PlatformConfig<typeof feishuEnv>;

/** `users[].feishu`: the open_id (and/or user_id) of the person */
export const feishuUser = z.strictObject({ openId: storableText().min(1).optional(), userId: storableText().min(1).optional() });
/** `teams[].feishu`: the team's group chat */
export const feishuTeam = z.strictObject({ chatId: storableText().min(1) });
