export type { Checkpoint } from './checkpoints.js';
export {
  type AppendOptions,
  type AppendOutcome,
  CommitLog,
  type CommitLogOptions,
  type RecordsListener,
} from './commit-log.js';
export { isLogError, LOG_ERROR_CODES, LogError, type LogErrorCode } from './errors.js';
export { FRAME_FORMAT_VERSION } from './frame.js';
export { type CommitResult, GroupCommitter, type GroupCommitterOptions, type Proposal } from './group-committer.js';
export { formatVersion, LogPaths } from './paths.js';
export type { LogRecord } from './record.js';
