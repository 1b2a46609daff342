import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { QueryFailedError } from './errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonRow = Record<string, Json>;

/** One DuckDB connection: the unit of temporary views and tables (one per lake operation). */
export class DuckSession {
  readonly #conn: DuckDBConnection;

  constructor(conn: DuckDBConnection) {
    this.#conn = conn;
  }

  async run(sql: string): Promise<void> {
    try {
      await this.#conn.run(sql);
    } catch (cause) {
      throw new QueryFailedError(messageOf(cause), { cause });
    }
  }

  /** Rows with values as JSON (BIGINT and DECIMAL as strings, so nothing loses precision). */
  async rows(sql: string): Promise<{ columns: string[]; rows: JsonRow[] }> {
    try {
      const reader = await this.#conn.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as JsonRow[] };
    } catch (cause) {
      throw new QueryFailedError(messageOf(cause), { cause });
    }
  }
}

/** The embedded DuckDB engine: one instance per lake, a fresh connection per operation. */
export class Duck {
  readonly #instance: DuckDBInstance;

  private constructor(instance: DuckDBInstance) {
    this.#instance = instance;
  }

  static async open(options: { threads?: number; memoryLimit?: string } = {}): Promise<Duck> {
    const config: Record<string, string> = {};
    if (options.threads !== undefined) config['threads'] = String(options.threads);
    if (options.memoryLimit !== undefined) config['memory_limit'] = options.memoryLimit;
    // No extension downloads at run time: everything we use (parquet, json, icu) is built in.
    config['autoinstall_known_extensions'] = 'false';
    config['autoload_known_extensions'] = 'false';
    return new Duck(await DuckDBInstance.create(':memory:', config));
  }

  async session<T>(fn: (session: DuckSession) => Promise<T>): Promise<T> {
    const conn = await this.#instance.connect();
    try {
      const session = new DuckSession(conn);
      await session.run(`SET TimeZone = 'UTC'`);
      return await fn(session);
    } finally {
      conn.closeSync();
    }
  }

  close(): void {
    this.#instance.closeSync();
  }
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
