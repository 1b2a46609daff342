import { collectLogGarbage, type LogGcReport, MIN_GRACE_MS, readGcFloor } from '@bucketdb/log';
import type { ObjectStore } from '@bucketdb/store';
import type { ConsumerGroups } from './consumer-groups.js';
import type { RetentionHolds } from './holds.js';
import { EventsError } from './errors.js';
import { EventPaths, INDEX_SHARDS } from './paths.js';
import { recordEvents } from './record-events.js';
import type { RecordSource } from './record-source.js';
import type { StreamIndex } from './stream-index.js';
import { isVisible } from './stream-metadata.js';
import { brokenForTests } from './test-hooks.js';

/** Garbage is deleted this long after a pass decided it, by default (ms). */
export const DEFAULT_GC_GRACE_MS = 60 * 60_000;

export interface EventGcOptions {
  /** Records GC decided to reclaim are deleted only this long after (ms, at least one minute; default 1 hour). */
  graceMs?: number;
  /** Report what would be deleted now and where the floor would go; delete nothing, leave the floor. */
  dryRun?: boolean;
  /** Called before each delete (fault injection in tests). */
  beforeDelete?: (key: string) => Promise<void> | void;
}

export interface EventGcReport extends LogGcReport {
  /**
   * The oldest record something still needs (an event visible under its stream's metadata, a
   * consumer group's position, or the newest checkpoint); the floor never reaches it.
   */
  neededFrom: number;
  /** What holds `neededFrom` where it is. */
  neededBy: 'stream' | 'group' | 'hold' | 'checkpoint';
}

export interface RetentionDeps {
  store: ObjectStore;
  paths: EventPaths;
  source: RecordSource;
  groups: ConsumerGroups;
  holds: RetentionHolds;
  /** The writer index caught up to the tail: every stream's revision and metadata. */
  state: StreamIndex;
  /** The newest published checkpoint (0: none): the floor is always a checkpoint. */
  checkpoint: number;
  checkpointKey: (version: number, name: string) => string;
  /** Wall clock (maxAge, the floor's `since`, the grace period). */
  now: () => number;
}

/**
 * One retention pass (docs/design/events.md, "Retention"): finds the oldest record that a stream
 * (an event its metadata still shows), a consumer group, a retention hold or the newest checkpoint needs, and hands
 * the log's GC the highest floor below it. The log's GC raises its floor to the newest checkpoint
 * at or below that bound and, a grace period later, deletes the records at or below the floor in
 * force and the checkpoints below it.
 */
export async function collectEventGarbage(deps: RetentionDeps, options: EventGcOptions = {}): Promise<EventGcReport> {
  const graceMs = options.graceMs ?? DEFAULT_GC_GRACE_MS;
  if (!(Number.isSafeInteger(graceMs) && graceMs >= MIN_GRACE_MS)) {
    throw new EventsError('InvalidArgument', `the GC grace period must be an integer >= ${MIN_GRACE_MS} ms`);
  }
  const { state, source } = deps;
  const floor = (await readGcFloor(deps.store, deps.paths.log))?.floor;
  const decided = floor ? Math.max(floor.floor, floor.effective) : 0;
  const groupNeed = brokenForTests.gcIgnoresGroups ? Infinity : await deps.groups.oldestNeededRecord();
  // A hold at a position keeps its record (the rest of it) and everything after.
  const holdNeed = Math.min(Infinity, ...(await deps.holds.list()).map((h) => Math.max(1, h.position.record)));
  const upper = Math.min(groupNeed - 1, holdNeed - 1, deps.checkpoint);
  let neededBy: EventGcReport['neededBy'] =
    upper === deps.checkpoint ? 'checkpoint' : upper === groupNeed - 1 ? 'group' : 'hold';
  // The records above the floor already decided, up to the first one holding an event that a
  // stream still shows. `$`-streams need none: the checkpoint index carries revisions, metadata
  // and the idempotency window's ids.
  const now = deps.now();
  let bound = decided;
  const versions = Array.from({ length: Math.max(0, upper - decided) }, (_, i) => decided + 1 + i);
  for await (const record of source.records(versions)) {
    const needed = recordEvents(record).some(
      (s) =>
        !s.stream.startsWith('$') &&
        isVisible(state.meta.get(s.stream), s.revision, s.timestamp, state.revision(s.stream), now),
    );
    if (needed) {
      neededBy = 'stream';
      break;
    }
    bound = record.version;
  }
  const names = [...Array.from({ length: INDEX_SHARDS }, (_, i) => EventPaths.shardName(i)), EventPaths.idsName];
  const report = await collectLogGarbage(deps.store, {
    prefix: deps.paths.prefix,
    retentionMs: 0,
    graceMs,
    maxFloor: bound,
    referencedBy: async (c) => names.map((n) => deps.checkpointKey(c.version, n)),
    clock: deps.now,
    dryRun: options.dryRun ?? false,
    ...(options.beforeDelete ? { beforeDelete: options.beforeDelete } : {}),
  });
  return { ...report, neededFrom: bound + 1, neededBy };
}
