// A new chat platform is one folder and one registry line (issue 11): a fake fifth platform, defined in test
// code only (test/platforms/fifth/), joins the registry's platforms through createTierbot's `chat.platforms`
// and loadEnv's descriptors, and then gets a command reply card, a click and the card that click sends to a
// manager, end to end through the composed app — nothing in src/ knows its name. And the descriptor type is
// the checklist: without `identify`, the same file does not type-check.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { ConfigError, loadEnv } from '../../src/config/env.ts';
import { loadConfigFiles } from '../../src/config/files.ts';
import { createLogger } from '../../src/logger.ts';
import { platforms } from '../../src/platforms/registry.ts';
import { createTierbot, type Tierbot } from '../../src/service.ts';
import { AS_OF, CUSTOMER, NOW } from '../e2e/helpers.ts';
import { fixedClock, TEST_TOKEN } from '../helpers/app.ts';
import { fifth, FIFTH_WEBHOOK_PATH, type FifthMessenger } from './fifth/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'fifth-platform-token';
const descriptors = [...platforms, fifth] as const;
const DAY = 86_400_000;

describe('a fifth platform from a descriptor in test code', () => {
  let bot: Tierbot;
  let url: string;
  let messenger: FifthMessenger;
  const api = async (path: string, json: unknown, method = 'POST') => {
    const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
    return { status: res.status, body: await res.json() };
  };
  const deliver = (body: object) => fetch(url + FIFTH_WEBHOOK_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN, ...body }) });
  const settle = () => bot.chat.settle();

  beforeAll(async () => {
    const env = loadEnv({ PORT: '0', ADMIN_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent', TIERBOT_DEMO: '0', FIFTH_TOKEN: TOKEN }, descriptors);
    expect(env.platforms).toEqual(['fifth']);
    const files = await loadConfigFiles(resolve(ROOT, 'config'));
    bot = await createTierbot({ env, files, store: new MemoryStore(), log: createLogger('silent'), clock: fixedClock(NOW), chat: { platforms: descriptors } });
    ({ url } = await bot.listen());
    messenger = bot.chat.platforms.find((p) => p.platform === 'fifth')!.messenger as FifthMessenger;
    // the org's fifth accounts (the HTTP org schema is the registry's: a registered platform's fields are in it)
    await bot.store.putOrg({
      users: [
        { id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east', fifth: { handle: 'h-zhang' } },
        { id: 'u-li', name: '李经理', role: 'manager', teamId: 't-east', fifth: { handle: 'h-li' } },
      ],
      teams: [{ id: 't-east', name: '华东', managerIds: ['u-li'], fifth: { room: 'r-east' } }],
    });
    expect((await api('/api/v1/customers', [{ id: CUSTOMER.id, name: CUSTOMER.name, ownerId: 'u-zhang' }], 'PUT')).status).toBe(200);
    const orders = Array.from({ length: 8 }, (_, i) => ({ orderId: `o-${i}`, customerId: CUSTOMER.id, amount: 3000, occurredAt: new Date(Date.parse(AS_OF) - (3 + i * 90) * DAY).toISOString() }));
    expect((await api('/api/v1/orders', orders)).status).toBe(200);
    expect((await api('/api/v1/tiering/recompute', { asOf: AS_OF })).status).toBe(200);
    await settle();
  });
  afterAll(async () => {
    await bot?.close();
  });

  it('its variables are validated with everyone else\'s, with its own cross-check', () => {
    const problems = (source: Record<string, string>) => {
      try {
        loadEnv(source, descriptors);
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      return [];
    };
    expect(problems({ FIFTH_TOKEN: 'short', PORT: 'abc' })).toEqual(['PORT must be a port number 0–65535', 'FIFTH_TOKEN must be at least 8 characters']);
    expect(problems({ FIFTH_TOKEN: 'has a space' })).toEqual(['FIFTH_TOKEN must not contain spaces']);
    expect(loadEnv({}, descriptors).platforms).toEqual([]);
  });

  it('a command from a fifth-platform user gets a score form card on the fifth platform, and its submit click asks the manager there', async () => {
    expect((await deliver({ type: 'message', eventId: 'e-1', user: 'h-zhang', text: `评分 ${CUSTOMER.name}` })).status).toBe(200);
    await settle();
    const form = messenger.sent.find((m) => m.card.form?.submit.key === 'score.submit');
    expect(form?.to).toEqual({ platform: 'fifth', kind: 'user', id: 'h-zhang' });

    const submit = form!.card.form!.submit;
    const click = await deliver({ type: 'action', eventId: 'e-2', user: 'h-zhang', action: submit.key, ref: submit.ref, values: { profitability: '90', strength: '90', comment: '回款及时' } });
    expect(click.status).toBe(200);
    expect((await click.json()).toast.kind).toBe('success');
    await settle();
    // the approval request goes to the manager's fifth account: the notifier's recipient chain asked the descriptor
    const request = messenger.sent.find((m) => m.to.id === 'h-li');
    expect(request?.to).toEqual({ platform: 'fifth', kind: 'user', id: 'h-li' });
    expect(request?.card.kind).toBe('approval_request');
  });

  it('a stranger is unknown (identify) and a bad token is refused by its route', async () => {
    const before = messenger.sent.length;
    const res = await deliver({ type: 'action', eventId: 'e-3', user: 'h-nobody', action: 'score.submit', ref: 'x', values: {} });
    expect((await res.json()).toast.kind).toBe('warning');
    const refused = await fetch(url + FIFTH_WEBHOOK_PATH, { method: 'POST', body: JSON.stringify({ token: 'wrong-token', type: 'message' }) });
    expect(refused.status).toBe(401);
    await settle();
    expect(messenger.sent.length).toBe(before);
  });
});

describe('the descriptor type is the checklist', () => {
  /** Type-checks one in-memory version of test/platforms/fifth/index.ts with the repo's compiler options. */
  let previous: ts.Program | undefined;
  function diagnosticsOf(source: string): string[] {
    const file = resolve(ROOT, 'test/platforms/fifth/index.ts');
    const config = ts.getParsedCommandLineOfConfigFile(resolve(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const host = ts.createCompilerHost(config.options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version, ...rest) => (resolve(name) === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest));
    const program = ts.createProgram({ rootNames: [file], options: config.options, host, oldProgram: previous });
    previous = program;
    return program.getSemanticDiagnostics(program.getSourceFile(file)).map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }
  const original = readFileSync(resolve(ROOT, 'test/platforms/fifth/index.ts'), 'utf8');

  it('the fifth platform as written type-checks, and without identify it does not', { timeout: 60_000 }, () => {
    expect(diagnosticsOf(original)).toEqual([]);
    const withoutIdentify = original.replace(/^  identify: .*\n/m, '');
    expect(withoutIdentify).not.toBe(original);
    const errors = diagnosticsOf(withoutIdentify);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^TS2741: Property 'identify' is missing in type .* but required in type 'PlatformDescriptor<"fifth"/);
  });
});
