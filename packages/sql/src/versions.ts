import { LogPaths, publishedCheckpoints, readGcFloor } from '@bucketdb/log';
import type { ObjectStore } from '@bucketdb/store';

export interface RetainedVersions {
  /** Versions below this are collected (0: nothing collected yet). */
  oldest: number;
  /** Restore points: published checkpoints at or above `oldest` and when they were written. */
  checkpoints: { version: number; time: Date }[];
  /** Versions after `oldest` up to the newest record can be opened with `at` too. */
  newestRecord: number | undefined;
}

/** What time travel and restore can reach: the checkpoints in retention and the record range. */
export async function retainedVersions(store: ObjectStore, prefix = ''): Promise<RetainedVersions> {
  const paths = new LogPaths(prefix);
  const floor = await readGcFloor(store, paths);
  const oldest = floor ? Math.max(floor.floor.floor, floor.floor.effective) : 0;
  const checkpoints = (await publishedCheckpoints(store, prefix))
    .filter((c) => c.version >= oldest)
    .map((c) => ({ version: c.version, time: new Date(c.timestamp) }));
  let newestRecord: number | undefined;
  const from = checkpoints.at(-1)?.version ?? oldest;
  for await (const e of store.list({ prefix: paths.logDir, startAfter: paths.record(from) })) {
    if (e.kind === 'object') newestRecord = paths.recordVersion(e.key) ?? newestRecord;
  }
  return { oldest, checkpoints, newestRecord };
}

export interface StorageSummary {
  objects: number;
  bytes: number;
  records: number;
  recordBytes: number;
}

/** Objects and bytes under the database's prefix (one LIST pass). */
export async function storageSummary(store: ObjectStore, prefix = ''): Promise<StorageSummary> {
  const paths = new LogPaths(prefix);
  const out: StorageSummary = { objects: 0, bytes: 0, records: 0, recordBytes: 0 };
  const root = paths.prefix === '' ? '' : `${paths.prefix}/`;
  for await (const e of store.list({ prefix: root })) {
    if (e.kind !== 'object') continue;
    out.objects++;
    out.bytes += e.size;
    if (paths.recordVersion(e.key) !== undefined) {
      out.records++;
      out.recordBytes += e.size;
    }
  }
  return out;
}
