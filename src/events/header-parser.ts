/**
 * Parser for the first line of a nexus.log event, in every layout Nexus has used:
 *
 *   %d %-5p [%thread] %node %mdc{userId:-*SYSTEM} %c - %m     (3.6.1+, file; %node empty on one server)
 *   %d %-5p [%thread] %mdc{userId:-*SYSTEM} %c - %m           (3.3-3.6.0, and console output)
 *
 * Whitespace runs are tolerated everywhere (padded levels, the double space of an empty
 * %node, excerpts whose spaces were collapsed). Thread names may hold spaces and nested
 * brackets (`elasticsearch[C5E1E0C5][generic][T#1]`), so the thread ends at the bracket
 * that balances the opening one, not at the first `]`.
 */
import { parseTimestamp } from './timestamp';

export interface ParsedHeader {
  epochMs: number;
  /** The timestamp as printed, offset included. */
  timestampText: string;
  level: string;
  thread: string;
  /** HA node name; null when the layout has none or it is empty. */
  node: string | null;
  /** `*SYSTEM`, `anonymous`, a user or token id; null when the layout has none. */
  user: string | null;
  logger: string;
  message: string;
}

const SPACE = 0x20;
const TAB = 0x09;

function skipSpaces(text: string, at: number): number {
  let i = at;
  for (;;) {
    const code = text.charCodeAt(i);
    if (code !== SPACE && code !== TAB) return i;
    i++;
  }
}

/** Index just past the `]` that closes the `[` at `open`, or -1. */
function closingBracket(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x5b) depth++;
    else if (code === 0x5d) {
      depth--;
      if (depth === 0) {
        const next = text.charCodeAt(i + 1);
        // The thread must be followed by whitespace; otherwise keep looking (unbalanced name).
        if (Number.isNaN(next) || next === SPACE || next === TAB) return i + 1;
        depth = 1;
      }
    }
  }
  // Unbalanced brackets inside the name: fall back to the first `] ` after the opening one.
  const fallback = text.indexOf('] ', open);
  return fallback === -1 ? -1 : fallback + 1;
}

/** Parses a header line; undefined when the line is not a Nexus event header. */
export function parseHeader(text: string): ParsedHeader | undefined {
  const timestamp = parseTimestamp(text, 0);
  if (timestamp === undefined) return undefined;
  const timestampText = text.slice(0, timestamp.length);

  let at = skipSpaces(text, timestamp.length);
  const levelStart = at;
  while (at < text.length && text.charCodeAt(at) !== SPACE && text.charCodeAt(at) !== TAB) at++;
  const level = text.slice(levelStart, at);
  if (level.length === 0) return undefined;

  at = skipSpaces(text, at);
  if (text.charCodeAt(at) !== 0x5b) return undefined;
  const threadEnd = closingBracket(text, at);
  if (threadEnd === -1) return undefined;
  const thread = text.slice(at + 1, threadEnd - 1);

  // Up to the ` - ` separator come 1 to 3 tokens: [node] [user] logger.
  const tokens: string[] = [];
  at = threadEnd;
  for (;;) {
    at = skipSpaces(text, at);
    if (at >= text.length) return undefined;
    const tokenStart = at;
    while (at < text.length && text.charCodeAt(at) !== SPACE && text.charCodeAt(at) !== TAB) at++;
    const token = text.slice(tokenStart, at);
    if (token === '-' && tokens.length > 0) break;
    tokens.push(token);
    if (tokens.length > 8) return undefined;
  }
  const message = text.slice(Math.min(at + 1, text.length));

  const logger = tokens[tokens.length - 1] as string;
  let node: string | null = null;
  let user: string | null = null;
  if (tokens.length === 2) user = tokens[0] as string;
  else if (tokens.length === 3) {
    node = tokens[0] as string;
    user = tokens[1] as string;
  } else if (tokens.length > 3) {
    // A user id with spaces (some LDAP ids): everything between thread and logger.
    user = tokens.slice(0, -1).join(' ');
  }
  return { epochMs: timestamp.epochMs, timestampText, level, thread, node, user, logger, message };
}

const LEVEL_THEN_THREAD = /(?:^|[\s`*>|])(ERROR|WARN|WARNING|INFO|DEBUG|TRACE|FATAL|SEVERE)\s+\[/;
const SYNTHETIC_TIMESTAMP = '1970-01-01 00:00:00,000 ';

/**
 * The header of a line whose timestamp is missing or cut (a pasted selection that starts
 * mid-timestamp: `300 WARN  [thread]  user logger - message`): level, thread, user, logger and
 * message, when the rest of the header is there. `epochMs` is NaN: the time is not in the line.
 */
export function parseHeaderTail(text: string): ParsedHeader | undefined {
  const level = LEVEL_THEN_THREAD.exec(text.slice(0, 80));
  if (level === null) return undefined;
  const start = text.indexOf(level[1] as string, level.index);
  const parsed = parseHeader(SYNTHETIC_TIMESTAMP + text.slice(start));
  return parsed === undefined ? undefined : { ...parsed, epochMs: Number.NaN, timestampText: '' };
}

/** `org.sonatype.nexus...ViewServlet - message`: a logger's full name, then ` - `. Segments cannot overlap: linear. */
const LOGGER_THEN_MESSAGE = /^\s*((?:[a-z_][\w$]*\.){2,}[A-Z][\w$]*) - /;

/**
 * A line that keeps only the logger and message of its header (a selection that starts after the
 * thread, a log viewer showing columns apart): `level` is empty, the time is not in the line.
 */
export function parseLoggerLine(text: string): ParsedHeader | undefined {
  const found = LOGGER_THEN_MESSAGE.exec(text.slice(0, 300));
  if (found === null) return undefined;
  return { epochMs: Number.NaN, timestampText: '', level: '', thread: '', node: null, user: null, logger: found[1] as string, message: text.slice(found[0].length) };
}
