// WeCom's variables (README "Configuration") and its accounts in the org.
import { z } from 'zod';
import type { PlatformConfig } from '../../ports/platform.ts';
import { storableText } from '../../ports/text.ts';
import { envText, envUrl } from '../shared/env.ts';

export const wecomEnv = {
  WECOM_CORP_ID: envText,
  WECOM_AGENT_ID: z.string().trim().regex(/^\d+$/, 'must be the numeric AgentId').optional(),
  WECOM_SECRET: envText,
  WECOM_TOKEN: envText,
  WECOM_ENCODING_AES_KEY: z.string().trim().regex(/^[A-Za-z0-9+/]{43}$/, 'must be the 43-character EncodingAESKey').optional(),
  WECOM_API_BASE: envUrl.default('https://qyapi.weixin.qq.com'),
};

export type WecomConfig = PlatformConfig<typeof wecomEnv>;

/** `users[].wecom`: the person's userid (case-insensitive in WeCom) */
export const wecomUser = z.strictObject({ userId: storableText().min(1) });
/** `teams[].wecom`: an app group chat, or a group robot's webhook key (a credential) */
export const wecomTeam = z.strictObject({ chatId: storableText().min(1).optional(), webhookKey: storableText().min(1).optional() });
