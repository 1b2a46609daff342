export type { Checkpoint } from './checkpoints.js';
export {
  type AppendOptions,
  CommitLog,
  type CommitLogOptions,
  type LogCallOptions,
  type RecordsListener,
} from './commit-log.js';
export { isLogError, LOG_ERROR_CODES, LogError, type LogErrorCode } from './errors.js';
export { FRAME_FORMAT_VERSION } from './frame.js';
export { type CommitResult, GroupCommitter, type GroupCommitterOptions, type Proposal } from './group-committer.js';
export { formatVersion, LogPaths } from './paths.js';
export type { AppendOutcome, LogRecord } from './record.js';
export { type GcFloor, GcFloorGuard, MIN_GRACE_MS, readGcFloor } from './gc-floor.js';
export { collectLogGarbage, type LogGcOptions, type LogGcReport, publishedCheckpoints } from './gc.js';
export { SCAN_MAX_RECORDS } from './record-reader.js';
