export type { Row, RunResult, SqlParams, SqlValue } from './connection.js';
export { Database, type DatabaseStats } from './database.js';
export { CommitUnknownError, ConflictError, SqlError, TransactionTimeoutError } from './errors.js';
export { type ImportOptions, importSqliteFile } from './import-file.js';
export { open } from './open.js';
export type { OpenOptions } from './options.js';
export type { RecordSummary } from './recent-records.js';
export { StatementSplitter } from './statement-splitter.js';
export { type BeginOptions, Transaction, type TransactionContext } from './transaction.js';
