export * from './actions.js';
export type { ArrowInput } from './arrow.js';
export { rewriteAsOf, tokenizeSql } from './as-of.js';
export {
  CHECKPOINT_COLUMNS,
  type CheckpointOptions,
  type CheckpointResult,
  DEFAULT_MAX_ACTIONS_PER_PART,
  writeCheckpoint,
} from './checkpoint.js';
export {
  type CommitRequest,
  type CommitResult,
  checkConflict,
  type UnsafeOptions,
  commit,
  ENGINE_INFO,
} from './commit.js';
export * from './errors.js';
export { type CreateTableOptions, Lake, type LakeOptions } from './lake.js';
export * from './paths.js';
export { formatReport, type QueryOptions, type QueryReport, type QueryResult, type TableScan } from './query.js';
export { type DeltaType, type Field, PRIMITIVE_TYPES, type Schema, type SchemaInput, schemaFrom } from './schema.js';
export { DeltaLog, type HistoryEntry, type Snapshot, type SnapshotTarget } from './snapshot.js';
export { DeltaTable, type WriteInput, type WriteOptions, type WriteResult } from './table.js';
export { DEFAULT_RETENTION_MS, type VacuumOptions, type VacuumResult } from './vacuum.js';
export {
  EVENT_SCHEMA,
  type EventPosition,
  type EventReader,
  type EventSelection,
  eventRow,
  eventSource,
  type SourceEvent,
  type SourceEventFilter,
} from './event-source.js';
export {
  type IngestBatch,
  type IngestOptions,
  type IngestResult,
  type IngestSource,
  ingest,
  keyedSource,
} from './ingest.js';
