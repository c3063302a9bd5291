import pino from 'pino';

export type Logger = pino.Logger;

/** Structured logs; tokens and secrets are redacted wherever they appear in logged objects. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: ['*.token', '*.secret', '*.authorization', '*.headers.authorization', 'env.ADMIN_TOKEN', '*.access_token', '*.accessToken'],
      censor: '[redacted]',
    },
  });
}
