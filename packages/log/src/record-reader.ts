import { isStoreError, mapConcurrent, type ObjectStore, streamConcurrent } from '@bucketdb/store';
import type { LogPaths } from './paths.js';
import { decodeRecord, type LogRecord } from './record.js';

/** GETs in flight while reading a run of records. */
const FETCH_WINDOW = 8;
/** Keys one LIST page returns (S3's page size). */
const LIST_PAGE = 1000;
/** GETs in flight during a scan: each wave is meant to be one round trip (an HTTP client queues them on its sockets). */
const SCAN_IN_FLIGHT = 8192;
/** Probes per scan wave; the first wave's probes double their distance up to 2^24 records. */
const PROBES = 64;
const MAX_GALLOP = 2 ** 24;
/** Records one scan returns at most (bounds its memory); the caller scans again from there. */
export const SCAN_MAX_RECORDS = 10_000;

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

  /**
   * The contiguous run of records after `after` present now, in a number of round trips that
   * grows with the logarithm of the lag, not the lag: one LIST page; if it is full, GETs of what it
   * listed in parallel with probes further on (at doubling distances, then evenly spaced inside
   * the gap between the last slot found and the first slot missing) until the end of the log is
   * pinned down, then GETs of the rest. A slot that exists proves every slot below it exists (the
   * log has no holes above GC's floor); a missing one ends the run. The run may start above
   * `after + 1` when GC deleted the first slots (the caller sees the gap).
   */
  async scan(after: number, signal?: AbortSignal, max = SCAN_MAX_RECORDS): Promise<LogRecord[]> {
    const cap = after + max;
    const found = new Map<number, LogRecord>();
    const listed: number[] = [];
    for await (const entry of this.#store.list({
      prefix: this.#paths.logDir,
      startAfter: this.#paths.record(after),
      limit: LIST_PAGE,
      ...(signal ? { signal } : {}),
    })) {
      const v = entry.kind === 'object' ? this.#paths.recordVersion(entry.key) : undefined;
      if (v === undefined) continue;
      if (listed.length > 0 && v !== (listed.at(-1) as number) + 1) break;
      listed.push(v);
    }
    if (listed.length === 0) return [];
    const first = listed[0] as number;
    let missing = Number.POSITIVE_INFINITY;
    const get = async (v: number) => {
      const record = await this.fetch(v, signal);
      if (record) found.set(v, record);
      else missing = Math.min(missing, v);
    };
    let pending = listed;
    // Every slot up to `lo` exists; `missing` (once finite) is the first slot known to be absent.
    let lo = listed.at(-1) as number;
    if (listed.length < LIST_PAGE) missing = lo + 1;
    let fetchedTo = lo;
    for (;;) {
      let probes: number[] = [];
      if (missing === Number.POSITIVE_INFINITY) {
        for (let d = PROBES; d <= MAX_GALLOP && lo + d < cap; d *= 2) probes.push(lo + d);
        probes.push(cap);
      } else if (missing - lo - 1 <= PROBES) {
        for (let v = lo + 1; v < missing; v++) probes.push(v);
      } else {
        const step = (missing - lo) / (PROBES + 1);
        probes = Array.from({ length: PROBES }, (_, i) => lo + Math.max(1, Math.round(step * (i + 1))));
      }
      await mapConcurrent([...pending, ...new Set(probes)], SCAN_IN_FLIGHT, get);
      signal?.throwIfAborted();
      // At the cap the scan stops as if the log ended there.
      if (found.has(cap)) missing = Math.min(missing, cap + 1);
      const newLo = Math.max(lo, ...[...found.keys()].filter((v) => v < missing));
      pending = [];
      for (let v = fetchedTo + 1; v <= newLo; v++) if (!found.has(v)) pending.push(v);
      fetchedTo = Math.max(fetchedTo, newLo);
      lo = newLo;
      // The end is pinned down (or a slot below it vanished, GC racing us: the run ends there).
      if (missing <= lo + 1) {
        if (pending.length > 0) await mapConcurrent(pending, SCAN_IN_FLIGHT, get);
        break;
      }
    }
    const run: LogRecord[] = [];
    for (let v = first; v <= cap && found.has(v); v++) run.push(found.get(v) as LogRecord);
    return run;
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
