/** Creates the process logger (pino, JSON lines on stderr). Only the CLI creates loggers; stages get children. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.TLD_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { name: 'tld' } }, pino.destination({ fd: 2, sync: true }));
}
