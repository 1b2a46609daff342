import { CodedError } from '@bucketdb/store';
import type { Sqlite3 } from './sqlite.js';

/**
 * The sql package's own error codes (every error it raises is a `SqlError`, except store errors,
 * which pass through with their own code, and `ClosedError`):
 *
 * - `SQLITE_…`: reported by SQLite itself (`SqliteError`, e.g. `SQLITE_CONSTRAINT_UNIQUE`,
 *   `SQLITE_ERROR` for a syntax error). Nothing of the statement or transaction was applied.
 * - `Conflict`: data the transaction read was changed by a concurrent commit (after the automatic
 *   re-runs, or at once for `begin()`). Nothing applied; retryable.
 * - `CommitUnknown`: the outcome of a commit could not be resolved; `db.wasCommitted(commitId)`
 *   answers it exactly.
 * - `TransactionTimeout`: an interactive transaction was open longer than its `timeoutMs`;
 *   rolled back. Retryable.
 * - `VersionNotFound`: the version asked for (time travel, export, restore) is not in the log.
 * - `ReadOnly`: a write on a handle opened at a past version. Nothing written.
 * - `CheckpointAbandoned`: a checkpoint took too long and was not published (retried later).
 * - `InvalidMigrations`, `DatabaseNewer`, `MigrationMismatch`: see `MigrationError`.
 */
export const SQL_ERROR_CODES = [
  'Conflict',
  'CommitUnknown',
  'TransactionTimeout',
  'VersionNotFound',
  'ReadOnly',
  'CheckpointAbandoned',
  'InvalidMigrations',
  'DatabaseNewer',
  'MigrationMismatch',
] as const;
/** SQLite's symbolic result code names, e.g. `SQLITE_CONSTRAINT_UNIQUE`. */
export type SqliteCode = `SQLITE_${string}`;
export type SqlErrorCode = (typeof SQL_ERROR_CODES)[number] | SqliteCode;

/** The base of the sql package's errors: `code` is one of SQL_ERROR_CODES or SQLite's own name. */
export class SqlError<Code extends SqlErrorCode = SqlErrorCode> extends CodedError<Code> {}

/** An error reported by SQLite: `code` is SQLite's symbolic name, e.g. `SQLITE_CONSTRAINT_UNIQUE`. */
export class SqliteError extends SqlError<SqliteCode> {
  /** SQLite's extended result code. */
  readonly resultCode: number;

  constructor(resultCode: number, code: string, message: string, options?: { cause?: unknown }) {
    super(code as SqliteCode, message, options);
    this.resultCode = resultCode;
  }
}

/**
 * A transaction could not commit because data it read was changed by a concurrent commit (after
 * the configured number of automatic re-runs, or at once for interactive transactions). Nothing of
 * it was applied; running it again may succeed.
 */
export class ConflictError extends SqlError<'Conflict'> {
  readonly attempts: number;

  constructor(attempts: number, message?: string) {
    super('Conflict', message ?? `transaction conflicted with concurrent commits (${attempts} attempt(s))`);
    this.attempts = attempts;
  }

  override get retryable(): boolean {
    return true;
  }
}

/**
 * A commit whose outcome could not be resolved: its record may or may not be in the log (the
 * store kept answering ambiguously). `db.wasCommitted(commitId)` answers it exactly. The handle
 * itself stays usable.
 */
export class CommitUnknownError extends SqlError<'CommitUnknown'> {
  /** The id of the record this commit tried to write. */
  readonly commitId: string;
  /** The log slot it tried to write. */
  readonly version: number;

  constructor(commitId: string, version: number, cause?: unknown) {
    super(
      'CommitUnknown',
      `the outcome of commit ${commitId} (log slot ${version}) is unknown; ask db.wasCommitted(commitId) before retrying`,
      { cause },
    );
    this.commitId = commitId;
    this.version = version;
  }
}

/** An interactive transaction was open longer than its `timeoutMs`: it was rolled back. */
export class TransactionTimeoutError extends SqlError<'TransactionTimeout'> {
  constructor(timeoutMs: number) {
    super('TransactionTimeout', `the transaction was rolled back after ${timeoutMs} ms (begin({ timeoutMs }))`);
  }

  override get retryable(): boolean {
    return true;
  }
}

/** Converts an error thrown by SQLite's JS binding into a SqliteError; other errors pass through. */
export function toSqlError(sqlite3: Sqlite3, error: unknown): unknown {
  if (error instanceof sqlite3.SQLite3Error) {
    const rc = error.resultCode;
    const name = sqlite3.capi.sqlite3_js_rc_str(rc) ?? `SQLITE_ERROR_${rc}`;
    const message = error.message.replace(/^SQLITE_[A-Z_]+: (sqlite3 result code \d+: )?/, '');
    return new SqliteError(rc, name, message, { cause: error });
  }
  return error;
}

/** The version asked for (time travel, export, restore) is not in the log: in the future, or collected. */
export class VersionNotFoundError extends SqlError<'VersionNotFound'> {
  constructor(message: string) {
    super('VersionNotFound', message);
  }
}

/** A write on a read-only handle (one opened at a past version). Nothing was written. */
export class ReadOnlyError extends SqlError<'ReadOnly'> {
  constructor(message: string) {
    super('ReadOnly', message);
  }
}

/** A checkpoint took longer than half the GC grace period and was not published (it is retried later). */
export class CheckpointAbandonedError extends SqlError<'CheckpointAbandoned'> {
  constructor(version: number, tookMs: number, limitMs: number) {
    super(
      'CheckpointAbandoned',
      `the checkpoint of version ${version} took ${tookMs} ms, more than ${limitMs} ms (half the GC grace period): not published`,
    );
  }

  override get retryable(): boolean {
    return true;
  }
}
