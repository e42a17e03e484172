// Logs are pino's JSON lines, through the same instance fastify logs with. Domain code sees only this
// small interface: a message and non-secret fields, never codes, passwords, tokens or message text.
import { pino, type Logger as Pino } from 'pino';

export type Logger = Record<'debug' | 'info' | 'warn' | 'error', (msg: string, fields?: Record<string, unknown>) => void>;

/** GATEHOUSE_LOG_LEVEL values. Not pino's `trace`: there node's and fastify's client-error lines carry raw request bytes. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** The process's pino logger: a level name and an ISO time on each line, as the logs have always been read. */
export function createPino(level: string, destination?: NodeJS.WritableStream): Pino {
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // Should fastify ever log a request or reply object, only these fields: no headers, no body, no query (an upload's token).
    serializers: {
      req: (r: { method?: string; url?: string }) => ({ method: r.method, url: String(r.url ?? '').split('?')[0] }),
      res: (r: { statusCode?: number }) => ({ statusCode: r.statusCode }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The domain's logger interface over a pino instance (fastify's own, or the cluster primary's). */
export function domainLogger(p: Pino): Logger {
  const at = (level: (typeof LOG_LEVELS)[number]) => (msg: string, fields?: Record<string, unknown>) => (fields ? p[level](fields, msg) : p[level](msg));
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
