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

/**
 * Compiled steps a pattern may take at most. RE2 (and re2js) unroll a counted repetition into that
 * many copies, nested counts multiply, and re2js has no size limit of its own: one 2 KB pattern of
 * `x{1000}y{1000}z{1000}` a hundred times took 264 MB. Real rule patterns are far below this.
 */
export const MAX_PROGRAM_SIZE = 20_000;

/**
 * An estimate of the compiled size of a pattern: atoms count 1, a group the sum of its parts,
 * `{n,m}` multiplies what it repeats by its larger bound. Escapes and classes are one atom.
 */
export function programSize(source: string): number {
  const stack: number[] = [0];
  let last = 0; // size of the atom or group a quantifier would repeat
  for (let at = 0; at < source.length; at++) {
    const c = source[at] as string;
    if (c === '\\') {
      at++;
      last = 1;
      stack[stack.length - 1] = (stack[stack.length - 1] as number) + 1;
    } else if (c === '[') {
      // A class: to its closing bracket (a `]` first in the class is a literal).
      let end = at + 1;
      if (source[end] === '^') end++;
      if (source[end] === ']') end++;
      while (end < source.length && source[end] !== ']') end += source[end] === '\\' ? 2 : 1;
      at = end;
      last = 1;
      stack[stack.length - 1] = (stack[stack.length - 1] as number) + 1;
    } else if (c === '(') {
      stack.push(0);
    } else if (c === ')') {
      last = stack.length > 1 ? (stack.pop() as number) : 0;
      stack[stack.length - 1] = (stack[stack.length - 1] as number) + last;
    } else if (c === '{') {
      const close = source.indexOf('}', at);
      const bounds = close === -1 ? null : /^(\d+)(?:,(\d*))?$/.exec(source.slice(at + 1, close));
      if (bounds === null) {
        last = 1;
        stack[stack.length - 1] = (stack[stack.length - 1] as number) + 1;
        continue;
      }
      const times = Math.max(Number(bounds[1]), bounds[2] === undefined || bounds[2] === '' ? Number(bounds[1]) + 1 : Number(bounds[2]));
      // The atom is counted once already: add the other copies.
      stack[stack.length - 1] = (stack[stack.length - 1] as number) + last * Math.max(0, times - 1);
      at = close;
    } else if (c !== '*' && c !== '+' && c !== '?' && c !== '|' && c !== '^' && c !== '$') {
      last = 1;
      stack[stack.length - 1] = (stack[stack.length - 1] as number) + 1;
    }
  }
  return stack.reduce((sum, part) => sum + part, 0);
}

export interface SafeMatch {
  /** Named groups that took part in the match. */
  groups: Record<string, string>;
}

export class SafeRegex {
  readonly source: string;
  private readonly compiled: RE2JS;
  private readonly names: string[];

  /** Throws an Error naming the construct when the pattern is not one RE2 accepts, or would compile too large. */
  constructor(source: string) {
    this.source = source;
    const size = programSize(source);
    if (size > MAX_PROGRAM_SIZE) {
      throw new Error(`counted repetitions make this pattern about ${size} steps long (more than ${MAX_PROGRAM_SIZE}): RE2 unrolls x{1000} into 1,000 copies; use + or * or a smaller count`);
    }
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
