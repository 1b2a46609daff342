import { open as openFile, rename, rm } from 'node:fs/promises';
import { concatBytes, type ObjectStore } from '@bucketdb/store';
import { Snapshot, type SnapshotOptions } from './snapshot.js';

export interface ExportOptions extends SnapshotOptions {
  /** Stops the export: it rejects with the signal's reason and no file (not even a partial one) is left. */
  signal?: AbortSignal;
}

export interface ExportResult {
  version: number;
  pageSize: number;
  pageCount: number;
}

/**
 * Writes the database as of one version (default: the newest) to a plain SQLite file at `path`,
 * which any SQLite opens (rollback-journal mode). The file appears whole or not at all: it is
 * written next to `path` and renamed into place after an fsync.
 */
export async function exportSqliteFile(
  store: ObjectStore,
  path: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const snapshot = await Snapshot.open(store, options);
  signal?.throwIfAborted();
  const partial = `${path}.partial-${process.pid}`;
  const file = await openFile(partial, 'w');
  try {
    // Pages go out in writes of about 4 MiB: one write per page costs more than the copy itself.
    let offset = 0;
    let parts: Uint8Array[] = [];
    let size = 0;
    const flush = async () => {
      if (size === 0) return;
      await file.write(concatBytes(parts, size), 0, size, offset);
      offset += size;
      parts = [];
      size = 0;
    };
    for await (const image of snapshot.pages()) {
      signal?.throwIfAborted();
      parts.push(image);
      size += image.length;
      if (size >= 4 * 2 ** 20) await flush();
    }
    await flush();
    signal?.throwIfAborted();
    await file.sync();
    await file.close();
    await rename(partial, path);
  } catch (error) {
    await file.close().catch(() => {});
    await rm(partial, { force: true });
    throw error;
  }
  return { version: snapshot.version, pageSize: snapshot.pageSize, pageCount: snapshot.pageCount };
}
