import { randomUUID } from 'node:crypto';
import { CommitLog, type LogRecord } from '@bucketdb/log';
import { backoff, Mutex, type ObjectStore } from '@bucketdb/store';
import { Batch, RetrySignal } from './batch.js';
import { decodeManifest } from './checkpoint-format.js';
import { decodeEntry, encodeEntry, type PageSet } from './commit-entry.js';
import { CommittedPages } from './committed-pages.js';
import { Connection } from './connection.js';
import { SqlError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { PageFetcher } from './page-fetcher.js';
import { Layer, PageFile } from './page-file.js';
import { changeCounter, samePage1 } from './page1.js';
import { retryReads } from './retry-reads.js';

/** Pages changed by other writers' records, as found by one `drain`. */
export interface Changes {
  pages: Set<number>;
}

/**
 * The machinery under a Database: the committed page state fed by the log, the SQLite connection
 * on its PageFile, and group commit. Everything that touches the connection or the page state runs
 * under `mutex`; only appends and the waits for them happen outside it.
 */
export class Engine {
  readonly mutex = new Mutex();
  readonly log: CommitLog;
  readonly committed: CommittedPages;
  readonly file: PageFile;
  readonly fetcher: PageFetcher;
  readonly options: ResolvedOptions;
  conn!: Connection;
  readonly #incoming: LogRecord[] = [];
  #inflight: Batch | undefined;
  #open: Batch | undefined;
  #publishing: Promise<void> | undefined;
  readonly #ids: { next: string };
  /** Set when a record could not be applied: this handle's state is unusable from then on. */
  broken: unknown;
  readonly stats = { commits: 0, conflicts: 0, retries: 0, restarts: 0, records: 0 };
  onCommitted: (() => void) | undefined;

  private constructor(
    log: CommitLog,
    committed: CommittedPages,
    store: ObjectStore,
    options: ResolvedOptions,
    ids: { next: string },
  ) {
    this.log = log;
    this.#ids = ids;
    this.committed = committed;
    this.options = options;
    this.file = new PageFile(committed);
    this.fetcher = new PageFetcher(store, log, committed, options);
    log.onRecords((records) => this.#incoming.push(...records));
  }

  static async open(store: ObjectStore, options: ResolvedOptions): Promise<Engine> {
    // Commit ids are chosen before each append, so that the record can be recognised as ours
    // whichever call (append, catch-up, strong read) happens to see it first.
    const ids = { next: '' };
    const log = await CommitLog.open(store, {
      prefix: options.prefix,
      randomId: () => {
        const id = ids.next || randomUUID();
        ids.next = '';
        return id;
      },
    });
    const committed = new CommittedPages(options.pageSize, options.cacheBytes);
    const engine = new Engine(log, committed, store, options, ids);
    const checkpoint = await retryReads(() => log.latestCheckpoint());
    if (checkpoint) {
      const where = `checkpoint ${checkpoint.version} of ${options.prefix || 'the database'}`;
      committed.setCheckpoint({ version: checkpoint.version, manifest: decodeManifest(checkpoint.manifest, where) });
      await log.advanceTo(checkpoint.version);
      if (committed.pageCount > 0) await retryReads(() => engine.fetcher.fetch([1]));
    }
    await retryReads(() => log.catchUp());
    engine.drain();
    if (committed.sizeBytes <= options.prefetchBelowBytes) await retryReads(() => engine.fetcher.prefetchAll());
    committed.cache.unpinAll();
    engine.conn = await Connection.open(engine.file);
    return engine;
  }

  get pending(): boolean {
    return this.#inflight !== undefined || this.#open !== undefined;
  }

  /** Applies the records the log has seen since the last drain. Call under the mutex. */
  drain(): Changes {
    if (this.broken) throw this.broken;
    const changes: Changes = { pages: new Set() };
    while (this.#incoming.length > 0) {
      const record = this.#incoming.shift() as LogRecord;
      const size = record.entries.reduce((n, e) => n + e.length, 0);
      const mine = this.#inflight?.attempts.get(record.commitId);
      if (mine && this.#inflight) {
        this.committed.apply(record.version, [mine], size);
        this.#inflight.resolve();
        this.#inflight = undefined;
        this.stats.commits++;
        this.onCommitted?.();
        continue;
      }
      let sets: PageSet[];
      try {
        sets = record.entries.map((e, i) => decodeEntry(e, `log record ${record.version} entry ${i}`));
      } catch (error) {
        this.broken = error;
        throw error;
      }
      this.committed.apply(record.version, sets, size);
      this.stats.records++;
      for (const set of sets) {
        for (const p of set.pages.keys()) {
          changes.pages.add(p);
          this.#inflight?.foreignChanged.add(p);
          this.#open?.foreignChanged.add(p);
        }
      }
    }
    return changes;
  }

  /** The strong-read check: one GET of the next slot, applying whatever it finds. Under the mutex. */
  async syncTail(): Promise<Changes> {
    await retryReads(() => this.log.confirmTail());
    return this.drain();
  }

  /** Points the file at committed state only (read-only statements). */
  useCommittedView(): void {
    this.file.below = [];
    this.file.txn = undefined;
    this.#fresh();
  }

  /** Points the file at committed state plus batches awaiting their record, with a new write layer. */
  useHeadView(): void {
    this.file.below = [this.#inflight?.layer, this.#open?.layer].filter((l): l is Layer => l !== undefined);
    this.file.txn = undefined;
    this.file.txn = new Layer(this.file.pageCount);
    this.#fresh();
  }

  #fresh(): void {
    this.conn.dropCache();
    this.file.resetTracking();
  }

  /** Runs `f` (a read-only statement on the committed view), fetching pages and re-running on misses. */
  async read<T>(f: () => T): Promise<T> {
    for (;;) {
      this.useCommittedView();
      try {
        const result = f();
        // Some statements (integrity_check) report I/O errors in their result instead of failing.
        if (this.file.misses.size > 0) throw new SqlError(266, 'SQLITE_IOERR_READ', 'page not resident');
        if (!this.conn.autocommit) {
          this.conn.exec('ROLLBACK');
          throw new SqlError(1, 'SQLITE_ERROR', 'transaction control statements need begin() or transaction()');
        }
        return result;
      } catch (error) {
        if (!(await this.fetchMisses(error))) throw error;
      }
    }
  }

  /** After a failed statement: if it failed on non-resident pages, fetch them and return true. */
  async fetchMisses(error: unknown, anyError = false): Promise<boolean> {
    const misses = [...this.file.misses];
    const ioError = error instanceof SqlError && (error.resultCode & 0xff) === 10;
    if (misses.length === 0 || !(ioError || anyError)) return false;
    if (!this.conn.autocommit) this.conn.exec('ROLLBACK');
    this.stats.restarts++;
    await retryReads(() => this.fetcher.fetch(misses));
    return true;
  }

  /**
   * Ends a transaction whose SQLite COMMIT succeeded: its pages join the open batch. Returns the
   * promise of that batch's record, or undefined for a read-only transaction with nothing pending
   * under it (the caller validates it against the tail). Under the mutex.
   */
  commitLocal(): Promise<void> | undefined {
    const txn = this.file.txn as Layer;
    const reads = new Set(this.file.reads);
    const readonly =
      txn.pages.size === 0 && txn.pageCount === (this.file.below.at(-1)?.pageCount ?? this.committed.pageCount);
    this.file.txn = undefined;
    if (readonly && !this.pending) return undefined;
    if (!this.#open) {
      const page1 = this.file.page(1);
      this.#open = new Batch(this.file.pageCount, page1 ?? null);
    }
    return this.#open.add(txn, reads, this.committed.pageSize);
  }

  /** Whether a read-only transaction that read `reads` on `base` is still valid after `changes`. */
  readonlyValid(reads: Set<number>, basePage1: Uint8Array | null, changes: Changes): boolean {
    if (!samePage1(basePage1, this.committed.page1)) return false;
    for (const p of changes.pages) if (p !== 1 && reads.has(p)) return false;
    return true;
  }

  /** Starts publishing batches if it is not running. */
  kick(): void {
    if (this.#publishing || !this.pending) return;
    this.#publishing = this.#publishLoop().finally(() => {
      this.#publishing = undefined;
      this.kick();
    });
  }

  /** Resolves when no batch is waiting for its record. */
  async settle(): Promise<void> {
    while (this.#publishing) await this.#publishing;
  }

  async #publishLoop(): Promise<void> {
    let attempt = 0;
    for (;;) {
      const release = await this.mutex.acquire();
      let batch: Batch;
      let entry: Uint8Array;
      let version: number;
      let id: string;
      try {
        try {
          this.drain();
        } catch (error) {
          this.#abortAll(error);
          return;
        }
        if (!this.#inflight) {
          attempt = 0;
          this.#inflight = this.#open;
          this.#open = undefined;
        }
        const b = this.#inflight;
        if (!b) return;
        if (!b.hasWrites) {
          b.resolve();
          this.#inflight = undefined;
          continue;
        }
        if (!b.valid(samePage1(b.basePage1, this.committed.page1))) {
          this.stats.conflicts++;
          this.#abortAll(new RetrySignal());
          continue;
        }
        const counter = this.committed.page1 ? changeCounter(this.committed.page1) : 0;
        const set = b.pageSet(this.committed.pageSize, counter);
        id = randomUUID();
        b.attempts.set(id, set);
        entry = encodeEntry(set);
        version = this.log.version + 1;
        batch = b;
      } finally {
        release();
      }
      try {
        this.#ids.next = id;
        const outcome = await this.log.tryAppend([entry], version);
        if (!outcome.committed) {
          attempt++;
          if (attempt > this.options.maxAppendAttempts) throw new RetrySignal();
          await backoff(attempt);
          await retryReads(() => this.log.catchUp());
        }
      } catch (error) {
        const release2 = await this.mutex.acquire();
        try {
          try {
            this.drain();
          } catch {}
          if (this.#inflight === batch) this.#abortAll(error);
        } finally {
          release2();
        }
      }
    }
  }

  /** Fails the batch in flight with `error` and everything stacked on it with a retry. */
  #abortAll(error: unknown): void {
    this.#inflight?.reject(error);
    this.#open?.reject(error instanceof RetrySignal ? error : new RetrySignal());
    this.#inflight = undefined;
    this.#open = undefined;
  }
}
