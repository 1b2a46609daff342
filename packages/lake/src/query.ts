import { cost, Meter, mapConcurrent, metered, type ObjectStore, S3_STANDARD_US_EAST_1 } from '@bucketdb/store';
import type { AddFile } from './actions.js';
import { rewriteAsOf } from './as-of.js';
import type { Duck, JsonRow } from './duck.js';
import { isLakeError, QueryFailedError } from './errors.js';
import type { FileCache } from './file-cache.js';
import { checkTableName, dataKey } from './paths.js';
import { skipFile, tableNames, tableRefs } from './prune.js';
import { duckType, ident, literal } from './schema.js';
import { DeltaLog, type LogListing, type Snapshot } from './snapshot.js';
import { fileSelect } from './table.js';

export interface TableScan {
  /** The name as the SQL used it (with @v<version> or @t<ms> for time travel). */
  name: string;
  table: string;
  version: number;
  filesTotal: number;
  filesSkippedByPartition: number;
  filesSkippedByStats: number;
  filesRead: number;
  bytesTotal: number;
  bytesRead: number;
}

export interface QueryReport {
  tables: TableScan[];
  /** Bytes fetched from the store by this query (log and data; cached files cost nothing). */
  bytesFetched: number;
  requests: number;
  /** What the store requests of this query cost at S3 Standard (us-east-1) prices. */
  usd: number;
  /** Milliseconds spent resolving snapshots and fetching files, and in DuckDB. */
  planMs: number;
  executeMs: number;
}

export interface QueryResult {
  columns: string[];
  rows: JsonRow[];
  report: QueryReport;
}

function parseName(name: string): { table: string; version?: number; timestamp?: number } {
  const m = /^(.*)@([vt])(\d+)$/.exec(name);
  if (!m) return { table: name };
  return m[2] === 'v'
    ? { table: m[1] as string, version: Number(m[3]) }
    : { table: m[1] as string, timestamp: Number(m[3]) };
}

export interface QueryContext {
  store: ObjectStore;
  duck: Duck;
  cache: FileCache;
  listings?: Map<string, LogListing>;
}

/**
 * Runs SQL over lake tables: each table name resolves to a snapshot; the files the WHERE clauses
 * cannot rule out are fetched (through the metered store, into the local cache) and DuckDB runs
 * the statement over views of just those files.
 */
export interface QueryOptions {
  /** Use partition values and min/max statistics to skip files (default true; off for baselines). */
  skipping?: boolean;
}

export async function runQuery(ctx: QueryContext, sql: string, options: QueryOptions = {}): Promise<QueryResult> {
  const skipping = options.skipping ?? true;
  const started = performance.now();
  const meter = new Meter();
  const store = metered(ctx.store, meter);
  const rewritten = rewriteAsOf(sql);
  return ctx.duck.session(async (s) => {
    const { rows: parsed } = await s.rows(`SELECT json_serialize_sql(${literal(rewritten)}) AS j`);
    const ast = JSON.parse(String(parsed[0]?.['j'])) as { error?: boolean; error_message?: string };
    if (ast.error) throw new QueryFailedError(ast.error_message ?? 'the SQL does not parse');
    const snapshots = new Map<string, Snapshot>();
    for (const name of tableNames(ast)) {
      const { table, ...target } = parseName(name);
      try {
        checkTableName(table);
        snapshots.set(name, await new DeltaLog(store, ctx.cache, ctx.duck, table, ctx.listings).snapshot(target));
      } catch (e) {
        // Not a lake table (a DuckDB function's table, a typo): DuckDB will say so itself.
        if (!isLakeError(e, 'TableNotFound') && !isLakeError(e, 'InvalidArgument')) throw e;
      }
    }
    const columnsOf = (name: string) => {
      const snap = snapshots.get(name);
      return snap && new Set(snap.schema.fields.map((f) => f.name));
    };
    const keep = new Map<string, Set<AddFile>>();
    const byStats = new Map<string, Set<AddFile>>();
    const scans = new Map<string, TableScan>();
    for (const ref of tableRefs(ast, columnsOf)) {
      const snap = snapshots.get(ref.name);
      if (snap === undefined) continue;
      const kept = keep.get(ref.name) ?? new Set<AddFile>();
      const stats = byStats.get(ref.name) ?? new Set<AddFile>();
      keep.set(ref.name, kept);
      byStats.set(ref.name, stats);
      for (const f of snap.files.values()) {
        const reason = skipping ? skipFile(f, snap.schema, snap.metadata.partitionColumns, ref.conjuncts) : undefined;
        if (reason === undefined) kept.add(f);
        else if (reason === 'stats') stats.add(f);
      }
    }
    for (const [name, kept] of keep) {
      const snap = snapshots.get(name) as Snapshot;
      const files = [...kept];
      const skipped = [...snap.files.values()].filter((f) => !kept.has(f));
      const skippedByStats = skipped.filter((f) => byStats.get(name)?.has(f)).length;
      scans.set(name, {
        name,
        table: snap.table,
        version: snap.version,
        filesTotal: snap.files.size,
        filesSkippedByPartition: skipped.length - skippedByStats,
        filesSkippedByStats: skippedByStats,
        filesRead: files.length,
        bytesTotal: [...snap.files.values()].reduce((n, f) => n + f.size, 0),
        bytesRead: files.reduce((n, f) => n + f.size, 0),
      });
      const locals = await mapConcurrent(files, 8, (f) =>
        ctx.cache.get(store, dataKey(snap.table, f.path), String(f.size), f.size),
      );
      await s.run(
        `CREATE OR REPLACE TEMP VIEW ${ident(name)} AS ${viewSql(
          snap,
          files,
          locals.map((l) => l.path),
        )}`,
      );
    }
    const planned = performance.now();
    const result = await s.rows(rewritten);
    const executed = performance.now();
    const snap = meter.snapshot();
    const requests = Object.values(snap.requests).reduce((a, b) => a + b, 0);
    return {
      columns: result.columns,
      rows: result.rows,
      report: {
        tables: [...scans.values()],
        bytesFetched: snap.bytesOut,
        requests,
        usd: cost(snap, S3_STANDARD_US_EAST_1).total,
        planMs: planned - started,
        executeMs: executed - planned,
      },
    };
  });
}

/** The view a table name stands for: its chosen files, grouped by partition. */
function viewSql(snap: Snapshot, files: readonly AddFile[], locals: readonly string[]): string {
  if (files.length === 0) {
    const cols = snap.schema.fields.map((f) => `CAST(NULL AS ${duckType(f.type)}) AS ${ident(f.name)}`);
    return `SELECT ${cols.join(', ')} WHERE false`;
  }
  const groups = new Map<string, { file: AddFile; paths: string[] }>();
  files.forEach((f, i) => {
    const k = JSON.stringify(snap.metadata.partitionColumns.map((c) => f.partitionValues[c] ?? null));
    const g = groups.get(k) ?? { file: f, paths: [] };
    g.paths.push(locals[i] as string);
    groups.set(k, g);
  });
  return [...groups.values()].map((g) => fileSelect(snap, g.file, g.paths)).join(' UNION ALL ');
}

/** Report rows as text, EXPLAIN style. */
export function formatReport(report: QueryReport): string {
  const lines = report.tables.map(
    (t) =>
      `${t.name} (version ${t.version}): ${t.filesTotal} files, skipped ${t.filesSkippedByPartition} by partition and ${t.filesSkippedByStats} by min/max, read ${t.filesRead} (${t.bytesRead} of ${t.bytesTotal} bytes)`,
  );
  lines.push(
    `fetched ${report.bytesFetched} bytes in ${report.requests} requests, $${report.usd.toFixed(8)} at S3 Standard prices; plan ${report.planMs.toFixed(0)} ms, execute ${report.executeMs.toFixed(0)} ms`,
  );
  return lines.join('\n');
}
