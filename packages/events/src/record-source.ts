import type { CommitLog, LogRecord } from '@bucketdb/log';
import { isStoreError } from '@bucketdb/store';
import { EventPaths } from './paths.js';
import { parseShard } from './stream-index.js';
import type { StreamMetadata } from './stream-metadata.js';

/** GETs in flight when reading a known list of records. */
const READ_AHEAD = 8;

/** What a cold reader learns about one stream from the newest checkpoint. */
export interface StreamLocation {
  /** The checkpoint's version (0: none): records after it must be scanned. */
  version: number;
  /** Flattened pairs [record, first revision in it] up to `version`. */
  runs: number[];
  /** The stream's revision at `version` (-1: none). */
  revision: number;
  meta?: StreamMetadata;
}

/**
 * Reads records for the event store's readers without moving the log's `version` (only the
 * writer's group committer does that): single records, known lists of them with a few GETs in
 * flight, the run after a version, the tail, and one stream's index entry from a checkpoint.
 */
export class RecordSource {
  readonly #log: CommitLog;

  constructor(log: CommitLog) {
    this.#log = log;
  }

  /** Record `version`, or undefined when the slot is still empty. */
  async tryRead(version: number): Promise<LogRecord | undefined> {
    try {
      return await this.#log.read(version);
    } catch (error) {
      if (isStoreError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  /** The given records in the given order, `READ_AHEAD` GETs in flight. */
  async *records(versions: readonly number[]): AsyncIterable<LogRecord> {
    const inFlight: Promise<LogRecord>[] = [];
    let next = 0;
    while (next < versions.length || inFlight.length > 0) {
      while (next < versions.length && inFlight.length < READ_AHEAD) {
        const p = this.#log.read(versions[next++] as number);
        p.catch(() => {}); // awaited in order below; avoid an unhandled rejection meanwhile
        inFlight.push(p);
      }
      yield await (inFlight.shift() as Promise<LogRecord>);
    }
  }

  /** Records after `after` present now, in order (one LIST, then GETs). */
  after(after: number): AsyncIterable<LogRecord> {
    return this.#log.readRange(after);
  }

  /** The newest record's version now (0: empty log): the newest checkpoint, then one LIST after it. */
  async tail(): Promise<number> {
    const checkpoint = await this.#log.latestCheckpoint();
    let tail = checkpoint?.version ?? 0;
    const paths = this.#log.paths;
    for await (const entry of this.#log.store.list({ prefix: paths.logDir, startAfter: paths.record(tail) })) {
      if (entry.kind !== 'object') continue;
      const v = paths.recordVersion(entry.key);
      if (v === undefined) continue;
      if (v !== tail + 1) break;
      tail = v;
    }
    return tail;
  }

  /** One stream's records up to the newest checkpoint: its manifest, then one index shard. */
  async locate(stream: string): Promise<StreamLocation> {
    const checkpoint = await this.#log.latestCheckpoint();
    if (!checkpoint) return { version: 0, runs: [], revision: -1 };
    const key = this.#log.checkpointKey(checkpoint.version, EventPaths.shardName(EventPaths.shardOf(stream)));
    const { body } = await this.#log.store.get(key);
    const found = parseShard(checkpoint.version, body).find(([name]) => name === stream);
    return {
      version: checkpoint.version,
      runs: found ? found[2] : [],
      revision: found ? found[1] : -1,
      ...(found?.[3] ? { meta: found[3] } : {}),
    };
  }
}
