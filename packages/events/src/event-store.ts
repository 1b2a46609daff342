import { CommitLog, GcFloorGuard, isLogError, type LogRecord } from '@bucketdb/log';
import { type Clock, isStoreError, mapConcurrent, type ObjectStore, openStore, realClock } from '@bucketdb/store';
import {
  checkAppendSize,
  checkStreamName,
  decodeEntry,
  encodeEntry,
  encodeEvents,
  type EntryPart,
  type Limits,
} from './entry.js';
import {
  ConsumerGroups,
  checkGroupName,
  type CreateGroupOptions,
  type GroupInfo,
  groupSettings,
} from './consumer-groups.js';
import { EventsError, PositionCollectedError, WrongExpectedVersionError } from './errors.js';
import type { GroupState } from './group-state.js';
import { GroupSubscription, type SubscribeToGroupOptions } from './group-subscription.js';
import { follow, type PollOptions } from './follow.js';
import { type RetentionHold, RetentionHolds } from './holds.js';
import { EventPaths, INDEX_SHARDS } from './paths.js';
import { checkPosition, comparePositions, formatPosition, START } from './position.js';
import { recordEvents, type StoredEvent, toRecorded } from './record-events.js';
import { RecordSource, type StreamLocation } from './record-source.js';
import { collectEventGarbage, type EventGcOptions, type EventGcReport } from './retention.js';
import { StreamIndex } from './stream-index.js';
import {
  checkMetadata,
  isVisible,
  METADATA_EVENT_TYPE,
  metadataStreamOf,
  metadataOf,
  metadataTarget,
  type StreamMetadata,
  streamDeleted,
} from './stream-metadata.js';
import { Subscription } from './subscription.js';
import { type MetadataBase, Visibility } from './visibility.js';
import { brokenForTests } from './test-hooks.js';
import type {
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

export interface EventStoreOptions {
  /** Where the event store lives in the store, e.g. `app/events`; default: the store's root. */
  prefix?: string;
  /**
   * How long an append waits for others to share its PUT (default 0: appends that arrive while a
   * PUT is in flight share the next one anyway). Larger windows mean fewer PUTs and more latency.
   */
  batchWindowMs?: number;
  /** Largest data + metadata of one event (default 1 MiB). */
  maxEventBytes?: number;
  /** Largest append (default 8 MiB). */
  maxAppendBytes?: number;
  /** A writer whose commit lands on a multiple of this record number writes a checkpoint (default 256; 0: never). */
  checkpointEvery?: number;
  /** Times one append is re-proposed after losing to others ('any' / 'stream_exists'), or retried after an unresolved ambiguous write (default 64). */
  maxAppendAttempts?: number;
  /** The commit log's tries to resolve one unknown write outcome before it reports AmbiguousWrite (default 8); the event store then retries with the same ids. */
  maxWriteAttempts?: number;
  /** For batch windows and subscription polling (default: real time). */
  clock?: Clock;
  /** Uniform in [0, 1), for backoff jitter. */
  random?: () => number;
  /** Wall-clock ms since the epoch, compared across processes: consumer-group claims, leases, maxAge (default Date.now). */
  wallClock?: () => number;
}

export interface ReadStreamOptions {
  /** First revision to return (inclusive), or 'start' / 'end' (default: 'start' forwards, 'end' backwards). */
  from?: number | 'start' | 'end';
  direction?: Direction;
  limit?: number;
}

export interface ReadAllOptions {
  /** First position to return (inclusive), or 'start' / 'end'. */
  from?: Position | 'start' | 'end';
  direction?: Direction;
  filter?: EventFilter;
  limit?: number;
}

export interface SubscribeToAllOptions extends PollOptions {
  /** Deliver the events after this position (exclusive: pass the last one processed), 'start' or 'end'. */
  from?: Position | 'start' | 'end';
  filter?: EventFilter;
}

export interface SubscribeToStreamOptions extends PollOptions {
  /** Deliver the events after this revision (exclusive: pass the last one processed), 'start' or 'end'. */
  from?: number | 'start' | 'end';
}

export interface StreamSummary {
  stream: string;
  /** Revision of the stream's last event. */
  revision: number;
}

interface AheadSummary {
  seen: number;
  ids: Set<string>;
  revisions: Map<string, number>;
}

/**
 * An event store on a bucket (docs/design/events.md): streams of events in the one global order
 * of a commit log, where each log record is a batch of appends. Appends check expected revisions
 * and event ids inside the log's group commit, so concurrent appends of one process share a PUT
 * and every decision is taken against the exact log below the slot being written.
 */
export class EventStore implements AsyncDisposable {
  readonly store: ObjectStore;
  readonly paths: EventPaths;
  readonly #ownsStore: boolean;
  readonly #log: CommitLog;
  readonly #guard: GcFloorGuard;
  readonly #source: RecordSource;
  readonly #limits: Limits;
  readonly #batchWindowMs: number;
  readonly #checkpointEvery: number;
  readonly #maxAttempts: number;
  readonly #clock: Clock;
  /** Parsed parts of this process's own entries, for checks against entries accepted ahead of them. */
  readonly #own = new WeakMap<Uint8Array, EntryPart[]>();
  readonly #ownParts = (entry: Uint8Array) => this.#own.get(entry);
  /** Streams with appends of this process in flight: how many, and the revision the last will reach. */
  readonly #inFlight = new Map<string, { count: number; top: number }>();
  readonly #aheadSummaries = new WeakMap<readonly Uint8Array[], AheadSummary>();
  readonly #background = new Set<Promise<void>>();
  #state: StreamIndex | undefined;
  #stateLoad: Promise<StreamIndex> | undefined;
  #unlisten: (() => void) | undefined;
  #snapshot: { version: number; objects: Map<string, Uint8Array> } | undefined;
  #wrote = false;
  #window: Promise<void> | undefined;
  #closed = false;
  readonly #groups: ConsumerGroups;
  readonly #holds: RetentionHolds;
  readonly #now: () => number;
  readonly #members = new Set<GroupSubscription>();

  static async open(urlOrStore: string | ObjectStore, options: EventStoreOptions = {}): Promise<EventStore> {
    const owns = typeof urlOrStore === 'string';
    const store = owns ? await openStore(urlOrStore) : urlOrStore;
    try {
      // Records at or below the GC floor may be gone: the guard refuses appends there and turns a
      // 404 there into LogError Collected instead of an apparent tail.
      const guard = new GcFloorGuard(store, options.prefix ?? '', options.wallClock ?? Date.now);
      return new EventStore(
        store,
        owns,
        options,
        guard,
        await CommitLog.open(guard, {
          prefix: options.prefix ?? '',
          ...(options.random ? { random: options.random } : {}),
          ...(options.maxWriteAttempts ? { maxWriteAttempts: options.maxWriteAttempts } : {}),
          ...(options.wallClock ? { clock: options.wallClock } : {}),
        }),
      );
    } catch (error) {
      if (owns) await store.close();
      throw error;
    }
  }

  private constructor(
    store: ObjectStore,
    owns: boolean,
    options: EventStoreOptions,
    guard: GcFloorGuard,
    log: CommitLog,
  ) {
    const count = (name: string, value: number | undefined, fallback: number, min = 0) => {
      const v = value ?? fallback;
      if (!Number.isSafeInteger(v) || v < min)
        throw new EventsError('InvalidArgument', `${name} must be an integer >= ${min}`);
      return v;
    };
    this.store = store;
    this.#ownsStore = owns;
    this.paths = new EventPaths(options.prefix ?? '');
    this.#guard = guard;
    this.#log = log;
    this.#source = new RecordSource(log);
    this.#limits = {
      maxEventBytes: count('maxEventBytes', options.maxEventBytes, 2 ** 20),
      maxAppendBytes: count('maxAppendBytes', options.maxAppendBytes, 8 * 2 ** 20),
    };
    this.#batchWindowMs = count('batchWindowMs', options.batchWindowMs, 0);
    this.#checkpointEvery = count('checkpointEvery', options.checkpointEvery, 256);
    this.#maxAttempts = count('maxAppendAttempts', options.maxAppendAttempts, 64, 1);
    this.#clock = options.clock ?? realClock;
    this.#now = options.wallClock ?? Date.now;
    this.#holds = new RetentionHolds(store, this.paths);
    this.#groups = new ConsumerGroups(store, this.paths, {
      now: this.#now,
      clock: this.#clock,
      random: options.random ?? Math.random,
    });
  }

  /**
   * Creates a consumer group (a persistent subscription): members that `subscribeToGroup` share
   * its events, each delivered until acknowledged. Creating an existing group with the same
   * settings returns it; other settings are `GroupExists`.
   */
  async createGroup(name: string, options: CreateGroupOptions = {}): Promise<GroupInfo> {
    this.#checkOpen();
    checkGroupName(name);
    const { settings, from } = groupSettings(options);
    if (settings.stream !== '$all') checkStreamName(settings.stream);
    if (settings.filter?.regex) new RegExp(settings.filter.regex.source, settings.filter.regex.flags);
    // 'start' is the first event after the GC floor; an explicit position must not be below it.
    const after =
      from === 'start'
        ? afterFloor(await this.#collected())
        : from === 'end'
          ? { record: await this.#source.tail(), index: Number.MAX_SAFE_INTEGER }
          : await this.#resumable(from, 'the group start position');
    return this.#groups.create(name, settings, after);
  }

  /** The names of every consumer group. */
  async listGroups(): Promise<string[]> {
    this.#checkOpen();
    return this.#groups.list();
  }

  /** A group's settings, progress, parked events and members. */
  async groupInfo(name: string): Promise<GroupInfo> {
    this.#checkOpen();
    return this.#groups.info(name);
  }

  /** Delivers parked events again (all, or those at `positions`); returns how many were put back. */
  async replayParked(name: string, positions?: Position[]): Promise<number> {
    this.#checkOpen();
    return this.#groups.replayParked(name, positions);
  }

  /** Deletes a consumer group; its live members fail with `GroupNotFound` at their next write. */
  async deleteGroup(name: string): Promise<boolean> {
    this.#checkOpen();
    return this.#groups.delete(name);
  }

  /**
   * Joins consumer group `group` as `memberId` (one live subscriber per id, by lease): iterate for
   * events, settle each with `ack()` or `nack()`. Every event of the group is delivered until it
   * is acknowledged (at least once); no event is owned by two members at once unless the owner's
   * ack timeout passed, and then the stale owner's settles are refused (`Fenced`).
   */
  subscribeToGroup(group: string, options: SubscribeToGroupOptions): GroupSubscription {
    this.#checkOpen();
    checkGroupName(group);
    checkGroupName(options?.memberId, 'a member id');
    // Groups take in only what reads show: the writer index's metadata, then the records read.
    const visibility = new Visibility(this.#stateView(), this.#now);
    const member = new GroupSubscription(
      {
        groups: this.#groups,
        source: this.#source,
        matcher: (settings) => {
          const matches = groupMatcher(settings);
          return (s) => matches(s) && visibility.visible(s);
        },
        observe: async (records) => {
          await this.#loadState();
          if (!visibility.covers((records[0] as LogRecord).version)) await this.#freshState();
          for (const r of records) visibility.observe(r);
        },
      },
      group,
      options,
    );
    this.#members.add(member);
    return member;
  }

  /**
   * Registers a saved position with retention: GC keeps the records from `position`'s on, so a
   * subscriber or projection resuming after it never meets `Collected`. One owner per name moves
   * it forward (one PUT each time) and releases it when done. Fails with `Collected` when the
   * position is already at or below the GC floor.
   */
  async holdPosition(name: string, position: Position): Promise<void> {
    this.#checkOpen();
    await this.#holds.set(name, position);
  }

  /** Removes a retention hold; false when there was none. */
  async releaseHold(name: string): Promise<boolean> {
    this.#checkOpen();
    return this.#holds.release(name);
  }

  /** Every retention hold and its position. */
  async listHolds(): Promise<RetentionHold[]> {
    this.#checkOpen();
    return this.#holds.list();
  }

  /** Appends `events` to `stream` if it is at `expectedRevision` (default 'any'). */
  async append(stream: string, events: EventData[], options: AppendOptions = {}): Promise<AppendResult> {
    const result = await this.appendMulti([{ stream, events, expectedRevision: options.expectedRevision ?? 'any' }]);
    return { nextRevision: (result.streams[0] as { nextRevision: number }).nextRevision, position: result.position };
  }

  /** Appends to several streams atomically: all parts are written in one record, or none is. */
  async appendMulti(appends: StreamAppend[]): Promise<MultiAppendResult> {
    return this.#append(appends, false);
  }

  /**
   * Sets a stream's metadata (replacing the previous one): `maxAgeMs`, `maxCount`,
   * `truncateBefore` hide older events from reads, and retention (`collectGarbage`) deletes
   * records whose events are all hidden. Written to the log as a `$metadata` event of `$$<stream>`.
   */
  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    this.#checkOpen();
    checkStreamName(stream);
    const meta = checkMetadata(metadata);
    if ((await this.#freshState()).meta.get(stream)?.tombstoned) throw streamDeleted(stream);
    await this.#append(
      [
        {
          stream: metadataStreamOf(stream),
          events: [{ type: METADATA_EVENT_TYPE, data: meta }],
          expectedRevision: 'any',
        },
      ],
      true,
    );
  }

  /** The stream's metadata now ({} when none was set). */
  async getStreamMetadata(stream: string): Promise<StreamMetadata> {
    this.#checkOpen();
    checkStreamName(stream);
    return { ...(await this.#freshState()).meta.get(stream) };
  }

  /**
   * Deletes a stream. Soft (default): its events are hidden (truncateBefore past the last one);
   * appending again recreates it, revisions continue. `hard`: a tombstone: reads and appends
   * fail with `StreamDeleted` for good.
   */
  async deleteStream(stream: string, options: { hard?: boolean } = {}): Promise<void> {
    this.#checkOpen();
    checkStreamName(stream);
    const state = await this.#freshState();
    const current = state.meta.get(stream) ?? {};
    if (current.tombstoned) throw streamDeleted(stream);
    const meta: StreamMetadata = options.hard
      ? { ...current, tombstoned: true }
      : { ...current, truncateBefore: state.revision(stream) + 1, softDeleted: true };
    await this.#append(
      [
        {
          stream: metadataStreamOf(stream),
          events: [{ type: METADATA_EVENT_TYPE, data: meta }],
          expectedRevision: 'any',
        },
      ],
      true,
    );
  }

  async #append(appends: StreamAppend[], system: boolean): Promise<MultiAppendResult> {
    this.#checkOpen();
    const parts = this.#prepare(appends, system);
    let state = await this.#loadState();
    this.#wrote = true;
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      // A retry, or an expectation the state cannot decide yet, is decided against the tail now.
      const fresh =
        attempt > 0 || parts.some((p) => p.expected === 'stream_exists' && this.#predicted(state, p.stream) < 0);
      if (fresh) state = await this.#freshState();
      const done = this.#alreadyWritten(state, parts);
      if (done) return done;
      const entryParts = parts.map((p) => ({ stream: p.stream, base: this.#base(state, p, fresh), events: p.events }));
      const entry = encodeEntry(entryParts);
      this.#own.set(entry, entryParts);
      const release = this.#reserve(entryParts);
      let committed: boolean;
      try {
        await this.#batchWindow();
        const outcome = await this.#log.commit({
          entry,
          baseVersion: this.#log.version,
          check: (_newer, ahead) => this.#applies(state, entryParts, ahead),
        });
        committed = outcome.committed;
        if (outcome.committed) this.#afterCommit(outcome.version);
      } catch (error) {
        // The log could not tell whether our record landed: go again with the same ids, which
        // finds it (and returns its result) if it did.
        if (isStoreError(error, 'AmbiguousWrite') && attempt + 1 < this.#maxAttempts) continue;
        // This handle was idle past the GC floor: start again from the newest checkpoint.
        if (isLogError(error, 'Collected') && attempt + 1 < this.#maxAttempts) {
          state = await this.#rebase(state);
          continue;
        }
        throw error;
      } finally {
        release();
      }
      if (committed) return this.#resultOf(state, parts);
    }
    throw new EventsError('Contention', `the append lost the race for the next slot ${this.#maxAttempts} times`);
  }

  /** The stream's events, in revision order (or reversed). Reads the index of the newest checkpoint, then only the stream's records and the records after the checkpoint. */
  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    this.#checkOpen();
    checkStreamName(stream);
    const direction = checkDirection(options.direction);
    const limit = checkLimit(options.limit);
    const from = options.from ?? (direction === 'forwards' ? 'start' : 'end');
    if (from !== 'start' && from !== 'end' && !(Number.isSafeInteger(from) && from >= 0)) {
      throw new EventsError('InvalidArgument', `from must be a revision >= 0, 'start' or 'end'`);
    }
    const { location, tail, meta, last } = await this.#streamView(stream);
    if (meta?.tombstoned) throw streamDeleted(stream);
    const now = this.#now();
    const visible = (s: StoredEvent) => isVisible(meta, s.revision, s.timestamp, last, now);
    let n = 0;
    if (direction === 'forwards') {
      if (from === 'end') return;
      const first = from === 'start' ? 0 : from;
      const fromIndex = this.#source.records(indexedFrom(location, first));
      for (const records of [fromIndex, tail]) {
        for await (const record of records) {
          for (const s of recordEvents(record)) {
            if (s.stream !== stream || s.revision < first || !visible(s)) continue;
            if (n++ >= limit) return;
            yield toRecorded(s);
          }
        }
      }
      return;
    }
    const top = from === 'start' ? 0 : from === 'end' ? Number.MAX_SAFE_INTEGER : from;
    // Backwards: the records after the index newest first, then the indexed records newest first.
    const versions: number[] = [];
    for (let i = location.runs.length - 2; i >= 0; i -= 2) {
      if ((location.runs[i + 1] as number) <= top) versions.push(location.runs[i] as number);
    }
    for (const records of [[...tail].reverse(), this.#source.records(versions)]) {
      for await (const record of records) {
        const mine = recordEvents(record).filter((s) => s.stream === stream && s.revision <= top && visible(s));
        for (const s of mine.reverse()) {
          if (n++ >= limit) return;
          yield toRecorded(s);
        }
      }
    }
  }

  /** Every event in the global order (or reversed), optionally filtered. */
  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    this.#checkOpen();
    const direction = checkDirection(options.direction);
    const limit = checkLimit(options.limit);
    const matches = eventMatcher(options.filter);
    const from = options.from ?? (direction === 'forwards' ? 'start' : 'end');
    if (typeof from === 'object') checkPosition(from, 'from');
    else if (from !== 'start' && from !== 'end')
      throw new EventsError('InvalidArgument', `from must be a position, 'start' or 'end'`);
    // Stream metadata hides events: the index (caught up to the tail) knows every stream's.
    const state = await this.#freshState();
    const now = this.#now();
    const visible = (s: StoredEvent) =>
      !isSystemStream(s.stream) &&
      isVisible(state.meta.get(s.stream), s.revision, s.timestamp, state.revision(s.stream), now);
    let n = 0;
    if (direction === 'forwards') {
      if (from === 'end') return;
      const first = from === 'start' ? START : await this.#resumable(from, 'the read position');
      const after = Math.max(first.record - 1, await this.#collected());
      for await (const record of this.#source.after(after)) {
        for (const s of recordEvents(record)) {
          if (comparePositions(s.position, first) < 0 || !matches(s) || !visible(s)) continue;
          if (n++ >= limit) return;
          yield toRecorded(s);
        }
      }
      return;
    }
    if (from === 'start') return;
    const tail = await this.#source.tail();
    const last = from === 'end' ? { record: tail, index: Number.MAX_SAFE_INTEGER } : from;
    const versions: number[] = [];
    const collected = await this.#collected();
    for (let v = Math.min(tail, last.record); v > collected; v--) versions.push(v);
    for await (const record of this.#source.records(versions)) {
      for (const s of recordEvents(record).reverse()) {
        if (comparePositions(s.position, last) > 0 || !matches(s) || !visible(s)) continue;
        if (n++ >= limit) return;
        yield toRecorded(s);
      }
    }
  }

  /**
   * Catch-up from `from`, then live: every later event that passes the filter and that reads show
   * (stream metadata), in order, exactly once. A position at or below the GC floor fails with
   * `Collected`; 'start' begins after the floor.
   */
  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription {
    this.#checkOpen();
    const matches = eventMatcher(options.filter);
    const from = options.from ?? 'start';
    if (typeof from === 'object') checkPosition(from, 'from');
    else if (from !== 'start' && from !== 'end')
      throw new EventsError('InvalidArgument', `from must be a position, 'start' or 'end'`);
    const clock = options.clock ?? this.#clock;
    return new Subscription(
      async function* (this: EventStore, signal: AbortSignal, started: () => void) {
        // Every stream's metadata, as readAll: the index caught up to the tail, then the records followed.
        await this.#freshState();
        const visibility = new Visibility(this.#stateView(), this.#now);
        // 'end': everything in records after the tail now. A position: the rest of its record, then on.
        const tail = from === 'end' ? await this.#source.tail() : 0;
        const after =
          from === 'start'
            ? START
            : from === 'end'
              ? { record: tail, index: Number.MAX_SAFE_INTEGER }
              : await this.#resumable(from, 'the subscription position');
        const followAfter = from === 'end' ? tail : Math.max(after.record - 1, await this.#collected());
        started();
        for await (const record of follow(this.#source, followAfter, { ...options, clock }, signal)) {
          visibility.observe(record);
          for (const s of recordEvents(record)) {
            if (
              comparePositions(s.position, after) > 0 &&
              matches(s) &&
              !isSystemStream(s.stream) &&
              visibility.visible(s)
            )
              yield toRecorded(s);
          }
        }
      }.bind(this),
    );
  }

  /**
   * Catch-up of one stream from `from` through its index, then live: every later event of it that
   * reads show (stream metadata), in order, exactly once.
   */
  subscribeToStream(stream: string, options: SubscribeToStreamOptions = {}): Subscription {
    this.#checkOpen();
    checkStreamName(stream);
    const from = options.from ?? 'start';
    if (from !== 'start' && from !== 'end' && !(Number.isSafeInteger(from) && from >= 0)) {
      throw new EventsError('InvalidArgument', `from must be a revision >= 0, 'start' or 'end'`);
    }
    const clock = options.clock ?? this.#clock;
    return new Subscription(
      async function* (this: EventStore, signal: AbortSignal, started: () => void) {
        let last = from === 'start' || from === 'end' ? -1 : from;
        // As readStream: the index and the records after it, whose metadata decides what shows.
        const view = await this.#streamView(stream);
        const scannedTo = view.tail.at(-1)?.version ?? view.location.version;
        const visibility = new Visibility(
          { version: scannedTo, meta: (s) => (s === stream ? view.meta : undefined), revision: () => view.last },
          this.#now,
        );
        started();
        const deliver = function* (record: LogRecord): Generator<RecordedEvent> {
          for (const s of recordEvents(record)) {
            if (s.stream !== stream || s.revision <= last) continue;
            last = s.revision;
            if (visibility.visible(s)) yield toRecorded(s);
          }
        };
        if (from !== 'end') {
          for (const records of [this.#source.records(indexedFrom(view.location, last + 1)), view.tail]) {
            for await (const record of records) {
              if (signal.aborted) return;
              yield* deliver(record);
            }
          }
        } else last = view.last;
        for await (const record of follow(this.#source, scannedTo, { ...options, clock }, signal)) {
          visibility.observe(record);
          yield* deliver(record);
        }
      }.bind(this),
    );
  }

  /** Every stream and its revision, as of the tail now (reads the newest checkpoint and the records after it). */
  async streams(): Promise<StreamSummary[]> {
    this.#checkOpen();
    const state = await this.#freshState();
    return [...state.streams]
      .filter(([stream, info]) => {
        const meta = state.meta.get(stream);
        return !isSystemStream(stream) && !meta?.tombstoned && info.revision >= (meta?.truncateBefore ?? 0);
      })
      .map(([stream, info]) => ({ stream, revision: info.revision }))
      .sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  }

  /** The stream's revision as of the tail now (-1: no events). */
  async streamRevision(stream: string): Promise<number> {
    this.#checkOpen();
    checkStreamName(stream);
    return (await this.#freshState()).revision(stream);
  }

  /** The position of the newest event now, START when there is none. */
  async headPosition(): Promise<Position> {
    this.#checkOpen();
    const tail = await this.#source.tail();
    if (tail === 0) return START;
    const events = recordEvents(await this.#log.read(tail));
    return { record: tail, index: events.length - 1 };
  }

  /** Writes a checkpoint at this writer's state now (normally automatic, every `checkpointEvery` records). */
  async checkpoint(): Promise<number> {
    this.#checkOpen();
    const state = await this.#freshState();
    await this.#writeCheckpoint(state.version, state.toCheckpoint());
    return state.version;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#members].map((m) => m.close()));
    await Promise.allSettled([...this.#background]);
    await this.#log.close();
    if (this.#ownsStore) await this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Validates everything before any request: a bad append writes nothing. */
  #prepare(
    appends: StreamAppend[],
    system = false,
  ): { stream: string; expected: ExpectedRevision; events: EntryPart['events'] }[] {
    if (!Array.isArray(appends) || appends.length === 0) {
      throw new EventsError('InvalidArgument', 'an append needs at least one stream');
    }
    const ids = new Set<string>();
    const streams = new Set<string>();
    const parts = appends.map((a) => {
      if (system && typeof a?.stream === 'string' && metadataTarget(a.stream) !== undefined) {
        checkStreamName(metadataTarget(a.stream));
      } else checkStreamName(a?.stream);
      if (streams.has(a.stream))
        throw new EventsError('InvalidArgument', `stream ${JSON.stringify(a.stream)} appears twice in one append`);
      streams.add(a.stream);
      const expected = a.expectedRevision ?? 'any';
      if (!(
        ['any', 'no_stream', 'stream_exists'].includes(expected as string) ||
        (Number.isSafeInteger(expected) && (expected as number) >= 0)
      )) {
        throw new EventsError(
          'InvalidArgument',
          `expectedRevision must be 'any', 'no_stream', 'stream_exists' or a revision >= 0, got ${JSON.stringify(expected)}`,
        );
      }
      return { stream: a.stream, expected, events: encodeEvents(a.events, this.#limits, ids) };
    });
    checkAppendSize(
      parts.map((p) => ({ ...p, base: 0 })),
      this.#limits,
    );
    return parts;
  }

  /** The stream's revision as this process expects it after its own appends in flight. */
  #predicted(state: StreamIndex, stream: string): number {
    const flight = this.#inFlight.get(stream);
    return Math.max(state.revision(stream), flight?.top ?? -1);
  }

  /**
   * The revision a part is written on. Exact expectations are the base as they are; 'any' and
   * 'stream_exists' go on top of what this process knows, including its appends in flight. Fails
   * when the state proves the expectation wrong: revisions never go back, and a `fresh` state (just
   * caught up to the tail) with no append of ours in flight on the stream is the truth.
   */
  #base(state: StreamIndex, part: { stream: string; expected: ExpectedRevision }, fresh: boolean): number {
    const actual = state.revision(part.stream);
    const settled = fresh && !this.#inFlight.has(part.stream);
    const predicted = this.#predicted(state, part.stream);
    if (state.meta.get(part.stream)?.tombstoned) throw streamDeleted(part.stream);
    const wrong = () => new WrongExpectedVersionError(part.stream, String(part.expected), actual);
    switch (part.expected) {
      case 'any':
        return predicted;
      case 'no_stream':
        if (actual >= 0) throw wrong();
        return -1;
      case 'stream_exists':
        if (predicted < 0) throw wrong();
        return predicted;
      default:
        if (part.expected < actual || (settled && part.expected !== actual)) throw wrong();
        return part.expected;
    }
  }

  /** Run inside the group commit against the log up to the slot being written: ids new, bases right. */
  #applies(state: StreamIndex, parts: EntryPart[], ahead: readonly Uint8Array[]): boolean {
    const summary = this.#summarize(ahead);
    for (const part of parts) {
      const actual = summary.revisions.get(part.stream) ?? state.revision(part.stream);
      if (actual !== part.base) return false;
      // A tombstone, in the log or ahead of us in this record: decided again after catching up.
      if (state.meta.get(part.stream)?.tombstoned || summary.revisions.has(metadataStreamOf(part.stream))) return false;
      if (brokenForTests.skipIdCheck) continue;
      for (const e of part.events) if (state.ids.has(e.id) || summary.ids.has(e.id)) return false;
    }
    return true;
  }

  /**
   * Ids and stream revisions of the entries accepted ahead in the batch being checked. The
   * committer grows one array per check pass, so the summary is extended, not rebuilt.
   */
  #summarize(ahead: readonly Uint8Array[]): AheadSummary {
    let summary = this.#aheadSummaries.get(ahead);
    if (!summary) {
      summary = { seen: 0, ids: new Set(), revisions: new Map() };
      this.#aheadSummaries.set(ahead, summary);
    }
    for (; summary.seen < ahead.length; summary.seen++) {
      const entry = ahead[summary.seen] as Uint8Array;
      for (const part of this.#own.get(entry) ?? decodeEntry(entry, 'an entry of this batch')) {
        summary.revisions.set(part.stream, part.base + part.events.length);
        for (const e of part.events) summary.ids.add(e.id);
      }
    }
    return summary;
  }

  /** The result of an earlier write of these events (a retry), or undefined when none of them is written. */
  #alreadyWritten(
    state: StreamIndex,
    parts: { stream: string; events: EntryPart['events'] }[],
  ): MultiAppendResult | undefined {
    if (brokenForTests.skipIdCheck) return undefined;
    // The usual case, none written, without an object per event.
    if (parts.every((p) => p.events.every((e) => !state.ids.has(e.id)))) return undefined;
    const all = parts.flatMap((p) => p.events.map((e) => ({ stream: p.stream, e, found: state.ids.get(e.id) })));
    const consistent = parts.every((p) => {
      const found = p.events.map((e) => state.ids.get(e.id));
      return found.every((f, i) => f && f.stream === p.stream && f.revision === (found[0]?.revision ?? 0) + i);
    });
    if (!consistent) {
      const id = all.find((x) => x.found)?.e.id;
      throw new EventsError(
        'IdConflict',
        `event id ${id} is already written, but the append is not a retry of that write`,
      );
    }
    return this.#resultOf(state, parts);
  }

  #resultOf(state: StreamIndex, parts: { stream: string; events: EntryPart['events'] }[]): MultiAppendResult {
    let position = START;
    const streams = parts.map((p) => {
      const last = state.ids.get((p.events.at(-1) as { id: string }).id);
      if (!last) throw new Error('internal: a committed event is not in the index');
      if (comparePositions(last.position, position) > 0) position = last.position;
      return { stream: p.stream, nextRevision: last.revision };
    });
    return { streams, position };
  }

  /** Counts this process's appends in flight per stream, so the next 'any' append goes on top of them. */
  #reserve(parts: EntryPart[]): () => void {
    for (const p of parts) {
      const f = this.#inFlight.get(p.stream) ?? { count: 0, top: -1 };
      f.count++;
      f.top = Math.max(f.top, p.base + p.events.length);
      this.#inFlight.set(p.stream, f);
    }
    return () => {
      for (const p of parts) {
        const f = this.#inFlight.get(p.stream);
        if (f && --f.count === 0) this.#inFlight.delete(p.stream);
      }
    };
  }

  /** Appends arriving within `batchWindowMs` of the first one go to the committer together. */
  async #batchWindow(): Promise<void> {
    if (this.#batchWindowMs === 0) return;
    this.#window ??= this.#clock.sleep(this.#batchWindowMs).then(() => {
      this.#window = undefined;
    });
    await this.#window;
  }

  /** The writer state: the newest checkpoint, then the records after it; kept current by the log. */
  async #loadState(): Promise<StreamIndex> {
    this.#stateLoad ??= (async () => {
      const checkpoint = await this.#log.latestCheckpoint();
      let state = new StreamIndex(0);
      if (checkpoint) {
        const names = [...Array.from({ length: INDEX_SHARDS }, (_, i) => EventPaths.shardName(i)), EventPaths.idsName];
        const bodies = await mapConcurrent(
          names,
          8,
          async (name) => (await this.store.get(this.#log.checkpointKey(checkpoint.version, name))).body,
        );
        state = StreamIndex.fromCheckpoint(
          checkpoint.version,
          new Map(names.map((n, i) => [n, bodies[i] as Uint8Array])),
        );
        await this.#log.advanceTo(checkpoint.version);
      }
      this.#unlisten = this.#log.onRecords((records) => {
        for (const record of records) this.#apply(state, record);
      });
      this.#state = state;
      // Nothing else moves the log yet: appends and fresh reads wait for this load. A failed
      // catch-up is harmless: the state follows the log, and the committer catches up again.
      await this.#log.catchUp().catch(() => {});
      return state;
    })();
    this.#stateLoad.catch(() => {
      this.#stateLoad = undefined;
    });
    return this.#stateLoad;
  }

  /** The writer state caught up to the tail now, through the group committer (the only mover of the log). */
  async #freshState(): Promise<StreamIndex> {
    const state = await this.#loadState();
    try {
      await this.#sync();
      return state;
    } catch (error) {
      if (!isLogError(error, 'Collected')) throw error;
      const rebased = await this.#rebase(state);
      await this.#sync();
      return rebased;
    }
  }

  /**
   * The records after `stale` were collected (this handle was idle for longer than the GC grace
   * period): the state is loaded again from the newest checkpoint, which is at or above the floor
   * and carries every stream's revision, metadata and the idempotency window.
   */
  async #rebase(stale: StreamIndex): Promise<StreamIndex> {
    if (this.#state === stale) {
      this.#unlisten?.();
      this.#unlisten = undefined;
      this.#state = undefined;
      this.#stateLoad = undefined;
      this.#snapshot = undefined;
    }
    return this.#loadState();
  }

  /** Catches the log up to the tail now: a proposal one past our version makes the committer catch up first, and it writes nothing. */
  async #sync(): Promise<void> {
    await this.#log.commit({ entry: new Uint8Array(0), baseVersion: this.#log.version + 1, check: () => false });
  }

  #apply(state: StreamIndex, record: LogRecord): void {
    state.apply(record, this.#ownParts);
    if (this.#wrote && this.#checkpointEvery > 0 && record.version % this.#checkpointEvery === 0) {
      this.#snapshot = { version: record.version, objects: state.toCheckpoint() };
    }
  }

  /** Our commit landed at `version`: if it is a checkpoint version, this writer writes the checkpoint. */
  #afterCommit(version: number): void {
    const snapshot = this.#snapshot;
    if (snapshot?.version !== version) return;
    this.#snapshot = undefined;
    const task = this.#writeCheckpoint(version, snapshot.objects).catch(() => {
      // Best effort: readers fall back to an older checkpoint and scan a little more.
    });
    this.#background.add(task);
    void task.finally(() => this.#background.delete(task));
  }

  async #writeCheckpoint(version: number, objects: Map<string, Uint8Array>): Promise<void> {
    if (version === 0) return;
    await mapConcurrent([...objects], 8, ([name, bytes]) =>
      this.store.put(this.#log.checkpointKey(version, name), bytes),
    );
    await this.#log.writeCheckpoint(
      version,
      new TextEncoder().encode(JSON.stringify({ format: 1, shards: INDEX_SHARDS })),
    );
  }

  /** Where a reader finds `stream`'s records: this writer's state if loaded, else the newest checkpoint's index. */
  async #locate(stream: string, collected: number): Promise<StreamLocation> {
    const state = this.#state;
    // A state below the floor missed records that only the newer checkpoints summarize.
    if (state && state.version >= collected) {
      const meta = state.meta.get(stream);
      return {
        version: state.version,
        runs: [...(state.streams.get(stream)?.runs ?? [])],
        revision: state.revision(stream),
        ...(meta ? { meta } : {}),
      };
    }
    return this.#source.locate(stream);
  }

  /**
   * One stream as a reader sees it now: its index entry (records at or below the GC floor left
   * out: they may be gone), the records after the index (read once: they may hold newer metadata,
   * which decides what is visible before anything is returned), its metadata and last revision.
   */
  async #streamView(
    stream: string,
  ): Promise<{ location: StreamLocation; tail: LogRecord[]; meta: StreamMetadata | undefined; last: number }> {
    const collected = await this.#collected();
    const found = await this.#locate(stream, collected);
    const runs: number[] = [];
    for (let i = 0; i < found.runs.length; i += 2) {
      if ((found.runs[i] as number) > collected) runs.push(found.runs[i] as number, found.runs[i + 1] as number);
    }
    const location = { ...found, runs };
    const tail: LogRecord[] = [];
    for await (const record of this.#source.after(Math.max(location.version, collected))) tail.push(record);
    let { meta, revision: last } = location;
    const metaStream = metadataStreamOf(stream);
    for (const record of tail) {
      for (const s of recordEvents(record)) {
        if (s.stream === stream) last = s.revision;
        else if (s.stream === metaStream) meta = metadataOf(s) ?? meta;
      }
    }
    return { location, tail, meta, last };
  }

  /** The writer index as a metadata base for `Visibility` (it moves forward as the log does). */
  #stateView(): MetadataBase {
    const state = () => this.#state;
    return {
      get version() {
        return state()?.version ?? 0;
      },
      meta: (stream) => state()?.meta.get(stream),
      revision: (stream) => state()?.revision(stream) ?? -1,
    };
  }

  /** Records at or below this are collected or about to be (the higher of the GC's two floors; 0: none). */
  async #collected(): Promise<number> {
    if (brokenForTests.readersIgnoreFloor) return 0;
    const f = await this.#guard.current();
    return f ? Math.max(f.floor, f.effective) : 0;
  }

  /** `from` if reading after it needs no collected record, else PositionCollectedError. */
  async #resumable(from: Position, what: string): Promise<Position> {
    const collected = await this.#collected();
    if (comparePositions(from, START) > 0 && from.record <= collected) {
      throw new PositionCollectedError(`${what} ${formatPosition(from)}`, collected);
    }
    return from;
  }

  /**
   * One retention pass (docs/design/events.md, "Retention"): raises the log's GC floor to the
   * newest checkpoint below every record a stream (an event its metadata still shows) or a
   * consumer group needs, and deletes what a floor raised at least a grace period ago collected.
   */
  async gc(options: EventGcOptions = {}): Promise<EventGcReport> {
    this.#checkOpen();
    const state = await this.#freshState();
    const checkpoint = (await this.#log.latestCheckpoint())?.version ?? 0;
    return collectEventGarbage(
      {
        store: this.store,
        paths: this.paths,
        source: this.#source,
        groups: this.#groups,
        holds: this.#holds,
        state,
        checkpoint,
        checkpointKey: (v, name) => this.#log.checkpointKey(v, name),
        now: this.#now,
      },
      options,
    );
  }

  #checkOpen(): void {
    if (this.#closed) throw new EventsError('Closed', 'the event store is closed');
  }
}

/** The position before the first event after GC floor `floor` (START when there is none). */
function afterFloor(floor: number): Position {
  return floor === 0 ? START : { record: floor, index: Number.MAX_SAFE_INTEGER };
}

/** The indexed records of a stream from the one holding revision `first` on. */
function indexedFrom(location: StreamLocation, first: number): number[] {
  const versions: number[] = [];
  for (let i = 0; i < location.runs.length; i += 2) {
    const nextFirst = location.runs[i + 3];
    if (nextFirst !== undefined && nextFirst <= first) continue;
    versions.push(location.runs[i] as number);
  }
  return versions;
}

function checkDirection(direction: unknown): Direction {
  const d = direction ?? 'forwards';
  if (d !== 'forwards' && d !== 'backwards')
    throw new EventsError('InvalidArgument', `direction must be 'forwards' or 'backwards'`);
  return d;
}

function checkLimit(limit: unknown): number {
  if (limit === undefined) return Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(limit) || (limit as number) < 0)
    throw new EventsError('InvalidArgument', 'limit must be an integer >= 0');
  return limit as number;
}

export function eventMatcher(filter: EventFilter | undefined): (s: StoredEvent) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter !== 'object' || filter === null)
    throw new EventsError('InvalidArgument', 'filter must be an object');
  const { streamPrefix, eventType, regex } = filter;
  if (streamPrefix !== undefined && typeof streamPrefix !== 'string')
    throw new EventsError('InvalidArgument', 'filter.streamPrefix must be a string');
  if (eventType !== undefined && typeof eventType !== 'string')
    throw new EventsError('InvalidArgument', 'filter.eventType must be a string');
  if (regex !== undefined && !(regex instanceof RegExp))
    throw new EventsError('InvalidArgument', 'filter.regex must be a RegExp');
  return (s) =>
    (streamPrefix === undefined || s.stream.startsWith(streamPrefix)) &&
    (eventType === undefined || s.event.type === eventType) &&
    (regex === undefined || regex.test(s.stream));
}

/** Which events a consumer group with these settings delivers. */
function groupMatcher(settings: GroupState['settings']): (s: StoredEvent) => boolean {
  const f = settings.filter;
  const byFilter = eventMatcher(
    f && {
      ...(f.streamPrefix === undefined ? {} : { streamPrefix: f.streamPrefix }),
      ...(f.eventType === undefined ? {} : { eventType: f.eventType }),
      ...(f.regex === undefined ? {} : { regex: new RegExp(f.regex.source, f.regex.flags) }),
    },
  );
  const stream = settings.stream;
  return (e) => (stream === '$all' ? !isSystemStream(e.stream) : e.stream === stream) && byFilter(e);
}

/** `$$<stream>` metadata streams (and any other `$` name) are the store's own, not the caller's. */
function isSystemStream(stream: string): boolean {
  return stream.startsWith('$');
}
