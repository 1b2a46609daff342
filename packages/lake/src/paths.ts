import { LakeArgumentError } from './errors.js';

/**
 * The key layout of a Delta table under a store prefix `<table>/`, as the Delta protocol defines it:
 * `_delta_log/<20-digit version>.json` commits, `<version>.checkpoint.parquet` (single part) or
 * `<version>.checkpoint.<part>.<parts>.parquet` checkpoints, `_delta_log/_last_checkpoint`, and data
 * files under Hive-style partition directories `col=value/`.
 */
export const LOG_DIR = '_delta_log/';
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

const TABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;

export function checkTableName(table: string): string {
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw new LakeArgumentError(
      `table names are path segments of letters, digits, _ . - separated by /, got ${JSON.stringify(table)}`,
    );
  }
  return table;
}

export function logPrefix(table: string): string {
  return `${table}/${LOG_DIR}`;
}

export function versionDigits(version: number): string {
  return String(version).padStart(20, '0');
}

export function commitKey(table: string, version: number): string {
  return `${logPrefix(table)}${versionDigits(version)}.json`;
}

export function checkpointKey(table: string, version: number, part?: number, parts?: number): string {
  if (part === undefined || parts === undefined)
    return `${logPrefix(table)}${versionDigits(version)}.checkpoint.parquet`;
  const p = (n: number) => String(n).padStart(10, '0');
  return `${logPrefix(table)}${versionDigits(version)}.checkpoint.${p(part)}.${p(parts)}.parquet`;
}

export function lastCheckpointKey(table: string): string {
  return `${logPrefix(table)}_last_checkpoint`;
}

export type LogFile =
  { kind: 'commit'; version: number } | { kind: 'checkpoint'; version: number; part: number; parts: number };

/** What a key under `_delta_log/` is, or undefined for anything else (CRC files, temp files). */
export function parseLogKey(table: string, key: string): LogFile | undefined {
  const name = key.slice(logPrefix(table).length);
  let m = /^(\d{20})\.json$/.exec(name);
  if (m) return { kind: 'commit', version: Number(m[1]) };
  m = /^(\d{20})\.checkpoint\.parquet$/.exec(name);
  if (m) return { kind: 'checkpoint', version: Number(m[1]), part: 1, parts: 1 };
  m = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/.exec(name);
  if (m) return { kind: 'checkpoint', version: Number(m[1]), part: Number(m[2]), parts: Number(m[3]) };
  return undefined;
}

/** Hive's escaping of a partition value in a directory name (readers use partitionValues, not this). */
function escapePartitionValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_.\- ]/g, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/** The relative path of a new data file, as stored in the table (not yet URI-encoded). */
export function dataFileName(
  partitionBy: readonly string[],
  partitionValues: Record<string, string | null>,
  id: string,
): string {
  const dirs = partitionBy.map((c) => {
    const v = partitionValues[c];
    return `${c}=${v === null || v === undefined ? NULL_PARTITION : escapePartitionValue(v)}/`;
  });
  return `${dirs.join('')}part-00000-${id}.c000.snappy.parquet`;
}

/** An add/remove action's `path` is a URI reference relative to the table root. */
export function pathToUri(relative: string): string {
  return relative
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/%3D/g, '='))
    .join('/');
}

/** The store key of a data file an action names; absolute URIs (other buckets) are refused. */
export function dataKey(table: string, uriPath: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uriPath)) {
    throw new LakeArgumentError(`absolute data file paths are not supported: ${JSON.stringify(uriPath)}`);
  }
  return `${table}/${decodeURIComponent(uriPath)}`;
}
