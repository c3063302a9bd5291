import pino from 'pino';
import pretty from 'pino-pretty';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** human-readable, colourised lines; default: when stdout is a terminal (JSON lines otherwise, for collectors) */
  pretty?: boolean;
  /** where lines go; default stdout */
  destination?: NodeJS.WritableStream;
}

/** Structured logs; tokens and secrets are redacted wherever they appear in logged objects. */
export function createLogger(level: string, opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: ['*.token', '*.secret', '*.authorization', '*.headers.authorization', 'env.ADMIN_TOKEN', '*.access_token', '*.accessToken'],
      censor: '[redacted]',
    },
  };
  const destination = opts.destination ?? process.stdout;
  const human = opts.pretty ?? Boolean(process.stdout.isTTY);
  // in-process and synchronous: no worker thread, and a line is out before the process exits
  if (human) return pino(options, pretty({ destination, sync: true, colorize: opts.destination === undefined && Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  return pino(options, destination);
}
