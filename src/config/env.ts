// Environment (README "Configuration"), validated once at start. Every bad or missing value is named.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { platforms, type PlatformName, type PlatformsEnv } from '../platforms/registry.ts';
import type { AnyPlatformDescriptor, SharedPlatformEnv } from '../ports/platform.ts';

export type { PlatformName } from '../platforms/registry.ts';

const optional = z.string().trim().min(1).optional();
const url = z.string().trim().url();

const commonEnv = {
  PORT: z.coerce.number({ error: 'must be a port number 0–65535' }).int('must be a port number 0–65535').min(0, 'must be a port number 0–65535').max(65535, 'must be a port number 0–65535').default(3000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  MONGODB_URI: z.string().trim().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional(),
  MONGODB_DB: z.string().trim().regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ or -, at most 63').default('tierbot'),
  TIERBOT_CONFIG_DIR: z.string().trim().min(1).default('./config'),
  TIERBOT_DEMO: z.enum(['0', '1']).optional(),
  ADMIN_TOKEN: z.string().trim().min(16, 'must be at least 16 characters').optional(),
  METRICS_TOKEN: optional,
  /** signs console links and sessions; derived from ADMIN_TOKEN when unset */
  CONSOLE_SECRET: z.string().trim().min(32, 'must be at least 32 characters').optional(),
  /** how long a console link on a card works */
  CONSOLE_LINK_DAYS: z.coerce.number({ error: 'must be a number of days' }).min(0.01, 'must be more than 0 days').max(90, 'must be at most 90 days').default(7),
  PUBLIC_BASE_URL: url.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** worker threads for large what-ifs; unset: one per core beyond the first; 0: evaluate in the event loop's thread */
  EVAL_WORKERS: z.coerce.number({ error: 'must be a number of worker threads' }).int('must be a whole number').min(0, 'must be 0 or more').max(64, 'must be at most 64').optional(),
  /** request timeout for platform API calls */
  PLATFORM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
};

/** The common variables and every platform's own (each platform's descriptor names its variables). */
function envSchemaOf(descriptors: readonly AnyPlatformDescriptor[]) {
  return z.object(Object.assign({}, commonEnv, ...descriptors.map((d) => d.env.shape)) as typeof commonEnv);
}

type Raw = Record<string, string | undefined>;

/** Checks across variables; they run on the raw values so one answer names every problem. */
function crossProblems(env: Raw, descriptors: readonly AnyPlatformDescriptor[]): string[] {
  const problems: string[] = [];
  if (env.MONGODB_URI && !env.ADMIN_TOKEN) problems.push('ADMIN_TOKEN is required when MONGODB_URI is set');
  for (const { name, env: group } of descriptors) {
    const all: readonly string[] = [...group.required, ...(group.optional ?? [])];
    if (!all.some((k) => env[k] !== undefined)) continue;
    for (const key of group.required) if (env[key] === undefined) problems.push(`${key} is required because ${name} is partly configured`);
  }
  for (const d of descriptors) problems.push(...(d.env.problems?.(env) ?? []));
  return problems;
}

export type RawEnv = z.infer<z.ZodObject<typeof commonEnv>> & PlatformsEnv;

export interface AppEnv extends RawEnv {
  ADMIN_TOKEN: string;
  adminTokenGenerated: boolean;
  PUBLIC_BASE_URL: string;
  demo: boolean;
  /** the configured platforms, in registry order (a test's own descriptors may add names of theirs) */
  platforms: PlatformName[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment; throws ConfigError naming every bad or missing variable. `descriptors` are the
 * registry's platforms unless a test brings its own.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env, descriptors: readonly AnyPlatformDescriptor[] = platforms): AppEnv {
  const cleaned: Raw = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchemaOf(descriptors).safeParse(cleaned);
  const problems = [...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'} ${i.message}`)), ...crossProblems(cleaned, descriptors)];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const env = parsed.data as RawEnv;
  const values = env as unknown as Raw;
  const embedded = !env.MONGODB_URI;
  const port = env.PORT;
  return {
    ...env,
    ADMIN_TOKEN: env.ADMIN_TOKEN ?? randomBytes(18).toString('base64url'),
    adminTokenGenerated: !env.ADMIN_TOKEN,
    PUBLIC_BASE_URL: (env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, ''),
    demo: env.TIERBOT_DEMO ? env.TIERBOT_DEMO === '1' : embedded,
    platforms: descriptors.filter((d) => values[d.env.required[0]] !== undefined).map((d) => d.name as PlatformName),
  };
}

/** A platform's validated slice of the environment: its own variables and the shared ones, nothing else. */
export function platformConfig(env: AppEnv, descriptor: AnyPlatformDescriptor): Record<string, unknown> & SharedPlatformEnv {
  const values = env as unknown as Record<string, unknown>;
  return {
    ...Object.fromEntries(Object.keys(descriptor.env.shape).map((key) => [key, values[key]])),
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL,
    PLATFORM_TIMEOUT_MS: env.PLATFORM_TIMEOUT_MS,
  };
}
