import { randomBytes } from 'node:crypto';
import { isStoreError, type ObjectStore } from '@bucketdb/store';
import type { Fetched } from './context.js';
import { KvError, show, translateWriteError, type WriteCondition } from './errors.js';
import { recordLayout } from './manifest.js';
import type { KvPaths } from './paths.js';
import { type Clock, EXPIRES_META, expiryOf, isExpired, WRITE_ID_META } from './ttl.js';
import type { ValueCache } from './value-cache.js';

/** A value as the codec encoded it. */
export interface EncodedValue {
  body: Uint8Array;
  contentType: string;
}

export type WriteConditionHeaders = { ifMatch?: string; ifNoneMatch?: '*' };

/**
 * The KV store's requests to the object store, in one place: reads through the revalidated
 * cache, writes with their metadata, and the resolution of ambiguous writes by write id.
 */
export class ObjectAccess {
  readonly #store: ObjectStore;
  readonly #paths: KvPaths;
  readonly #clock: Clock;
  readonly #cache: ValueCache | undefined;
  /** Settled once `kv.json` is known to name our layout; created by the first write. */
  #layoutRecorded: Promise<void> | undefined;

  constructor(store: ObjectStore, paths: KvPaths, clock: Clock, cache: ValueCache | undefined, recorded: boolean) {
    this.#store = store;
    this.#paths = paths;
    this.#clock = clock;
    this.#cache = cache;
    if (recorded) this.#layoutRecorded = Promise.resolve();
  }

  forget(encoded: string): void {
    this.#cache?.delete(encoded);
  }

  clearCache(): void {
    this.#cache?.clear();
  }

  /** Before a value is written: the layout file (first write only), then its TTL marker. */
  async prepareWrite(encoded: string, expiresAt: number | undefined): Promise<void> {
    if (this.#layoutRecorded === undefined) {
      this.#layoutRecorded = recordLayout(this.#store, this.#paths.manifest, this.#paths.layout);
      this.#layoutRecorded.catch(() => {
        this.#layoutRecorded = undefined;
      });
    }
    await this.#layoutRecorded;
    if (expiresAt !== undefined) await this.#store.put(this.#paths.ttlMarker(expiresAt, encoded), new Uint8Array(0));
  }

  async writeValue(
    key: string,
    encoded: string,
    value: EncodedValue,
    expiresAt: number | undefined,
    condition: WriteConditionHeaders,
    signal?: AbortSignal,
  ): Promise<string> {
    const writeId = randomBytes(12).toString('base64url');
    const metadata: Record<string, string> = { [WRITE_ID_META]: writeId };
    if (expiresAt !== undefined) metadata[EXPIRES_META] = String(expiresAt);
    const path = this.#paths.data(encoded);
    const kind: WriteCondition = condition.ifMatch ? 'ifVersion' : condition.ifNoneMatch ? 'ifAbsent' : 'none';
    let etag: string;
    try {
      ({ etag } = await this.#store.put(path, value.body, {
        ...condition,
        contentType: value.contentType,
        metadata,
        ...(signal ? { signal } : {}),
      }));
    } catch (error) {
      this.#cache?.delete(encoded);
      if (!isStoreError(error, 'AmbiguousWrite')) translateWriteError(error, key, kind);
      // Resolve by reading back the write id: ours means the write took effect.
      const info = await this.#store.head(path).catch(() => undefined);
      if (info?.metadata[WRITE_ID_META] !== writeId) {
        throw new KvError('Ambiguous', `the write to ${show(key)} may or may not have taken effect`, {
          key,
          cause: error,
        });
      }
      etag = info.etag;
    }
    // A private copy: the caller may reuse the buffer it gave us.
    this.#cache?.set(encoded, { etag, body: value.body.slice(), contentType: value.contentType, expiresAt });
    return etag;
  }

  async deleteValue(key: string, encoded: string, ifVersion: string | undefined, signal?: AbortSignal): Promise<void> {
    const path = this.#paths.data(encoded);
    this.#cache?.delete(encoded);
    try {
      await this.#store.delete(path, {
        ...(ifVersion === undefined ? {} : { ifMatch: ifVersion }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (!isStoreError(error, 'AmbiguousWrite')) translateWriteError(error, key, ifVersion ? 'ifVersion' : 'none');
      const gone = await this.#store.head(path).then(
        () => false,
        (e: unknown) => isStoreError(e, 'NotFound'),
      );
      if (!gone)
        throw new KvError('Ambiguous', `the delete of ${show(key)} may not have taken effect`, { key, cause: error });
    }
  }

  async fetch(encoded: string, path: string, signal?: AbortSignal): Promise<Fetched | undefined> {
    const request = signal ? { signal } : {};
    const cached = this.#cache?.get(encoded);
    try {
      // A cached entry past its expiry may have been re-put with the same bytes (same ETag) and a
      // new expiry, which a 304 would not tell us: fetch it whole.
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

  #remember(
    encoded: string,
    result: { etag: string; body: Uint8Array; contentType?: string; metadata: Record<string, string> },
  ): Fetched {
    const fetched = {
      etag: result.etag,
      body: result.body,
      contentType: result.contentType,
      expiresAt: expiryOf(result.metadata),
    };
    this.#cache?.set(encoded, fetched);
    return { ...fetched, fromCache: false };
  }
}
