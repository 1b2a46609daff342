import { CommitConflictError, isLakeError, LakeArgumentError } from './errors.js';
import type { DeltaTable } from './table.js';

export interface IngestBatch {
  rows: Record<string, unknown>[];
  /**
   * Where the source stands after these rows: an integer that grows from batch to batch. It is
   * committed with the rows and handed back to `read` as `after` to resume.
   */
  position: number;
}

export interface IngestSource {
  /**
   * The next rows after position `after` (undefined before the first batch), about `limit` of
   * them; no rows when the source has nothing newer.
   */
  read(after: number | undefined, limit: number): Promise<IngestBatch>;
}

export interface IngestOptions {
  /** Names the source; the table records, per appId, the position of the last batch loaded. */
  appId: string;
  /** Rows per commit, roughly (default 10,000; a source may round up to a whole unit of its own). */
  batch?: number;
  /** Called after each committed batch. */
  onBatch?: (progress: { rows: number; position: number; version: number }) => void;
}

export interface IngestResult {
  rows: number;
  batches: number;
  /** The position now recorded in the table (undefined if nothing was ever loaded). */
  position: number | undefined;
}

/**
 * Rows whose integer `key` column only grows (a SQLite rowid): `read` returns rows with keys
 * greater than `after` in ascending key order, and a batch's position is its last key.
 */
export function keyedSource(
  key: string,
  read: (after: number | undefined, limit: number) => Promise<Record<string, unknown>[]>,
): IngestSource {
  return {
    async read(after, limit) {
      const rows = await read(after, limit);
      if (rows.length === 0) return { rows, position: after ?? 0 };
      const position = Number(rows[rows.length - 1]?.[key]);
      if (!Number.isSafeInteger(position)) {
        throw new LakeArgumentError(`key column ${JSON.stringify(key)} must hold integers`);
      }
      return { rows, position };
    },
  };
}

/**
 * Incrementally copies a source into a lake table, exactly once: each batch commits its rows
 * together with the protocol's `txn` action (appId, position), so progress and data land in one
 * put-if-absent commit or not at all. A rerun, or a concurrent ingester of the same appId,
 * resumes from the recorded position; two ingesters racing on one batch conflict
 * (`ConcurrentTransaction`) and the loser re-reads the progress.
 */
export async function ingest(table: DeltaTable, source: IngestSource, options: IngestOptions): Promise<IngestResult> {
  const batch = options.batch ?? 10_000;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new LakeArgumentError('batch must be a positive integer');
  if (typeof options.appId !== 'string' || options.appId === '') {
    throw new LakeArgumentError('appId must be a non-empty string');
  }
  let rows = 0;
  let batches = 0;
  // A conflict with another ingester is progress (theirs); only conflicts that leave the recorded
  // position where it was count towards giving up.
  let stalled = 0;
  let lastAfter: number | undefined;
  for (;;) {
    const after = (await table.snapshot()).txns.get(options.appId)?.version;
    if (after !== lastAfter) stalled = 0;
    lastAfter = after;
    const got = await source.read(after, batch);
    if (got.rows.length === 0) return { rows, batches, position: after };
    if (!Number.isSafeInteger(got.position) || (after !== undefined && got.position <= after)) {
      throw new LakeArgumentError(
        `the source's position must be an integer that grows: got ${got.position} after ${String(after)}`,
      );
    }
    try {
      const result = await table.append(got.rows, {
        txn: { appId: options.appId, version: got.position, after },
      });
      rows += got.rows.length;
      batches++;
      options.onBatch?.({ rows, position: got.position, version: result.version });
    } catch (e) {
      if (!isLakeError(e, 'CommitConflict') || ++stalled > 10) throw e;
      if (e instanceof CommitConflictError && e.kind !== 'ConcurrentTransaction' && e.kind !== 'MetadataChanged')
        throw e;
    }
  }
}
