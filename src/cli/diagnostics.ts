/**
 * The CLI's own messages, on stderr through pino: one readable line each by default
 * (`nexus-log-analyzer: error: nexus.log: permission denied`), or pino's JSON records with
 * `--log-format json` for log pipelines. stdout only ever carries incidents.
 */
import type { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type LogFormat = 'human' | 'json';

export function createDiagnostics(format: LogFormat, stderr: Writable, level = 'info'): Logger {
  const base = { name: 'nexus-log-analyzer' };
  if (format === 'json') return pino({ level, base }, pino.destination({ dest: 2, sync: true }));
  return pino({ level, base }, { write: (record: string) => stderr.write(humanLine(record)) });
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };

function humanLine(record: string): string {
  const parsed = JSON.parse(record) as { level?: number; msg?: string };
  const level = LEVEL_NAMES[parsed.level ?? 30] ?? 'info';
  return `nexus-log-analyzer: ${level === 'info' ? '' : `${level}: `}${parsed.msg ?? ''}\n`;
}
