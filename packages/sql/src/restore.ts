import { CommitLog } from '@bucketdb/log';
import type { ObjectStore } from '@bucketdb/store';
import { writeBaseCheckpoint } from './base-checkpoint.js';
import type { ExportResult } from './export-file.js';
import { Snapshot, type SnapshotOptions } from './snapshot.js';

export interface RestoreOptions extends SnapshotOptions {
  /** Where the new database goes in `target` (default: its root). It must be empty. */
  targetPrefix?: string;
  /**
   * Stops the restore before its checkpoint is published: it rejects with the signal's reason and
   * the target stays an empty database (chunks already written are abandoned, for GC).
   */
  signal?: AbortSignal;
}

/**
 * Copies the database as of one version into an empty database (another prefix or store): the new
 * database starts at version 0 with that state as its checkpoint, and has no history before it.
 */
export async function restoreDatabase(
  source: ObjectStore,
  target: ObjectStore,
  options: RestoreOptions = {},
): Promise<ExportResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const snapshot = await Snapshot.open(source, options);
  const log = await CommitLog.open(target, { prefix: options.targetPrefix ?? '' });
  try {
    await writeBaseCheckpoint(log, checked(snapshot.packedPages(), signal), {
      pageSize: snapshot.pageSize,
      pageCount: snapshot.pageCount,
      ...(signal ? { signal } : {}),
    });
  } finally {
    await log.close();
  }
  return { version: snapshot.version, pageSize: snapshot.pageSize, pageCount: snapshot.pageCount };
}

/** `pages`, checking `signal` before each one and once more after the last (before publishing). */
async function* checked<T>(pages: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncIterable<T> {
  for await (const page of pages) {
    signal?.throwIfAborted();
    yield page;
  }
  signal?.throwIfAborted();
}
