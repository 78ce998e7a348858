/**
 * Structured JSON logs, one object per line on stderr, in the shape of etcd's zap logger
 * ({"level","ts","msg", ...fields}). Messages are constant strings you can grep for; details go in
 * fields that reuse etcd's names.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString(16);
  if (value instanceof Error) return { message: value.message, stack: value.stack };
  return value;
}

export function createLogger(level: string, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const min = LEVEL_RANK[(level in LEVEL_RANK ? level : 'info') as LogLevel];
  const log = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVEL_RANK[lvl] < min) return;
    write(`${JSON.stringify({ level: lvl, ts: new Date().toISOString(), msg, ...fields }, jsonValue)}\n`);
  };
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}
