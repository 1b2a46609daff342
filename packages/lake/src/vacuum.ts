import type { ObjectStore } from '@bucketdb/store';
import { DEFAULT_TOMBSTONE_RETENTION_MS } from './checkpoint.js';
import { LakeArgumentError } from './errors.js';
import { dataKey, LOG_DIR } from './paths.js';
import type { DeltaLog } from './snapshot.js';

export interface VacuumOptions {
  /** Keep files a version committed within this long ago may need (default 7 days, as Delta). */
  retentionMs?: number;
  /** Report what would be deleted without deleting it. */
  dryRun?: boolean;
  /** Allow a retention under one hour (readers of older snapshots may then fail). */
  force?: boolean;
}

export interface VacuumResult {
  /** Keys deleted (or, with dryRun, that would be). */
  deleted: string[];
  /** Data objects kept: live in the current version or possibly needed by a retained one. */
  kept: number;
}

export const DEFAULT_RETENTION_MS = DEFAULT_TOMBSTONE_RETENTION_MS;
const MIN_RETENTION_MS = 3600 * 1000;

/**
 * Deletes data files no retained version needs. A file stays if the current version has it, if
 * it was removed less than `retentionMs` ago (a reader of a version from inside the retention
 * window may still read it), or if it is not in the log but was written less than `retentionMs`
 * ago (a writer may be about to commit it). Everything else under the table (outside
 * `_delta_log/`) goes.
 */
export async function vacuum(
  store: ObjectStore,
  log: DeltaLog,
  now: number,
  options: VacuumOptions = {},
): Promise<VacuumResult> {
  const retention = options.retentionMs ?? DEFAULT_RETENTION_MS;
  if (!(retention >= 0)) throw new LakeArgumentError(`retention must be a non-negative number of ms`);
  if (retention < MIN_RETENTION_MS && !options.force) {
    throw new LakeArgumentError(
      `a retention under one hour can delete files that running readers and writers still need; pass force to do it anyway`,
    );
  }
  if (retention > DEFAULT_TOMBSTONE_RETENTION_MS) {
    // Checkpoints keep tombstones this long; past it a removed file looks untracked.
    throw new LakeArgumentError(
      `a retention over ${DEFAULT_TOMBSTONE_RETENTION_MS / 86_400_000} days is not supported`,
    );
  }
  const snap = await log.snapshot();
  const live = new Set([...snap.files.keys()].map((p) => dataKey(log.table, p)));
  const removedAt = new Map<string, number>();
  for (const r of snap.tombstones.values()) removedAt.set(dataKey(log.table, r.path), r.deletionTimestamp ?? 0);
  const cutoff = now - retention;
  const deleted: string[] = [];
  let kept = 0;
  const prefix = `${log.table}/`;
  for await (const e of store.list({ prefix })) {
    if (e.kind !== 'object' || e.key.startsWith(`${prefix}${LOG_DIR}`)) continue;
    const removed = removedAt.get(e.key);
    const expired = live.has(e.key)
      ? false
      : removed !== undefined
        ? removed < cutoff
        : e.lastModified.getTime() < cutoff;
    if (expired) deleted.push(e.key);
    else kept++;
  }
  if (!options.dryRun && deleted.length > 0) {
    const { errors } = await store.deleteMany(deleted);
    if (errors.length > 0) throw errors[0]?.error;
  }
  return { deleted, kept };
}
