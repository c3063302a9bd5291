// Configuration: the process refuses to start and names every bad or missing value.
import { resolve } from 'node:path';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../../src/config/env.ts';
import { loadConfigFiles } from '../../src/config/files.ts';

const problems = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('environment', () => {
  it('starts embedded with nothing set: generated token, demo on, no platform', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({ PORT: 3000, HOST: '127.0.0.1', demo: true, adminTokenGenerated: true, platforms: [], PUBLIC_BASE_URL: 'http://127.0.0.1:3000' });
    expect(env.ADMIN_TOKEN.length).toBeGreaterThanOrEqual(16);
  });

  it('names every bad value and every missing value of a half-configured platform at once', () => {
    const list = problems(() => loadEnv({ PORT: 'abc', WECOM_CORP_ID: 'ww1', DINGTALK_CLIENT_ID: 'ding', DINGTALK_CLIENT_SECRET: 's', DINGTALK_ROBOT_CODE: 'r', DINGTALK_MODE: 'webhook', LOG_LEVEL: 'loud' }));
    expect(list.join('\n')).toMatch(/PORT must be a port number/);
    expect(list.join('\n')).toMatch(/LOG_LEVEL/);
    for (const key of ['WECOM_AGENT_ID', 'WECOM_SECRET', 'WECOM_TOKEN', 'WECOM_ENCODING_AES_KEY', 'DINGTALK_CALLBACK_TOKEN', 'DINGTALK_CALLBACK_AES_KEY']) {
      expect(list.some((p) => p.startsWith(key)), key).toBe(true);
    }
  });

  it('requires an admin token with MongoDB and a long enough one', () => {
    expect(problems(() => loadEnv({ MONGODB_URI: 'mongodb://db:27017' }))).toEqual(['ADMIN_TOKEN is required when MONGODB_URI is set']);
    expect(problems(() => loadEnv({ ADMIN_TOKEN: 'short' }))[0]).toMatch(/ADMIN_TOKEN must be at least 16/);
    const env = loadEnv({ MONGODB_URI: 'mongodb://db:27017', ADMIN_TOKEN: 'x'.repeat(20) });
    expect(env).toMatchObject({ demo: false, adminTokenGenerated: false });
  });

  it('takes a number of evaluation workers, 0 for none, and names a bad one', () => {
    expect(loadEnv({ EVAL_WORKERS: '0' }).EVAL_WORKERS).toBe(0);
    expect(loadEnv({}).EVAL_WORKERS).toBeUndefined();
    expect(problems(() => loadEnv({ EVAL_WORKERS: '-1' }))).toEqual(['EVAL_WORKERS must be 0 or more']);
    expect(problems(() => loadEnv({ EVAL_WORKERS: 'two' }))).toEqual(['EVAL_WORKERS must be a number of worker threads']);
  });

  it('switches a platform on by its variables alone', () => {
    const env = loadEnv({ FEISHU_APP_ID: 'cli_a', FEISHU_APP_SECRET: 's', FEISHU_ENCRYPT_KEY: 'k' });
    expect(env.platforms).toEqual(['feishu']);
    expect(problems(() => loadEnv({ FEISHU_APP_ID: 'cli_a', FEISHU_APP_SECRET: 's' }))).toEqual(['FEISHU_VERIFICATION_TOKEN or FEISHU_ENCRYPT_KEY is required in webhook mode']);
  });
});

describe('config files', () => {
  it('loads the shipped config', async () => {
    const files = await loadConfigFiles(resolve(import.meta.dirname, '../../config'));
    expect(files.policy.tiers.map((t) => t.key)).toEqual(['A', 'B', 'W', 'C']);
    expect(files.schedule).toMatchObject({ recompute: '0 2 * * *', digest: '7 9 * * 1-5', quietHours: { start: '21:00', end: '08:30' } });
    expect(files.demoOrg?.teams).toHaveLength(2);
  });

  it('reports the problems of every file together', async () => {
    const dir = mkdtempSync(resolve(tmpdir(), 'tierbot-cfg-'));
    cpSync(resolve(import.meta.dirname, '../../config'), dir, { recursive: true });
    writeFileSync(`${dir}/policy.yaml`, readFileSync(`${dir}/policy.yaml`, 'utf8').replace('weight: 0.2', 'weight: 0.3'));
    writeFileSync(`${dir}/schedule.yaml`, 'recompute: "every night"\nquietHours: { start: "25:00", end: "08:30" }\n');
    const err = await loadConfigFiles(dir).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const text = err.problems.join('\n');
    expect(text).toMatch(/policy\.yaml: valueScore.*sum to 1/);
    expect(text).toMatch(/schedule\.yaml: recompute/);
    expect(text).toMatch(/schedule\.yaml: quietHours\.start/);
  });
});
