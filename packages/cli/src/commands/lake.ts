// The lake (and DuckDB's native library) loads only when a lake command runs, not for every command.
import { EventStore } from '@bucketdb/events';
import type { IngestSource, Lake, QueryResult, SchemaInput } from '@bucketdb/lake';
import { open as openSql } from '@bucketdb/sql';
import { openStore } from '@bucketdb/store';
import { createInterface } from 'node:readline';
import { type Command, InvalidArgumentError } from 'commander';

/** Exit codes of `bucketdb lake`: 2 for usage errors (bad arguments, bad schema or SQL), 1 for the rest. */
export const LAKE_EXIT = { ok: 0, error: 1, usage: 2 } as const;

const STORE_ARG = 'store URL: ./dir, file:///abs/dir, s3://bucket/prefix?endpoint=URL';
const USAGE_CODES = ['InvalidArgument', 'SchemaMismatch', 'InvalidRows', 'QueryFailed', 'TableExists'];

export function registerLakeCommand(program: Command): void {
  const lake = program
    .command('lake')
    .description('Delta Lake tables of Parquet on the bucket, queried with SQL through DuckDB')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : LAKE_EXIT.usage))
    .addHelpText(
      'after',
      `
Tables are Delta Lake tables under <store>/<table>/: Athena, Spark, Trino and delta-rs read them.
Queries fetch only the files that partition values and min/max statistics cannot rule out.

Exit codes: 0 ok, 1 error (conflict, store failure, unsupported table), 2 usage error.

Examples:
  bucketdb lake create ./data trips --schema id:long,city:string,fare:double --partition-by city
  bucketdb lake append ./data trips trips-2026-01.parquet more.csv
  bucketdb lake query ./data "SELECT city, avg(fare) FROM trips WHERE city = 'ams' GROUP BY 1" --explain
  bucketdb lake query ./data "SELECT count(*) FROM trips VERSION AS OF 3"
  bucketdb lake history ./data trips
  bucketdb lake optimize ./data trips --sort-by id
  bucketdb lake vacuum ./data trips --retention-hours 168
  echo "SELECT count(*) FROM trips;" | bucketdb lake sql ./data
  bucketdb lake ingest ./data orders --from-sql ./bucketdb-data/main --sql-table orders
  bucketdb lake ingest ./data order_events --from-events ./events --all --stream-prefix order- --partition-by day`,
    );

  lake
    .command('create')
    .description('create a table')
    .argument('<store>', STORE_ARG)
    .argument('<table>', 'table name (a path under the store)')
    .requiredOption(
      '--schema <columns>',
      'columns as name:type,… (string, long, integer, short, byte, double, float, boolean, date, timestamp, binary, decimal(p;s))',
      parseSchema,
    )
    .option('--partition-by <columns>', 'partition columns, comma-separated', list)
    .action(async (url: string, table: string, options: { schema: Record<string, string>; partitionBy?: string[] }) => {
      await withLake(url, async (l) => {
        await l.createTable(table, { schema: options.schema, partitionBy: options.partitionBy ?? [] });
        print({ table, version: 0 });
      });
    });

  lake
    .command('append')
    .description('append Parquet, CSV, JSON (one object per line) or Arrow IPC files as one commit')
    .argument('<store>', STORE_ARG)
    .argument('<table>', 'table name')
    .argument('<files...>', 'local files: .parquet, .csv, .json/.jsonl, .arrow (Arrow IPC)')
    .option('--rows-per-file <n>', 'rows per data file at most', positiveInt)
    .option('--sort-by <columns>', 'sort rows within each data file (tighter min/max for skipping)', list)
    .action(
      async (url: string, table: string, files: string[], options: { rowsPerFile?: number; sortBy?: string[] }) => {
        await withLake(url, async (l) => {
          const progress = process.stderr.isTTY ? (s: string) => process.stderr.write(`\r${s}\x1b[K`) : undefined;
          progress?.(`loading ${files.length} file(s) into ${table}…`);
          const result = await l.table(table).append({ files }, options);
          progress?.('');
          if (progress) process.stderr.write('\r');
          print(result);
        });
      },
    );

  lake
    .command('query')
    .description("run SQL; table names are lake tables (t VERSION AS OF n, t TIMESTAMP AS OF '…' for time travel)")
    .argument('<store>', STORE_ARG)
    .argument('<sql>', 'the statement')
    .option('--json', 'print rows as one JSON object per line')
    .option('--explain', 'print files considered, skipped and fetched, bytes and cost, to stderr')
    .action(async (url: string, sql: string, options: { json?: boolean; explain?: boolean }) => {
      await withLake(url, async (l) => {
        const result = await l.query(sql);
        printRows(result, options.json === true);
        if (options.explain) process.stderr.write(`${(await loadLake()).formatReport(result.report)}\n`);
      });
    });

  lake
    .command('sql')
    .description('a SQL shell over the lake: statements end with ";", .explain toggles the file/cost report')
    .argument('<store>', STORE_ARG)
    .option('--json', 'print rows as one JSON object per line')
    .action(async (url: string, options: { json?: boolean }) => {
      await withLake(url, async (l) => {
        await shell(l, options.json === true);
      });
    });

  for (const [name, description] of [
    ['delete', 'delete the rows where a SQL predicate holds'],
    ['history', "list the table's commits, newest first"],
  ] as const) {
    const cmd = lake
      .command(name)
      .description(description)
      .argument('<store>', STORE_ARG)
      .argument('<table>', 'table name');
    if (name === 'delete') {
      cmd.argument('<where>', 'SQL predicate').action(async (url: string, table: string, where: string) => {
        await withLake(url, async (l) => print(await l.table(table).delete(where)));
      });
    } else {
      cmd.action(async (url: string, table: string) => {
        await withLake(url, async (l) => {
          for (const h of await l.table(table).history()) {
            print({
              version: h.version,
              timestamp: new Date(h.timestamp).toISOString(),
              operation: h.commitInfo.operation,
              parameters: h.commitInfo.operationParameters,
            });
          }
        });
      });
    }
  }

  lake
    .command('ingest')
    .description(
      'copy what is new in a bucketdb SQL table or an event stream into a lake table, exactly once (creates the table if needed)',
    )
    .argument('<store>', STORE_ARG)
    .argument('<table>', 'lake table name')
    .option('--from-sql <db-url>', 'source: a bucketdb SQL database (as for `bucketdb sql`)')
    .option('--sql-table <name>', 'the SQL table to copy (with --from-sql)')
    .option('--key <column>', 'an integer column that only grows (with --from-sql; default: the INTEGER PRIMARY KEY)')
    .option('--from-events <url>', 'source: a bucketdb event store (as for `bucketdb events`)')
    .option('--events-prefix <prefix>', 'where in that store the event store lives (default: its root)')
    .option('--stream <name>', 'the stream to copy (with --from-events)')
    .option('--all', 'copy $all, the global order (with --from-events; narrow it with the filters below)')
    .option('--stream-prefix <prefix>', '$all: streams starting with this')
    .option('--type <type>', '$all: events of this type')
    .option('--regex <regex>', '$all: streams matching this regular expression')
    .option('--partition-by <columns>', 'partition columns when the table is created (events: e.g. day)', list)
    .option('--batch <n>', 'rows per commit (default 10000)', positiveInt)
    .action(async (url: string, table: string, options: IngestCliOptions) => {
      await withLake(url, async (l) => {
        const { ingest, isLakeError } = await loadLake();
        const from = await openIngestSource(options);
        try {
          let lakeTable = l.table(table);
          const exists = await lakeTable.snapshot().then(
            () => true,
            (e: unknown) => (isLakeError(e, 'TableNotFound') ? false : Promise.reject(e)),
          );
          if (!exists) {
            lakeTable = await l.createTable(table, { schema: from.schema, partitionBy: options.partitionBy ?? [] });
          }
          const progress = process.stderr.isTTY ? (s: string) => process.stderr.write(`\r${s}\x1b[K`) : undefined;
          const result = await ingest(lakeTable, from.source, {
            appId: from.appId,
            ...(options.batch === undefined ? {} : { batch: options.batch }),
            onBatch: (p) => progress?.(`${p.rows} rows, ${from.positionName} ${p.position}, version ${p.version}`),
          });
          if (progress) process.stderr.write('\n');
          print(result);
        } finally {
          await from.close();
        }
      });
    });

  lake
    .command('optimize')
    .description('compact small files of each partition (a rewrite readers do not see as a change)')
    .argument('<store>', STORE_ARG)
    .argument('<table>', 'table name')
    .option('--sort-by <columns>', 'sort the rewritten files by these columns', list)
    .option('--target-mb <n>', 'files under this size are compacted (default 64)', positiveInt)
    .action(async (url: string, table: string, options: { sortBy?: string[]; targetMb?: number }) => {
      await withLake(url, async (l) => {
        print(
          await l.table(table).optimize({
            ...(options.sortBy ? { sortBy: options.sortBy } : {}),
            ...(options.targetMb ? { targetFileBytes: options.targetMb * 2 ** 20 } : {}),
          }),
        );
      });
    });

  lake
    .command('vacuum')
    .description('delete data files no version inside the retention period needs')
    .argument('<store>', STORE_ARG)
    .argument('<table>', 'table name')
    .option('--retention-hours <h>', 'keep files removed less than this long ago (default 168)', positiveNumber)
    .option('--dry-run', 'list what would be deleted')
    .option('--force', 'allow a retention under one hour')
    .action(
      async (url: string, table: string, options: { retentionHours?: number; dryRun?: boolean; force?: boolean }) => {
        await withLake(url, async (l) => {
          const result = await l.table(table).vacuum({
            ...(options.retentionHours === undefined ? {} : { retentionMs: options.retentionHours * 3_600_000 }),
            dryRun: options.dryRun === true,
            force: options.force === true,
          });
          print({ deleted: result.deleted.length, kept: result.kept, dryRun: options.dryRun === true });
          if (options.dryRun) for (const key of result.deleted) process.stdout.write(`${key}\n`);
        });
      },
    );
}

interface IngestCliOptions {
  fromSql?: string;
  sqlTable?: string;
  key?: string;
  fromEvents?: string;
  eventsPrefix?: string;
  stream?: string;
  all?: boolean;
  streamPrefix?: string;
  type?: string;
  regex?: string;
  partitionBy?: string[];
  batch?: number;
}

interface OpenedSource {
  /** Names the source in the table's progress record: the same source resumes, another starts over. */
  appId: string;
  source: IngestSource;
  /** The schema of a table created for it. */
  schema: SchemaInput;
  /** What the recorded position counts, for progress lines. */
  positionName: string;
  close(): Promise<void>;
}

function openIngestSource(options: IngestCliOptions): Promise<OpenedSource> {
  const sql = options.fromSql !== undefined;
  const events = options.fromEvents !== undefined;
  if (sql === events) throw new InvalidArgumentError('give one source: --from-sql <db-url> or --from-events <url>');
  const sqlOnly = options.sqlTable !== undefined || options.key !== undefined;
  const eventsOnly = [
    options.stream,
    options.all,
    options.streamPrefix,
    options.type,
    options.regex,
    options.eventsPrefix,
  ];
  if (sql && eventsOnly.some((o) => o !== undefined)) {
    throw new InvalidArgumentError(
      '--stream, --all, --stream-prefix, --type, --regex and --events-prefix go with --from-events',
    );
  }
  if (events && sqlOnly) throw new InvalidArgumentError('--sql-table and --key go with --from-sql');
  return sql ? openSqlSource(options) : openEventsSource(options);
}

const SQLITE_TYPES: [RegExp, string][] = [
  [/INT/i, 'long'],
  [/REAL|FLOA|DOUB/i, 'double'],
  [/BLOB/i, 'binary'],
  [/NUM|DEC/i, 'double'],
];

/** Rows of one bucketdb SQL table in the order of an integer key that only grows. */
async function openSqlSource(options: IngestCliOptions): Promise<OpenedSource> {
  const table = options.sqlTable;
  if (table === undefined) throw new InvalidArgumentError('--from-sql needs --sql-table <name>');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new InvalidArgumentError(`not a table name: ${table}`);
  const { keyedSource } = await loadLake();
  const db = await openSql(options.fromSql as string);
  try {
    const columns = await db.query<{ name: string; type: string; pk: number }>(`PRAGMA table_info(${table})`);
    if (columns.length === 0) throw new InvalidArgumentError(`no SQL table ${JSON.stringify(table)}`);
    const key = options.key ?? columns.find((c) => c.pk === 1 && /^INTEGER$/i.test(c.type))?.name;
    if (key === undefined || !columns.some((c) => c.name === key)) {
      throw new InvalidArgumentError(`give --key: an integer column of ${table} that only grows`);
    }
    const schema: Record<string, string> = {};
    for (const c of columns) schema[c.name] = SQLITE_TYPES.find(([re]) => re.test(c.type))?.[1] ?? 'string';
    const k = `"${key}"`;
    return {
      appId: `bucketdb-sql:${options.fromSql as string}#${table}`,
      schema,
      positionName: `up to ${key}`,
      source: keyedSource(key, (after, limit) =>
        db.query(`SELECT * FROM ${table} WHERE ${k} > ? ORDER BY ${k} LIMIT ?`, [
          after ?? Number.MIN_SAFE_INTEGER,
          limit,
        ]),
      ),
      close: () => db.close(),
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** One event stream, or $all through a filter, of a bucketdb event store. */
async function openEventsSource(options: IngestCliOptions): Promise<OpenedSource> {
  const url = options.fromEvents as string;
  const filterGiven = options.streamPrefix !== undefined || options.type !== undefined || options.regex !== undefined;
  if ((options.stream === undefined) === (options.all !== true)) {
    throw new InvalidArgumentError('--from-events needs --stream <name> or --all');
  }
  if (options.stream !== undefined && filterGiven) {
    throw new InvalidArgumentError('--stream-prefix, --type and --regex filter --all, not one stream');
  }
  let regex: RegExp | undefined;
  if (options.regex !== undefined) {
    try {
      regex = new RegExp(options.regex);
    } catch (e) {
      throw new InvalidArgumentError(`--regex: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const filter = {
    ...(options.streamPrefix === undefined ? {} : { streamPrefix: options.streamPrefix }),
    ...(options.type === undefined ? {} : { eventType: options.type }),
    ...(regex === undefined ? {} : { regex }),
  };
  const { EVENT_SCHEMA, eventSource } = await loadLake();
  const store = await EventStore.open(url, options.eventsPrefix === undefined ? {} : { prefix: options.eventsPrefix });
  const where = `bucketdb-events:${url}${options.eventsPrefix === undefined ? '' : `?prefix=${options.eventsPrefix}`}`;
  return {
    appId:
      options.stream !== undefined
        ? `${where}#stream=${options.stream}`
        : `${where}#$all${filterGiven ? `?${JSON.stringify({ ...filter, regex: options.regex })}` : ''}`,
    schema: EVENT_SCHEMA,
    positionName: options.stream !== undefined ? 'revision' : 'record',
    source: eventSource(store, options.stream !== undefined ? { stream: options.stream } : { all: true, filter }),
    close: () => store.close(),
  };
}

/** Reads statements from stdin (a prompt on a TTY); an error is printed and the shell goes on. */
async function shell(lake: Lake, json: boolean): Promise<void> {
  const { formatReport } = await loadLake();
  const tty = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, ...(tty ? { output: process.stdout, prompt: 'lake> ' } : {}) });
  let explain = false;
  let pending = '';
  let failed = false;
  rl.prompt?.();
  for await (const line of rl) {
    const trimmed = line.trim();
    if (pending === '' && trimmed.startsWith('.')) {
      if (trimmed === '.quit' || trimmed === '.exit') break;
      if (trimmed === '.explain') explain = !explain;
      else process.stderr.write('commands: .explain (toggle the report), .quit\n');
      if (tty) rl.prompt();
      continue;
    }
    pending += `${line}\n`;
    if (!trimmed.endsWith(';')) continue;
    const sql = pending.trim().replace(/;$/, '');
    pending = '';
    try {
      const result = await lake.query(sql);
      printRows(result, json);
      if (explain) process.stderr.write(`${formatReport(result.report)}\n`);
    } catch (error) {
      failed = true;
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    if (tty) rl.prompt();
  }
  // A script (not a TTY) that hit an error exits non-zero, as `bucketdb sql` does.
  if (failed && !tty) process.exitCode = LAKE_EXIT.error;
}

const loadLake = () => import('@bucketdb/lake');

async function withLake(url: string, run: (lake: Lake) => Promise<void>): Promise<void> {
  const { isLakeError, Lake } = await loadLake();
  let lake: Lake | undefined;
  try {
    const store = await openStore(url);
    lake = await Lake.open({ store });
    await run(lake);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = isLakeError(error) ? ` (${error.code})` : '';
    process.stderr.write(`bucketdb: ${message}${code}\n`);
    const usage = error instanceof InvalidArgumentError || (isLakeError(error) && USAGE_CODES.includes(error.code));
    process.exitCode = usage ? LAKE_EXIT.usage : LAKE_EXIT.error;
  } finally {
    await lake?.close();
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? v.message : v))}\n`);
}

function printRows(result: QueryResult, json: boolean): void {
  if (json) {
    for (const row of result.rows) print(row);
    return;
  }
  const cells = [result.columns, ...result.rows.map((r) => result.columns.map((c) => cellText(r[c])))];
  const widths = result.columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd();
  process.stdout.write(`${line(result.columns)}\n${widths.map((w) => '-'.repeat(w)).join('-+-')}\n`);
  for (const row of cells.slice(1)) process.stdout.write(`${line(row)}\n`);
  process.stdout.write(`(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})\n`);
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function parseSchema(value: string): Record<string, string> {
  const schema: Record<string, string> = {};
  for (const part of value.split(',')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+?)\s*$/.exec(part);
    if (!m) throw new InvalidArgumentError(`expected name:type, got ${JSON.stringify(part)}`);
    schema[m[1] as string] = (m[2] as string).replace(';', ',');
  }
  return schema;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
}
