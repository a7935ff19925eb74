/**
 * The CLI's own messages, on stderr: one readable line each by default
 * (`nexus-log-analyzer: error: nexus.log: permission denied`), or pino's JSON records with
 * `--log-format json` for log pipelines. stdout only ever carries incidents.
 *
 * The readable lines are written here directly and pino is required only when JSON records are
 * asked for: a run that reports nothing on stderr then loads none of it.
 */
import type { Writable } from 'node:stream';
import { visibleLine } from '../outputs/pretty';

export type LogFormat = 'human' | 'json';

/** Context fields of a message (the input or rule it is about): kept in JSON records. */
export type DiagnosticFields = Record<string, unknown>;

interface LogMethod {
  (message: string): void;
  (fields: DiagnosticFields, message: string): void;
}

/** The subset of pino's logger the CLI uses, so either implementation fits. */
export interface Diagnostics {
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
}

type LevelName = keyof Diagnostics;

const LEVELS: Record<LevelName, number> = { debug: 20, info: 30, warn: 40, error: 50 };
const LABELS: Record<LevelName, string> = { debug: 'debug: ', info: '', warn: 'warning: ', error: 'error: ' };

export function createDiagnostics(format: LogFormat, stderr: Writable, level: LevelName = 'info'): Diagnostics {
  if (format === 'json') {
    const pino = require('pino') as typeof import('pino');
    return pino.pino({ level, base: { name: 'nexus-log-analyzer' } }, pino.destination({ dest: 2, sync: true }));
  }
  const threshold = LEVELS[level];
  const method = (name: LevelName): LogMethod => {
    if (LEVELS[name] < threshold) return () => undefined;
    return ((first: DiagnosticFields | string, second?: string) => {
      const message = typeof first === 'string' ? first : (second ?? '');
      // File and entry names come from the input: their control characters are shown, not obeyed.
      stderr.write(`nexus-log-analyzer: ${LABELS[name]}${visibleLine(message)}\n`);
    }) as LogMethod;
  };
  return { error: method('error'), warn: method('warn'), info: method('info'), debug: method('debug') };
}
