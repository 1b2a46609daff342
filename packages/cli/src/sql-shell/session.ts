import type { Database, Row, StatementSplitter, Transaction } from '@bucketdb/sql';
import type { Meter } from '@bucketdb/store';
import { formatRows, type OutputMode } from './format.js';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/**
 * The state of one shell: the database, the open interactive transaction (BEGIN … COMMIT map to
 * `begin()` and `commit()`), the output mode and the timer. Runs statements and prints results.
 */
export class Session {
  readonly db: Database;
  readonly meter: Meter;
  readonly splitter: StatementSplitter;
  readonly io: Output;
  mode: OutputMode;
  timer = false;
  tx: Transaction | undefined;

  constructor(db: Database, meter: Meter, splitter: StatementSplitter, io: Output, mode: OutputMode) {
    this.db = db;
    this.meter = meter;
    this.splitter = splitter;
    this.io = io;
    this.mode = mode;
  }

  /** Runs one complete statement and prints its rows, if it has any. */
  async execute(sql: string): Promise<void> {
    const started = performance.now();
    const control = /^\s*(begin|commit|end|rollback)\b(\s+transaction)?\s*;?\s*$/i.exec(sql)?.[1]?.toLowerCase();
    if (control) {
      await this.#control(control);
    } else {
      const { columns, rows } = this.tx ? await this.tx.queryWithColumns(sql) : await this.db.queryWithColumns(sql);
      if (columns.length > 0) this.#print(columns, rows);
    }
    if (this.timer) this.io.out(`Run Time: ${((performance.now() - started) / 1000).toFixed(3)} s`);
  }

  async #control(word: string): Promise<void> {
    if (word === 'begin') {
      if (this.tx) throw new Error('cannot start a transaction within a transaction');
      this.tx = await this.db.begin();
      return;
    }
    const tx = this.tx;
    if (!tx) throw new Error(`cannot ${word === 'rollback' ? 'rollback' : 'commit'} - no transaction is active`);
    this.tx = undefined;
    if (word === 'rollback') await tx.rollback();
    else await tx.commit();
  }

  #print(columns: string[], rows: Row[]): void {
    if (this.mode === 'table' && rows.length === 0) return;
    this.io.out(formatRows(this.mode, columns, rows));
  }

  async close(): Promise<void> {
    await this.tx?.rollback();
    this.tx = undefined;
    await this.db.close();
  }
}
