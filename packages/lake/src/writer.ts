import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backoff, isStoreError, mapConcurrent, type ObjectStore } from '@bucketdb/store';
import type { AddFile } from './actions.js';
import { type ArrowInput, arrowSource } from './arrow.js';
import type { DuckSession, Json } from './duck.js';
import { InvalidDataError, InvalidRowsError, isLakeError, SchemaMismatchError } from './errors.js';
import { dataFileName, pathToUri } from './paths.js';
import { duckType, type Field, ident, literal, type Schema, valueText } from './schema.js';

/** The staging table every write path fills before data files are cut from it. */
export const STAGED = 'lake_staged';

export interface WriteTarget {
  store: ObjectStore;
  table: string;
  schema: Schema;
  partitionBy: readonly string[];
  workDir: string;
  now: () => number;
  /** Rows per data file at most (default 1,000,000). */
  rowsPerFile?: number;
  /** Sort rows within each file by these columns (tighter min/max, better skipping). */
  sortBy?: readonly string[];
}

/** Partition column types whose string form the protocol defines unambiguously. */
export const PARTITION_TYPES: readonly string[] = ['string', 'long', 'integer', 'short', 'byte', 'date', 'boolean'];

/** Loads JS rows into the staging table, checking each value against the schema first. */
export async function stageRows(
  s: DuckSession,
  schema: Schema,
  rows: readonly Record<string, unknown>[],
  workDir: string,
): Promise<number> {
  const names = new Set(schema.fields.map((f) => f.name));
  const lines: string[] = [];
  rows.forEach((row, i) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new InvalidRowsError(`row ${i} is not an object`);
    }
    for (const key of Object.keys(row)) {
      if (!names.has(key))
        throw new SchemaMismatchError(`row ${i} has column ${JSON.stringify(key)}, which the table does not`);
    }
    const out: Record<string, string | null> = {};
    for (const f of schema.fields) out[f.name] = valueText(f, row[f.name], i);
    lines.push(JSON.stringify(out));
  });
  const file = join(workDir, `rows-${randomUUID()}.json`);
  await writeFile(file, lines.join('\n') + '\n');
  try {
    const columns = schema.fields.map((f) => `${literal(f.name)}: 'VARCHAR'`).join(', ');
    const select = schema.fields
      .map((f) => {
        const c = ident(f.name);
        const e = f.type === 'binary' ? `from_base64(${c})` : `CAST(${c} AS ${duckType(f.type)})`;
        return `${e} AS ${c}`;
      })
      .join(', ');
    const source = `SELECT ${select} FROM read_json(${literal(file)}, format = 'newline_delimited', columns = {${columns}})`;
    return await stageSql(s, schema, source, 'rows');
  } finally {
    await rm(file, { force: true });
  }
}

export type FileFormat = 'parquet' | 'csv' | 'json' | 'arrow';

export function formatOf(path: string): FileFormat {
  if (/\.parquet$/i.test(path)) return 'parquet';
  if (/\.(arrow|arrows|feather|ipc)$/i.test(path)) return 'arrow';
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(json|jsonl|ndjson)$/i.test(path)) return 'json';
  throw new InvalidDataError(
    `cannot tell the format of ${JSON.stringify(path)}: use .parquet, .csv, .json/.jsonl or .arrow (Arrow IPC)`,
  );
}

/** Loads local Parquet, CSV, JSON or Arrow IPC files into the staging table, cast to the table's schema. */
export async function stageFiles(
  s: DuckSession,
  schema: Schema,
  paths: readonly string[],
  workDir: string,
): Promise<number> {
  let total = 0;
  let first = true;
  for (const path of paths) {
    const format = formatOf(path);
    if (format === 'arrow') {
      total = await stageArrow(s, schema, await readFile(path), workDir, path, !first);
    } else {
      const reader = format === 'parquet' ? 'read_parquet' : format === 'csv' ? 'read_csv' : 'read_json';
      const source = `SELECT * FROM ${reader}(${literal(path)})`;
      try {
        total = await stageSql(s, schema, source, path, !first);
      } catch (e) {
        if (isLakeError(e, 'QueryFailed'))
          throw new InvalidDataError(`cannot read ${path}: ${e.message}`, { cause: e });
        throw e;
      }
    }
    first = false;
  }
  return total;
}

/** Loads Arrow data (an IPC buffer or an Arrow JS Table) into the staging table. */
export async function stageArrow(
  s: DuckSession,
  schema: Schema,
  input: ArrowInput,
  workDir: string,
  what = 'Arrow data',
  append = false,
): Promise<number> {
  const source = await arrowSource(input, workDir, what);
  try {
    return await stageSql(s, schema, source.sql, what, append);
  } finally {
    await source.dispose();
  }
}

/**
 * Fills the staging table from a query: columns matched by name (case-insensitive), missing
 * nullable columns become NULL, extra columns and failed casts are schema mismatches.
 */
export async function stageSql(
  s: DuckSession,
  schema: Schema,
  source: string,
  what: string,
  append = false,
): Promise<number> {
  const described = await s.rows(`DESCRIBE ${source}`);
  const present = new Map(
    described.rows.map((r) => [String(r['column_name']).toLowerCase(), String(r['column_name'])]),
  );
  const known = new Set(schema.fields.map((f) => f.name.toLowerCase()));
  const extra = [...present.keys()].filter((c) => !known.has(c));
  if (extra.length > 0) {
    throw new SchemaMismatchError(`${what} has columns the table does not: ${extra.join(', ')}`);
  }
  const select = schema.fields.map((f) => castExpr(f, present.get(f.name.toLowerCase()), what)).join(', ');
  const sql = append
    ? `INSERT INTO ${STAGED} SELECT ${select} FROM (${source})`
    : `CREATE OR REPLACE TEMP TABLE ${STAGED} AS SELECT ${select} FROM (${source})`;
  try {
    await s.run(sql);
  } catch (e) {
    if (isLakeError(e, 'QueryFailed') && /Conversion Error|Could not convert|Cast/i.test(e.message)) {
      throw new SchemaMismatchError(`${what} does not fit the table's schema: ${e.message}`, { cause: e });
    }
    throw e;
  }
  for (const f of schema.fields) {
    if (f.nullable) continue;
    const { rows } = await s.rows(`SELECT count(*) AS n FROM ${STAGED} WHERE ${ident(f.name)} IS NULL`);
    if (Number(rows[0]?.['n']) > 0) {
      throw new InvalidRowsError(`${what}: column ${JSON.stringify(f.name)} is not nullable but has nulls`);
    }
  }
  const { rows } = await s.rows(`SELECT count(*) AS n FROM ${STAGED}`);
  return Number(rows[0]?.['n']);
}

function castExpr(f: Field, sourceName: string | undefined, what: string): string {
  const type = duckType(f.type);
  if (sourceName === undefined) {
    if (!f.nullable) throw new SchemaMismatchError(`${what} lacks the non-nullable column ${JSON.stringify(f.name)}`);
    return `CAST(NULL AS ${type}) AS ${ident(f.name)}`;
  }
  return `CAST(${ident(sourceName)} AS ${type}) AS ${ident(f.name)}`;
}

/** Cuts the staging table into Parquet data files, one set per partition, and uploads them. */
export async function writeStaged(s: DuckSession, target: WriteTarget): Promise<AddFile[]> {
  const { schema, partitionBy } = target;
  const dataFields = schema.fields.filter((f) => !partitionBy.includes(f.name));
  const rowsPerFile = target.rowsPerFile ?? 1_000_000;
  const order = target.sortBy?.length ? `ORDER BY ${target.sortBy.map(ident).join(', ')}` : '';
  const partitions = partitionBy.length
    ? (
        await s.rows(
          `SELECT DISTINCT ${partitionBy.map((c) => `CAST(${ident(c)} AS VARCHAR) AS ${ident(c)}`).join(', ')} FROM ${STAGED}`,
        )
      ).rows
    : [{}];
  const files: { local: string; relative: string; values: Record<string, string | null> }[] = [];
  for (const part of partitions) {
    const values: Record<string, string | null> = {};
    const where = partitionBy.map((c) => {
      const v = part[c] as Json;
      // The protocol reads an empty partition value as null, so '' and null share a partition.
      values[c] = v === null || v === '' ? null : String(v);
      return v === null ? `${ident(c)} IS NULL` : `CAST(${ident(c)} AS VARCHAR) = ${literal(String(v))}`;
    });
    await s.run(
      `CREATE OR REPLACE TEMP TABLE lake_part AS SELECT ${dataFields.map((f) => ident(f.name)).join(', ')} FROM ${STAGED}` +
        `${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ${order}`,
    );
    const n = Number((await s.rows(`SELECT count(*) AS n FROM lake_part`)).rows[0]?.['n']);
    for (let offset = 0; offset < n; offset += rowsPerFile) {
      const id = randomUUID();
      const local = join(target.workDir, `${id}.parquet`);
      await s.run(
        `COPY (SELECT * FROM lake_part LIMIT ${rowsPerFile} OFFSET ${offset}) TO ${literal(local)} (FORMAT parquet, COMPRESSION snappy)`,
      );
      files.push({ local, relative: dataFileName(partitionBy, values, id), values });
    }
  }
  try {
    const adds: AddFile[] = [];
    for (const f of files) {
      const stats = await fileStats(s, dataFields, f.local);
      adds.push({
        path: pathToUri(f.relative),
        partitionValues: f.values,
        size: (await stat(f.local)).size,
        modificationTime: target.now(),
        dataChange: true,
        stats,
      });
    }
    await mapConcurrent(files, 4, async (f, i) => {
      // A fresh key per file, so repeating a PUT whose outcome is unknown is harmless.
      for (let attempt = 0; ; attempt++) {
        try {
          await target.store.put(`${target.table}/${f.relative}`, createReadStream(f.local), {
            contentLength: (adds[i] as AddFile).size,
          });
          return;
        } catch (e) {
          const retry = isStoreError(e) && (e.retryable || e.code === 'AmbiguousWrite');
          if (!retry || attempt >= 4) throw e;
          await backoff(attempt);
        }
      }
    });
    return adds;
  } finally {
    await Promise.all(files.map((f) => rm(f.local, { force: true })));
  }
}

/**
 * The protocol's per-file statistics, computed by DuckDB over the file just written: numRecords,
 * and per column nullCount, minValues and maxValues. Values JSON-encoded by DuckDB (exact for
 * 64-bit integers); timestamps as ISO-8601 in UTC at millisecond precision, the min rounded down
 * and the max rounded up so the bounds stay true; long strings and non-finite floats left out,
 * since a missing bound only costs skipping while a wrong one would lose rows.
 */
export async function fileStats(s: DuckSession, fields: readonly Field[], local: string): Promise<string> {
  const parts = ['count(*) AS n'];
  fields.forEach((f, i) => {
    const c = ident(f.name);
    parts.push(`count(*) - count(${c}) AS nulls${i}`);
    const bounds = boundExprs(f, c);
    if (bounds) parts.push(`${bounds[0]} AS min${i}`, `${bounds[1]} AS max${i}`);
  });
  const { rows } = await s.rows(`SELECT ${parts.join(', ')} FROM read_parquet(${literal(local)})`);
  const row = rows[0] ?? {};
  const min: string[] = [];
  const max: string[] = [];
  const nulls: string[] = [];
  fields.forEach((f, i) => {
    const key = JSON.stringify(f.name);
    nulls.push(`${key}:${Number(row[`nulls${i}`])}`);
    const lo = row[`min${i}`];
    const hi = row[`max${i}`];
    if (typeof lo === 'string') min.push(`${key}:${lo}`);
    if (typeof hi === 'string') max.push(`${key}:${hi}`);
  });
  return `{"numRecords":${Number(row['n'])},"minValues":{${min.join(',')}},"maxValues":{${max.join(',')}},"nullCount":{${nulls.join(',')}}}`;
}

function boundExprs(f: Field, c: string): [string, string] | undefined {
  switch (f.type) {
    case 'boolean':
    case 'binary':
      return undefined;
    case 'timestamp': {
      const iso = (e: string) => `to_json(strftime(${e}, '%Y-%m-%dT%H:%M:%S.%gZ'))`;
      const up = `date_trunc('millisecond', max(${c})) + CASE WHEN max(${c}) > date_trunc('millisecond', max(${c})) THEN INTERVAL 1 MILLISECOND ELSE INTERVAL 0 MILLISECOND END`;
      return [iso(`min(${c})`), iso(up)];
    }
    case 'float':
    case 'double':
      return [
        `CASE WHEN isfinite(min(${c})) THEN to_json(min(${c})) END`,
        `CASE WHEN isfinite(max(${c})) THEN to_json(max(${c})) END`,
      ];
    case 'string':
      return [`to_json(left(min(${c}), 32))`, `CASE WHEN length(max(${c})) <= 32 THEN to_json(max(${c})) END`];
    default:
      return [`to_json(min(${c}))`, `to_json(max(${c}))`];
  }
}
