export type { Row, RunResult, SqlParams, SqlValue } from './connection.js';
export { BlockingReader, type BlockingReaderOptions } from './blocking-reader.js';
export { type CallOptions, Database, type DatabaseStats } from './database.js';
export { parseDuration } from './duration.js';
export {
  CheckpointAbandonedError,
  CommitUnknownError,
  ConflictError,
  ReadOnlyError,
  SQL_ERROR_CODES,
  SqlError,
  type SqlErrorCode,
  type SqliteCode,
  SqliteError,
  TransactionTimeoutError,
  VersionNotFoundError,
} from './errors.js';
export { type ExportOptions, type ExportResult, exportSqliteFile } from './export-file.js';
export { collectGarbage, DEFAULT_GRACE, DEFAULT_RETENTION, type GcOptions, type GcReport } from './gc.js';
export { type ImportOptions, importSqliteFile } from './import-file.js';
export {
  applyMigrations,
  type Migration,
  MigrationError,
  type MigrationErrorCode,
  type MigrationResult,
  MIGRATIONS_TABLE,
} from './migrations.js';
export { open } from './open.js';
export type { OpenOptions } from './options.js';
export type { RecordSummary } from './recent-records.js';
export { type RestoreOptions, restoreDatabase } from './restore.js';
export { Snapshot, type SnapshotOptions } from './snapshot.js';
export { StatementSplitter } from './statement-splitter.js';
export { AtVersionStore, resolveAt, versionAt } from './time-travel.js';
export { type BeginOptions, Transaction } from './transaction.js';
export type { TransactionContext } from './transaction-context.js';
export { type RetainedVersions, retainedVersions, type StorageSummary, storageSummary } from './versions.js';
