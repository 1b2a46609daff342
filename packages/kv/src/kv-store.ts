import {
  backoff,
  etagsEqual,
  isLeaseError,
  isStoreError,
  type LeaseGrant,
  Leases,
  mapConcurrent,
  type ObjectStore,
  openStore,
} from '@bucketdb/store';
import { autoCodec, checkContentType, type Codec, type KvValue } from './codec.js';
import type { Fetched, KvContext } from './context.js';
import { checkConcurrency, isKvError, KvError, show } from './errors.js';
import { detectCapabilities, type StoreCapabilities } from './capabilities.js';
import { LayoutState } from './layout-state.js';
import { checkLayout, readLayout } from './manifest.js';
import { type EncodedValue, ObjectAccess, type WriteConditionHeaders } from './object-access.js';
import { KvPaths, LAYOUTS, type Layout } from './paths.js';
import { type ScanOptions, scanRaw } from './scan.js';
import { type SweepOptions, type SweepResult, sweepExpired } from './sweep.js';
import { type Clock, expiryFromTtl, isExpired } from './ttl.js';
import { type FetchSince, type WatchOptions, type WatchTarget, watchChanges } from './watch.js';
import type {
  KvChange,
  KvDeleteOptions,
  KvEntry,
  KvLeaseOptions,
  KvOpenOptions,
  KvPutOptions,
  KvScanEntry,
  KvUpdateOptions,
  Updater,
} from './types.js';
import { ValueCache } from './value-cache.js';

/** S3's largest single PUT. */
const MAX_OBJECT_BYTES = 5 * 2 ** 30;

/**
 * A key-value store with one object per key (docs/design/kv.md). Reads are strong, versions are
 * ETags, and every conditional operation is one conditional request to the store.
 */
export class KvStore<T = KvValue> implements AsyncDisposable {
  readonly store: ObjectStore;
  readonly codec: Codec<T>;
  readonly maxValueBytes: number;
  readonly #ownsStore: boolean;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #context: KvContext;
  readonly #io: ObjectAccess;
  readonly #layout: LayoutState;
  readonly #leases: Leases;
  #capabilities: Promise<StoreCapabilities> | undefined;
  #closed = false;

  static async open<T = KvValue>(
    urlOrStore: string | ObjectStore,
    options: KvOpenOptions<T> = {},
  ): Promise<KvStore<T>> {
    if (options.layout !== undefined && !(LAYOUTS as readonly string[]).includes(options.layout)) {
      throw new KvError(
        'InvalidArgument',
        `layout must be one of ${LAYOUTS.join(', ')}, got ${String(options.layout)}`,
      );
    }
    const owns = typeof urlOrStore === 'string';
    const store = owns ? await openStore(urlOrStore) : urlOrStore;
    try {
      const probe = new KvPaths(options.prefix ?? '', 'ordered', store.maxKeyBytes);
      const recorded = await readLayout(store, probe.manifest);
      const layout = options.layout ?? recorded ?? 'ordered';
      checkLayout(probe.manifest, recorded, layout);
      return new KvStore<T>(
        store,
        owns,
        new LayoutState(
          store,
          new KvPaths(probe.prefix, layout, store.maxKeyBytes),
          options.layout !== undefined,
          recorded !== undefined,
        ),
        options,
      );
    } catch (error) {
      if (owns) await store.close();
      throw error;
    }
  }

  private constructor(store: ObjectStore, owns: boolean, layout: LayoutState, options: KvOpenOptions<T>) {
    this.store = store;
    this.#ownsStore = owns;
    this.#layout = layout;
    this.codec = options.codec ?? (autoCodec as unknown as Codec<T>);
    this.maxValueBytes = options.maxValueBytes ?? 4 * 2 ** 20;
    if (!Number.isSafeInteger(this.maxValueBytes) || this.maxValueBytes < 0 || this.maxValueBytes > MAX_OBJECT_BYTES) {
      throw new KvError('InvalidArgument', `maxValueBytes must be an integer from 0 to ${MAX_OBJECT_BYTES}`);
    }
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? Math.random;
    const cache = options.cache ? new ValueCache(options.cache === true ? {} : options.cache) : undefined;
    this.#leases = new Leases(store, {
      keyOf: (name) => layout.paths.lease(name),
      clock: this.#clock,
      ...(options.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: options.maxClockSkewMs }),
    });
    if (options.capabilities !== undefined) this.#capabilities = Promise.resolve({ ...options.capabilities });
    const io = new ObjectAccess(store, layout, this.#clock, cache);
    this.#io = io;
    this.#context = {
      store,
      get paths() {
        return layout.paths;
      },
      beforeRead: () => layout.beforeRead(),
      capabilities: () => this.capabilities(),
      clock: this.#clock,
      fetch: (encoded, path, signal) => io.fetchPath(encoded, path, signal),
      forget: (encoded) => io.forget(encoded),
    };
  }

  /** The key layout (docs/design/kv.md); a store opened before its first write may switch once. */
  get paths(): KvPaths {
    return this.#layout.paths;
  }

  get layout(): Layout {
    return this.paths.layout;
  }

  /** The entry, or undefined if there is none or it has expired. One GET (conditional on a cache hit). */
  async get(key: string, options: { signal?: AbortSignal } = {}): Promise<KvEntry<T> | undefined> {
    this.#checkOpen();
    const encoded = this.paths.encode(key);
    options.signal?.throwIfAborted();
    const fetched = await this.#io.fetch(encoded, options.signal);
    if (fetched === undefined || isExpired(fetched.expiresAt, this.#clock())) return undefined;
    return this.#entry(key, fetched);
  }

  /**
   * Entries in the order of `keys` (undefined where absent or expired), with `concurrency` GETs in
   * flight. Each entry is read on its own: the result is not a snapshot (a change to two keys made
   * meanwhile can be seen half-applied).
   */
  async getMany(
    keys: readonly string[],
    options: { concurrency?: number; signal?: AbortSignal } = {},
  ): Promise<(KvEntry<T> | undefined)[]> {
    this.#checkOpen();
    const concurrency = options.concurrency ?? 32;
    checkConcurrency(concurrency);
    for (const key of keys) this.paths.encode(key); // all bad keys fail before any request
    const signal = options.signal ? { signal: options.signal } : {};
    return mapConcurrent(keys, concurrency, (key) => this.get(key, signal));
  }

  /**
   * Writes `value` and returns its version, unique to this write. `ifVersion` costs one HEAD before
   * the conditional PUT (an expired entry has no version to match); `ifAbsent` one GET when the key
   * exists (an expired entry counts as absent and is replaced by its exact version).
   */
  async put(key: string, value: T, options: KvPutOptions = {}): Promise<string> {
    this.#checkOpen();
    if (options.ifVersion !== undefined && options.ifAbsent) {
      throw new KvError('InvalidArgument', 'ifVersion and ifAbsent exclude each other', { key });
    }
    checkVersion(key, options.ifVersion);
    const encoded = this.paths.encode(key);
    const expiresAt = options.ttlSeconds === undefined ? undefined : expiryFromTtl(this.#clock(), options.ttlSeconds);
    const body = this.#encodeValue(key, value, options.contentType);
    options.signal?.throwIfAborted();
    const write = async (condition: WriteConditionHeaders) => {
      await this.#io.prepareWrite(encoded, expiresAt);
      return this.#io.writeValue(key, encoded, body, expiresAt, condition, options.signal);
    };
    if (options.ifVersion !== undefined) {
      const stored = await this.#io.head(encoded, options.signal);
      if (
        stored === undefined ||
        !etagsEqual(stored.etag, options.ifVersion) ||
        isExpired(stored.expiresAt, this.#clock())
      ) {
        throw new KvError('VersionMismatch', `key ${show(key)} is not at version ${options.ifVersion}`, { key });
      }
      return write({ ifMatch: stored.etag, ...prev(stored.writeId) });
    }
    if (!options.ifAbsent) return write({});
    // An expired entry counts as absent: replace exactly it (If-Match on its unique version).
    // Bounded: each lap means another writer changed the key in between.
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return await write({ ifNoneMatch: '*' });
      } catch (error) {
        if (!isKvError(error, 'Exists')) throw error;
      }
      const current = await this.#io.head(encoded, options.signal);
      if (current === undefined) continue;
      if (!isExpired(current.expiresAt, this.#clock())) throw new KvError('Exists', `key ${show(key)} exists`, { key });
      try {
        return await write({ ifMatch: current.etag, ...prev(current.writeId) });
      } catch (error) {
        if (!isKvError(error, 'VersionMismatch')) throw error;
      }
    }
    throw new KvError('Conflict', `key ${show(key)} kept changing while putting it if absent`, { key });
  }

  /**
   * Puts many entries, `concurrency` at a time (default 32). Every key, value and option is checked
   * before any request. Not atomic: each entry is its own put; all are attempted, and if any
   * failed the first failure is thrown after the others settled. Returns the versions in order.
   */
  async putMany(
    entries: readonly { key: string; value: T; options?: Omit<KvPutOptions, 'signal'> }[],
    options: { concurrency?: number; signal?: AbortSignal } = {},
  ): Promise<string[]> {
    this.#checkOpen();
    const concurrency = options.concurrency ?? 32;
    checkConcurrency(concurrency);
    for (const { key, value, options: put = {} } of entries) {
      this.paths.encode(key);
      checkVersion(key, put.ifVersion);
      if (put.ttlSeconds !== undefined) expiryFromTtl(this.#clock(), put.ttlSeconds);
      this.#encodeValue(key, value, put.contentType);
    }
    const signal = options.signal ? { signal: options.signal } : {};
    return settleAll(entries, concurrency, (e) => this.put(e.key, e.value, { ...e.options, ...signal }));
  }

  /** Deletes many keys, `concurrency` at a time, each its own delete (see putMany). */
  async deleteMany(
    keys: readonly string[],
    options: { concurrency?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    this.#checkOpen();
    const concurrency = options.concurrency ?? 32;
    checkConcurrency(concurrency);
    for (const key of keys) this.paths.encode(key);
    const signal = options.signal ? { signal: options.signal } : {};
    await settleAll(keys, concurrency, (key) => this.delete(key, signal));
  }

  /** Deletes the key; without `ifVersion` deleting a missing key succeeds. */
  async delete(key: string, options: KvDeleteOptions = {}): Promise<void> {
    this.#checkOpen();
    checkVersion(key, options.ifVersion);
    const encoded = this.paths.encode(key);
    options.signal?.throwIfAborted();
    await this.#io.deleteValue(key, encoded, options.ifVersion, options.signal);
  }

  /**
   * Read-modify-write with compare-and-swap: reads the entry, calls `fn`, writes its result if
   * the key is still at the version read, otherwise backs off (full jitter) and tries again.
   */
  async update(key: string, fn: Updater<T>, options: KvUpdateOptions = {}): Promise<KvEntry<T> | undefined> {
    this.#checkOpen();
    const encoded = this.paths.encode(key);
    const maxAttempts = options.maxAttempts ?? 50;
    if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
      throw new KvError('InvalidArgument', `maxAttempts must be a positive integer, got ${String(maxAttempts)}`);
    }
    // Bad options fail before any request.
    if (options.ttlSeconds !== undefined) expiryFromTtl(this.#clock(), options.ttlSeconds);
    if (options.contentType !== undefined) checkContentType(key, options.contentType);
    const { signal } = options;
    let lastError: unknown;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt > 0) await backoff(attempt - 1, { capMs: 500, random: this.#random, ...(signal ? { signal } : {}) });
      signal?.throwIfAborted();
      let stored: Fetched | undefined;
      try {
        stored = await this.#io.fetch(encoded, signal);
      } catch (error) {
        if (signal?.aborted || !isRetryable(error)) throw asKvError(key, error);
        lastError = error;
        continue;
      }
      const live = stored !== undefined && !isExpired(stored.expiresAt, this.#clock()) ? stored : undefined;
      const current = live === undefined ? undefined : this.#entry(key, live);
      const next = await fn(current?.value, current);
      const condition: WriteConditionHeaders =
        stored === undefined ? { ifNoneMatch: '*' } : { ifMatch: stored.etag, ...prev(stored.writeId) };
      try {
        if (next === undefined) {
          if (stored !== undefined) await this.#io.deleteValue(key, encoded, stored.etag, signal);
          return undefined;
        }
        const expiresAt =
          options.ttlSeconds === undefined ? live?.expiresAt : expiryFromTtl(this.#clock(), options.ttlSeconds);
        const value = this.#encodeValue(key, next, options.contentType);
        // Re-checked right before writing: if the entry read live has expired meanwhile (or the
        // expiry it keeps has passed), fn saw a value that no longer exists. Read again.
        if (live !== undefined && isExpired(live.expiresAt, this.#clock())) continue;
        // A live entry's own marker is still in place (sweep only takes due ones).
        await this.#io.prepareWrite(encoded, expiresAt === live?.expiresAt ? undefined : expiresAt);
        const version = await this.#io.writeValue(key, encoded, value, expiresAt, condition, signal);
        return withExpiry<KvEntry<T>>({ value: next, version, contentType: value.contentType }, expiresAt);
      } catch (error) {
        if (signal?.aborted || !isRetryable(error)) throw asKvError(key, error);
        lastError = error;
      }
    }
    if (isKvError(lastError, 'Unavailable') || isStoreError(lastError)) throw asKvError(key, lastError);
    throw new KvError('Conflict', `update of ${show(key)} did not succeed in ${maxAttempts} attempts`, { key });
  }

  /** Entries in key order (see ScanOptions for costs). Expired entries are skipped. */
  async *scan(options: ScanOptions = {}): AsyncIterable<KvScanEntry<T>> {
    this.#checkOpen();
    for await (const raw of scanRaw(this.#context, options)) {
      const entry: KvScanEntry<T> = { key: raw.key, version: raw.version, size: raw.size, cursor: raw.cursor };
      if (raw.fetched !== undefined) {
        entry.value = this.#decode(raw.key, raw.fetched);
        if (raw.fetched.expiresAt !== undefined) entry.expiresAt = new Date(raw.fetched.expiresAt);
      }
      yield entry;
    }
  }

  /** Live keys starting with `prefix`: one LIST per 1000 keys. Works on both layouts. */
  async count(prefix = '', options: { signal?: AbortSignal } = {}): Promise<number> {
    this.#checkOpen();
    let n = 0;
    for await (const _ of scanRaw(this.#context, { ...options, prefix, unordered: true })) n++;
    return n;
  }

  /**
   * Changes to one key or to every key under a prefix, by polling (docs/design/kv.md, "Watch"):
   * the first poll reports what exists as puts, later ones what changed since (coalesced between
   * polls). Runs until `signal` aborts, which ends the iteration.
   */
  async *watch(target: WatchTarget, options: WatchOptions = {}): AsyncIterable<KvChange<T>> {
    this.#checkOpen();
    if ('key' in target) this.paths.encode(target.key);
    const io = this.#io;
    const fetchSince: FetchSince = (encoded, path, last, signal) => io.fetchSince(encoded, path, last, signal);
    for await (const change of watchChanges(this.#context, fetchSince, target, options)) {
      yield change.fetched === undefined
        ? { type: 'delete', key: change.key }
        : { type: 'put', key: change.key, entry: this.#entry(change.key, change.fetched) };
    }
  }

  /** Deletes expired entries and their TTL markers. */
  async sweep(options: SweepOptions = {}): Promise<SweepResult> {
    this.#checkOpen();
    return sweepExpired(this.#context, options);
  }

  /**
   * Takes the lease `name` for `ttlSeconds` if it is free; `LeaseHeld` (a LeaseError from
   * `@bucketdb/store`) if another holder has it. Act only before `validUntil`, and pass
   * `fencingToken` to what you protect. Guarantees and the clock-skew assumption:
   * docs/design/kv.md, "Leases".
   */
  async acquire(name: string, options: KvLeaseOptions): Promise<LeaseGrant> {
    this.#checkOpen();
    const { waitSeconds = 0, signal } = options;
    if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
      throw new KvError('InvalidArgument', `waitSeconds must be a non-negative number, got ${String(waitSeconds)}`);
    }
    const request = { ...leaseOptions(options), ...(options.holder ? { holder: options.holder } : {}) };
    const deadline = this.#clock() + waitSeconds * 1000;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#leases.acquire(name, request);
      } catch (error) {
        if (!isLeaseError(error, 'LeaseHeld') || this.#clock() >= deadline) throw error;
      }
      await backoff(attempt, { baseMs: 20, capMs: 1000, random: this.#random, ...(signal ? { signal } : {}) });
      signal?.throwIfAborted();
    }
  }

  /** Extends a held lease to `ttlSeconds` from now (never shortens it); `LeaseLost` if it is gone. */
  async renew(grant: LeaseGrant, options: KvLeaseOptions): Promise<LeaseGrant> {
    this.#checkOpen();
    return this.#leases.renew(grant, leaseOptions(options));
  }

  /** Gives a held lease up at once; false if it was no longer this grant's. Stop acting first. */
  async release(grant: LeaseGrant, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    this.#checkOpen();
    return this.#leases.release(grant, options);
  }

  /**
   * What the store's LIST and DELETE can do: probed once (three empty objects under `p/`, written
   * and deleted) unless given at open. Scans adapt or fail with `Unsupported`; sweep needs
   * conditional DELETE.
   */
  capabilities(): Promise<StoreCapabilities> {
    if (this.#capabilities === undefined) {
      this.#capabilities = detectCapabilities(this.store, this.paths.probeDir);
      this.#capabilities.catch(() => {
        this.#capabilities = undefined;
      });
    }
    return this.#capabilities;
  }

  /** Closes the store if this KvStore opened it from a URL. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#io.clearCache();
    if (this.#ownsStore) await this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new KvError('Closed', 'the KV store is closed');
  }

  #encodeValue(key: string, value: T, contentType: string | undefined): EncodedValue {
    if (contentType !== undefined) checkContentType(key, contentType);
    let encoded: EncodedValue;
    try {
      encoded = this.codec.encode(value, contentType);
    } catch (error) {
      if (isKvError(error)) throw new KvError(error.code, `key ${show(key)}: ${error.message}`, { key, cause: error });
      throw new KvError('InvalidValue', `key ${show(key)}: the ${this.codec.name} codec failed`, { key, cause: error });
    }
    if (encoded.body.length > this.maxValueBytes) {
      throw new KvError(
        'ValueTooLarge',
        `key ${show(key)}: the value is ${encoded.body.length} bytes encoded, more than maxValueBytes ${this.maxValueBytes}`,
        { key },
      );
    }
    return encoded;
  }

  #decode(key: string, fetched: Fetched): T {
    try {
      return this.codec.decode(fetched.fromCache ? fetched.body.slice() : fetched.body, fetched.contentType);
    } catch (error) {
      if (isKvError(error)) throw new KvError(error.code, `key ${show(key)}: ${error.message}`, { key, cause: error });
      throw new KvError('Corrupt', `key ${show(key)}: the ${this.codec.name} codec cannot read it`, {
        key,
        cause: error,
      });
    }
  }

  #entry(key: string, fetched: Fetched): KvEntry<T> {
    const entry: KvEntry<T> = { value: this.#decode(key, fetched), version: fetched.etag };
    if (fetched.contentType !== undefined) entry.contentType = fetched.contentType;
    return withExpiry(entry, fetched.expiresAt);
  }
}

/**
 * Whether update() may run again after `error`: it lost the race, or the store failed without
 * changing anything (Transient, Throttled). Never `Ambiguous`: that write may have landed, and
 * running the function again would apply it twice.
 */
function isRetryable(error: unknown): boolean {
  if (isKvError(error)) return ['VersionMismatch', 'Exists', 'Conflict', 'Unavailable'].includes(error.code);
  return isStoreError(error) && error.retryable;
}

/** update() reports KV errors only: a store failure that changed nothing becomes `Unavailable`. */
function asKvError(key: string, error: unknown): unknown {
  if (!isStoreError(error)) return error;
  return new KvError('Unavailable', `update of ${show(key)} failed: ${error.message}`, { key, cause: error });
}

/** Runs every item, then throws the first failure (if any): no item is left running unobserved. */
async function settleAll<I, O>(items: readonly I[], concurrency: number, run: (item: I) => Promise<O>): Promise<O[]> {
  const settled = await mapConcurrent(items, concurrency, (item) =>
    run(item).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
  );
  const failed = settled.find((r) => !r.ok);
  if (failed !== undefined && !failed.ok) throw failed.error;
  return settled.map((r) => (r.ok ? r.value : (undefined as never)));
}

function leaseOptions(options: KvLeaseOptions): { ttlMs: number; signal?: AbortSignal } {
  const { ttlSeconds, signal } = options;
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new KvError('InvalidArgument', `ttlSeconds must be a positive number, got ${String(ttlSeconds)}`);
  }
  return { ttlMs: ttlSeconds * 1000, ...(signal ? { signal } : {}) };
}

function prev(writeId: string | undefined): { prevWriteId?: string } {
  return writeId === undefined ? {} : { prevWriteId: writeId };
}

/** A version is an ETag as `get` returned it: a non-empty string. */
function checkVersion(key: string, version: string | undefined): void {
  if (version !== undefined && (typeof version !== 'string' || version.trim() === '')) {
    throw new KvError(
      'InvalidArgument',
      `ifVersion must be a version from get or put, got ${JSON.stringify(version)}`,
      {
        key,
      },
    );
  }
}

function withExpiry<E extends { expiresAt?: Date }>(entry: E, expiresAt: number | undefined): E {
  if (expiresAt !== undefined) entry.expiresAt = new Date(expiresAt);
  return entry;
}

/** Opens a KV store on a store URL (`mem://`, `file:///…`, `./dir`, `s3://…`) or an ObjectStore. */
export function open<T = KvValue>(
  urlOrStore: string | ObjectStore,
  options: KvOpenOptions<T> = {},
): Promise<KvStore<T>> {
  return KvStore.open<T>(urlOrStore, options);
}
