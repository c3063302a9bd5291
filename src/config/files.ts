// Loads and validates the files in TIERBOT_CONFIG_DIR: policy.yaml, schedule.yaml, demo-org.yaml, import.yaml.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import cron from 'node-cron';
import { z } from 'zod';
import { parsePolicy, type Policy } from '../domain/policy.ts';
import { importMapSchema, type ImportMap } from '../app/import-map.ts';
import { problemsOf } from '../app/inputs.ts';
import { SEGMENT_BY } from '../app/reports.ts';
import { parseOrg } from './org.ts';
import type { Org } from '../ports/store.ts';
import { ConfigError } from './env.ts';

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24h)');
const cronExpr = z.string().trim().refine((v) => cron.validate(v), 'must be a valid cron expression (5 or 6 fields)');

export const scheduleSchema = z.strictObject({
  recompute: cronExpr.default('0 2 * * *'),
  digest: cronExpr.default('7 9 * * 1-5'),
  /** the grouping of the digest's "top growing segment" line: attributes.<key>, tags, owner or team */
  digestSegmentBy: z.string().regex(SEGMENT_BY, 'must be attributes.<key>, tags, owner or team').default('attributes.industry'),
  quietHours: z.strictObject({ start: clock, end: clock }).nullable().default({ start: '21:00', end: '08:30' }),
  scoreRequestTtlDays: z.number().int().min(1).max(90).default(7),
  /** customers per recompute batch: the checkpoint granularity and the bound on memory per batch */
  recomputeBatchSize: z.number().int().min(10).max(50_000).default(2000),
  alerts: z
    .strictObject({
      /** individual churn_alert / tier_change cards per person per local day; the rest goes into one summary per run */
      maxCardsPerDay: z.number().int().min(0).max(50).default(5),
    })
    .default({ maxCardsPerDay: 5 }),
});
export type Schedule = z.infer<typeof scheduleSchema>;

export interface ConfigFiles {
  policy: Policy;
  schedule: Schedule;
  demoOrg: Org | null;
  /** how CSV imports map source columns (import.yaml; built-in Chinese and English headers without it) */
  importMap: ImportMap;
}

async function readYaml(path: string, optional: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError([`${path}: cannot be read (${(err as Error).message})`]);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new ConfigError([`${path}: is not valid YAML (${(err as Error).message.split('\n')[0]})`]);
  }
}

/** Reads every config file and reports all problems of all files at once. */
export async function loadConfigFiles(dir: string): Promise<ConfigFiles> {
  const problems: string[] = [];
  const policyPath = join(dir, 'policy.yaml');
  const schedulePath = join(dir, 'schedule.yaml');
  const orgPath = join(dir, 'demo-org.yaml');
  const importPath = join(dir, 'import.yaml');
  const [policyRaw, scheduleRaw, orgRaw, importRaw] = await Promise.all([
    readYaml(policyPath, false),
    readYaml(schedulePath, true),
    readYaml(orgPath, true),
    readYaml(importPath, true),
  ]);

  const policy = parsePolicy(policyRaw);
  if (!policy.ok) problems.push(...policy.issues.map((i) => `${policyPath}: ${i.path} ${i.message}`));

  const schedule = scheduleSchema.safeParse(scheduleRaw ?? {});
  if (!schedule.success) problems.push(...problemsOf(schedule.error).map((p) => `${schedulePath}: ${p.path} ${p.message}`));

  let demoOrg: Org | null = null;
  if (orgRaw !== undefined) {
    const org = parseOrg(orgRaw);
    if (org.ok) demoOrg = org.org;
    else problems.push(...org.problems.map((p) => `${orgPath}: ${p.path} ${p.message}`));
  }

  const importMap = importMapSchema.safeParse(importRaw ?? {});
  if (!importMap.success) problems.push(...problemsOf(importMap.error).map((p) => `${importPath}: ${p.path} ${p.message}`));

  if (problems.length > 0 || !policy.ok || !schedule.success || !importMap.success) throw new ConfigError(problems);
  return { policy: policy.policy, schedule: schedule.data, demoOrg, importMap: importMap.data };
}
