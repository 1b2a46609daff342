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

/**
 * A commit whose outcome could not be resolved: its record may or may not be in the log (the
 * store kept answering ambiguously). `db.wasCommitted(commitId)` answers it exactly. The handle
 * itself stays usable.
 */
export class CommitUnknownError extends Error {
  readonly code = 'CommitUnknown';
  /** The id of the record this commit tried to write. */
  readonly commitId: string;
  /** The log slot it tried to write. */
  readonly version: number;

  constructor(commitId: string, version: number, cause?: unknown) {
    super(
      `the outcome of commit ${commitId} (log slot ${version}) is unknown; ask db.wasCommitted(commitId) before retrying`,
      { cause },
    );
    this.name = 'CommitUnknownError';
    this.commitId = commitId;
    this.version = version;
  }
}

/** An interactive transaction was open longer than its `timeoutMs`: it was rolled back. */
export class TransactionTimeoutError extends Error {
  readonly code = 'TransactionTimeout';

  constructor(timeoutMs: number) {
    super(`the transaction was rolled back after ${timeoutMs} ms (begin({ timeoutMs }))`);
    this.name = 'TransactionTimeoutError';
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
