/**
 * Structured JSON logs, one object per line on stderr (so stdout stays free
 * for CLI output). Levels: debug < info < warn < error.
 */

/** Log levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger bound to a component name. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

/** Where lines go (injectable for tests). */
export type LogSink = (line: string) => void;

/** Create a JSON-lines logger. */
export function createLogger(level: LogLevel = 'info', component = 'patchbay', sink: LogSink = (l) => process.stderr.write(l)): Logger {
  const min = RANK[level];
  const write = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[lvl] < min) return;
    sink(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, component, msg, ...fields })}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (c) => createLogger(level, `${component}.${c}`, sink),
  };
}
