import { Database, StatementSplitter } from '@bucketdb/sql';
import { metered, openStore } from '@bucketdb/store';
import { type Command, Option } from 'commander';
import { describeError, exitCodeOf, SQL_EXIT } from '../sql-shell/exit-codes.js';
import { OUTPUT_MODES, type OutputMode } from '../sql-shell/format.js';
import { repl } from '../sql-shell/repl.js';
import { ScriptFeeder } from '../sql-shell/script.js';
import { Session } from '../sql-shell/session.js';
import { registerSqlAdminCommands } from './sql-admin.js';

/** The database the shell opens without an argument: `main` in the embedded file store. */
export const DEFAULT_DATABASE = './bucketdb-data/main';

interface SqlOptions {
  execute?: string;
  json?: boolean;
  mode?: OutputMode;
  interactive?: boolean;
  snapshot?: boolean;
  cacheMb?: string;
  cacheDir?: string;
}

export function registerSqlCommand(program: Command): void {
  const sql = program
    .command('sql')
    .description('SQL shell: SQLite whose pages live in the bucket, serializable across processes')
    .argument('[db-url]', 'database: ./dir, file:///abs/dir, s3://bucket/db?endpoint=URL', DEFAULT_DATABASE)
    .option('-e, --execute <sql>', 'run these statements, print the results and exit')
    .option('--json', 'print rows as JSON (one array per statement)')
    .addOption(new Option('--mode <mode>', 'output mode').choices(OUTPUT_MODES))
    .option('-i, --interactive', 'run the interactive shell even when standard input is not a terminal')
    .option('--snapshot', 'read without confirming the tail first (no request per read; may be stale)')
    .option('--cache-mb <n>', 'page cache size in MiB (default 64)')
    .option(
      '--cache-dir <dir>',
      'keep records and pages on disk here across runs: a later open asks the bucket only what changed',
    )
    .addHelpText(
      'after',
      `
Without -e, statements come from standard input when it is not a terminal; otherwise the
interactive shell starts (.help lists its commands). Scripts stop at the first error.

Exit codes: 0 ok, 1 SQL error, 2 usage error, 3 store error or corrupt data,
4 transaction conflict (after retries), 5 other failure.

Examples:
  bucketdb sql
  bucketdb sql -e "select sqlite_version()"
  bucketdb sql s3://my-bucket/app?endpoint=http://127.0.0.1:9000 --json -e "select * from users"
  bucketdb sql ./data/app < schema.sql

Administration (each has --help):
  bucketdb sql export <db-url> out.sqlite [--at <version|time>]
  bucketdb sql import file.sqlite <db-url>
  bucketdb sql restore <db-url> --to <version|time> --into <db-url>
  bucketdb sql gc <db-url> [--dry-run]
  bucketdb sql migrate <db-url> <dir>
  bucketdb sql versions <db-url>`,
    )
    .action(async (url: string, options: SqlOptions) => {
      process.exitCode = await runSql(url, options);
    });
  registerSqlAdminCommands(sql);
}

async function runSql(url: string, options: SqlOptions): Promise<number> {
  const io = {
    out: (s: string) => process.stdout.write(`${s}\n`),
    err: (s: string) => process.stderr.write(`${s}\n`),
  };
  const cacheMb = options.cacheMb === undefined ? 64 : Number(options.cacheMb);
  if (!(cacheMb > 0)) {
    io.err('bucketdb: --cache-mb takes a positive number');
    return SQL_EXIT.usage;
  }
  let session: Session;
  try {
    const store = metered(await openStore(url));
    const db = await Database.create(
      store,
      {
        reads: options.snapshot ? 'snapshot' : 'strong',
        cacheBytes: cacheMb * 2 ** 20,
        ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
      },
      () => store.close(),
    );
    const mode = options.json ? 'json' : (options.mode ?? 'table');
    session = new Session(db, store.meter, await StatementSplitter.load(), io, mode);
  } catch (error) {
    io.err(`bucketdb: cannot open ${url}: ${describeError(error)}`);
    return exitCodeOf(error);
  }
  try {
    if (options.execute !== undefined) {
      await new ScriptFeeder(session).run(options.execute);
    } else if (process.stdin.isTTY || options.interactive) {
      await repl(session, process.stdin, process.stdout);
    } else {
      await new ScriptFeeder(session).run(await readStdin());
    }
    await session.close();
    return SQL_EXIT.ok;
  } catch (error) {
    io.err(`Error: ${describeError(error)}`);
    await session.close().catch(() => {});
    return exitCodeOf(error);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
