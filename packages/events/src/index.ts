export { type ContentType } from './types.js';
export { type CreateGroupOptions, type GroupInfo, type GroupMemberInfo } from './consumer-groups.js';
export type { GroupSettings, ParkedEvent } from './group-state.js';
export { type GroupEvent, GroupSubscription, type SubscribeToGroupOptions } from './group-subscription.js';
export {
  EventStore,
  type EventStoreOptions,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StreamSummary,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
} from './event-store.js';
export {
  EVENTS_ERROR_CODES,
  EventsError,
  type EventsErrorCode,
  isEventsError,
  PositionCollectedError,
  WrongExpectedVersionError,
} from './errors.js';
export type { PollOptions } from './follow.js';
export type { RetentionHold } from './holds.js';
export { EventPaths } from './paths.js';
export { comparePositions, formatPosition, parsePosition, START } from './position.js';
export { type ProjectOptions, type Projection, PROJECTIONS_TABLE, project } from './projection.js';
export { DEFAULT_GC_GRACE_MS, type EventGcOptions, type EventGcReport } from './retention.js';
export { IDEMPOTENCY_WINDOW_RECORDS } from './stream-index.js';
export type { StreamMetadata } from './stream-metadata.js';
export { Subscription } from './subscription.js';
export type {
  AppendOptions,
  AppendResult,
  Direction,
  EventData,
  EventFilter,
  ExpectedRevision,
  MultiAppendResult,
  Position,
  RecordedEvent,
  StreamAppend,
} from './types.js';
