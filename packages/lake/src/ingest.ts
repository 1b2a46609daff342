import { CommitConflictError, isLakeError, LakeArgumentError } from './errors.js';
import type { DeltaTable } from './table.js';

export interface IngestSource {
  /**
   * Up to `limit` rows whose key column is greater than `after` (all rows when undefined), in
   * ascending key order. Keys are integers that only grow (a SQLite rowid, an event sequence).
   */
  read(after: number | undefined, limit: number): Promise<Record<string, unknown>[]>;
}

export interface IngestOptions {
  /** Names the source; the table records, per appId, the last key loaded. */
  appId: string;
  /** The integer key column of the rows. */
  key: string;
  /** Rows per commit (default 10,000). */
  batch?: number;
  /** Called after each committed batch. */
  onBatch?: (progress: { rows: number; lastKey: number; version: number }) => void;
}

export interface IngestResult {
  rows: number;
  batches: number;
  /** The last key now in the table (undefined if nothing was ever loaded). */
  lastKey: number | undefined;
}

/**
 * Incrementally copies rows into a lake table, exactly once: each batch commits its rows together
 * with a `txn` action (appId, last key), so progress and data land atomically. A rerun, or a
 * concurrent ingester of the same appId, resumes from the recorded key; two ingesters racing on
 * one batch conflict and the loser re-reads the progress.
 */
export async function ingest(table: DeltaTable, source: IngestSource, options: IngestOptions): Promise<IngestResult> {
  const batch = options.batch ?? 10_000;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new LakeArgumentError('batch must be a positive integer');
  let rows = 0;
  let batches = 0;
  for (let conflicts = 0; ;) {
    const after = (await table.snapshot()).txns.get(options.appId)?.version;
    const got = await source.read(after, batch);
    if (got.length === 0) return { rows, batches, lastKey: after };
    const lastKey = Number(got[got.length - 1]?.[options.key]);
    if (!Number.isSafeInteger(lastKey) || (after !== undefined && lastKey <= after)) {
      throw new LakeArgumentError(`key column ${JSON.stringify(options.key)} must be an increasing integer`);
    }
    try {
      const result = await table.append(got, { txn: { appId: options.appId, version: lastKey } });
      rows += got.length;
      batches++;
      options.onBatch?.({ rows, lastKey, version: result.version });
    } catch (e) {
      if (!isLakeError(e, 'CommitConflict') || ++conflicts > 10) throw e;
      if (e instanceof CommitConflictError && e.kind !== 'ConcurrentTransaction' && e.kind !== 'MetadataChanged')
        throw e;
    }
  }
}
