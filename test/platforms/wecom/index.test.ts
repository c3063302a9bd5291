// The factory: wiring and fail-fast configuration.
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../../src/config/env.ts';
import { createLogger } from '../../../src/logger.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import { PlatformConfigError } from '../../../src/platforms/shared/errors.ts';
import { wecomPlatform } from '../../../src/platforms/wecom/index.ts';
import { CONF, RecordingSink } from './harness.ts';

const deps = (env: Record<string, string>) => ({ env: loadEnv({ LOG_LEVEL: 'silent', ...env }), sink: new RecordingSink(), clock: systemClock, log: createLogger('silent') });

describe('wecomPlatform', () => {
  it('builds a module with the messenger and the /webhooks/wecom routes', () => {
    const m = wecomPlatform(
      deps({
        WECOM_CORP_ID: CONF.corpId,
        WECOM_AGENT_ID: String(CONF.agentId),
        WECOM_SECRET: CONF.secret,
        WECOM_TOKEN: CONF.token,
        WECOM_ENCODING_AES_KEY: CONF.encodingAesKey,
      }),
    );
    expect(m.platform).toBe('wecom');
    expect(m.messenger.platform).toBe('wecom');
    const paths = m.routes!.stack.map((l) => `${l.methods.filter((x) => x !== 'HEAD').join(',')} ${l.path}`);
    expect(paths).toEqual(['GET /webhooks/wecom', 'POST /webhooks/wecom']);
  });

  it('refuses to start without its configuration, naming what is missing', () => {
    expect(() => wecomPlatform(deps({}))).toThrow(PlatformConfigError);
    expect(() => wecomPlatform(deps({}))).toThrow(/WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN, WECOM_ENCODING_AES_KEY/);
  });
});
