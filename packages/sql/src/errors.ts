import type { Sqlite3 } from './sqlite.js';

/** An error reported by SQLite: `code` is SQLite's symbolic name, e.g. `SQLITE_CONSTRAINT_UNIQUE`. */
export class SqlError extends Error {
  readonly code: string;
  /** SQLite's extended result code. */
  readonly resultCode: number;

  constructor(resultCode: number, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SqlError';
    this.code = code;
    this.resultCode = resultCode;
  }
}

/**
 * A transaction could not commit because data it read was changed by a concurrent commit (after
 * the configured number of automatic re-runs, or at once for interactive transactions). Nothing of
 * it was applied; running it again may succeed.
 */
export class ConflictError extends Error {
  readonly code = 'Conflict';
  readonly attempts: number;

  constructor(attempts: number, message?: string) {
    super(message ?? `transaction conflicted with concurrent commits (${attempts} attempt(s))`);
    this.name = 'ConflictError';
    this.attempts = attempts;
  }
}

/** Converts an error thrown by SQLite's JS binding into a SqlError; other errors pass through. */
export function toSqlError(sqlite3: Sqlite3, error: unknown): unknown {
  if (error instanceof sqlite3.SQLite3Error) {
    const rc = error.resultCode;
    const name = sqlite3.capi.sqlite3_js_rc_str(rc) ?? `SQLITE_ERROR_${rc}`;
    const message = error.message.replace(/^SQLITE_[A-Z_]+: (sqlite3 result code \d+: )?/, '');
    return new SqlError(rc, name, message, { cause: error });
  }
  return error;
}

/** The version asked for (time travel, export, restore) is not in the log: in the future, or collected. */
export class VersionNotFoundError extends Error {
  readonly code = 'VersionNotFound';

  constructor(message: string) {
    super(message);
    this.name = 'VersionNotFoundError';
  }
}

/** A write on a read-only handle (one opened at a past version). Nothing was written. */
export class ReadOnlyError extends Error {
  readonly code = 'ReadOnly';

  constructor(message: string) {
    super(message);
    this.name = 'ReadOnlyError';
  }
}

/** A checkpoint took longer than half the GC grace period and was not published (it is retried later). */
export class CheckpointAbandonedError extends Error {
  readonly code = 'CheckpointAbandoned';

  constructor(version: number, tookMs: number, limitMs: number) {
    super(
      `the checkpoint of version ${version} took ${tookMs} ms, more than ${limitMs} ms (half the GC grace period): not published`,
    );
    this.name = 'CheckpointAbandonedError';
  }
}
