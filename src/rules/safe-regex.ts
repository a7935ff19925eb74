/**
 * User regexes run on RE2JS, a port of RE2: linear time in the length of the text, whatever the
 * pattern, so `(a+)+$` on a long line cannot hang the process. Constructs RE2 does not have
 * (backreferences, lookaround) are refused when the rule is loaded, with an error naming the
 * construct. Built-in rules use hand-written parsing or audited native patterns instead
 * (test/rules/builtin-patterns.test.ts); docs/performance.md has the measured costs.
 */
import type { RE2JS } from 're2js';

/** re2js loads with the first user regex: ~90 ms of start-up a run without one does not pay. */
let engine: typeof RE2JS | undefined;
function re2(): typeof RE2JS {
  engine ??= (require('re2js') as typeof import('re2js')).RE2JS;
  return engine;
}

export interface SafeMatch {
  /** Named groups that took part in the match. */
  groups: Record<string, string>;
}

export class SafeRegex {
  readonly source: string;
  private readonly compiled: RE2JS;
  private readonly names: string[];

  /** Throws an Error naming the construct when the pattern is not one RE2 accepts. */
  constructor(source: string) {
    this.source = source;
    this.compiled = re2().compile(source);
    this.names = Object.keys(this.compiled.namedGroups());
  }

  test(text: string): boolean {
    return this.compiled.test(text);
  }

  /** The named groups of the first match, or undefined when there is none. */
  exec(text: string): SafeMatch | undefined {
    if (this.names.length === 0) return this.compiled.test(text) ? { groups: {} } : undefined;
    const matcher = this.compiled.matcher(text);
    if (!matcher.find()) return undefined;
    const groups: Record<string, string> = {};
    for (const name of this.names) {
      const value = matcher.group(name);
      if (value !== null && value !== undefined) groups[name] = value;
    }
    return { groups };
  }
}
