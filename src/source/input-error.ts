/** An input that cannot be read: the message names it, in one line. */
export class InputError extends Error {
  readonly input: string;
  override readonly name = 'InputError';

  constructor(input: string, problem: string, options?: { cause?: unknown }) {
    super(`${input}: ${problem}`, options);
    this.input = input;
  }
}

const PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EMFILE: 'too many open files',
  Z_DATA_ERROR: 'corrupt gzip data',
  Z_BUF_ERROR: 'truncated gzip data',
};

/** Wraps an fs or zlib error as an InputError naming the input. */
export function toInputError(input: string, error: unknown): InputError {
  if (error instanceof InputError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const problem =
    (typeof code === 'string' ? PROBLEMS[code] : undefined) ??
    (error instanceof Error ? error.message : String(error));
  return new InputError(input, problem, { cause: error });
}
