import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIN_GRACE_MS } from '@bucketdb/log';
import {
  applyMigrations,
  Database,
  collectGarbage,
  DEFAULT_GRACE,
  DEFAULT_RETENTION,
  exportSqliteFile,
  type GcReport,
  importSqliteFile,
  type Migration,
  parseDuration,
  restoreDatabase,
  retainedVersions,
} from '@bucketdb/sql';
import { type ObjectStore, openStore } from '@bucketdb/store';
import type { Command } from 'commander';
import { describeError, exitCodeOf, SQL_EXIT, UsageError } from '../sql-shell/exit-codes.js';

/** `--at`/`--to`: a version (a whole number) or a time (ISO 8601, e.g. 2026-12-01T10:00:00Z). */
export function parsePointInTime(value: string, option: string): number | Date {
  if (/^\d+$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new UsageError(`${option} takes a version number or an ISO 8601 time, got ${JSON.stringify(value)}`);
  return new Date(t);
}

const say = (s: string) => process.stdout.write(`${s}\n`);

/** Runs one admin command with its stores, mapping errors to the sql exit codes. */
async function run(what: string, urls: string[], f: (stores: ObjectStore[]) => Promise<void>): Promise<void> {
  const stores: ObjectStore[] = [];
  try {
    for (const url of urls) stores.push(await openStore(url));
    await f(stores);
    process.exitCode = SQL_EXIT.ok;
  } catch (error) {
    process.stderr.write(`bucketdb: ${what}: ${describeError(error)}\n`);
    process.exitCode = exitCodeOf(error);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

/** Parses a point-in-time option; on a bad value reports it, sets exit code 2 and returns null. */
function pointInTimeOption(value: string, option: string): number | Date | null {
  try {
    return parsePointInTime(value, option);
  } catch (error) {
    process.stderr.write(`bucketdb: ${describeError(error)}\n`);
    process.exitCode = SQL_EXIT.usage;
    return null;
  }
}

export function formatGcReport(r: GcReport): string[] {
  const d = r.deleted;
  return [
    `${r.dryRun ? 'would delete' : 'deleted'}: ${d.records} records, ${d.manifests} checkpoint manifests, ${d.objects} other objects (${d.bytes} bytes)`,
    `floor in force: ${r.effectiveFloor || 'none'}; retained checkpoints: ${r.retainedCheckpoints.join(', ') || 'none'}`,
    ...(r.raisedFloor !== undefined
      ? [
          `raised the floor to ${r.raisedFloor}: what only older versions need is deleted by a GC after the grace period`,
        ]
      : []),
  ];
}

/** `bucketdb sql export|import|restore|gc|versions`. */
export function registerSqlAdminCommands(sql: Command): void {
  sql
    .command('export')
    .description('write the database (as of now, or --at a version or time) to a plain SQLite file')
    .argument('<db-url>', 'database')
    .argument('<file>', 'the SQLite file to write (replaced if it exists)')
    .option('--at <version|time>', 'a version number or an ISO 8601 time inside the retention window')
    .action(async (url: string, file: string, o: { at?: string }) => {
      const at = o.at === undefined ? undefined : pointInTimeOption(o.at, '--at');
      if (at === null) return;
      await run('export', [url], async ([store]) => {
        const r = await exportSqliteFile(store as ObjectStore, file, at === undefined ? {} : { at });
        say(`exported version ${r.version} (${r.pageCount} pages of ${r.pageSize} bytes) to ${file}`);
      });
    });
  sql
    .command('import')
    .description('load a SQLite file into an empty database')
    .argument('<file>', 'a SQLite database file (rollback journal mode, or checkpointed WAL)')
    .argument('<db-url>', 'an empty database')
    .action(async (file: string, url: string) => {
      await run('import', [url], async ([store]) => {
        const r = await importSqliteFile(store as ObjectStore, file);
        say(`imported ${file}: ${r.pageCount} pages of ${r.pageSize} bytes`);
      });
    });
  sql
    .command('restore')
    .description('copy the database as of a version or time into an empty database')
    .argument('<db-url>', 'the database to restore from')
    .requiredOption('--to <version|time>', 'a version number or an ISO 8601 time inside the retention window')
    .requiredOption('--into <db-url>', 'an empty database to create')
    .action(async (url: string, o: { to: string; into: string }) => {
      const at = pointInTimeOption(o.to, '--to');
      if (at === null) return;
      await run('restore', [url, o.into], async ([source, target]) => {
        const r = await restoreDatabase(source as ObjectStore, target as ObjectStore, { at });
        say(`restored version ${r.version} (${r.pageCount} pages of ${r.pageSize} bytes) into ${o.into}`);
      });
    });
  sql
    .command('gc')
    .description('delete what no version inside the retention window needs (see docs/design/sql-gc.md)')
    .argument('<db-url>', 'database')
    .option('--dry-run', 'report what would be deleted, delete nothing')
    .option('--retention <duration>', 'keep every version of this window readable (default 7d)')
    .option('--grace <duration>', 'delete garbage only this long after it became garbage (default 1h)')
    .action(async (url: string, o: { dryRun?: boolean; retention?: string; grace?: string }) => {
      let retention: number;
      let grace: number;
      try {
        retention = parseDuration(o.retention ?? DEFAULT_RETENTION, '--retention');
        grace = parseDuration(o.grace ?? DEFAULT_GRACE, '--grace');
        if (grace < MIN_GRACE_MS) throw new UsageError('--grace must be at least 1m');
      } catch (error) {
        process.stderr.write(`bucketdb: ${describeError(error)}\n`);
        process.exitCode = SQL_EXIT.usage;
        return;
      }
      await run('gc', [url], async ([store]) => {
        const report = await collectGarbage(store as ObjectStore, { dryRun: o.dryRun ?? false, retention, grace });
        for (const line of formatGcReport(report)) say(line);
      });
    });
  sql
    .command('migrate')
    .description('apply the pending migrations in a directory, each exactly once (safe to run concurrently)')
    .argument('<db-url>', 'database')
    .argument('<dir>', 'a directory of <version>_<name>.sql files, e.g. 0001_create_users.sql')
    .action(async (url: string, dir: string) => {
      await run('migrate', [url], async ([store]) => {
        const migrations = await readMigrations(dir);
        const db = await Database.create(store as ObjectStore, {});
        try {
          const r = await applyMigrations(db, migrations);
          say(
            r.applied.length > 0
              ? `applied ${r.applied.join(', ')}; the database is at migration ${r.version}`
              : `nothing to apply; the database is at migration ${r.version}`,
          );
        } finally {
          await db.close();
        }
      });
    });
  sql
    .command('versions')
    .description('restore points inside the retention window')
    .argument('<db-url>', 'database')
    .action(async (url: string) => {
      await run('versions', [url], async ([store]) => {
        for (const line of formatVersions(await retainedVersions(store as ObjectStore))) say(line);
      });
    });
}

/** Migrations from `<version>_<name>.sql` files; other files are an error (a typo would skip a step). */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const m = /^(\d+)[_-](.+)\.sql$/.exec(file);
    if (!m) throw new UsageError(`${join(dir, file)} is not named <version>_<name>.sql`);
    migrations.push({ version: Number(m[1]), name: m[2] as string, up: await readFile(join(dir, file), 'utf8') });
  }
  return migrations;
}

export function formatVersions(v: Awaited<ReturnType<typeof retainedVersions>>): string[] {
  return [
    `oldest retained version: ${v.oldest}; newest record: ${v.newestRecord ?? 'none after the newest checkpoint'}`,
    ...v.checkpoints.map((c) => `checkpoint ${c.version}  ${c.time.toISOString()}`),
  ];
}
