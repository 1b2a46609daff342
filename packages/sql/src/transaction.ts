import { RetrySignal } from './batch.js';
import type { Connection, Row, RunResult, SqlParams } from './connection.js';
import type { Engine } from './engine.js';
import { ConflictError, SqlError } from './errors.js';

/** What `transaction(fn)` hands to `fn`: synchronous statements inside the transaction. */
export interface TransactionContext {
  query<T = Row>(sql: string, params?: SqlParams): T[];
  get<T = Row>(sql: string, params?: SqlParams): T | undefined;
  run(sql: string, params?: SqlParams): RunResult;
  exec(sql: string): void;
}

export function transactionContext(conn: Connection): TransactionContext {
  return {
    query: <T>(sql: string, params?: SqlParams) => conn.query(sql, params).rows as T[],
    get: <T>(sql: string, params?: SqlParams) => conn.query(sql, params).rows[0] as T | undefined,
    run: (sql, params) => conn.run(sql, params),
    exec: (sql) => conn.exec(sql),
  };
}

/**
 * An interactive transaction from `Database.begin()`. It holds its Database until it ends. When a
 * statement needs pages that are not resident, SQLite rolls the whole transaction back; the
 * statements so far are then replayed on the same snapshot after the fetch (so SQL that calls
 * random() or the clock may see new values in the replay).
 */
export class Transaction {
  readonly #engine: Engine;
  readonly #release: () => void;
  readonly #done: ((c: Connection) => unknown)[] = [];
  #ended = false;

  private constructor(engine: Engine, release: () => void) {
    this.#engine = engine;
    this.#release = release;
  }

  /** @internal */
  static start(engine: Engine, release: () => void): Transaction {
    const tx = new Transaction(engine, release);
    engine.useHeadView();
    engine.conn.exec('BEGIN');
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
    let wait: Promise<void> | undefined;
    try {
      this.#checkActive();
      await this.#step((c) => c.exec('COMMIT'), false);
      wait = engine.commitLocal();
    } finally {
      this.#end();
    }
    engine.kick();
    try {
      await wait;
    } catch (error) {
      if (error instanceof RetrySignal) throw new ConflictError(1);
      throw error;
    }
  }

  async rollback(): Promise<void> {
    if (this.#ended) return;
    try {
      if (!this.#engine.conn.autocommit) this.#engine.conn.exec('ROLLBACK');
      this.#engine.rolledBack();
    } finally {
      this.#end();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.rollback();
  }

  async #step<T>(f: (c: Connection) => T, record = true): Promise<T> {
    this.#checkActive();
    const engine = this.#engine;
    let replay = false;
    for (;;) {
      try {
        if (replay) {
          engine.useHeadView();
          engine.conn.exec('BEGIN');
          for (const g of this.#done) g(engine.conn);
          replay = false;
        }
        const result = f(engine.conn);
        if (engine.file.misses.size > 0) throw new SqlError(266, 'SQLITE_IOERR_READ', 'page not resident');
        if (record) this.#done.push(f);
        if (engine.conn.autocommit && record) {
          throw new SqlError(1, 'SQLITE_ERROR', 'the transaction was ended by a statement; use commit() or rollback()');
        }
        return result;
      } catch (error) {
        if (!(await engine.fetchMisses(error))) {
          // SQLite rolls a transaction back by itself after some errors: it cannot go on.
          if (engine.conn.autocommit) this.#end();
          throw error;
        }
        replay = true;
      }
    }
  }

  #checkActive(): void {
    if (this.#ended) throw new SqlError(1, 'SQLITE_ERROR', 'the transaction has already ended');
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#engine.file.txn = undefined;
    this.#engine.committed.cache.unpinAll();
    this.#release();
  }
}
