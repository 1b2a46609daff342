import { ConflictError, MigrationError, SqliteError, VersionNotFoundError } from '@bucketdb/sql';
import { isStoreError } from '@bucketdb/store';

/**
 * Exit codes of `bucketdb sql`, for scripts: 0 ok, 1 an SQL error (syntax, constraint, …),
 * 2 bad usage (options, dot-commands), 3 the store failed or holds corrupt data, 4 a transaction
 * conflicted with concurrent writers even after retries, 5 anything else.
 */
export const SQL_EXIT = { ok: 0, sql: 1, usage: 2, store: 3, conflict: 4, internal: 5 } as const;

/** A mistake in how the shell was used (an unknown dot-command, a bad argument). */
export class UsageError extends Error {
  readonly code = 'Usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof SqliteError) return SQL_EXIT.sql;
  if (error instanceof UsageError || error instanceof VersionNotFoundError || error instanceof MigrationError) {
    return SQL_EXIT.usage;
  }
  if (error instanceof ConflictError) return SQL_EXIT.conflict;
  const code = (error as { code?: unknown } | null)?.code;
  if (isStoreError(error) || code === 'Corrupt' || code === 'Closed') return SQL_EXIT.store;
  return SQL_EXIT.internal;
}

/** One line for stderr: the message, with SQLite's or the store's code. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && code !== '' ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
