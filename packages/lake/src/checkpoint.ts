import { randomUUID } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectStore } from '@bucketdb/store';
import type { Action } from './actions.js';
import type { Duck } from './duck.js';
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
}

/** Writes a single-part checkpoint of `snapshot` and points `_last_checkpoint` at it. */
export async function writeCheckpoint(
  store: ObjectStore,
  duck: Duck,
  snapshot: Snapshot,
  workDir: string,
  now: number,
  tombstoneRetentionMs = DEFAULT_TOMBSTONE_RETENTION_MS,
): Promise<CheckpointResult> {
  const actions: Action[] = [{ protocol: snapshot.protocol }, { metaData: snapshot.metadata }];
  for (const txn of snapshot.txns.values()) actions.push({ txn });
  for (const add of snapshot.files.values()) actions.push({ add: { ...add, dataChange: false } });
  for (const remove of snapshot.tombstones.values()) {
    if ((remove.deletionTimestamp ?? 0) >= now - tombstoneRetentionMs) {
      actions.push({ remove: { ...remove, dataChange: false } });
    }
  }
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
    const sizeInBytes = (await stat(parquet)).size;
    // Same content for the same version whoever writes it, so a plain PUT is safe here.
    await store.put(checkpointKey(snapshot.table, snapshot.version), await readFile(parquet));
    const numOfAddFiles = snapshot.files.size;
    await store.put(
      lastCheckpointKey(snapshot.table),
      JSON.stringify({ version: snapshot.version, size: actions.length, sizeInBytes, numOfAddFiles }),
      { contentType: 'application/json' },
    );
    return { version: snapshot.version, actions: actions.length, sizeInBytes };
  } finally {
    await rm(json, { force: true });
    await rm(parquet, { force: true });
  }
}
