// Logs a person can read on a terminal, JSON lines for a collector, secrets redacted in both.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';

function capture(pretty: boolean) {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (b: Buffer) => chunks.push(b.toString('utf8')));
  const log = createLogger('info', { pretty, destination: out });
  return { log, text: () => chunks.join('') };
}

describe('logger', () => {
  it('writes one JSON object a line for collectors, with secrets redacted', () => {
    const { log, text } = capture(false);
    log.info({ request: { token: 'abc-secret-token', path: '/x' } }, 'recompute finished');
    const line = JSON.parse(text().trim());
    expect(line).toMatchObject({ level: 30, msg: 'recompute finished', request: { token: '[redacted]', path: '/x' } });
    expect(text()).not.toContain('abc-secret-token');
  });

  it('writes readable lines on a terminal: time, level and message first, no JSON braces, secrets redacted', () => {
    const { log, text } = capture(true);
    log.warn({ request: { token: 'abc-secret-token' }, runId: 'run-1' }, 'outbox message given up');
    const out = text();
    expect(out).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] WARN: outbox message given up/);
    expect(out).toContain('runId: "run-1"');
    expect(out).not.toContain('abc-secret-token');
    expect(() => JSON.parse(out)).toThrow();
  });
});
