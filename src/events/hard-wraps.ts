/**
 * Repairs lines that a web page or terminal hard-wrapped, e.g. the seed excerpt:
 *
 *   ... in repository RepositoryImpl$$EnhancerByGuice$$2e20a720{type=hosted, format=docker, name='ctbots-docke
 *   r'}
 *
 * A continuation line is a wrap fragment (joined with no separator) only when the text so
 * far is visibly unfinished (an unclosed `{`, `(`, `[` or `='` quote) and the line does not look
 * like part of a Java stack trace. Stack-trace lines always stay separate lines. Linear: each
 * character is looked at once, and the joined text never grows past the line cap.
 */

const STACK_FRAME = /^\s|^(?:Caused by|Suppressed):|^\.\.\. \d+ (?:more|common frames omitted)/;
/** `java.lang.IllegalStateException: msg`, `com.foo.BarError`, `SomeException: msg`. */
const EXCEPTION_HEADER = /^(?:[a-z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?::|$)|^[A-Z][\w$]*(?:Exception|Error|Throwable)\b/;

export function isStackTraceLine(line: string): boolean {
  return STACK_FRAME.test(line) || EXCEPTION_HEADER.test(line);
}

/** Open brackets and an open `='` quote, updated one piece of text at a time. */
export class DelimiterBalance {
  private braces = 0;
  private parens = 0;
  private brackets = 0;
  private quoteOpen = false;
  private previous = 0;

  feed(text: string, from = 0): this {
    for (let i = from; i < text.length; i++) {
      const code = text.charCodeAt(i);
      switch (code) {
        case 0x7b: this.braces++; break;
        case 0x7d: this.braces--; break;
        case 0x28: this.parens++; break;
        case 0x29: this.parens--; break;
        case 0x5b: this.brackets++; break;
        case 0x5d: this.brackets--; break;
        case 0x27: // '
          if (this.previous === 0x3d) this.quoteOpen = true; // ='
          else if (this.quoteOpen) this.quoteOpen = false;
          break;
      }
      this.previous = code;
    }
    return this;
  }

  get unclosed(): boolean {
    return this.braces > 0 || this.parens > 0 || this.brackets > 0 || this.quoteOpen;
  }
}

/** True when `text` has an opening bracket or `='` quote that nothing has closed yet. */
export function hasUnclosedDelimiter(text: string): boolean {
  return new DelimiterBalance().feed(text).unclosed;
}

export interface RepairedEvent {
  /** Header text with wrap fragments joined. */
  header: string;
  /** Continuation lines that were not wrap fragments. */
  rest: string[];
}

/**
 * Joins the wrap fragments that directly follow the header. `messageStart` is where the
 * message begins in `header`, so the thread name's brackets are not counted. The joined header
 * stops growing at `maxLength` characters.
 */
export function repairHardWraps(header: string, messageStart: number, continuation: readonly string[], maxLength = Number.POSITIVE_INFINITY): RepairedEvent {
  // Nothing follows the header: nothing to join (most events; storms are made of them).
  if (continuation.length === 0) return { header, rest: [] };
  const balance = new DelimiterBalance().feed(header, messageStart);
  const pieces = [header];
  let length = header.length;
  let used = 0;
  let cutAtSpace = header.endsWith(' ');
  while (used < continuation.length && (balance.unclosed || cutAtSpace)) {
    const next = continuation[used] as string;
    if (next.length === 0 || isStackTraceLine(next) || length + next.length > maxLength) break;
    cutAtSpace = next.endsWith(' ');
    pieces.push(next);
    length += next.length;
    balance.feed(next);
    used++;
  }
  return { header: used === 0 ? header : pieces.join(''), rest: used === 0 ? continuation.slice() : continuation.slice(used) };
}
