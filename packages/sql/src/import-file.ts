import { open as openFile } from 'node:fs/promises';
import { CommitLog } from '@bucketdb/log';
import { InvalidArgumentError, type ObjectStore } from '@bucketdb/store';
import { type CheckpointManifest, type ChunkRef, encodeManifest, encodeSegment } from './checkpoint-format.js';
import { ChunkWriter } from './chunk-writer.js';
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
    if ((await log.catchUp()).length > 0 || (await log.latestCheckpoint())) {
      throw new InvalidArgumentError(
        `cannot import into ${options.prefix || 'the store root'}: the database is not empty`,
      );
    }
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
      const segmentPages = options.segmentPages ?? 4096;
      const tag = 'import';
      const writer = new ChunkWriter(
        store,
        (n) => log.checkpointKey(0, `chunk-${tag}-${n}`),
        options.chunkBytes ?? 2 ** 20,
      );
      const segments: string[] = [];
      let refs: ChunkRef[] = [];
      const flushSegment = async (firstPage: number) => {
        const key = log.checkpointKey(0, `segment-${tag}-${segments.length}`);
        await store.put(key, encodeSegment({ firstPage, refs }));
        segments.push(key);
        refs = [];
      };
      for (let pgno = 1; pgno <= pageCount; pgno++) {
        const image = new Uint8Array(pageSize);
        await file.read(image, 0, pageSize, (pgno - 1) * pageSize);
        // Rollback-journal mode: bucketdb's VFS has no shared memory for a WAL.
        if (pgno === 1) image.set([1, 1], 18);
        refs.push(await writer.add(image));
        if (refs.length === segmentPages) await flushSegment(pgno - segmentPages + 1);
      }
      if (refs.length > 0) await flushSegment(pageCount - refs.length + 1);
      await writer.finish();
      const manifest: CheckpointManifest = {
        format: 'bucketdb-sql',
        formatVersion: 1,
        pageSize,
        pageCount,
        segmentPages,
        segments,
      };
      await log.writeCheckpoint(0, encodeManifest(manifest));
      return { pageSize, pageCount };
    } finally {
      await file.close();
    }
  } finally {
    await log.close();
  }
}
