import { isStoreError, type ObjectStore } from '@bucketdb/store';
import { type Checkpoint, Checkpoints } from './checkpoints.js';
import { LogError } from './errors.js';
import { encodeGcFloor, type GcFloor, MIN_GRACE_MS, readGcFloor } from './gc-floor.js';
import { LogPaths } from './paths.js';

export interface LogGcOptions {
  prefix?: string;
  /** Every version committed within this window stays readable (ms). */
  retentionMs: number;
  /** Garbage is deleted only this long after it became garbage (ms, at least MIN_GRACE_MS). */
  graceMs: number;
  /** Keys of the objects under `checkpoints/` that a published checkpoint needs (besides its manifest). */
  referencedBy: (checkpoint: Checkpoint) => Promise<Iterable<string>>;
  /**
   * The highest floor this pass may raise: records above it are still needed by something the
   * log cannot see (the event store's streams, groups and holds). Default: no bound.
   */
  maxFloor?: number;
  clock?: () => number;
  /** Plan only: report what would be deleted, delete nothing, leave the floor as it is. */
  dryRun?: boolean;
  /** Called before each delete (fault injection in tests). */
  beforeDelete?: (key: string) => Promise<void> | void;
}

export interface LogGcReport {
  /** The floor in force for this run (0: none yet); checkpoints below it and records at or below it are garbage. */
  effectiveFloor: number;
  /** The floor this run raised (it comes into force after the grace period), if any. */
  raisedFloor: number | undefined;
  /** Published checkpoints kept, oldest first. */
  retainedCheckpoints: number[];
  deleted: { records: number; manifests: number; objects: number; bytes: number };
  /** Keys deleted (or, in a dry run, that would be). */
  keys: string[];
  dryRun: boolean;
}

interface Published {
  version: number;
  timestamp: number;
  checkpoint: Checkpoint;
}

/**
 * One garbage-collection pass over a log (docs/design/sql-gc.md has the argument for each step):
 * 1. the floor in force E (raised by an earlier pass at least a grace period ago);
 * 2. raise the floor to the newest checkpoint older than the retention window (compare-and-swap),
 *    if the floor in force is the one recorded;
 * 3. delete manifests of checkpoints below E, then records at or below E except the newest record,
 *    then objects under `checkpoints/` that no checkpoint at or above E references, that are not
 *    above the newest published checkpoint, and that are older than the grace period.
 */
export async function collectLogGarbage(store: ObjectStore, options: LogGcOptions): Promise<LogGcReport> {
  if (!(options.graceMs >= MIN_GRACE_MS)) {
    throw new LogError('InvalidArgument', `the GC grace period must be at least ${MIN_GRACE_MS} ms`);
  }
  if (!(options.retentionMs >= 0)) throw new LogError('InvalidArgument', 'the retention window must be >= 0');
  const paths = new LogPaths(options.prefix);
  const clock = options.clock ?? Date.now;
  const now = clock();
  const dryRun = options.dryRun ?? false;
  const current = await readGcFloor(store, paths);
  const inForce = (f: GcFloor | undefined) => (!f ? 0 : f.since + f.graceMs <= now ? f.floor : f.effective);
  const effective = inForce(current?.floor);
  const published = await listPublished(store, paths, clock);
  const newest = published.at(-1)?.version;
  const retained = published.filter((c) => c.version >= effective);
  if (effective > 0 && !retained.some((c) => c.version === effective)) {
    throw new LogError(
      'Corrupt',
      `the GC floor ${effective} names no published checkpoint of ${paths.prefix || 'the log'}`,
    );
  }
  const keep = new Set<string>(retained.map((c) => paths.manifest(c.version)));
  for (const c of retained) for (const key of await options.referencedBy(c.checkpoint)) keep.add(key);

  const report: LogGcReport = {
    effectiveFloor: effective,
    raisedFloor: undefined,
    retainedCheckpoints: retained.map((c) => c.version),
    deleted: { records: 0, manifests: 0, objects: 0, bytes: 0 },
    keys: [],
    dryRun,
  };
  const remove = async (key: string, size: number, kind: 'records' | 'manifests' | 'objects') => {
    report.keys.push(key);
    report.deleted[kind]++;
    report.deleted.bytes += size;
    if (dryRun) return;
    await options.beforeDelete?.(key);
    await store.delete(key);
  };

  // Raise the floor first: it takes effect only after the grace period, and a pass that fails
  // part way through its deletions must not keep the floor from rising.
  const maxFloor = options.maxFloor ?? Number.MAX_SAFE_INTEGER;
  const candidate = published
    .filter((c) => c.timestamp <= now - options.retentionMs && c.version <= maxFloor)
    .at(-1)?.version;
  const floorInForce = !current || current.floor.floor === effective;
  if (!dryRun && candidate !== undefined && candidate > (current?.floor.floor ?? 0) && floorInForce) {
    const next: GcFloor = { floor: candidate, since: now, graceMs: options.graceMs, effective };
    try {
      await store.put(paths.gcFloor, encodeGcFloor(next), current ? { ifMatch: current.etag } : { ifNoneMatch: '*' });
      report.raisedFloor = candidate;
    } catch (error) {
      // Another GC raised it first: its floor stands.
      if (!isStoreError(error, 'PreconditionFailed') && !isStoreError(error, 'NotFound')) throw error;
    }
  }

  // Manifests first: a checkpoint folder whose deletion is interrupted then has no manifest, and
  // readers skip it instead of finding a checkpoint with missing chunks.
  for (const c of published) {
    if (c.version < effective) await remove(paths.manifest(c.version), 0, 'manifests');
  }
  if (effective > 0) {
    const records: { version: number; key: string; size: number }[] = [];
    for await (const e of store.list({ prefix: paths.logDir })) {
      if (e.kind !== 'object') continue;
      const v = paths.recordVersion(e.key);
      if (v === undefined) continue;
      if (v > effective) break;
      records.push({ version: v, key: e.key, size: e.size });
    }
    // Never the newest record: it proves to every client where the tail is.
    const newer = await store.listPage({ prefix: paths.logDir, startAfter: paths.record(effective), pageSize: 1 });
    if (!newer.entries.some((e) => e.kind === 'object')) records.pop();
    for (const r of records) await remove(r.key, r.size, 'records');
  }
  if (newest !== undefined) {
    for await (const e of store.list({ prefix: paths.checkpointsDir })) {
      if (e.kind !== 'object' || keep.has(e.key)) continue;
      const v = paths.checkpointObjectVersion(e.key);
      if (v === undefined || v > newest) continue;
      if (e.key === paths.manifest(v) && published.some((c) => c.version === v)) continue;
      if (e.lastModified.getTime() > now - options.graceMs) continue;
      await remove(e.key, e.size, 'objects');
    }
  }

  return report;
}

/** Every published checkpoint of the log at `prefix` (those with a manifest), oldest first. */
export async function publishedCheckpoints(store: ObjectStore, prefix = ''): Promise<Checkpoint[]> {
  return (await listPublished(store, new LogPaths(prefix), Date.now)).map((p) => p.checkpoint);
}

async function listPublished(store: ObjectStore, paths: LogPaths, clock: () => number): Promise<Published[]> {
  const checkpoints = new Checkpoints(store, paths, clock);
  const out: Published[] = [];
  for await (const e of store.list({ prefix: paths.checkpointsDir, delimiter: '/' })) {
    if (e.kind !== 'prefix') continue;
    const v = paths.checkpointDirVersion(e.prefix);
    if (v === undefined) continue;
    const c = await checkpoints.read(v);
    if (c) out.push({ version: v, timestamp: c.timestamp, checkpoint: c });
  }
  return out;
}
