import { GcFloorGuard } from '@bucketdb/log';
import { backoff, ClosedError, type ObjectStore } from '@bucketdb/store';
import { RetrySignal } from './batch.js';
import { adoptCheckpoint, writeCheckpoint } from './checkpointer.js';
import { retryReads } from './retry-reads.js';
import type { Row, RunResult, SqlParams } from './connection.js';
import { type Attempt, Engine } from './engine.js';
import { DiskCache } from './disk-cache.js';
import { ConflictError, VersionNotFoundError } from './errors.js';
import { collectGarbage, type GcReport } from './gc.js';
import { applyMigrations } from './migrations.js';
import { type OpenOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { type RecordSummary, recentRecords } from './recent-records.js';
import { AtVersionStore, resolveAt } from './time-travel.js';
import { type BeginOptions, Transaction } from './transaction.js';
import { type TransactionContext, transactionContext } from './transaction-context.js';
import { type RetainedVersions, retainedVersions, type StorageSummary, storageSummary } from './versions.js';
import { wasCommitted } from './was-committed.js';

/** Options of one call on a Database. */
export interface CallOptions {
  /**
   * Stops the call while it waits for the handle (calls issued before it) or between re-runs: it
   * rejects with the signal's reason and nothing of it was applied. A transaction already handed
   * to the log is not abandoned: the call settles with its outcome.
   */
  signal?: AbortSignal;
}

/** What one `maintain()` round did. */
export interface MaintenanceReport {
  /** The checkpoint the handle reads from afterwards. */
  checkpointVersion: number | undefined;
  /** The GC pass it ran, if one was due. */
  gc?: GcReport;
}

export interface DatabaseStats {
  /** The newest log version applied by this handle. */
  version: number;
  pageSize: number;
  pageCount: number;
  /** Version of the checkpoint this handle reads pages from (undefined: none yet). */
  checkpointVersion: number | undefined;
  /** Records and their bytes applied since that checkpoint. */
  recordsSinceCheckpoint: number;
  bytesSinceCheckpoint: number;
  /** Automatic checkpoints that failed in a row (retried with backoff; the last error is `lastCheckpointError`). */
  checkpointFailures: number;
  /**
   * The page cache: `bytes` resident now, `peakBytes` the most resident at any moment; `spills`
   * and `spillReads`: pinned pages written to and read back from the local spill file.
   */
  cache: {
    hits: number;
    misses: number;
    bytes: number;
    pages: number;
    maxBytes: number;
    peakBytes: number;
    spills: number;
    spillReads: number;
  };
  /** Commits by this handle (records written), records applied from other writers. */
  commits: number;
  records: number;
  /** Batches that failed validation, and transaction re-runs. */
  conflicts: number;
  retries: number;
  /** Statements re-run after fetching pages that were not resident, and page fetches. */
  restarts: number;
  fetches: number;
  /** Moves to a newer checkpoint without reading the records in between (idle or collected). */
  rebases: number;
  /** Whether this handle's cold open started from the open hint (`_open_hint`). */
  openedFromHint: boolean;
}

/**
 * A SQLite database whose file is a page store in an object-store bucket. Operations on one
 * Database run one at a time (a mutex); commits of concurrent callers share log records.
 *
 * Reads are strong by default: they first confirm that no newer record exists (one GET).
 * `transaction(fn)` may run `fn` more than once (after a conflict, or after fetching pages it
 * needed): keep side effects out of it.
 */
export class Database {
  readonly #engine: Engine;
  readonly #options: ResolvedOptions;
  readonly #closeStore: (() => Promise<void>) | undefined;
  readonly #cache: DiskCache | undefined;
  readonly #readOnly: boolean;
  #checkpointing: Promise<unknown> | undefined;
  #lastCheckpointAt: number;
  /** The version of the last open hint this handle wrote, and the writes of it in flight (one at a time). */
  #hintVersion: number;
  #hinting: Promise<void> | undefined;
  #checkpointRetryAt = 0;
  #checkpointFailures = 0;
  #closed = false;
  /** Interactive transactions begun on this handle (rolled back at close). */
  readonly #interactive = new Set<Transaction>();
  /** The last automatic checkpoint's failure, if it failed (the data is safe in the log regardless). */
  lastCheckpointError: unknown;
  /** The last GC this handle ran (automatic or `gc()`): when, what it did, or its error. */
  lastGc: { at: Date; report?: GcReport; error?: unknown } | undefined;
  /** The last background maintenance's failure, if it failed (retried at the next tick). */
  lastMaintenanceError: unknown;
  #maintaining: Promise<MaintenanceReport> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastGcAt: number;
  #nextAdoptAt = 0;

  private constructor(
    engine: Engine,
    options: ResolvedOptions,
    closeStore?: () => Promise<void>,
    cache?: DiskCache,
    readOnly = false,
  ) {
    this.#engine = engine;
    this.#cache = cache;
    this.#readOnly = readOnly;
    this.#options = options;
    this.#closeStore = closeStore;
    this.#lastCheckpointAt = options.clock();
    this.#lastGcAt = options.clock();
    this.#hintVersion = engine.committed.version;
    engine.onCommitted = () => {
      this.#maybeCheckpoint();
      if (this.#engine.committed.version - this.#hintVersion >= options.openHintEveryRecords) this.#writeHint();
    };
    if (options.maintenanceEveryMs > 0 && !readOnly) {
      this.#timer = setInterval(() => {
        this.maintain().then(
          () => {
            this.lastMaintenanceError = undefined;
          },
          (error: unknown) => {
            this.lastMaintenanceError = error;
          },
        );
      }, options.maintenanceEveryMs);
      this.#timer.unref();
    }
  }

  /** @internal use `open()` */
  static async create(store: ObjectStore, options: OpenOptions, closeStore?: () => Promise<void>): Promise<Database> {
    const resolved = resolveOptions(options);
    const signal = options.signal;
    if (options.at === undefined) {
      const cache = resolved.cacheDir
        ? new DiskCache(store, resolved.cacheDir, resolved.prefix, resolved.cacheDirBytes)
        : undefined;
      const guarded = new GcFloorGuard(cache ?? store, resolved.prefix, resolved.clock);
      // A floor copy the last handle on this cache read less than a quarter grace period ago is
      // as good as one read now (the guard's own rule; same machine, same clock).
      const seeded = (await cache?.readHead().catch(() => undefined))?.floor;
      if (seeded) guarded.seed(seeded.floor ?? undefined, seeded.readAt);
      // The floor is read alongside the open's first requests, not after the first 404 of a read.
      const floor = guarded.load();
      floor.catch(() => {});
      const engine = await Engine.open(guarded, resolved, cache, signal);
      await floor.catch(() => {});
      const db = new Database(engine, resolved, closeStore, cache);
      try {
        signal?.throwIfAborted();
        // Each migration is a transaction of its own: one aborted part way left none half applied.
        if (options.migrations) await applyMigrations(db, options.migrations, signal);
      } catch (error) {
        await db.close();
        throw error;
      }
      return db;
    }
    const at = await resolveAt(store, resolved.prefix, options.at);
    const engine = await Engine.open(new AtVersionStore(store, resolved.prefix, at), resolved, undefined, signal);
    const db = new Database(engine, resolved, closeStore, undefined, true);
    if (db.version !== at) {
      await db.close();
      throw new VersionNotFoundError(
        `version ${at} of ${resolved.prefix || 'the database'} cannot be read (log ends at ${db.version})`,
      );
    }
    return db;
  }

  /** Whether this handle opened warm from `cacheDir` (asking the bucket only whether anything changed). */
  get warm(): boolean {
    return this.#engine.startedWarm;
  }

  get version(): number {
    return this.#engine.committed.version;
  }

  /** Runs a script of statements as one transaction. */
  async exec(sql: string, options?: CallOptions): Promise<void> {
    await this.transaction((tx) => tx.exec(sql), options);
  }

  /** All rows of one statement, as objects keyed by column name. */
  async query<T = Row>(sql: string, params?: SqlParams, options?: CallOptions): Promise<T[]> {
    return (await this.#statement(sql, (c) => c.query(sql, params).rows, options?.signal)) as T[];
  }

  async get<T = Row>(sql: string, params?: SqlParams, options?: CallOptions): Promise<T | undefined> {
    return (await this.query<T>(sql, params, options))[0];
  }

  /** Like query, also giving the column names (in order, even when there are no rows). */
  async queryWithColumns(
    sql: string,
    params?: SqlParams,
    options?: CallOptions,
  ): Promise<{ columns: string[]; rows: Row[] }> {
    return this.#statement(sql, (c) => c.query(sql, params), options?.signal);
  }

  async run(sql: string, params?: SqlParams, options?: CallOptions): Promise<RunResult> {
    return this.#statement(sql, (c) => c.run(sql, params), options?.signal);
  }

  /**
   * Runs `fn` in a serializable transaction. On a conflict with a concurrent commit `fn` runs again
   * (up to `maxRetries` times, with jittered backoff), then ConflictError. If the commit's outcome
   * cannot be resolved, CommitUnknownError (see `wasCommitted`).
   */
  async transaction<T>(fn: (tx: TransactionContext) => T | Promise<T>, options?: CallOptions): Promise<T> {
    return this.#transaction(fn, true, options?.signal);
  }

  /**
   * `explicit`: fn runs between BEGIN and COMMIT. Otherwise fn is one statement that SQLite runs
   * in its own transaction (VACUUM cannot run inside BEGIN); its writes land in the same write
   * layer and commit the same way.
   */
  async #transaction<T>(
    fn: (tx: TransactionContext) => T | Promise<T>,
    explicit: boolean,
    signal?: AbortSignal,
  ): Promise<T> {
    const engine = this.#engine;
    return this.#transact(engine.lock.ticket(), () => fn(transactionContext(engine.conn)), undefined, explicit, signal);
  }

  /**
   * The retry loop of `transaction()` and of writing statements. `ticket` is the call's place in
   * the handle's order, kept across re-runs; `held`: the lock, already acquired with that ticket;
   * `explicit`: see `#transaction`. `signal` stops the wait for the lock and the re-runs; a
   * transaction already handed to the log is not abandoned (the call settles with its outcome).
   */
  async #transact<T>(
    ticket: number,
    body: () => T | Promise<T>,
    held?: () => void,
    explicit = true,
    signal?: AbortSignal,
  ): Promise<T> {
    const engine = this.#engine;
    const strong = this.#options.reads === 'strong';
    try {
      for (let conflicts = 0; ;) {
        const release = held ?? (await engine.lock.acquire(ticket, false, signal));
        held = undefined;
        let outcome: Attempt<T>;
        try {
          this.#checkOpen();
          outcome = await engine.attempt(body, strong, ticket, explicit);
          // Runs again before any later call of this handle.
          if (!outcome.ok) engine.lock.reserve(ticket);
        } finally {
          release();
        }
        engine.kick();
        if (!outcome.ok && outcome.behind) continue;
        if (outcome.ok) {
          try {
            await outcome.wait;
            if (outcome.failed) throw outcome.failed.error;
            return outcome.result;
          } catch (error) {
            if (!(error instanceof RetrySignal)) throw error;
          }
        }
        conflicts++;
        engine.stats.retries++;
        if (conflicts > this.#options.maxRetries) throw new ConflictError(conflicts);
        signal?.throwIfAborted();
        await backoff(conflicts, { capMs: 200 });
        signal?.throwIfAborted();
      }
    } finally {
      engine.lock.unreserve(ticket);
    }
  }

  /**
   * Moves this handle to the newest committed version (one GET of the next log slot, then the
   * records it finds). For `reads: 'snapshot'` handles, which otherwise stay where they are.
   */
  async refresh(): Promise<number> {
    const engine = this.#engine;
    return engine.lock.run(async () => {
      this.#checkOpen();
      await engine.syncTail();
      return engine.committed.version;
    }, engine.lock.ticket());
  }

  /**
   * Whether the commit named by a CommitUnknownError's `commitId` is in the log, answered exactly:
   * if its slot is still empty, this fills the slot with an empty record first, so that a delayed
   * write of the commit can never land afterwards.
   */
  async wasCommitted(commitId: string): Promise<boolean> {
    this.#checkOpen();
    return wasCommitted(this.#engine.log, commitId);
  }

  /**
   * An interactive transaction on its own connection over a snapshot of this handle (every call
   * issued before it included). It never blocks the handle; a conflict at commit raises
   * ConflictError (nothing is re-run), and it is rolled back after `timeoutMs` (default 60 s).
   */
  async begin(options: BeginOptions = {}): Promise<Transaction> {
    const engine = this.#engine;
    const ticket = engine.lock.ticket();
    let snapshot: ReturnType<Engine['snapshotHead']> | undefined;
    while (!snapshot) {
      const release = await engine.lock.acquire(ticket, false, options.signal);
      try {
        this.#checkOpen();
        engine.drain();
        if (engine.mustConfirm) await engine.syncTail();
        // Calls issued before this one whose batch just failed run again first: it sees them.
        if (!engine.lock.reservedBefore(ticket)) snapshot = engine.snapshotHead();
      } finally {
        release();
      }
    }
    const tx = await Transaction.start(engine, snapshot, options, (t) => this.#interactive.delete(t));
    this.#interactive.add(tx);
    return tx;
  }

  /** Writes a checkpoint of the current version (only chunks and segments that changed); returns its version. */
  async checkpoint(): Promise<number> {
    this.#checkOpen();
    while (this.#checkpointing) await this.#checkpointing.catch(() => {});
    const run = writeCheckpoint(this.#engine, this.#options);
    this.#checkpointing = run;
    try {
      const version = await run;
      this.#writeHint();
      return version;
    } finally {
      this.#checkpointing = undefined;
    }
  }

  /**
   * One round of the upkeep the maintenance timer runs (`maintenanceEveryMs`): if another handle
   * published a newer checkpoint, this handle moves to it (pages unchanged since then are read
   * from it, so older records and chunks are no longer needed and GC may delete them; a strong
   * handle with nothing pending jumps to a checkpoint past its version without reading the
   * records in between), and with `autoGc` it runs GC once `gcEveryMs` passed since the last.
   */
  async maintain(): Promise<MaintenanceReport> {
    this.#checkOpen();
    this.#maintaining ??= this.#maintain().finally(() => {
      this.#maintaining = undefined;
    });
    return this.#maintaining;
  }

  async #maintain(): Promise<MaintenanceReport> {
    const engine = this.#engine;
    const o = this.#options;
    const report: MaintenanceReport = { checkpointVersion: engine.committed.checkpoint?.version };
    const latest = await retryReads(() => engine.log.latestCheckpoint());
    const mine = engine.committed.checkpoint?.version ?? -1;
    if (latest && latest.version > mine) {
      if (latest.version <= engine.committed.version) {
        await adoptCheckpoint(engine, latest);
      } else if (o.reads === 'strong') {
        await engine.lock.run(async () => {
          if (this.#closed || engine.pending || latest.version <= engine.committed.version) return;
          await engine.rebase(latest);
        }, engine.lock.ticket());
      }
      report.checkpointVersion = engine.committed.checkpoint?.version;
    }
    if (o.autoGc && !this.#closed && o.clock() - this.#lastGcAt >= o.gcEveryMs) {
      report.gc = await this.gc();
    }
    return report;
  }

  /**
   * Garbage collection with this database's retention and grace (see docs/design/sql-gc.md):
   * deletes what no version inside the retention window needs.
   */
  async gc(options: { dryRun?: boolean; signal?: AbortSignal } = {}): Promise<GcReport> {
    this.#checkOpen();
    const o = this.#options;
    try {
      this.#lastGcAt = o.clock();
      const report = await collectGarbage(this.#engine.log.store, {
        prefix: o.prefix,
        retention: o.retention,
        grace: o.gcGrace,
        dryRun: options.dryRun ?? false,
        clock: o.clock,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      this.lastGc = { at: new Date(), report };
      return report;
    } catch (error) {
      this.lastGc = { at: new Date(), error };
      throw error;
    }
  }

  /** Restore points inside the retention window (checkpoints) and the newest record. */
  async versions(): Promise<RetainedVersions> {
    this.#checkOpen();
    return retainedVersions(this.#engine.log.store, this.#options.prefix);
  }

  /** Objects and bytes the database keeps in the store (one LIST pass over its prefix). */
  async storage(): Promise<StorageSummary> {
    this.#checkOpen();
    return storageSummary(this.#engine.log.store, this.#options.prefix);
  }

  /** The newest `n` records of the log: version, commit id, pages and bytes. */
  async records(n = 10): Promise<RecordSummary[]> {
    this.#checkOpen();
    return recentRecords(this.#engine.log, this.version, n);
  }

  stats(): DatabaseStats {
    const e = this.#engine;
    const c = e.committed;
    return {
      version: c.version,
      pageSize: c.pageSize,
      pageCount: c.pageCount,
      checkpointVersion: c.checkpoint?.version,
      recordsSinceCheckpoint: c.recordsSinceCheckpoint,
      bytesSinceCheckpoint: c.bytesSinceCheckpoint,
      checkpointFailures: this.#checkpointFailures,
      cache: {
        hits: c.cache.hits,
        misses: c.cache.misses,
        bytes: c.cache.bytes,
        pages: c.cache.size,
        maxBytes: c.cache.maxBytes,
        peakBytes: c.cache.peakBytes,
        spills: c.cache.spills,
        spillReads: c.cache.spillReads,
      },
      ...e.stats,
      fetches: e.fetcher.fetches,
      openedFromHint: e.startedFromHint,
    };
  }

  /** Waits for commits in flight, then releases the connection (and the store, if opened from a URL). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#maintaining?.catch(() => {});
    for (const tx of this.#interactive) await tx.rollback().catch(() => {});
    await this.#engine.settle();
    await this.#checkpointing?.catch(() => {});
    await this.#hinting;
    await this.#engine.mutex.run(async () => {
      this.#engine.conn.close();
      this.#engine.committed.cache.close();
      await this.#engine.log.close();
    });
    if (this.#cache) {
      // Where this handle ended is where the next warm open starts.
      await this.#engine.headSaved;
      await this.#engine.saveHead(this.#cache).catch(() => {});
      await this.#cache.flush();
    }
    await this.#closeStore?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * One statement. With no commit of this handle pending, a read-only statement runs on committed
   * state (after the strong-read check); anything else runs as a transaction, so that it sees (and
   * is ordered after) every call issued before it. The lock is held from classification to
   * execution: nothing issued later can slip in between.
   */
  async #statement<T>(sql: string, f: (c: Engine['conn']) => T, signal?: AbortSignal): Promise<T> {
    const engine = this.#engine;
    const ticket = engine.lock.ticket();
    let release = await engine.lock.acquire(ticket, false, signal);
    let handedOver = false;
    try {
      this.#checkOpen();
      engine.drain();
      // Calls issued before this one whose batch just failed run again first.
      while (engine.lock.reservedBefore(ticket)) {
        release();
        release = await engine.lock.acquire(ticket, false, signal);
        engine.drain();
      }
      if (!engine.pending) {
        let readonly: boolean;
        try {
          readonly = await engine.read(() => engine.conn.statementReadonly(sql));
        } catch (error) {
          // Perhaps only stale (a table created by another writer): look at the tail once.
          if ((await engine.syncTail()).pages.size === 0) throw error;
          readonly = await engine.read(() => engine.conn.statementReadonly(sql));
        }
        if (readonly && !engine.pending) {
          const run = () => f(engine.conn);
          return await (engine.mustConfirm ? engine.readAtTail(run) : engine.read(run));
        }
      }
      handedOver = true;
    } finally {
      engine.committed.cache.unpinAll();
      if (!handedOver) release();
      if (!handedOver) this.#maybeAdopt();
    }
    return this.#transact(ticket, () => f(engine.conn), release, !/^\s*vacuum\b/i.test(sql), signal);
  }

  /**
   * A handle that has applied a checkpoint interval's worth of other writers' records since its
   * checkpoint looks for the one they should have written (at most every 10 s), in the background.
   */
  #maybeAdopt(): void {
    const c = this.#engine.committed;
    const o = this.#options;
    const behind =
      (o.checkpointEveryRecords > 0 && c.recordsSinceCheckpoint >= o.checkpointEveryRecords) ||
      (o.checkpointEveryBytes > 0 && c.bytesSinceCheckpoint >= o.checkpointEveryBytes);
    const now = o.clock();
    if (!behind || this.#closed || this.#readOnly || now < this.#nextAdoptAt) return;
    this.#nextAdoptAt = now + 10_000;
    this.maintain().catch((error: unknown) => {
      this.lastMaintenanceError = error;
    });
  }

  #maybeCheckpoint(): void {
    const c = this.#engine.committed;
    const o = this.#options;
    const now = o.clock();
    const due = () =>
      (o.checkpointEveryRecords > 0 && c.recordsSinceCheckpoint >= o.checkpointEveryRecords) ||
      (o.checkpointEveryBytes > 0 && c.bytesSinceCheckpoint >= o.checkpointEveryBytes) ||
      (o.checkpointEveryMs > 0 && c.recordsSinceCheckpoint > 0 && now - this.#lastCheckpointAt >= o.checkpointEveryMs);
    if (!due() || now < this.#checkpointRetryAt || this.#checkpointing || this.#closed) return;
    const run = writeCheckpoint(this.#engine, o, due).then(
      async () => {
        this.lastCheckpointError = undefined;
        this.#checkpointFailures = 0;
        this.#lastCheckpointAt = o.clock();
        this.#writeHint();
        if (o.autoGc && !this.#closed) await this.gc().catch(() => {});
      },
      (error: unknown) => {
        // Retried at a later commit, after a backoff that grows with the failures (up to 5 min).
        this.lastCheckpointError = error;
        this.#checkpointFailures++;
        this.#checkpointRetryAt = o.clock() + Math.min(2 ** this.#checkpointFailures * 1000, 300_000);
      },
    );
    this.#checkpointing = run.finally(() => {
      this.#checkpointing = undefined;
    });
  }

  /** Rewrites the open hint after the writes of it already queued (best effort, in the background). */
  #writeHint(): void {
    if (this.#readOnly || this.#options.openHintEveryRecords <= 0) return;
    this.#hintVersion = this.#engine.committed.version;
    const engine = this.#engine;
    this.#hinting = (this.#hinting ?? Promise.resolve()).then(() => engine.writeOpenHint().catch(() => {}));
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('database');
  }
}
