import { isStoreError, type ObjectStore, streamConcurrent } from '@bucketdb/store';
import type { LogPaths } from './paths.js';
import { decodeRecord, type LogRecord } from './record.js';

/** GETs in flight while reading a run of records. */
const FETCH_WINDOW = 8;

/** Reads records of one log: single slots and contiguous runs found by LIST. Holds no state. */
export class RecordReader {
  readonly #store: ObjectStore;
  readonly #paths: LogPaths;

  constructor(store: ObjectStore, paths: LogPaths) {
    this.#store = store;
    this.#paths = paths;
  }

  /** Record `version`, or undefined when the slot is empty. */
  async fetch(version: number, signal?: AbortSignal): Promise<LogRecord | undefined> {
    const key = this.#paths.record(version);
    try {
      return decodeRecord((await this.#store.get(key, signal ? { signal } : {})).body, version, key);
    } catch (error) {
      if (isStoreError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  /** Record `version`; the store's NotFound when the slot is empty. */
  async read(version: number): Promise<LogRecord> {
    const key = this.#paths.record(version);
    return decodeRecord((await this.#store.get(key)).body, version, key);
  }

  /** The records after `after` present now (at most `limit`): one LIST, then GETs a few at a time. */
  async *run(after: number, limit?: number, signal?: AbortSignal): AsyncIterable<LogRecord> {
    signal?.throwIfAborted();
    const versions = await this.#listVersions(after, limit, signal);
    for await (const record of streamConcurrent(versions, FETCH_WINDOW, (v) => this.fetch(v, signal))) {
      // Not every backend watches the signal: stop here whatever the store did.
      signal?.throwIfAborted();
      // A slot listed a moment ago but missing now (deleted by GC): the run ends there.
      if (record === undefined) return;
      yield record;
    }
  }

  /** Versions after `after` present now, contiguous from after + 1 (a hole ends the list). */
  async #listVersions(after: number, limit?: number, signal?: AbortSignal): Promise<number[]> {
    const versions: number[] = [];
    const options = {
      prefix: this.#paths.logDir,
      startAfter: this.#paths.record(after),
      ...(limit ? { limit } : {}),
      ...(signal ? { signal } : {}),
    };
    for await (const entry of this.#store.list(options)) {
      if (entry.kind !== 'object') continue;
      const v = this.#paths.recordVersion(entry.key);
      if (v === undefined) continue;
      if (v !== after + versions.length + 1) break;
      versions.push(v);
    }
    return versions;
  }
}
