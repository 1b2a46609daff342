/**
 * The closed set of event-store error codes, and what a caller should do about each:
 *
 * - `InvalidArgument`: a bad option or call (empty event list, unknown position, bad limit). Fix the call.
 * - `InvalidStreamName`: empty, too long, a control character, or starting with `$` (reserved).
 * - `InvalidEvent`: a missing or bad type or id, data that is not JSON when the content type says
 *   JSON, metadata that is not a JSON object, or the same id twice in one append.
 * - `EventTooLarge`: one event's data and metadata exceed `maxEventBytes`.
 * - `AppendTooLarge`: one append's events together exceed `maxAppendBytes`.
 * - `WrongExpectedVersion`: the stream's revision is not what `expectedRevision` asked for;
 *   `actualRevision` says what it is (-1: no stream). Nothing was written.
 * - `IdConflict`: some, but not all, of the append's event ids were already written (or written to
 *   another stream): a retry that changed its events. Nothing was written.
 * - `Contention`: the append lost the race for the next slot too many times. Retry later.
 * - `Corrupt`: an entry of the log is not an event-store entry, or a checkpoint is unreadable.
 * - `Closed`: the EventStore or subscription was closed.
 * - `GroupNotFound` / `GroupExists`: no consumer group of that name (it may have been deleted), or
 *   one already exists with other settings.
 * - `MemberActive`: another live subscriber holds the member id's lease; use another id or wait
 *   for its lease to expire.
 * - `Fenced`: an ack or nack of an event this member no longer owns (its ack timeout passed and
 *   the event went to another member, or a newer subscriber took over the member id). Nothing was
 *   changed; the event's new owner settles it.
 * - `StreamDeleted`: the stream is tombstoned: it refuses appends for good.
 * - `Collected`: a position at or below the GC floor (`PositionCollectedError.floor`): retention
 *   deleted the records there. Resume from 'start' (the first event after the floor), or keep a
 *   consumer group, whose position GC respects.
 *
 * Store errors (AmbiguousWrite, Throttled, ...) pass through unchanged. After an AmbiguousWrite,
 * retrying the same append with the same event ids is safe: it cannot write the events twice.
 */
export const EVENTS_ERROR_CODES = [
  'InvalidArgument',
  'InvalidStreamName',
  'InvalidEvent',
  'EventTooLarge',
  'AppendTooLarge',
  'WrongExpectedVersion',
  'IdConflict',
  'Contention',
  'Corrupt',
  'Closed',
  'GroupNotFound',
  'GroupExists',
  'MemberActive',
  'Fenced',
  'StreamDeleted',
  'Collected',
] as const;
export type EventsErrorCode = (typeof EVENTS_ERROR_CODES)[number];

export class EventsError extends Error {
  readonly code: EventsErrorCode;

  constructor(code: EventsErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EventsError';
    this.code = code;
  }
}

/** The stream's revision was not the expected one. `actualRevision` is -1 when the stream has no events. */
export class WrongExpectedVersionError extends EventsError {
  readonly stream: string;
  readonly expectedRevision: string;
  readonly actualRevision: number;

  constructor(stream: string, expected: string, actual: number) {
    super('WrongExpectedVersion', `stream ${JSON.stringify(stream)}: expected revision ${expected}, actual ${actual}`);
    this.name = 'WrongExpectedVersionError';
    this.stream = stream;
    this.expectedRevision = expected;
    this.actualRevision = actual;
  }
}

/** A read or subscription from a position whose record retention deleted (or is about to). */
export class PositionCollectedError extends EventsError {
  /** Records at or below this one are collected: the first readable position is in record `floor + 1`. */
  readonly floor: number;

  constructor(what: string, floor: number) {
    super(
      'Collected',
      `${what} is at or below the GC floor ${floor}: retention deleted the records up to ${floor}; resume from 'start' (record ${floor + 1}) or use a consumer group, whose position GC keeps`,
    );
    this.name = 'PositionCollectedError';
    this.floor = floor;
  }
}

export function isEventsError(error: unknown, code?: EventsErrorCode): error is EventsError {
  return error instanceof EventsError && (code === undefined || error.code === code);
}
