import { isStoreError, type ObjectStore, type StoreCall, WrappedStore } from '@bucketdb/store';
import { LogError } from './errors.js';
import { decodeFrame, encodeFrame } from './frame.js';
import { LogPaths } from './paths.js';

/**
 * GC's floor, `<prefix>/_gc_floor`: records at or below `floor` may be deleted from `since + graceMs`
 * on (the moment they became garbage, and the grace period). `effective` is the floor that was
 * already in force when this one was written: GC raises the floor only once the current one is in
 * force, so at any time the floor in force is `since + graceMs <= now ? floor : effective`.
 */
export interface GcFloor {
  floor: number;
  since: number;
  graceMs: number;
  effective: number;
}

/** The shortest grace period GC accepts: clients re-read the floor four times per grace period. */
export const MIN_GRACE_MS = 60_000;

export function encodeGcFloor(f: GcFloor): Uint8Array {
  return encodeFrame('floor', f);
}

export async function readGcFloor(
  store: ObjectStore,
  paths: LogPaths,
): Promise<{ floor: GcFloor; etag: string } | undefined> {
  try {
    const got = await store.get(paths.gcFloor);
    const h = decodeFrame('floor', got.body, paths.gcFloor).header as Partial<GcFloor>;
    const ok = [h.floor, h.since, h.graceMs, h.effective].every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
    if (!ok)
      throw new LogError('Corrupt', `${paths.gcFloor} is corrupt: its fields are invalid`, { key: paths.gcFloor });
    return { floor: h as GcFloor, etag: got.etag };
  } catch (error) {
    if (isStoreError(error, 'NotFound')) return undefined;
    throw error;
  }
}

/**
 * Makes re-creating a collected slot impossible for a client of this store: an append
 * (`PUT log/N If-None-Match: *`) at or below the GC floor fails with LogError `Collected` before
 * any request, and so does a read of such a slot that answers 404 (which would otherwise look like
 * the tail, and let a client far behind believe it is caught up). The floor is re-read when the
 * copy in hand is older than a quarter of the grace period, measured on this client's own clock;
 * GC deletes records only a whole grace period after raising the floor, so any client that could
 * reach a deleted slot has seen the raised floor first (docs/design/sql-gc.md).
 */
export class GcFloorGuard extends WrappedStore {
  readonly #paths: LogPaths;
  readonly #now: () => number;
  #floor: GcFloor | undefined;
  #refreshMs = MIN_GRACE_MS / 4;
  #readAt = Number.NEGATIVE_INFINITY;
  /** Floor reads made, for tests and stats. */
  reads = 0;

  constructor(inner: ObjectStore, prefix = '', now: () => number = () => performance.now()) {
    super(inner);
    this.#paths = new LogPaths(prefix);
    this.#now = now;
  }

  // Not async: the append path (once per commit) then adds no promise of its own.
  protected around<T>(call: StoreCall, run: () => Promise<T>): Promise<T> {
    if (call.op !== 'put' && call.op !== 'get') return run();
    const version = this.#paths.recordVersion(call.key);
    if (version === undefined) return run();
    if (call.op === 'get') return this.#guardRead(version, run);
    // A raised floor's records still exist for a grace period: a writer merely behind meets a
    // taken slot (412) and catches up. From half the grace period on, deletions may be near
    // (allowing for clock skew), so the slot is refused before any request.
    // The floor read recently is in hand on nearly every append: no promise then.
    if (this.#reading === undefined && this.#now() - this.#readAt < this.#refreshMs) {
      try {
        this.#refuseAppend(version, this.#floor);
      } catch (error) {
        return Promise.reject(error);
      }
      return run();
    }
    return this.#current().then((f) => {
      this.#refuseAppend(version, f);
      return run();
    });
  }

  #refuseAppend(version: number, f: GcFloor | undefined): void {
    const floor = !f ? 0 : this.#now() >= f.since + f.graceMs / 2 ? f.floor : f.effective;
    this.#refuse(version, floor, 'append at');
  }

  async #guardRead<T>(version: number, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      // Records at or below any floor existed until GC deleted them: a 404 there is a deletion.
      if (isStoreError(error, 'NotFound')) {
        const f = await this.#current();
        this.#refuse(version, f ? Math.max(f.floor, f.effective) : 0, 'read');
      }
      throw error;
    }
  }

  /** Reads the floor now unless the copy in hand is fresh (an open does it early, alongside its other reads). */
  async load(): Promise<void> {
    await this.#current();
  }

  /** The floor copy in hand and when it was read (this guard's clock); undefined before the first read. */
  get copy(): { floor: GcFloor | undefined; readAt: number } | undefined {
    return this.#readAt === Number.NEGATIVE_INFINITY ? undefined : { floor: this.#floor, readAt: this.#readAt };
  }

  /**
   * Starts from a copy read earlier (by an earlier process sharing this clock, e.g. from a disk
   * cache): used until a quarter grace period after `readAt`, like a copy this guard read itself.
   */
  seed(floor: GcFloor | undefined, readAt: number): void {
    if (readAt <= this.#readAt || readAt > this.#now()) return;
    this.#floor = floor;
    this.#readAt = readAt;
    this.#refreshMs = Math.max(MIN_GRACE_MS, floor?.graceMs ?? 0) / 4;
  }

  /**
   * The floor as this client knows it, re-read when the copy is older than a quarter of the grace
   * period: readers skip records at or below it (GC has decided them, or already deleted them).
   */
  async current(): Promise<GcFloor | undefined> {
    return this.#current();
  }

  #reading: Promise<GcFloor | undefined> | undefined;

  async #current(): Promise<GcFloor | undefined> {
    // Concurrent callers share one read of the floor.
    this.#reading ??= this.#refresh().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #refresh(): Promise<GcFloor | undefined> {
    if (this.#now() - this.#readAt >= this.#refreshMs) {
      const startedAt = this.#now();
      const got = await readGcFloor(this.inner, this.#paths);
      this.reads++;
      if (got && (!this.#floor || got.floor.floor >= this.#floor.floor)) this.#floor = got.floor;
      this.#refreshMs = Math.max(MIN_GRACE_MS, got?.floor.graceMs ?? 0) / 4;
      this.#readAt = startedAt;
    }
    return this.#floor;
  }

  #refuse(version: number, floor: number, what: string): void {
    if (version <= floor) {
      throw new LogError(
        'Collected',
        `cannot ${what} log slot ${version}: it is at or below the GC floor ${floor}; this handle is older than the retention window, reopen the database`,
        { key: this.#paths.record(version) },
      );
    }
  }
}
