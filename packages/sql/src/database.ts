import { backoff, ClosedError, type ObjectStore } from '@bucketdb/store';
import { RetrySignal } from './batch.js';
import { writeCheckpoint } from './checkpointer.js';
import type { Row, RunResult, SqlParams } from './connection.js';
import { type Attempt, Engine } from './engine.js';
import { wasCommitted } from './was-committed.js';
import { ConflictError } from './errors.js';
import { type OpenOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { type RecordSummary, recentRecords } from './recent-records.js';
import { type BeginOptions, Transaction, type TransactionContext, transactionContext } from './transaction.js';

export interface DatabaseStats {
  /** The newest log version applied by this handle. */
  version: number;
  pageSize: number;
  pageCount: number;
  /** Version of the checkpoint this handle reads pages from (undefined: none yet). */
  checkpointVersion: number | undefined;
  cache: { hits: number; misses: number; bytes: number; pages: number; maxBytes: number };
  /** Commits by this handle (records written), records applied from other writers. */
  commits: number;
  records: number;
  /** Batches that failed validation, and transaction re-runs. */
  conflicts: number;
  retries: number;
  /** Statements re-run after fetching pages that were not resident, and page fetches. */
  restarts: number;
  fetches: number;
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
  #checkpointing: Promise<unknown> | undefined;
  #closed = false;
  /** Interactive transactions begun on this handle (rolled back at close). */
  readonly #interactive = new Set<Transaction>();
  /** The last automatic checkpoint's failure, if it failed (the data is safe in the log regardless). */
  lastCheckpointError: unknown;

  private constructor(engine: Engine, options: ResolvedOptions, closeStore?: () => Promise<void>) {
    this.#engine = engine;
    this.#options = options;
    this.#closeStore = closeStore;
    engine.onCommitted = () => this.#maybeCheckpoint();
  }

  /** @internal use `open()` */
  static async create(store: ObjectStore, options: OpenOptions, closeStore?: () => Promise<void>): Promise<Database> {
    const resolved = resolveOptions(options);
    return new Database(await Engine.open(store, resolved), resolved, closeStore);
  }

  get version(): number {
    return this.#engine.committed.version;
  }

  /** Runs a script of statements as one transaction. */
  async exec(sql: string): Promise<void> {
    await this.transaction((tx) => tx.exec(sql));
  }

  /** All rows of one statement, as objects keyed by column name. */
  async query<T = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    return (await this.#statement(sql, (c) => c.query(sql, params).rows)) as T[];
  }

  async get<T = Row>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return (await this.query<T>(sql, params))[0];
  }

  /** Like query, also giving the column names (in order, even when there are no rows). */
  async queryWithColumns(sql: string, params?: SqlParams): Promise<{ columns: string[]; rows: Row[] }> {
    return this.#statement(sql, (c) => c.query(sql, params));
  }

  async run(sql: string, params?: SqlParams): Promise<RunResult> {
    return this.#statement(sql, (c) => c.run(sql, params));
  }

  /**
   * Runs `fn` in a serializable transaction. On a conflict with a concurrent commit `fn` runs again
   * (up to `maxRetries` times, with jittered backoff), then ConflictError. If the commit's outcome
   * cannot be resolved, CommitUnknownError (see `wasCommitted`).
   */
  async transaction<T>(fn: (tx: TransactionContext) => T | Promise<T>): Promise<T> {
    const engine = this.#engine;
    return this.#transact(engine.lock.ticket(), () => fn(transactionContext(engine.conn)));
  }

  /**
   * The retry loop of `transaction()` and of writing statements. `ticket` is the call's place in
   * the handle's order, kept across re-runs; `held`: the lock, already acquired with that ticket.
   */
  async #transact<T>(ticket: number, body: () => T | Promise<T>, held?: () => void): Promise<T> {
    const engine = this.#engine;
    const strong = this.#options.reads === 'strong';
    try {
      for (let conflicts = 0; ;) {
        const release = held ?? (await engine.lock.acquire(ticket));
        held = undefined;
        let outcome: Attempt<T>;
        try {
          this.#checkOpen();
          outcome = await engine.attempt(body, strong, ticket);
          // Runs again before any later call of this handle.
          if (!outcome.ok) engine.lock.reserve(ticket);
        } finally {
          release();
        }
        engine.kick();
        if (outcome.ok) {
          try {
            await outcome.wait;
            return outcome.result;
          } catch (error) {
            if (!(error instanceof RetrySignal)) throw error;
          }
        }
        conflicts++;
        engine.stats.retries++;
        if (conflicts > this.#options.maxRetries) throw new ConflictError(conflicts);
        await backoff(conflicts, { capMs: 200 });
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
    const snapshot = await engine.lock.run(async () => {
      this.#checkOpen();
      engine.drain();
      if (engine.mustConfirm) await engine.syncTail();
      return engine.snapshotHead();
    }, engine.lock.ticket());
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
      return await run;
    } finally {
      this.#checkpointing = undefined;
    }
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
      cache: {
        hits: c.cache.hits,
        misses: c.cache.misses,
        bytes: c.cache.bytes,
        pages: c.cache.size,
        maxBytes: c.cache.maxBytes,
      },
      ...e.stats,
      fetches: e.fetcher.fetches,
    };
  }

  /** Waits for commits in flight, then releases the connection (and the store, if opened from a URL). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const tx of this.#interactive) await tx.rollback().catch(() => {});
    await this.#engine.settle();
    await this.#checkpointing?.catch(() => {});
    await this.#engine.mutex.run(async () => {
      this.#engine.conn.close();
      await this.#engine.log.close();
    });
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
  async #statement<T>(sql: string, f: (c: Engine['conn']) => T): Promise<T> {
    const engine = this.#engine;
    const ticket = engine.lock.ticket();
    const release = await engine.lock.acquire(ticket);
    let handedOver = false;
    try {
      this.#checkOpen();
      engine.drain();
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
          if (engine.mustConfirm) await engine.syncTail();
          return await engine.read(() => f(engine.conn));
        }
      }
      handedOver = true;
    } finally {
      engine.committed.cache.unpinAll();
      if (!handedOver) release();
    }
    return this.#transact(ticket, () => f(engine.conn), release);
  }

  #maybeCheckpoint(): void {
    const c = this.#engine.committed;
    const o = this.#options;
    const due =
      (o.checkpointEveryRecords > 0 && c.recordsSinceCheckpoint >= o.checkpointEveryRecords) ||
      (o.checkpointEveryBytes > 0 && c.bytesSinceCheckpoint >= o.checkpointEveryBytes);
    if (!due || this.#checkpointing || this.#closed) return;
    const run = writeCheckpoint(this.#engine, o).then(
      () => {
        this.lastCheckpointError = undefined;
      },
      (error: unknown) => {
        this.lastCheckpointError = error;
      },
    );
    this.#checkpointing = run.finally(() => {
      this.#checkpointing = undefined;
    });
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('database');
  }
}
