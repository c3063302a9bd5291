// Environment (README "Configuration"), validated once at start. Every bad or missing value is named.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const optional = z.string().trim().min(1).optional();
const url = z.string().trim().url();

const platformGroups = {
  feishu: { required: ['FEISHU_APP_ID', 'FEISHU_APP_SECRET'], optional: ['FEISHU_VERIFICATION_TOKEN', 'FEISHU_ENCRYPT_KEY'] },
  wecom: { required: ['WECOM_CORP_ID', 'WECOM_AGENT_ID', 'WECOM_SECRET', 'WECOM_TOKEN', 'WECOM_ENCODING_AES_KEY'], optional: [] },
  dingtalk: { required: ['DINGTALK_CLIENT_ID', 'DINGTALK_CLIENT_SECRET', 'DINGTALK_ROBOT_CODE'], optional: [] },
} as const;
export type PlatformName = keyof typeof platformGroups;

const envSchema = z
  .object({
    PORT: z.coerce.number({ error: 'must be a port number 0–65535' }).int('must be a port number 0–65535').min(0, 'must be a port number 0–65535').max(65535, 'must be a port number 0–65535').default(3000),
    HOST: z.string().trim().min(1).default('127.0.0.1'),
    MONGODB_URI: z.string().trim().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional(),
    MONGODB_DB: z.string().trim().regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ or -, at most 63').default('tierbot'),
    TIERBOT_CONFIG_DIR: z.string().trim().min(1).default('./config'),
    TIERBOT_DEMO: z.enum(['0', '1']).optional(),
    ADMIN_TOKEN: z.string().trim().min(16, 'must be at least 16 characters').optional(),
    METRICS_TOKEN: optional,
    PUBLIC_BASE_URL: url.optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    FEISHU_APP_ID: optional,
    FEISHU_APP_SECRET: optional,
    FEISHU_VERIFICATION_TOKEN: optional,
    FEISHU_ENCRYPT_KEY: optional,
    FEISHU_DOMAIN: url.optional(),
    FEISHU_MODE: z.enum(['webhook', 'ws']).default('webhook'),
    WECOM_CORP_ID: optional,
    WECOM_AGENT_ID: z.string().trim().regex(/^\d+$/, 'must be the numeric AgentId').optional(),
    WECOM_SECRET: optional,
    WECOM_TOKEN: optional,
    WECOM_ENCODING_AES_KEY: z.string().trim().regex(/^[A-Za-z0-9+/]{43}$/, 'must be the 43-character EncodingAESKey').optional(),
    WECOM_API_BASE: url.default('https://qyapi.weixin.qq.com'),
    DINGTALK_CLIENT_ID: optional,
    DINGTALK_CLIENT_SECRET: optional,
    DINGTALK_ROBOT_CODE: optional,
    DINGTALK_CARD_TEMPLATE_ID: optional,
    DINGTALK_MODE: z.enum(['stream', 'webhook']).default('stream'),
    DINGTALK_API_BASE: url.default('https://api.dingtalk.com'),
    /** Stream gateway base (tests point it at a fake); the SDK's default otherwise */
    DINGTALK_GATEWAY_URL: url.optional(),
    /** request timeout for platform API calls */
    PLATFORM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    DINGTALK_CALLBACK_TOKEN: optional,
    DINGTALK_CALLBACK_AES_KEY: z.string().trim().regex(/^[A-Za-z0-9+/]{43}$/, 'must be the 43-character aes_key').optional(),
  });

type Raw = Record<string, string | undefined>;

/** Checks across variables; they run on the raw values so one answer names every problem. */
function crossProblems(env: Raw): string[] {
  const problems: string[] = [];
  if (env.MONGODB_URI && !env.ADMIN_TOKEN) problems.push('ADMIN_TOKEN is required when MONGODB_URI is set');
  for (const [platform, group] of Object.entries(platformGroups)) {
    const all: readonly string[] = [...group.required, ...group.optional];
    if (!all.some((k) => env[k] !== undefined)) continue;
    for (const key of group.required) if (env[key] === undefined) problems.push(`${key} is required because ${platform} is partly configured`);
  }
  if (env.FEISHU_APP_ID && (env.FEISHU_MODE ?? 'webhook') === 'webhook' && !env.FEISHU_VERIFICATION_TOKEN && !env.FEISHU_ENCRYPT_KEY) {
    problems.push('FEISHU_VERIFICATION_TOKEN or FEISHU_ENCRYPT_KEY is required in webhook mode');
  }
  if (env.DINGTALK_CLIENT_ID && env.DINGTALK_MODE === 'webhook') {
    for (const key of ['DINGTALK_CALLBACK_TOKEN', 'DINGTALK_CALLBACK_AES_KEY']) if (!env[key]) problems.push(`${key} is required when DINGTALK_MODE=webhook`);
  }
  return problems;
}

export type RawEnv = z.infer<typeof envSchema>;

export interface AppEnv extends RawEnv {
  ADMIN_TOKEN: string;
  adminTokenGenerated: boolean;
  PUBLIC_BASE_URL: string;
  demo: boolean;
  platforms: PlatformName[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming every bad or missing variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): AppEnv {
  const cleaned: Raw = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(cleaned);
  const problems = [...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'} ${i.message}`)), ...crossProblems(cleaned)];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const env = parsed.data;
  const embedded = !env.MONGODB_URI;
  const port = env.PORT;
  return {
    ...env,
    ADMIN_TOKEN: env.ADMIN_TOKEN ?? randomBytes(18).toString('base64url'),
    adminTokenGenerated: !env.ADMIN_TOKEN,
    PUBLIC_BASE_URL: (env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, ''),
    demo: env.TIERBOT_DEMO ? env.TIERBOT_DEMO === '1' : embedded,
    platforms: (Object.keys(platformGroups) as PlatformName[]).filter((p) => env[platformGroups[p].required[0]] !== undefined),
  };
}
