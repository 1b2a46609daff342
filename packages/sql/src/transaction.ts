import { Mutex } from '@bucketdb/store';
import { type Batch, RetrySignal } from './batch.js';
import type { Connection, Row, RunResult, SqlParams } from './connection.js';
import { type Engine, MissSignal } from './engine.js';
import { ConflictError, SqliteError, TransactionTimeoutError } from './errors.js';
import { Layer, type PageFile } from './page-file.js';

export interface BeginOptions {
  /** Rolled back (and every later call fails with TransactionTimeoutError) after this long; default 60 s. */
  timeoutMs?: number;
  /** Stops waiting for the calls issued before `begin()`: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface Step {
  run: (c: Connection) => unknown;
  /** What the application was given, to compare with a replay. */
  result: string;
}

/**
 * An interactive transaction from `Database.begin()`. It runs on a connection of its own over a
 * snapshot of the handle's head (committed state plus this handle's commits still pending), so it
 * never blocks the handle: other calls go on and commit meanwhile. At commit it is validated like
 * any transaction: if anything it read or wrote changed since it began, ConflictError.
 *
 * When a statement needs pages that are not resident, SQLite rolls the whole transaction back;
 * after fetching them the earlier statements are replayed on the same snapshot, and their results
 * must equal what the application was given (SQL calling random() or the clock may differ): if
 * not, the transaction fails with ConflictError (retryable) rather than commit something else.
 */
export class Transaction {
  readonly #engine: Engine;
  readonly #file: PageFile;
  readonly #batches: Batch[];
  readonly #basePage1: Uint8Array | null;
  readonly #serial = new Mutex();
  readonly #done: Step[] = [];
  #conn: Connection | undefined;
  #ended: unknown;
  #timer: NodeJS.Timeout | undefined;
  #onEnd: ((tx: Transaction) => void) | undefined;

  private constructor(engine: Engine, snapshot: ReturnType<Engine['snapshotHead']>) {
    this.#engine = engine;
    this.#file = snapshot.file;
    this.#batches = snapshot.batches;
    this.#basePage1 = snapshot.basePage1;
  }

  /** @internal: `snapshot` was taken under the engine's lock; this runs without it. */
  static async start(
    engine: Engine,
    snapshot: ReturnType<Engine['snapshotHead']>,
    options: BeginOptions = {},
    onEnd?: (tx: Transaction) => void,
  ): Promise<Transaction> {
    const tx = new Transaction(engine, snapshot);
    tx.#onEnd = onEnd;
    try {
      tx.#conn = await engine.snapshotConnection(tx.#file);
      tx.#begin();
    } catch (error) {
      tx.#end(error);
      throw error;
    }
    const timeoutMs = options.timeoutMs ?? 60_000;
    tx.#timer = setTimeout(() => {
      void tx.#serial.run(() => tx.#end(new TransactionTimeoutError(timeoutMs)));
    }, timeoutMs);
    tx.#timer.unref?.();
    return tx;
  }

  async query<T = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    return (await this.#step((c) => c.query(sql, params).rows)) as T[];
  }

  async get<T = Row>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return (await this.query<T>(sql, params))[0];
  }

  async queryWithColumns(sql: string, params?: SqlParams): Promise<{ columns: string[]; rows: Row[] }> {
    return this.#step((c) => c.query(sql, params));
  }

  async run(sql: string, params?: SqlParams): Promise<RunResult> {
    return this.#step((c) => c.run(sql, params));
  }

  async exec(sql: string): Promise<void> {
    await this.#step((c) => c.exec(sql));
  }

  /** Commits with one PUT; ConflictError if a concurrent commit changed what this transaction read. */
  async commit(): Promise<void> {
    const engine = this.#engine;
    // Wrapped: an async function returning the batch's promise would wait for it.
    const { wait } = await this.#serial.run(async () => {
      this.#checkActive();
      try {
        await this.#statement((c) => c.exec('COMMIT'), false);
        return await engine.lock.run(async () => {
          engine.drain();
          const readonly = (this.#file.txn?.pages.size ?? 0) === 0;
          // A read-only transaction with nothing pending is linearized at a tail check now.
          if (readonly && !engine.pending && engine.mustConfirm) await engine.syncTail();
          const w = engine.commitSnapshot(this.#file, this.#batches, this.#basePage1);
          if (!w) {
            engine.stats.conflicts++;
            throw new ConflictError(1);
          }
          return { wait: w };
        });
      } finally {
        this.#end(undefined);
      }
    });
    engine.kick();
    try {
      await wait;
    } catch (error) {
      if (error instanceof RetrySignal) throw new ConflictError(1);
      throw error;
    }
  }

  async rollback(): Promise<void> {
    await this.#serial.run(() => this.#end(undefined));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.rollback();
  }

  async #step<T>(f: (c: Connection) => T): Promise<T> {
    return this.#serial.run(async () => {
      this.#checkActive();
      try {
        return await this.#statement(f, true);
      } catch (error) {
        // SQLite rolls a transaction back by itself after some errors: it cannot go on.
        if (error instanceof ConflictError || !this.#conn || this.#conn.autocommit) this.#end(error);
        throw error;
      }
    });
  }

  /** Runs one statement, fetching and replaying the earlier ones (checked) after misses. */
  async #statement<T>(f: (c: Connection) => T, record: boolean): Promise<T> {
    const conn = this.#conn as Connection;
    for (;;) {
      try {
        const result = await this.#engine.runOnSnapshot(this.#file, () => f(conn));
        if (record) {
          if (conn.autocommit) {
            throw new SqliteError(
              1,
              'SQLITE_ERROR',
              'the transaction was ended by a statement; use commit() or rollback()',
            );
          }
          this.#done.push({ run: f, result: fingerprint(result) });
        }
        return result;
      } catch (error) {
        if (!(error instanceof MissSignal)) throw error;
        await this.#replay();
      }
    }
  }

  /** After a miss rolled the transaction back: BEGIN again and re-run what the application saw. */
  async #replay(): Promise<void> {
    const conn = this.#conn as Connection;
    for (;;) {
      try {
        await this.#engine.runOnSnapshot(this.#file, () => {
          if (!conn.autocommit) conn.exec('ROLLBACK');
          this.#begin();
          for (const step of this.#done) {
            if (fingerprint(step.run(conn)) !== step.result) {
              throw new ConflictError(
                1,
                'a statement of this transaction gave a different result when replayed after a page fetch; run the transaction again',
              );
            }
          }
        });
        return;
      } catch (error) {
        if (!(error instanceof MissSignal)) throw error;
      }
    }
  }

  #begin(): void {
    const file = this.#file;
    file.txn = undefined;
    file.resetTracking();
    file.txn = new Layer(file.pageCount);
    (this.#conn as Connection).dropCache();
    (this.#conn as Connection).exec('BEGIN');
  }

  #checkActive(): void {
    if (this.#ended instanceof Error) throw this.#ended;
    if (this.#ended !== undefined) throw new SqliteError(1, 'SQLITE_ERROR', 'the transaction has already ended');
  }

  #end(reason: unknown): void {
    if (this.#ended !== undefined) return;
    this.#ended = reason ?? true;
    clearTimeout(this.#timer);
    const conn = this.#conn;
    this.#conn = undefined;
    try {
      conn?.close();
    } finally {
      this.#file.txn = undefined;
      this.#engine.releaseSnapshot(this.#file);
      this.#onEnd?.(this);
    }
  }
}

/** A comparable form of a statement's result (rows or run result), bigint-safe. */
function fingerprint(result: unknown): string {
  return JSON.stringify(result, (_, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    return v;
  });
}
