export interface CodedErrorOptions {
  cause?: unknown;
}

/**
 * The base of every bucketdb error family (StoreError, LogError, KvError, SqlError, ...): a stable
 * `code` that callers branch on instead of parsing messages, the underlying `cause`, and whether
 * retrying the same request later may succeed. Each family narrows `Code` to its closed set.
 */
export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options: CodedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }

  /** Whether retrying the same request later may succeed; `retry` retries only these by default. */
  get retryable(): boolean {
    return false;
  }
}

export function isCodedError(error: unknown, code?: string): error is CodedError {
  return error instanceof CodedError && (code === undefined || error.code === code);
}
