import { toSqlError } from './errors.js';
import { loadSqlite, type OoDatabase, type Sqlite3 } from './sqlite.js';
import { BucketVfs, VFS_NAME, type VfsFile } from './vfs.js';

export type SqlValue = string | number | bigint | Uint8Array | null;
/** Positional (`?`, `?1`) or named (`:name`, `$name`, `@name`; the prefix may be left out) parameters. */
export type SqlParams = readonly unknown[] | Record<string, unknown>;
export type Row = Record<string, SqlValue>;
export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

let counter = 0;

/**
 * One SQLite connection on a PageFile. Synchronous: errors are thrown as SqlError (a miss shows
 * up as SQLITE_IOERR_READ with the page in `file.misses`; the Database handles that).
 */
export class Connection {
  readonly sqlite3: Sqlite3;
  readonly db: OoDatabase;
  readonly #name: string;
  readonly #vfs: BucketVfs;

  readonly #pageSize: number;

  private constructor(sqlite3: Sqlite3, vfs: BucketVfs, name: string, db: OoDatabase, pageSize: number) {
    this.#pageSize = pageSize;
    this.sqlite3 = sqlite3;
    this.#vfs = vfs;
    this.#name = name;
    this.db = db;
  }

  static async open(file: VfsFile & { readonly pageSize: number }): Promise<Connection> {
    const sqlite3 = await loadSqlite();
    const vfs = BucketVfs.for(sqlite3);
    const name = `db-${process.pid}-${++counter}`;
    vfs.register(name, file);
    try {
      const db = new sqlite3.oo1.DB({ filename: name, flags: 'c', vfs: VFS_NAME });
      return new Connection(sqlite3, vfs, name, db, file.pageSize);
    } catch (error) {
      vfs.unregister(name);
      throw toSqlError(sqlite3, error);
    }
  }

  /**
   * Sets the connection up. It reads the schema (journal_mode needs it), which may span pages that
   * are not resident: run it like any statement, through the engine's miss-fetch-retry loop.
   */
  configure(): void {
    // The journal only needs to survive a rollback; the log is what makes commits durable.
    this.exec(`PRAGMA page_size=${this.#pageSize}; PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;`);
    this.exec('PRAGMA temp_store=MEMORY; PRAGMA cache_size=-8192; PRAGMA foreign_keys=ON');
  }

  /**
   * Discards SQLite's parsed schema: the next statement reads it again from the file. Needed when
   * the file's content moves to another version, because SQLite re-reads the schema only when the
   * schema cookie changes, and two different schemas can carry the same cookie.
   */
  resetSchema(): void {
    this.db.exec('PRAGMA writable_schema=RESET');
  }

  get autocommit(): boolean {
    const capi = this.sqlite3.capi as unknown as { sqlite3_get_autocommit(db: number): number };
    return capi.sqlite3_get_autocommit(this.db.pointer as number) !== 0;
  }

  /**
   * Empties SQLite's own page cache, so that every page a transaction uses is read through the VFS
   * (and lands in its read set), and nothing from another view of the file lingers.
   */
  dropCache(): void {
    this.db.exec('PRAGMA shrink_memory');
  }

  query(sql: string, params?: SqlParams): { columns: string[]; rows: Row[] } {
    return this.#wrap(() => {
      const stmt = this.db.prepare(sql);
      try {
        if (params !== undefined) bind(stmt, params);
        // getColumnNames() throws for statements without columns (CREATE, INSERT without RETURNING).
        const columns = stmt.columnCount > 0 ? stmt.getColumnNames() : [];
        const rows: Row[] = [];
        while (stmt.step()) rows.push(stmt.get({}) as Row);
        return { columns, rows };
      } finally {
        stmt.finalize();
      }
    });
  }

  /** Whether the first statement of `sql` is read-only (a miss while preparing throws). */
  statementReadonly(sql: string): boolean {
    return this.#wrap(() => {
      const stmt = this.db.prepare(sql);
      try {
        return this.sqlite3.capi.sqlite3_stmt_readonly(stmt) !== 0;
      } finally {
        stmt.finalize();
      }
    });
  }

  run(sql: string, params?: SqlParams): RunResult {
    return this.#wrap(() => {
      const stmt = this.db.prepare(sql);
      try {
        if (params !== undefined) bind(stmt, params);
        while (stmt.step()) {
          // Step through every row; the statement's effects are what count.
        }
      } finally {
        stmt.finalize();
      }
      const rowid = this.sqlite3.capi.sqlite3_last_insert_rowid(this.db) as number | bigint;
      const lastInsertRowid = typeof rowid === 'bigint' && Number.isSafeInteger(Number(rowid)) ? Number(rowid) : rowid;
      return { changes: this.db.changes(false, false) as number, lastInsertRowid };
    });
  }

  exec(sql: string): void {
    this.#wrap(() => this.db.exec(sql));
  }

  close(): void {
    try {
      this.db.close();
    } finally {
      this.#vfs.unregister(this.#name);
    }
  }

  #wrap<T>(f: () => T): T {
    try {
      return f();
    } catch (error) {
      throw toSqlError(this.sqlite3, error);
    }
  }
}

type Stmt = ReturnType<OoDatabase['prepare']>;

function bind(stmt: Stmt, params: SqlParams): void {
  if (Array.isArray(params)) {
    if (params.length > 0) stmt.bind(params.map(toSqlValue) as never);
    return;
  }
  const named: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    const name = /^[:$@?]/.test(key)
      ? key
      : ([':', '$', '@'].map((p) => p + key).find((k) => stmt.getParamIndex(k)) ?? `:${key}`);
    named[name] = toSqlValue(value);
  }
  stmt.bind(named as never);
}

function toSqlValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (Buffer.isBuffer(v)) return new Uint8Array(v.buffer, v.byteOffset, v.length);
  return v;
}
