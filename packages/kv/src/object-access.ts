import {
  type CompareAndSwapOutcome,
  compareAndSwap,
  etagsEqual,
  isStoreError,
  type ObjectInfo,
  type ObjectStore,
  putResolved,
} from '@bucketdb/store';
import type { Fetched } from './context.js';
import { KvError, show, translateWriteError, type WriteCondition } from './errors.js';
import type { LayoutState } from './layout-state.js';
import { retrying } from './retrying.js';
import { type Clock, EXPIRES_META, expiryOf, isExpired } from './ttl.js';
import type { ValueCache } from './value-cache.js';
import { newWriteId, PREV_WRITE_META, sealBody, unsealBody, WRITE_ID_META } from './write-id.js';

/** A value as the codec encoded it. */
export interface EncodedValue {
  body: Uint8Array;
  contentType: string;
}

/** What a write is conditioned on, and the write id of the object it replaces (if known). */
export type WriteConditionHeaders = { ifMatch?: string; ifNoneMatch?: '*'; prevWriteId?: string };

/** A stored object's identity without its body (from a HEAD). */
export interface StoredHead {
  etag: string;
  expiresAt: number | undefined;
  writeId: string | undefined;
  prevWriteId: string | undefined;
}

/** Attempts of one write (failures, unknown outcomes) before it is reported `Unavailable` or `Ambiguous`. */
const RESOLVE_ATTEMPTS = 6;

/**
 * The KV store's requests to the object store, in one place: reads through the revalidated
 * cache, writes with their write ids, and the resolution of writes whose outcome is unknown.
 */
export class ObjectAccess {
  readonly #store: ObjectStore;
  readonly #layout: LayoutState;
  readonly #clock: Clock;
  readonly #cache: ValueCache | undefined;

  constructor(store: ObjectStore, layout: LayoutState, clock: Clock, cache: ValueCache | undefined) {
    this.#store = store;
    this.#layout = layout;
    this.#clock = clock;
    this.#cache = cache;
  }

  forget(encoded: string): void {
    this.#cache?.delete(encoded);
  }

  clearCache(): void {
    this.#cache?.clear();
  }

  /** Before a value is written: the layout file (first write only), then its TTL marker. */
  async prepareWrite(encoded: string, expiresAt: number | undefined): Promise<void> {
    await this.#layout.beforeWrite();
    if (expiresAt === undefined) return;
    const marker = this.#layout.paths.ttlMarker(expiresAt, encoded);
    // An empty marker is idempotent: any failure is retried here, never surfaced half-done.
    await retrying(`writing the TTL marker ${show(marker)}`, () => this.#store.put(marker, new Uint8Array(0)));
  }

  /**
   * Writes a value and returns its version (ETag). The stored body ends with a fresh write id, so
   * the version is unique to this write. Outcomes the store leaves unknown are resolved:
   *
   * - Conditional writes go through the kernel's `compareAndSwap`, which reads back our write id
   *   and sends the same request again while the key still holds what we expected. When it cannot
   *   decide (another writer replaced the key after our unknown outcome), the previous write id
   *   each KV write records decides: the stored object replaced ours, so ours landed; or it
   *   replaced the very object we were replacing, so ours cannot have landed (VersionMismatch).
   *   Anything else is `Ambiguous`.
   * - Unconditional writes go through the kernel's `putResolved`: sent again only after throttling
   *   (which changes nothing); after an unknown outcome the write ids read back decide, else
   *   `Ambiguous`. (Sending a blind write
   *   again after it may have landed could make its value reappear after a later write: the
   *   linearizability checker caught exactly that.)
   */
  async writeValue(
    key: string,
    encoded: string,
    value: EncodedValue,
    expiresAt: number | undefined,
    condition: WriteConditionHeaders,
    signal?: AbortSignal,
  ): Promise<string> {
    const writeId = newWriteId();
    const metadata: Record<string, string> = {};
    if (expiresAt !== undefined) metadata[EXPIRES_META] = String(expiresAt);
    const path = this.#layout.paths.data(encoded);
    const body = sealBody(value.body, writeId);
    this.#cache?.delete(encoded);
    const etag =
      condition.ifMatch === undefined && condition.ifNoneMatch === undefined
        ? await this.#blindWrite(key, path, body, writeId, { contentType: value.contentType, metadata }, signal)
        : await this.#conditionalWrite(key, path, body, writeId, condition, value.contentType, metadata, signal);
    // A private copy: the caller may reuse the buffer it gave us.
    this.#cache?.set(encoded, {
      etag,
      body: value.body.slice(),
      contentType: value.contentType,
      expiresAt,
      writeId,
    });
    return etag;
  }

  async #conditionalWrite(
    key: string,
    path: string,
    body: Uint8Array,
    writeId: string,
    condition: WriteConditionHeaders,
    contentType: string,
    metadata: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const kind: WriteCondition = condition.ifMatch !== undefined ? 'ifVersion' : 'ifAbsent';
    let outcome: CompareAndSwapOutcome;
    try {
      // The kernel resolves unknown outcomes, by our write id and, under contention, by the
      // previous write id every KV write records.
      outcome = await compareAndSwap(this.#store, path, body, {
        expected: condition.ifMatch ?? null,
        contentType,
        metadata,
        writeId,
        writeIdMeta: WRITE_ID_META,
        ...(condition.prevWriteId === undefined ? {} : { previousWriteId: condition.prevWriteId }),
        prevWriteIdMeta: PREV_WRITE_META,
        maxAttempts: RESOLVE_ATTEMPTS,
        capMs: 200,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (!isStoreError(error, 'AmbiguousWrite')) translateWriteError(error, key, kind);
      throw new KvError('Ambiguous', `the write to ${show(key)} may or may not have taken effect`, {
        key,
        cause: error,
      });
    }
    if (outcome.swapped) return outcome.etag;
    if (kind === 'ifAbsent') throw new KvError('Exists', `key ${show(key)} exists`, { key });
    throw new KvError('VersionMismatch', `key ${show(key)} is not at the expected version`, { key });
  }

  async #blindWrite(
    key: string,
    path: string,
    body: Uint8Array,
    writeId: string,
    options: { contentType: string; metadata: Record<string, string> },
    signal: AbortSignal | undefined,
  ): Promise<string> {
    try {
      // The kernel resends only after throttling and settles an unknown outcome by the write ids.
      const { etag } = await putResolved(this.#store, path, body, {
        ...options,
        writeId,
        writeIdMeta: WRITE_ID_META,
        prevWriteIdMeta: PREV_WRITE_META,
        maxAttempts: RESOLVE_ATTEMPTS,
        capMs: 200,
        ...(signal ? { signal } : {}),
      });
      return etag;
    } catch (error) {
      if (!isStoreError(error, 'AmbiguousWrite')) translateWriteError(error, key, 'none');
      throw new KvError('Ambiguous', `the write to ${show(key)} may or may not have taken effect`, {
        key,
        cause: error,
      });
    }
  }

  async deleteValue(key: string, encoded: string, ifVersion: string | undefined, signal?: AbortSignal): Promise<void> {
    await this.#layout.beforeWrite();
    const path = this.#layout.paths.data(encoded);
    this.#cache?.delete(encoded);
    try {
      await this.#store.delete(path, {
        ...(ifVersion === undefined ? {} : { ifMatch: ifVersion }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      const unknown = isStoreError(error, 'AmbiguousWrite') || isStoreError(error, 'Transient');
      if (!unknown) translateWriteError(error, key, ifVersion ? 'ifVersion' : 'none');
      // Unconditional: deleting again is harmless. Conditional: gone means done (ours or another's
      // delete, either way the version we named is no longer there); still at the version, again.
      for (let attempt = 0; attempt < RESOLVE_ATTEMPTS; attempt++) {
        const stored = await retrying('reading back a delete', () => this.#headPath(path));
        if (stored === undefined) return;
        if (ifVersion !== undefined && !etagsEqual(stored.etag, ifVersion)) {
          throw new KvError('Ambiguous', `the delete of ${show(key)} may not have taken effect`, {
            key,
            cause: error,
          });
        }
        try {
          await this.#store.delete(path, ifVersion === undefined ? {} : { ifMatch: ifVersion });
          return;
        } catch (again) {
          if (isStoreError(again, 'NotFound') || isStoreError(again, 'PreconditionFailed')) continue;
          if (!(isStoreError(again) && (again.retryable || again.code === 'AmbiguousWrite'))) throw again;
        }
      }
      throw new KvError('Ambiguous', `the delete of ${show(key)} may not have taken effect`, { key, cause: error });
    }
  }

  /** The stored object's identity, undefined if there is none. One HEAD. */
  async head(encoded: string, signal?: AbortSignal): Promise<StoredHead | undefined> {
    await this.#layout.beforeRead();
    return this.#headPath(this.#layout.paths.data(encoded), signal);
  }

  async #headPath(path: string, signal?: AbortSignal): Promise<StoredHead | undefined> {
    let info: ObjectInfo;
    try {
      info = await this.#store.head(path, signal ? { signal } : {});
    } catch (error) {
      if (isStoreError(error, 'NotFound')) return undefined;
      throw error;
    }
    return {
      etag: info.etag,
      expiresAt: expiryOf(info.metadata),
      writeId: info.metadata[WRITE_ID_META],
      prevWriteId: info.metadata[PREV_WRITE_META],
    };
  }

  /** GET through the cache; undefined when there is no object (expired ones are returned). */
  async fetch(encoded: string, signal?: AbortSignal): Promise<Fetched | undefined> {
    await this.#layout.beforeRead();
    return this.fetchPath(encoded, this.#layout.paths.data(encoded), signal);
  }

  /** `fetch` of a path already known (a scan's listed object). */
  async fetchPath(encoded: string, path: string, signal?: AbortSignal): Promise<Fetched | undefined> {
    const request = signal ? { signal } : {};
    const cached = this.#cache?.get(encoded);
    try {
      // Every write has its own ETag, so a 304 means the very write cached, expiry included. A
      // cached entry past its expiry is fetched whole all the same: a format-1 object (no write id)
      // may have been re-put with the same bytes and a new expiry.
      if (cached !== undefined && !isExpired(cached.expiresAt, this.#clock())) {
        const result = await this.#store.get(path, { ...request, ifNoneMatch: cached.etag });
        if (result.notModified) return { ...cached, fromCache: true };
        return this.#remember(encoded, result);
      }
      return this.#remember(encoded, await this.#store.get(path, request));
    } catch (error) {
      if (!isStoreError(error, 'NotFound')) throw error;
      this.#cache?.delete(encoded);
      return undefined;
    }
  }

  /**
   * The object at `path` unless it is still the write `last` (a GET with If-None-Match: HTTP 304,
   * no body, when nothing changed; a full GET otherwise). Undefined when there is no object.
   */
  async fetchSince(
    encoded: string,
    path: string,
    last: Fetched | undefined,
    signal?: AbortSignal,
  ): Promise<Fetched | undefined> {
    if (last === undefined) return this.fetchPath(encoded, path, signal);
    try {
      const result = await this.#store.get(path, { ifNoneMatch: last.etag, ...(signal ? { signal } : {}) });
      return result.notModified ? last : this.#remember(encoded, result);
    } catch (error) {
      if (!isStoreError(error, 'NotFound')) throw error;
      this.#cache?.delete(encoded);
      return undefined;
    }
  }

  #remember(
    encoded: string,
    result: { etag: string; body: Uint8Array; contentType?: string; metadata: Record<string, string> },
  ): Fetched {
    const fetched = {
      etag: result.etag,
      body: unsealBody(result.body, result.metadata),
      contentType: result.contentType,
      expiresAt: expiryOf(result.metadata),
      writeId: result.metadata[WRITE_ID_META],
    };
    this.#cache?.set(encoded, fetched);
    return { ...fetched, fromCache: false };
  }
}
