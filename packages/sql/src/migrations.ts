import { SqlError } from './errors.js';
import type { TransactionContext } from './transaction-context.js';

/** One schema change. `up` runs inside a transaction and may run more than once before one commit takes effect: keep side effects outside the database out of it. */
export interface Migration {
  /** A positive whole number; migrations apply in increasing order. */
  version: number;
  name: string;
  /** SQL statements, or a function on the transaction. */
  up: string | ((tx: TransactionContext) => void | Promise<void>);
}

export type MigrationErrorCode = 'InvalidMigrations' | 'DatabaseNewer' | 'MigrationMismatch';

/**
 * Migrations could not be applied: the list is malformed (`InvalidMigrations`), the database has
 * migrations this code does not know (`DatabaseNewer`: opened by older code), or a recorded
 * migration has another name than the code's (`MigrationMismatch`). Nothing was changed.
 */
export class MigrationError extends SqlError<MigrationErrorCode> {}

/** Where applied migrations are recorded, inside the database itself. */
export const MIGRATIONS_TABLE = '_bucketdb_migrations';

export interface MigrationResult {
  /** Versions this call applied (others were applied already, perhaps by a racing process). */
  applied: number[];
  /** The database's migration version afterwards. */
  version: number;
}

/**
 * Brings the database up to the newest of `migrations`. Each pending migration runs in its own
 * serializable transaction together with the row that records it, after checking (inside the same
 * transaction) that no one recorded it yet: racing processes conflict on the record, the loser
 * re-runs, sees the row and skips, so each migration takes effect exactly once.
 */
/** What applying migrations needs of a database (a Database; structural, so options.ts → here stays loop-free). */
export interface MigrationTarget {
  exec(sql: string, options?: { signal?: AbortSignal }): Promise<void>;
  query<T>(sql: string, params?: undefined, options?: { signal?: AbortSignal }): Promise<T[]>;
  transaction<T>(fn: (tx: TransactionContext) => T | Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
}

/** `signal` stops between migrations (each is one transaction: none is left half applied). */
export async function applyMigrations(
  db: MigrationTarget,
  migrations: readonly Migration[],
  signal?: AbortSignal,
): Promise<MigrationResult> {
  const call = signal ? { signal } : {};
  const sorted = validate(migrations);
  const newest = sorted.at(-1)?.version ?? 0;
  const applied: number[] = [];
  await db.exec(
    `create table if not exists ${MIGRATIONS_TABLE}(version integer primary key, name text not null, applied_at text not null)`,
    call,
  );
  const recorded = await db.query<{ version: number; name: string }>(
    `select version, name from ${MIGRATIONS_TABLE} order by version`,
    undefined,
    call,
  );
  checkRecorded(recorded, sorted, newest);
  for (const m of sorted) {
    if (recorded.some((r) => r.version === m.version)) continue;
    const did = await db.transaction(async (tx) => {
      const rows = tx.query<{ version: number; name: string }>(`select version, name from ${MIGRATIONS_TABLE}`);
      checkRecorded(rows, sorted, newest);
      if (rows.some((r) => r.version === m.version)) return false;
      if (typeof m.up === 'string') tx.exec(m.up);
      else await m.up(tx);
      tx.run(`insert into ${MIGRATIONS_TABLE}(version, name, applied_at) values (?, ?, ?)`, [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
      return true;
    }, call);
    if (did) applied.push(m.version);
  }
  return { applied, version: newest };
}

function validate(migrations: readonly Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (!Number.isSafeInteger(m.version) || m.version < 1) {
      throw new MigrationError('InvalidMigrations', `migration versions are whole numbers >= 1, got ${m.version}`);
    }
    if (i > 0 && sorted[i - 1]?.version === m.version) {
      throw new MigrationError('InvalidMigrations', `two migrations have version ${m.version}`);
    }
    if (typeof m.name !== 'string' || m.name === '') {
      throw new MigrationError('InvalidMigrations', `migration ${m.version} needs a name`);
    }
    if (typeof m.up !== 'string' && typeof m.up !== 'function') {
      throw new MigrationError('InvalidMigrations', `migration ${m.version} needs up: SQL or a function`);
    }
  });
  return sorted;
}

function checkRecorded(recorded: { version: number; name: string }[], code: Migration[], newest: number): void {
  for (const r of recorded) {
    if (r.version > newest) {
      throw new MigrationError(
        'DatabaseNewer',
        `the database has migration ${r.version} (${r.name}), newer than this code's newest (${newest}): upgrade the code`,
      );
    }
    const m = code.find((c) => c.version === r.version);
    if (m && m.name !== r.name) {
      throw new MigrationError(
        'MigrationMismatch',
        `migration ${r.version} is recorded as ${JSON.stringify(r.name)} but the code calls it ${JSON.stringify(m.name)}`,
      );
    }
  }
}
