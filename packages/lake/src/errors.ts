/** Stable codes of lake errors; callers branch on `code`, never on the message. */
export const LAKE_ERROR_CODES = [
  'TableNotFound',
  'TableExists',
  'SchemaMismatch',
  'InvalidRows',
  'InvalidData',
  'UnsupportedFeature',
  'CommitConflict',
  'CorruptLog',
  'VersionNotFound',
  'InvalidArgument',
  'QueryFailed',
] as const;
export type LakeErrorCode = (typeof LAKE_ERROR_CODES)[number];

export class LakeError extends Error {
  readonly code: LakeErrorCode;

  constructor(code: LakeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = `${code}Error`;
    this.code = code;
  }
}

export function isLakeError(e: unknown, code?: LakeErrorCode): e is LakeError {
  return e instanceof LakeError && (code === undefined || e.code === code);
}

/** No Delta log at the table's location. */
export class TableNotFoundError extends LakeError {
  constructor(table: string) {
    super('TableNotFound', `no Delta table at ${JSON.stringify(table)} (no _delta_log/ commits)`);
  }
}

export class TableExistsError extends LakeError {
  constructor(table: string) {
    super('TableExists', `a Delta table already exists at ${JSON.stringify(table)}`);
  }
}

/** Input columns do not match the table's schema (missing, extra, or not castable). */
export class SchemaMismatchError extends LakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SchemaMismatch', message, options);
  }
}

/** A row value has the wrong type or is null in a non-nullable column. */
export class InvalidRowsError extends LakeError {
  constructor(message: string) {
    super('InvalidRows', message);
  }
}

/** An input or data file could not be read (corrupt Parquet, malformed CSV or JSON). */
export class InvalidDataError extends LakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('InvalidData', message, options);
  }
}

/** The table uses a protocol version or table feature this implementation does not support. */
export class UnsupportedFeatureError extends LakeError {
  constructor(message: string) {
    super('UnsupportedFeature', message);
  }
}

/** A concurrent commit changed what this transaction read; nothing of ours was committed. */
export class CommitConflictError extends LakeError {
  readonly kind:
    'MetadataChanged' | 'ConcurrentDeleteRead' | 'ConcurrentTransaction' | 'ProtocolChanged' | 'TooManyRetries';
  readonly version: number;

  constructor(kind: CommitConflictError['kind'], version: number, detail: string) {
    super('CommitConflict', `commit conflict (${kind}) with version ${version}: ${detail}`);
    this.kind = kind;
    this.version = version;
  }
}

export class CorruptLogError extends LakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CorruptLog', message, options);
  }
}

/** Time travel asked for a version or timestamp the log cannot reconstruct. */
export class VersionNotFoundError extends LakeError {
  constructor(message: string) {
    super('VersionNotFound', message);
  }
}

export class LakeArgumentError extends LakeError {
  constructor(message: string) {
    super('InvalidArgument', message);
  }
}

/** DuckDB refused or failed the SQL. */
export class QueryFailedError extends LakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('QueryFailed', message, options);
  }
}
