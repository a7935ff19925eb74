/**
 * Repairs lines that a web page or terminal hard-wrapped, e.g. the seed excerpt:
 *
 *   ... in repository RepositoryImpl$$EnhancerByGuice$$2e20a720{type=hosted, format=docker, name='ctbots-docke
 *   r'}
 *
 * A continuation line is a wrap fragment (joined with no separator) only when the text so
 * far is visibly unfinished (an unclosed `{`, `(`, `[` or `='`) and the line does not look
 * like part of a Java stack trace. Stack-trace lines always stay separate lines.
 */

const STACK_FRAME = /^\s|^(?:Caused by|Suppressed):|^\.\.\. \d+ (?:more|common frames omitted)/;
/** `java.lang.IllegalStateException: msg`, `com.foo.BarError`, `SomeException: msg`. */
const EXCEPTION_HEADER = /^(?:[a-z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?::|$)|^[A-Z][\w$]*(?:Exception|Error|Throwable)\b/;

export function isStackTraceLine(line: string): boolean {
  return STACK_FRAME.test(line) || EXCEPTION_HEADER.test(line);
}

/** True when `text` has an opening bracket or `='` quote that nothing has closed yet. */
export function hasUnclosedDelimiter(text: string): boolean {
  let braces = 0;
  let parens = 0;
  let brackets = 0;
  for (let i = 0; i < text.length; i++) {
    switch (text.charCodeAt(i)) {
      case 0x7b: braces++; break;
      case 0x7d: braces--; break;
      case 0x28: parens++; break;
      case 0x29: parens--; break;
      case 0x5b: brackets++; break;
      case 0x5d: brackets--; break;
    }
  }
  if (braces > 0 || parens > 0 || brackets > 0) return true;
  const quoteOpen = text.lastIndexOf("='");
  return quoteOpen !== -1 && text.indexOf("'", quoteOpen + 2) === -1;
}

export interface RepairedEvent {
  /** Header text with wrap fragments joined. */
  header: string;
  /** Continuation lines that were not wrap fragments. */
  rest: string[];
}

/**
 * Joins the wrap fragments that directly follow the header. `messageStart` is where the
 * message begins in `header`, so the thread name's brackets are not counted.
 */
export function repairHardWraps(header: string, messageStart: number, continuation: readonly string[]): RepairedEvent {
  let joined = header;
  let used = 0;
  while (used < continuation.length) {
    const next = continuation[used] as string;
    if (next.length === 0 || isStackTraceLine(next) || !hasUnclosedDelimiter(joined.slice(messageStart))) break;
    joined += next;
    used++;
  }
  return { header: joined, rest: used === 0 ? continuation.slice() : continuation.slice(used) };
}
