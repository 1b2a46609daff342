import type { Connection, Row, RunResult, SqlParams } from './connection.js';

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
