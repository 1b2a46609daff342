import type { CommitLog } from '@bucketdb/log';
import { InvalidArgumentError } from '@bucketdb/store';
import { type CheckpointManifest, type ChunkRef, encodeManifest, Segment } from './checkpoint-format.js';
import { ChunkWriter } from './chunk-writer.js';
import type { PackedPage } from './page-codec.js';

export interface BaseCheckpointOptions {
  pageSize: number;
  pageCount: number;
  segmentPages?: number;
  chunkBytes?: number;
  /** Checked before the checkpoint is published: an abort leaves the database empty. */
  signal?: AbortSignal;
}

/**
 * Writes a whole database, page by page in order, as the checkpoint at version 0 of an empty log
 * (import and restore): pages (images, or already compressed) stream into chunks, never the whole
 * database in memory.
 */
export async function writeBaseCheckpoint(
  log: CommitLog,
  pages: AsyncIterable<Uint8Array | PackedPage>,
  options: BaseCheckpointOptions,
): Promise<void> {
  await assertEmpty(log);
  const { pageSize, pageCount } = options;
  const segmentPages = options.segmentPages ?? 4096;
  const store = log.store;
  const tag = 'base';
  const writer = new ChunkWriter(
    store,
    (n) => log.checkpointKey(0, `chunk-${tag}-${n}`),
    options.chunkBytes ?? 2 ** 20,
  );
  const segments: string[] = [];
  // Segment uploads run alongside the pages that follow (waiting for each stalled the stream, and
  // with it the reads ahead of a restore, once per 16 MiB); all finish before the manifest.
  const segmentPuts: Promise<unknown>[] = [];
  let refs: ChunkRef[] = [];
  const flushSegment = (firstPage: number) => {
    const key = log.checkpointKey(0, `segment-${tag}-${segments.length}`);
    const put = store.put(key, Segment.of(firstPage, refs).encode());
    put.catch(() => {}); // awaited below; not unhandled if the pages fail first
    segmentPuts.push(put);
    segments.push(key);
    refs = [];
  };
  let pgno = 0;
  for await (const page of pages) {
    pgno++;
    if (pgno > pageCount || (page instanceof Uint8Array && page.length !== pageSize)) {
      throw new Error(`internal: page ${pgno} does not fit`);
    }
    refs.push(await (page instanceof Uint8Array ? writer.add(page) : writer.addPacked(page)));
    if (refs.length === segmentPages) flushSegment(pgno - segmentPages + 1);
  }
  if (pgno !== pageCount) throw new Error(`internal: ${pgno} pages of ${pageCount}`);
  if (refs.length > 0) flushSegment(pageCount - refs.length + 1);
  await writer.finish();
  await Promise.all(segmentPuts);
  const manifest: CheckpointManifest = {
    format: 'bucketdb-sql',
    formatVersion: 1,
    pageSize,
    pageCount,
    segmentPages,
    segments,
  };
  options.signal?.throwIfAborted();
  await log.writeCheckpoint(0, encodeManifest(manifest));
}

/** InvalidArgument unless the log has no record and no checkpoint. */
export async function assertEmpty(log: CommitLog): Promise<void> {
  if ((await log.catchUp()).length > 0 || (await log.latestCheckpoint())) {
    throw new InvalidArgumentError(`the database at ${log.prefix || 'the store root'} is not empty`);
  }
}
