import { open as openFile, rename, rm } from 'node:fs/promises';
import type { ObjectStore } from '@bucketdb/store';
import { Snapshot, type SnapshotOptions } from './snapshot.js';

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
  options: SnapshotOptions = {},
): Promise<ExportResult> {
  const snapshot = await Snapshot.open(store, options);
  const partial = `${path}.partial-${process.pid}`;
  const file = await openFile(partial, 'w');
  try {
    let offset = 0;
    for await (const image of snapshot.pages()) {
      await file.write(image, 0, image.length, offset);
      offset += image.length;
    }
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
