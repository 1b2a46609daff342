import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectStore } from '@bucketdb/store';
import type { Action } from './actions.js';
import type { Duck } from './duck.js';
import { LakeArgumentError } from './errors.js';
import { checkpointKey, lastCheckpointKey } from './paths.js';
import { literal } from './schema.js';
import type { Snapshot } from './snapshot.js';

/** Tombstones younger than this stay in checkpoints (the protocol's deletedFileRetentionDuration default). */
export const DEFAULT_TOMBSTONE_RETENTION_MS = 7 * 24 * 3600 * 1000;

/**
 * The checkpoint schema of the protocol: one struct column per action kind, one action per row.
 * Maps are Parquet MAPs; DuckDB writes them with the standard key_value layout.
 */
export const CHECKPOINT_COLUMNS: Record<string, string> = {
  txn: 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)',
  add: 'STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR, tags MAP(VARCHAR, VARCHAR))',
  remove:
    'STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT)',
  metaData:
    'STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT)',
  protocol:
    'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])',
};

export interface CheckpointResult {
  version: number;
  actions: number;
  sizeInBytes: number;
  /** 1 for a single-part checkpoint. */
  parts: number;
}

export interface CheckpointOptions {
  /** Tombstones younger than this are kept (default DEFAULT_TOMBSTONE_RETENTION_MS). */
  tombstoneRetentionMs?: number;
  /**
   * Split into a multi-part checkpoint when there are more actions than this, so no one Parquet
   * file (nor the memory to write or read it) grows without bound (default 1,000,000).
   */
  maxActionsPerPart?: number;
}

export const DEFAULT_MAX_ACTIONS_PER_PART = 1_000_000;

/**
 * Writes a checkpoint of `snapshot`: `<version>.checkpoint.parquet`, or when it has more actions
 * than `maxActionsPerPart`, parts `<version>.checkpoint.<part>.<parts>.parquet` (the protocol's
 * multi-part checkpoint; readers use it only once every part exists), then points
 * `_last_checkpoint` at it (with `parts` when there are several).
 */
export async function writeCheckpoint(
  store: ObjectStore,
  duck: Duck,
  snapshot: Snapshot,
  workDir: string,
  now: number,
  options: CheckpointOptions = {},
): Promise<CheckpointResult> {
  const retention = options.tombstoneRetentionMs ?? DEFAULT_TOMBSTONE_RETENTION_MS;
  const perPart = options.maxActionsPerPart ?? DEFAULT_MAX_ACTIONS_PER_PART;
  if (!Number.isSafeInteger(perPart) || perPart < 1) {
    throw new LakeArgumentError('maxActionsPerPart must be a positive integer');
  }
  // Protocol and metaData first, so they land in part 1.
  const actions: Action[] = [{ protocol: snapshot.protocol }, { metaData: snapshot.metadata }];
  for (const txn of snapshot.txns.values()) actions.push({ txn });
  for (const add of snapshot.files.values()) actions.push({ add: { ...add, dataChange: false } });
  for (const remove of snapshot.tombstones.values()) {
    if ((remove.deletionTimestamp ?? 0) >= now - retention) {
      actions.push({ remove: { ...remove, dataChange: false } });
    }
  }
  const parts = Math.ceil(actions.length / perPart);
  let sizeInBytes = 0;
  for (let part = 1; part <= parts; part++) {
    const body = await checkpointParquet(duck, actions.slice((part - 1) * perPart, part * perPart), workDir);
    sizeInBytes += body.length;
    // Same content for the same version whoever writes it, so a plain PUT is safe here.
    const key =
      parts === 1
        ? checkpointKey(snapshot.table, snapshot.version)
        : checkpointKey(snapshot.table, snapshot.version, part, parts);
    await store.put(key, body);
  }
  await store.put(
    lastCheckpointKey(snapshot.table),
    JSON.stringify({
      version: snapshot.version,
      size: actions.length,
      ...(parts > 1 ? { parts } : {}),
      sizeInBytes,
      numOfAddFiles: snapshot.files.size,
    }),
    { contentType: 'application/json' },
  );
  return { version: snapshot.version, actions: actions.length, sizeInBytes, parts };
}

/** One checkpoint file: the actions as rows of the checkpoint schema, written by DuckDB. */
async function checkpointParquet(duck: Duck, actions: readonly Action[], workDir: string): Promise<Buffer> {
  const id = randomUUID();
  const json = join(workDir, `checkpoint-${id}.json`);
  const parquet = join(workDir, `checkpoint-${id}.parquet`);
  await writeFile(json, actions.map((a) => JSON.stringify(a)).join('\n') + '\n');
  try {
    const columns = Object.entries(CHECKPOINT_COLUMNS)
      .map(([k, t]) => `${literal(k)}: ${literal(t)}`)
      .join(', ');
    await duck.session((s) =>
      s.run(
        `COPY (SELECT ${Object.keys(CHECKPOINT_COLUMNS).join(', ')} FROM read_json(${literal(json)}, format = 'newline_delimited', columns = {${columns}})) TO ${literal(parquet)} (FORMAT parquet)`,
      ),
    );
    return await readFile(parquet);
  } finally {
    await rm(json, { force: true });
    await rm(parquet, { force: true });
  }
}
