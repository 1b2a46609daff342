import type { LogRecord } from '@bucketdb/log';
import type { EntryPart } from './entry.js';
import { EventsError } from './errors.js';
import { EventPaths, INDEX_SHARDS } from './paths.js';
import { recordEvents } from './record-events.js';
import { metadataOf, metadataTarget, type StreamMetadata } from './stream-metadata.js';
import type { Position } from './types.js';

/**
 * Event ids are checked for duplicates against the events of the newest records, this many. The
 * window is a function of the log alone (the records below the slot being written), so every
 * writer decides the same way. A retry of an append after longer than this is not deduplicated.
 */
export const IDEMPOTENCY_WINDOW_RECORDS = 1000;

export interface StreamInfo {
  /** Revision of the last event (-1: none). */
  revision: number;
  /** The records holding the stream's events, flattened pairs [record, first revision in it], ascending. */
  runs: number[];
}

export interface IdEntry {
  stream: string;
  revision: number;
  position: Position;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The state a writer checks appends against, at log version `version`: every stream's revision
 * and the records that hold its events (the index a checkpoint carries), and the event ids of the
 * idempotency window.
 */
export class StreamIndex {
  version: number;
  readonly streams = new Map<string, StreamInfo>();
  readonly ids = new Map<string, IdEntry>();
  /** Each stream's newest metadata (from its `$$<stream>` system stream). */
  readonly meta = new Map<string, StreamMetadata>();
  /** The window's records, oldest first, with their ids. */
  readonly #window: { record: number; ids: string[] }[] = [];

  constructor(version = 0) {
    this.version = version;
  }

  revision(stream: string): number {
    return this.streams.get(stream)?.revision ?? -1;
  }

  /** Moves the state past `record`; `known` as for `recordEvents`. */
  apply(record: LogRecord, known?: (entry: Uint8Array) => EntryPart[] | undefined): void {
    if (record.version !== this.version + 1) {
      throw new Error(`internal: stream index at ${this.version} given record ${record.version}`);
    }
    const ids: string[] = [];
    for (const s of recordEvents(record, known)) {
      let info = this.streams.get(s.stream);
      if (!info) {
        info = { revision: -1, runs: [] };
        this.streams.set(s.stream, info);
      }
      if (s.revision !== info.revision + 1) {
        throw new EventsError(
          'Corrupt',
          `log record ${record.version} gives stream ${JSON.stringify(s.stream)} revision ${s.revision} after ${info.revision}`,
        );
      }
      info.revision = s.revision;
      const target = metadataTarget(s.stream);
      const meta = target === undefined ? undefined : metadataOf(s);
      if (target !== undefined && meta) this.meta.set(target, meta);
      if (info.runs.at(-2) !== record.version) info.runs.push(record.version, s.revision);
      this.ids.set(s.event.id, { stream: s.stream, revision: s.revision, position: s.position });
      ids.push(s.event.id);
    }
    this.version = record.version;
    this.#window.push({ record: record.version, ids });
    while ((this.#window[0]?.record ?? Infinity) <= this.version - IDEMPOTENCY_WINDOW_RECORDS) {
      for (const id of this.#window.shift()?.ids ?? []) this.ids.delete(id);
    }
  }

  /** The checkpoint objects of this state: each index shard, and the ids of the window. */
  toCheckpoint(): Map<string, Uint8Array> {
    const shards: ShardEntry[][] = Array.from({ length: INDEX_SHARDS }, () => []);
    for (const stream of new Set([...this.streams.keys(), ...this.meta.keys()])) {
      const info = this.streams.get(stream);
      const meta = this.meta.get(stream);
      const entry: ShardEntry = [stream, info?.revision ?? -1, info?.runs ?? []];
      if (meta) entry.push(meta);
      shards[EventPaths.shardOf(stream)]?.push(entry);
    }
    const objects = new Map<string, Uint8Array>();
    shards.forEach((streams, shard) => {
      objects.set(EventPaths.shardName(shard), encoder.encode(JSON.stringify({ version: this.version, streams })));
    });
    const window = this.#window.map((w) => [
      w.record,
      w.ids.map((id) => {
        const e = this.ids.get(id) as IdEntry;
        return [id, e.stream, e.revision, e.position.index];
      }),
    ]);
    objects.set(EventPaths.idsName, encoder.encode(JSON.stringify({ version: this.version, window })));
    return objects;
  }

  /** Rebuilds the state from a checkpoint's objects (see `toCheckpoint`). */
  static fromCheckpoint(version: number, objects: Map<string, Uint8Array>): StreamIndex {
    const index = new StreamIndex(version);
    for (let shard = 0; shard < INDEX_SHARDS; shard++) {
      for (const [stream, revision, runs, meta] of parseShard(version, objects.get(EventPaths.shardName(shard)))) {
        if (revision >= 0) index.streams.set(stream, { revision, runs });
        if (meta) index.meta.set(stream, meta);
      }
    }
    const ids = parseObject(version, EventPaths.idsName, objects.get(EventPaths.idsName)) as {
      window: [number, [string, string, number, number][]][];
    };
    for (const [record, entries] of ids.window) {
      index.#window.push({ record, ids: entries.map((e) => e[0]) });
      for (const [id, stream, revision, i] of entries)
        index.ids.set(id, { stream, revision, position: { record, index: i } });
    }
    return index;
  }
}

/** One stream of an index shard: name, revision (-1: none), runs, and its metadata if any. */
export type ShardEntry = [string, number, number[], StreamMetadata?];

/** The streams of one index shard. */
export function parseShard(version: number, bytes: Uint8Array | undefined): ShardEntry[] {
  const shard = parseObject(version, 'index shard', bytes) as { streams?: unknown };
  if (!Array.isArray(shard.streams)) throw new EventsError('Corrupt', `checkpoint ${version}: bad index shard`);
  return shard.streams as ShardEntry[];
}

function parseObject(version: number, what: string, bytes: Uint8Array | undefined): Record<string, unknown> {
  if (!bytes) throw new EventsError('Corrupt', `checkpoint ${version}: ${what} is missing`);
  try {
    const value = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
    if (value.version === version) return value;
  } catch {
    // reported below
  }
  throw new EventsError('Corrupt', `checkpoint ${version}: ${what} is unreadable`);
}
