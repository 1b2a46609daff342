import { readFile } from 'node:fs/promises';
import { cost, S3_STANDARD_US_EAST_1 } from '@bucketdb/store';
import { formatGcReport, formatVersions } from '../commands/sql-admin.js';
import { describeError, UsageError } from './exit-codes.js';
import { formatRows, isOutputMode, OUTPUT_MODES } from './format.js';
import type { Session } from './session.js';

export const HELP = `.checkpoint         write a checkpoint of the current version
.gc [dry-run]       garbage collection: delete what no version inside the retention window needs
.help               show this message
.indexes [TABLE]    list indexes (of TABLE)
.log [N]            the newest N log records (default 10): version, commit id, pages, bytes
.mode MODE          output mode: ${OUTPUT_MODES.join(', ')}
.quit               exit (also .exit, Ctrl-D)
.read FILE          run the SQL in FILE
.schema [TABLE]     show CREATE statements (of TABLE)
.stats              version, requests, bytes and their cost so far, cache hits and misses
.tables             list tables and views
.timer on|off       print the time each statement takes
.versions           restore points inside the retention window (for open --at, export, restore)`;

/** What a dot-command asks of the caller. */
export type DotResult = 'continue' | 'quit';

/** Runs a dot-command line such as `.schema users`; `runScript` runs SQL text (for .read). */
export async function runDotCommand(
  s: Session,
  line: string,
  runScript: (sql: string) => Promise<void>,
): Promise<DotResult> {
  const [name, ...args] = line.trim().split(/\s+/);
  const arg = args[0];
  const rows = async (sql: string, params: unknown[] = []) =>
    s.tx ? s.tx.queryWithColumns(sql, params) : s.db.queryWithColumns(sql, params);
  switch (name) {
    case '.quit':
    case '.exit':
      return 'quit';
    case '.help':
      s.io.out(HELP);
      return 'continue';
    case '.tables': {
      const { rows: r } = await rows(
        "select name from sqlite_schema where type in ('table', 'view') and name not like 'sqlite_%' order by name",
      );
      if (r.length > 0) s.io.out(r.map((x) => x.name).join('  '));
      return 'continue';
    }
    case '.schema': {
      const where = arg ? 'and tbl_name = ?' : '';
      const { rows: r } = await rows(
        `select sql from sqlite_schema where sql is not null ${where} order by tbl_name, type desc, name`,
        arg ? [arg] : [],
      );
      for (const x of r) s.io.out(`${x.sql};`);
      return 'continue';
    }
    case '.indexes':
    case '.indices': {
      const where = arg ? 'and tbl_name = ?' : '';
      const { rows: r } = await rows(
        `select name from sqlite_schema where type = 'index' ${where} order by name`,
        arg ? [arg] : [],
      );
      if (r.length > 0) s.io.out(r.map((x) => x.name).join('  '));
      return 'continue';
    }
    case '.mode':
      if (!arg || !isOutputMode(arg)) throw new UsageError(`.mode takes one of ${OUTPUT_MODES.join(', ')}`);
      s.mode = arg;
      return 'continue';
    case '.timer':
      if (arg !== 'on' && arg !== 'off') throw new UsageError('.timer takes on or off');
      s.timer = arg === 'on';
      return 'continue';
    case '.checkpoint':
      s.io.out(`checkpoint at version ${await s.db.checkpoint()}`);
      return 'continue';
    case '.log': {
      const n = arg === undefined ? 10 : Number(arg);
      if (!Number.isSafeInteger(n) || n < 1) throw new UsageError('.log takes a positive number of records');
      const records = await s.db.records(n);
      const table = records.map((r) => ({
        version: r.version,
        commit_id: r.commitId,
        time: new Date(r.timestamp).toISOString(),
        pages: r.pages,
        page_count: r.pageCount,
        bytes: r.bytes,
      }));
      if (table.length > 0) s.io.out(formatRows(s.mode, Object.keys(table[0] ?? {}), table));
      return 'continue';
    }
    case '.stats':
      s.io.out(await stats(s));
      return 'continue';
    case '.gc': {
      if (arg !== undefined && arg !== 'dry-run') throw new UsageError('.gc takes nothing or dry-run');
      for (const line of formatGcReport(await s.db.gc({ dryRun: arg === 'dry-run' }))) s.io.out(line);
      return 'continue';
    }
    case '.versions':
      for (const line of formatVersions(await s.db.versions())) s.io.out(line);
      return 'continue';
    case '.read': {
      if (!arg) throw new UsageError('.read takes a file name');
      await runScript(await readFile(arg, 'utf8'));
      return 'continue';
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(name)}; enter .help for the list`);
  }
}

async function stats(s: Session): Promise<string> {
  const st = s.db.stats();
  const stored = await s.db.storage();
  const live = st.pageCount * st.pageSize;
  const gc = s.db.lastGc;
  const checkpointError = s.db.lastCheckpointError;
  const m = s.meter.snapshot();
  const usd = cost(m, S3_STANDARD_US_EAST_1);
  const requests = Object.entries(m.requests)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
  const lookups = st.cache.hits + st.cache.misses;
  return [
    `version:      ${st.version} (checkpoint ${st.checkpointVersion ?? 'none'})`,
    `database:     ${st.pageCount} pages of ${st.pageSize} bytes (${((st.pageCount * st.pageSize) / 2 ** 20).toFixed(2)} MiB)`,
    `requests:     ${requests || 'none'}`,
    `bytes:        ${m.bytesIn} sent, ${m.bytesOut} received`,
    `cost:         $${usd.total.toFixed(6)} at S3 Standard prices (requests $${usd.requests.toFixed(6)}, transfer $${usd.transfer.toFixed(6)})`,
    `page cache:   ${st.cache.hits} hits, ${st.cache.misses} misses (${lookups ? ((100 * st.cache.hits) / lookups).toFixed(1) : '0.0'}% hits), ${(st.cache.bytes / 2 ** 20).toFixed(2)} of ${(st.cache.maxBytes / 2 ** 20).toFixed(0)} MiB`,
    `commits:      ${st.commits} by this shell, ${st.records} from other writers; ${st.conflicts} conflicts, ${st.retries} re-runs`,
    `stored:       ${stored.objects} objects, ${(stored.bytes / 2 ** 20).toFixed(2)} MiB for ${(live / 2 ** 20).toFixed(2)} MiB live (${live ? (stored.bytes / live).toFixed(1) : '-'}x); ${stored.records} log records`,
    `checkpoint:   ${st.recordsSinceCheckpoint} records (${st.bytesSinceCheckpoint} bytes) since checkpoint ${st.checkpointVersion ?? 'none'}${checkpointError ? `; last automatic checkpoint failed: ${describeError(checkpointError)}` : ''}`,
    `open:         ${s.db.warm ? 'warm, from --cache-dir' : 'cold'}; moved to newer checkpoints without the records between ${st.rebases} times${s.db.lastMaintenanceError ? `; last maintenance failed: ${describeError(s.db.lastMaintenanceError)}` : ''}`,
    `gc:           ${!gc ? 'not run by this shell' : gc.error ? `failed at ${gc.at.toISOString()}: ${describeError(gc.error)}` : `${gc.at.toISOString()}, ${gc.report?.dryRun ? 'dry run: would delete' : 'deleted'} ${gc.report?.keys.length ?? 0} objects`}`,
  ].join('\n');
}
