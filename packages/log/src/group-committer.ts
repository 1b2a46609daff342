import { type BackoffOptions, backoff, isStoreError } from '@bucketdb/store';
import { LogError } from './errors.js';
import { checkVersion } from './paths.js';
import type { AppendOutcome, LogRecord } from './record.js';

/**
 * The part of CommitLog a group committer drives. Declared here rather than imported, so that
 * commit-log.ts (which creates committers) and this file do not import each other.
 */
export interface CommitTarget {
  readonly version: number;
  catchUp(): Promise<LogRecord[]>;
  tryAppend(entries: Uint8Array[], version: number, options?: { epoch?: number }): Promise<AppendOutcome>;
  readRange(after: number, upTo?: number): AsyncIterable<LogRecord>;
  onRecords(listener: (records: readonly LogRecord[]) => void): () => void;
}

export interface Proposal {
  /** This caller's payload: one entry of the shared record. */
  entry: Uint8Array;
  /** The version the proposal was prepared against. */
  baseVersion: number;
  /**
   * Whether the proposal still applies at the new tail, given `newer` (the records committed after
   * `baseVersion`, in order) and `acceptedAhead` (entries accepted before it into the same record).
   * Called again each time the tail moves. Default: always applies (a blind append).
   */
  check?: (newer: readonly LogRecord[], acceptedAhead: readonly Uint8Array[]) => boolean;
}

export type CommitResult =
  /** Committed as `entries[index]` of record `version`. */
  | { committed: true; version: number; index: number; commitId: string }
  /** `check` failed against these records (everything committed after `baseVersion`). */
  | { committed: false; newer: LogRecord[] };

export interface GroupCommitterOptions extends BackoffOptions {
  /** Slots one batch may try before its proposals fail with LogError `Contention` (default 64). */
  maxAttempts?: number;
  /** Most proposals in one record (default 1024). */
  maxBatchEntries?: number;
  /** Most entry bytes in one record (default 16 MiB); a larger single proposal still goes alone. */
  maxBatchBytes?: number;
  /** Recent records kept for checks, by count (default 256) and bytes (default 64 MiB). */
  windowRecords?: number;
  windowBytes?: number;
  /** Lease epoch written into each record (async mode). */
  epoch?: number;
}

interface Pending {
  proposal: Proposal;
  resolve(result: CommitResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit: proposals from concurrent callers in one process wait while a record is being
 * written, then go together as the next record. Each try: check every proposal against what was
 * committed since its base (dropping the ones that no longer apply), try the rest as one record at
 * the next slot; on a taken slot, catch up and check again. One PUT commits the whole batch.
 */
export class GroupCommitter {
  readonly #log: CommitTarget;
  readonly #options: GroupCommitterOptions;
  readonly #pending: Pending[] = [];
  /** Records this client has seen recently, for checks, contiguous and oldest first. */
  readonly #window: LogRecord[] = [];
  #windowBytes = 0;
  readonly #unsubscribe: () => void;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(log: CommitTarget, options: GroupCommitterOptions = {}) {
    this.#log = log;
    this.#options = options;
    this.#unsubscribe = log.onRecords((records) => this.#remember(records));
  }

  async commit(proposal: Proposal): Promise<CommitResult> {
    if (this.#closed) throw new LogError('Closed', 'the group committer is closed');
    checkVersion(proposal.baseVersion, 0);
    if (!(proposal.entry instanceof Uint8Array))
      throw new LogError('InvalidArgument', 'a proposal entry must be bytes');
    return new Promise((resolve, reject) => {
      this.#pending.push({ proposal, resolve, reject });
      this.#running ??= this.#drain();
    });
  }

  /** Finishes the proposals already submitted, then refuses new ones. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#running) await this.#running;
    this.#unsubscribe();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #drain(): Promise<void> {
    // Let proposals submitted in the same tick join the first batch.
    await Promise.resolve();
    for (;;) {
      if (this.#pending.length === 0) {
        // Cleared in the same step as the last look at the queue, so no proposal is left behind.
        this.#running = undefined;
        return;
      }
      const batch = this.#takeBatch();
      try {
        await this.#commitBatch(batch);
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
  }

  #takeBatch(): Pending[] {
    const maxEntries = this.#options.maxBatchEntries ?? 1024;
    const maxBytes = this.#options.maxBatchBytes ?? 16 << 20;
    let bytes = 0;
    let n = 0;
    for (const item of this.#pending) {
      if (n > 0 && (n >= maxEntries || bytes + item.proposal.entry.length > maxBytes)) break;
      bytes += item.proposal.entry.length;
      n++;
    }
    return this.#pending.splice(0, n);
  }

  async #commitBatch(batch: Pending[]): Promise<void> {
    const maxAttempts = this.#options.maxAttempts ?? 64;
    let live = batch;
    let behind = false;
    for (let attempt = 0; ; attempt++) {
      try {
        if (behind || live.some((item) => item.proposal.baseVersion > this.#log.version)) await this.#log.catchUp();
        behind = false;
        const checked = await this.#check(live);
        live = checked.accepted;
        if (live.length === 0) return;
        // The slot right after what was checked: the log may have moved on during the check (a
        // concurrent catchUp), and records nobody checked must never pass under the batch.
        const version = checked.tail + 1;
        const entries = live.map((item) => item.proposal.entry);
        const epoch = this.#options.epoch;
        const outcome = await this.#log.tryAppend(entries, version, epoch === undefined ? {} : { epoch });
        if (outcome.committed) {
          live.forEach((item, index) => {
            item.resolve({ committed: true, version, index, commitId: outcome.commitId });
          });
          return;
        }
      } catch (error) {
        // Clean failures that changed nothing are worth another try; anything else (notably an
        // AmbiguousWrite the log could not resolve) goes to the callers as it is.
        if (!isStoreError(error) || !error.retryable || attempt + 1 >= maxAttempts) throw error;
      }
      behind = true;
      if (attempt + 1 >= maxAttempts) {
        throw new LogError('Contention', `group commit lost the race for ${maxAttempts} slots in a row`);
      }
      // The first loss costs no wait: catch up and go again. Repeated losses spread out.
      if (attempt > 0) await backoff(attempt - 1, this.#options);
    }
  }

  /** Resolves the proposals that no longer apply; returns the rest, in order, and the tail they were checked to. */
  async #check(items: Pending[]): Promise<{ accepted: Pending[]; tail: number }> {
    const tail = this.#log.version;
    const accepted: Pending[] = [];
    const acceptedEntries: Uint8Array[] = [];
    for (const item of items) {
      const { baseVersion, check } = item.proposal;
      try {
        const newer = await this.#recordsBetween(baseVersion, tail);
        if (check && !check(newer, acceptedEntries)) {
          item.resolve({ committed: false, newer });
          continue;
        }
      } catch (error) {
        item.reject(error);
        continue;
      }
      accepted.push(item);
      acceptedEntries.push(item.proposal.entry);
    }
    return { accepted, tail };
  }

  /** Records in (after, upTo]: from the window when it reaches back far enough, else from the store. */
  async #recordsBetween(after: number, upTo: number): Promise<LogRecord[]> {
    if (after >= upTo) return [];
    const first = this.#window[0];
    const last = this.#window.at(-1);
    if (first && last && first.version <= after + 1 && last.version >= upTo) {
      return this.#window.filter((r) => r.version > after && r.version <= upTo);
    }
    const records: LogRecord[] = [];
    for await (const record of this.#log.readRange(after, upTo)) records.push(record);
    if (records.length !== upTo - after) {
      throw new LogError('Corrupt', `records ${after + 1}..${upTo} are no longer all in the log`);
    }
    return records;
  }

  #remember(records: readonly LogRecord[]): void {
    const maxRecords = this.#options.windowRecords ?? 256;
    const maxBytes = this.#options.windowBytes ?? 64 << 20;
    for (const record of records) {
      const last = this.#window.at(-1);
      if (last && record.version !== last.version + 1) this.#clearWindow();
      this.#window.push(record);
      this.#windowBytes += recordBytes(record);
    }
    while (this.#window.length > maxRecords || (this.#window.length > 1 && this.#windowBytes > maxBytes)) {
      this.#windowBytes -= recordBytes(this.#window.shift() as LogRecord);
    }
  }

  #clearWindow(): void {
    this.#window.length = 0;
    this.#windowBytes = 0;
  }
}

function recordBytes(record: LogRecord): number {
  return record.entries.reduce((n, e) => n + e.length, 0);
}
