// Structured JSON logs. Callers pass only non-secret fields: never codes, passwords or tokens.
export type Logger = Record<'debug' | 'info' | 'warn' | 'error', (msg: string, fields?: Record<string, unknown>) => void>;

const levels = ['debug', 'info', 'warn', 'error'] as const;

export function createLogger(level: string, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Logger {
  const min = Math.max(0, levels.indexOf(level as (typeof levels)[number]));
  const log = {} as Logger;
  levels.forEach((name, i) => {
    log[name] = i < min ? () => {} : (msg, fields) => out(JSON.stringify({ time: new Date().toISOString(), level: name, msg, ...fields }));
  });
  return log;
}
