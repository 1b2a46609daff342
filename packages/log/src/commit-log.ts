import { randomUUID } from 'node:crypto';
import { type BackoffOptions, Mutex, type ObjectStore, type PutIfAbsentOptions, putIfAbsent } from '@bucketdb/store';
import { type Checkpoint, Checkpoints } from './checkpoints.js';
import { LogError } from './errors.js';
import { type CommitResult, GroupCommitter, type Proposal } from './group-committer.js';
import { checkVersion, LogPaths } from './paths.js';
import { type AppendOutcome, decodeRecord, encodeRecord, type LogRecord } from './record.js';
import { RecordReader } from './record-reader.js';

export interface CommitLogOptions {
  /** Where the log lives in the store, e.g. `db/main`; default: the store's root. */
  prefix?: string;
  /** ms since the epoch; injected for deterministic tests. */
  clock?: () => number;
  /** Commit ids; must be unique across all writers (default: random UUIDs). */
  randomId?: () => string;
  /** Uniform in [0, 1) for backoff jitter. */
  random?: () => number;
  /** Start as if records up to this version had been seen (e.g. the version of a loaded checkpoint). */
  version?: number;
  /** Tries of one append whose outcome stays unknown before AmbiguousWriteError surfaces. */
  maxWriteAttempts?: number;
}

/** Options of the log's long operations: `signal` stops the requests still to come (and in flight). */
export interface LogCallOptions {
  signal?: AbortSignal;
}

export interface AppendOptions {
  epoch?: number;
  /**
   * The record's commit id (default: a fresh one from `randomId`). A caller that picks it can
   * recognise its record whichever call sees it first, and ask later whether it landed. It must be
   * unique across all writers.
   */
  commitId?: string;
}

export type RecordsListener = (records: readonly LogRecord[]) => void;

/** Consecutive next-slot GETs during catch-up before one LIST finds the rest of a long gap. */
const GETS_BEFORE_LIST = 4;

/**
 * An ordered log of records on an object store: record N is the immutable object `log/<N>`,
 * created with If-None-Match: *, so a commit is one PUT and its slot number is its order.
 * See docs/design/log.md for the protocol and the strict-serializability argument.
 *
 * `version` is the newest record this client has seen: via its own commits, `catchUp` and
 * `confirmTail`. Every record becomes seen exactly once and in order, and `onRecords`
 * listeners hear each one at that moment, whoever caused it.
 */
export class CommitLog {
  readonly #store: ObjectStore;
  readonly #paths: LogPaths;
  readonly #clock: () => number;
  readonly #randomId: () => string;
  readonly #backoff: BackoffOptions;
  readonly #maxWriteAttempts: number;
  readonly #checkpoints: Checkpoints;
  readonly #reader: RecordReader;
  readonly #serial = new Mutex();
  readonly #listeners = new Set<RecordsListener>();
  /** Records read (by a losing append or confirmTail) but not yet seen. */
  readonly #ahead = new Map<number, LogRecord>();
  #version: number;
  #committer: GroupCommitter | undefined;
  #queuedConfirm: Promise<LogRecord[]> | undefined;
  #closed = false;

  private constructor(store: ObjectStore, options: CommitLogOptions) {
    this.#store = store;
    this.#paths = new LogPaths(options.prefix);
    this.#clock = options.clock ?? Date.now;
    this.#randomId = options.randomId ?? randomUUID;
    this.#backoff = options.random ? { random: options.random } : {};
    this.#maxWriteAttempts = options.maxWriteAttempts ?? 8;
    this.#version = options.version ?? 0;
    checkVersion(this.#version, 0);
    this.#checkpoints = new Checkpoints(store, this.#paths, this.#clock);
    this.#reader = new RecordReader(store, this.#paths);
  }

  /** Opens a log without any request; `catchUp` or `confirmTail` finds the tail. */
  static async open(store: ObjectStore, options: CommitLogOptions = {}): Promise<CommitLog> {
    return new CommitLog(store, options);
  }

  get prefix(): string {
    return this.#paths.prefix;
  }

  get paths(): LogPaths {
    return this.#paths;
  }

  get store(): ObjectStore {
    return this.#store;
  }

  /** The newest version this client has seen (0: none). */
  get version(): number {
    return this.#version;
  }

  /**
   * Tries to write `entries` as record `version`: one PUT when it lands. The slot must be the next
   * one after `this.version` (a record further ahead would leave a hole); a slot at or below
   * `this.version` is known to be taken and answers without a request. Unknown outcomes are
   * resolved by reading the slot back and comparing commit ids; if that never succeeds the
   * store's AmbiguousWriteError surfaces and the caller must not assume either outcome.
   */
  async tryAppend(
    entries: Uint8Array[],
    version: number,
    options: AppendOptions & LogCallOptions = {},
  ): Promise<AppendOutcome> {
    this.#checkOpen();
    checkVersion(version, 1);
    if (!Array.isArray(entries) || !entries.every((e) => e instanceof Uint8Array)) {
      throw new LogError('InvalidArgument', 'entries must be an array of Uint8Array');
    }
    if (options.epoch !== undefined) checkVersion(options.epoch, 0);
    if (options.commitId !== undefined && (typeof options.commitId !== 'string' || options.commitId === '')) {
      throw new LogError('InvalidArgument', 'commitId must be a non-empty string');
    }
    if (version <= this.#version) return { committed: false, version };
    if (version > this.#version + 1) {
      throw new LogError('InvalidArgument', `cannot append at ${version}: this client has seen only ${this.#version}`);
    }
    const commitId = options.commitId ?? this.#randomId();
    const record: LogRecord = { version, commitId, timestamp: this.#clock(), entries };
    if (options.epoch !== undefined) record.epoch = options.epoch;
    const key = this.#paths.record(version);
    // Built field by field, no spreads (once per commit: CPU per transaction).
    const put: PutIfAbsentOptions = {
      maxAttempts: this.#maxWriteAttempts,
      isOurs: (existing) => decodeRecord(existing, version, key).commitId === record.commitId,
    };
    if (this.#backoff.random) put.random = this.#backoff.random;
    if (options.signal) put.signal = options.signal;
    const outcome = await putIfAbsent(this.#store, key, encodeRecord(record), put);
    if (outcome.created) {
      this.#see([record]);
      return { committed: true, version, commitId: record.commitId };
    }
    // The winner's record is the next one we will need: keep it so catch-up needs no GET for it.
    if (version > this.#version) this.#ahead.set(version, decodeRecord(outcome.existing, version, key));
    return { committed: false, version };
  }

  /**
   * Records after `version`, in order, up to the tail as found now; advances `version`. If a read
   * fails part way (or the signal aborts), the error is thrown (the records seen before it reached
   * `onRecords` listeners).
   */
  async catchUp(options: LogCallOptions = {}): Promise<LogRecord[]> {
    this.#checkOpen();
    return this.#serial.run(() => this.#catchUp(options.signal));
  }

  /**
   * The strong-read check: GET of the next slot. Absent (404): we are at the tail, and nothing
   * committed before this call started is missing, so reads of state at `version` are strict.
   * Present: catch up and return the new records.
   */
  async confirmTail(): Promise<LogRecord[]> {
    this.#checkOpen();
    // Callers arriving while a check is queued but not yet started share it: its GET is issued
    // after each of them called, which is all a strong read needs. They get the same records.
    if (this.#queuedConfirm) return this.#queuedConfirm;
    const confirm = this.#serial.run(async () => {
      if (this.#queuedConfirm === confirm) this.#queuedConfirm = undefined;
      const next = this.#version + 1;
      if (!this.#ahead.has(next)) {
        const record = await this.#reader.fetch(next);
        if (!record) return [];
        this.#ahead.set(next, record);
      }
      return this.#catchUp();
    });
    this.#queuedConfirm = confirm;
    return confirm;
  }

  /** Record `version`; NotFound (the store's error) when it does not exist. */
  async read(version: number): Promise<LogRecord> {
    this.#checkOpen();
    checkVersion(version, 1);
    return this.#reader.read(version);
  }

  /**
   * Records after `after` up to `upTo` (default: the tail), in order, without changing `version`:
   * one LIST, then GETs with a few in flight. Ends early at the first missing slot.
   */
  async *readRange(
    after: number,
    upTo = Number.MAX_SAFE_INTEGER,
    options: LogCallOptions = {},
  ): AsyncIterable<LogRecord> {
    this.#checkOpen();
    checkVersion(after, 0);
    if (upTo <= after) return;
    yield* this.#reader.run(after, upTo - after, options.signal);
  }

  /** Hears every record as it becomes seen, in order, exactly once. Returns an unsubscribe function. */
  onRecords(listener: RecordsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Moves `version` forward without reading the records in between, e.g. after loading a
   * checkpoint at `version`. Listeners do not hear the skipped records.
   */
  async advanceTo(version: number): Promise<void> {
    this.#checkOpen();
    checkVersion(version, 0);
    return this.#serial.run(async () => {
      if (version < this.#version) {
        throw new LogError('InvalidArgument', `cannot move back from ${this.#version} to ${version}`);
      }
      this.#version = version;
      for (const v of this.#ahead.keys()) if (v <= version) this.#ahead.delete(v);
    });
  }

  /** Group commit: concurrent proposals in this process share one record (see GroupCommitter). */
  async commit(proposal: Proposal): Promise<CommitResult> {
    this.#checkOpen();
    this.#committer ??= new GroupCommitter(this, this.#backoff.random ? { random: this.#backoff.random } : {});
    return this.#committer.commit(proposal);
  }

  /** The key of a checkpoint object, `<prefix>/checkpoints/<20-digit version>/<name>`. */
  checkpointKey(version: number, name: string): string {
    return this.#paths.checkpointObject(version, name);
  }

  /**
   * Publishes the checkpoint at `version` by writing its manifest (immutable, put-if-absent: a
   * second write of the same version is harmless), then moves the `_last_checkpoint` hint.
   * Write the checkpoint's objects (at `checkpointKey`) before calling this.
   */
  async writeCheckpoint(version: number, manifest: Uint8Array): Promise<void> {
    this.#checkOpen();
    checkVersion(version, 0);
    return this.#checkpoints.write(version, manifest);
  }

  /**
   * The newest published checkpoint at or below `atOrBelow`, found from the hint and verified.
   * `known.hint`: the value of `checkpointHint()` if the caller already read it (saves one GET).
   */
  async latestCheckpoint(atOrBelow?: number, known?: { hint: number | undefined }): Promise<Checkpoint | undefined> {
    this.#checkOpen();
    if (atOrBelow !== undefined) checkVersion(atOrBelow, 0);
    return this.#checkpoints.latest(atOrBelow, known ? known.hint : null);
  }

  /** The published checkpoint at `version`, or undefined if there is none (never published, or collected). */
  async checkpointAt(version: number): Promise<Checkpoint | undefined> {
    this.#checkOpen();
    checkVersion(version, 0);
    return this.#checkpoints.read(version);
  }

  /** The version `_last_checkpoint` names: a lower bound on the newest checkpoint (it may lag). */
  async checkpointHint(): Promise<number | undefined> {
    this.#checkOpen();
    return this.#checkpoints.readHint();
  }

  /**
   * The records after `after` present now, found in a few rounds of parallel requests whatever
   * their number (see RecordReader.scan). Does not change `version`; hand them to `accept`.
   */
  async scan(after: number, options: LogCallOptions = {}): Promise<LogRecord[]> {
    this.#checkOpen();
    checkVersion(after, 0);
    return this.#reader.scan(after, options.signal);
  }

  /**
   * Marks the records from `scan` seen, from `version + 1` on while they are contiguous (older
   * ones are skipped). Returns false if they do not start right after `version` (a gap: call
   * `catchUp`), true otherwise. A scan whose last request found the end of the log leaves this
   * client at the tail as of that request.
   */
  async accept(records: readonly LogRecord[]): Promise<boolean> {
    this.#checkOpen();
    return this.#serial.run(async () => {
      const fresh = records.filter((r) => r.version > this.#version).sort((a, b) => a.version - b.version);
      if (fresh.length === 0) return true;
      if (fresh[0]?.version !== this.#version + 1) return false;
      const run: LogRecord[] = [];
      for (const r of fresh) {
        if (r.version !== this.#version + 1 + run.length) break;
        run.push(r);
      }
      this.#see(run);
      return run.length === fresh.length;
    });
  }

  /** Stops this client (waiting for group commits in flight); the store stays open (it is the caller's). */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#committer?.close();
    this.#closed = true;
    this.#listeners.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #catchUp(signal?: AbortSignal): Promise<LogRecord[]> {
    // A read that fails part way throws: returning the records seen so far would let a caller
    // (confirmTail) take a version behind the tail for the tail. The records already seen were
    // delivered to the `onRecords` listeners, so nothing is lost; the next call goes on from them.
    const seen: LogRecord[] = [];
    await this.#catchUpInto(seen, signal);
    return seen;
  }

  async #catchUpInto(seen: LogRecord[], signal?: AbortSignal): Promise<void> {
    const see = (record: LogRecord) => {
      if (this.#see([record])) seen.push(record);
    };
    for (let gets = 0; ;) {
      const next = this.#version + 1;
      const known = this.#ahead.get(next);
      if (known) {
        see(known);
        continue;
      }
      if (gets === GETS_BEFORE_LIST) break;
      gets++;
      signal?.throwIfAborted();
      const record = await this.#reader.fetch(next, signal);
      if (!record) return;
      see(record);
    }
    // A long gap: one LIST finds the rest; GET them a few at a time.
    const after = this.#version;
    for await (const record of this.#reader.run(after, undefined, signal)) see(record);
  }

  /** Marks `records` seen if they are the next ones; false if this client had already seen them. */
  #see(records: LogRecord[]): boolean {
    const fresh = records.filter((r) => r.version > this.#version);
    if (fresh.length === 0) return false;
    for (const r of fresh) {
      if (r.version !== this.#version + 1) throw new Error(`internal: record ${r.version} after ${this.#version}`);
      this.#version = r.version;
      this.#ahead.delete(r.version);
    }
    for (const listener of this.#listeners) listener(fresh);
    return true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new LogError('Closed', 'the commit log is closed');
  }
}
