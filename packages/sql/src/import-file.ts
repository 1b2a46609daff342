import { open as openFile } from 'node:fs/promises';
import { CommitLog } from '@bucketdb/log';
import { InvalidArgumentError, type ObjectStore } from '@bucketdb/store';
import { assertEmpty, writeBaseCheckpoint } from './base-checkpoint.js';
import { isPageSize } from './commit-entry.js';

export interface ImportOptions {
  prefix?: string;
  segmentPages?: number;
  chunkBytes?: number;
}

/**
 * Loads an existing SQLite database file into an empty bucketdb database, as its checkpoint at
 * version 0: pages streamed from the file into chunks, never the whole file in memory. A file in
 * WAL mode must be checkpointed first (its -wal file is not read); it is imported in rollback mode.
 */
export async function importSqliteFile(
  store: ObjectStore,
  path: string,
  options: ImportOptions = {},
): Promise<{ pageSize: number; pageCount: number }> {
  const log = await CommitLog.open(store, { prefix: options.prefix ?? '' });
  try {
    await assertEmpty(log);
    const file = await openFile(path, 'r');
    try {
      const header = new Uint8Array(100);
      await file.read(header, 0, 100, 0);
      if (new TextDecoder().decode(header.subarray(0, 15)) !== 'SQLite format 3') {
        throw new InvalidArgumentError(`${path} is not a SQLite database file`);
      }
      const raw = (header[16] ?? 0) * 256 + (header[17] ?? 0);
      const pageSize = raw === 1 ? 65536 : raw;
      const { size } = await file.stat();
      if (!isPageSize(pageSize) || size % pageSize !== 0)
        throw new InvalidArgumentError(`${path} has an invalid size or page size`);
      const pageCount = size / pageSize;
      async function* pages(): AsyncIterable<Uint8Array> {
        for (let pgno = 1; pgno <= pageCount; pgno++) {
          const image = new Uint8Array(pageSize);
          await file.read(image, 0, pageSize, (pgno - 1) * pageSize);
          // Rollback-journal mode: bucketdb's VFS has no shared memory for a WAL.
          if (pgno === 1) image.set([1, 1], 18);
          yield image;
        }
      }
      await writeBaseCheckpoint(log, pages(), { ...options, pageSize, pageCount });
      return { pageSize, pageCount };
    } finally {
      await file.close();
    }
  } finally {
    await log.close();
  }
}
