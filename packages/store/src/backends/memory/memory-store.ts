import { BaseStore } from '../../base-store.js';
import { bytesToStream, collectBody } from '../../body.js';
import { ClosedError, NotFoundError, PreconditionFailedError } from '../../errors.js';
import { etagsEqual, LOCAL_MAX_KEY_BYTES, md5Etag, validateKey } from '../../keys.js';
import type {
  DeleteOptions,
  GetOptions,
  GetStreamResult,
  ListPage,
  ListPageOptions,
  NotModified,
  ObjectInfo,
  PutBody,
  PutOptions,
  PutResult,
} from '../../object-store.js';
import { resolveRange } from '../../range.js';
import { listSortedKeys, lowerBound } from '../../sorted-listing.js';

interface StoredObject {
  body: Uint8Array;
  etag: string;
  lastModified: Date;
  contentType?: string;
  metadata: Record<string, string>;
}

/**
 * Objects in process memory. A real backend, not a mock: the same semantics as the others,
 * conditional writes included (they are atomic because each check-and-set runs in one tick).
 */
export class MemoryStore extends BaseStore {
  readonly url: string;
  readonly maxKeyBytes = LOCAL_MAX_KEY_BYTES;
  readonly #objects = new Map<string, StoredObject>();
  /** Keys in S3 listing order, kept sorted on insert so LIST is a binary search. */
  readonly #sorted: string[] = [];
  #closed = false;

  constructor(name = '') {
    super();
    this.url = `mem://${name}`;
  }

  getStream(key: string, options: GetOptions & { ifNoneMatch: string }): Promise<GetStreamResult | NotModified>;
  getStream(key: string, options?: GetOptions): Promise<GetStreamResult>;
  async getStream(key: string, options: GetOptions = {}): Promise<GetStreamResult | NotModified> {
    const object = this.#read(key);
    if (options.ifMatch !== undefined && !etagsEqual(options.ifMatch, object.etag)) {
      throw new PreconditionFailedError(key, 'If-Match does not match the current ETag');
    }
    if (options.ifNoneMatch !== undefined && etagsEqual(options.ifNoneMatch, object.etag)) {
      return { notModified: true, key, etag: object.etag };
    }
    const info = describe(key, object);
    if (!options.range) return { ...info, body: bytesToStream(object.body), bytes: object.body };
    const range = resolveRange(key, object.body.length, options.range);
    const bytes = object.body.subarray(range.start, range.end);
    return { ...info, range, body: bytesToStream(bytes), bytes };
  }

  async head(key: string): Promise<ObjectInfo> {
    return describe(key, this.#read(key));
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    this.#checkOpen();
    validateKey(key, this.maxKeyBytes);
    const bytes = await collectBody(body);
    // Check the condition after the body has arrived, as S3 does: the write takes effect at the end.
    const current = this.#objects.get(key);
    if (options.ifNoneMatch === '*' && current) {
      throw new PreconditionFailedError(key, 'the key exists (If-None-Match: *)');
    }
    if (options.ifMatch !== undefined) {
      if (!current) throw new NotFoundError(key);
      if (!etagsEqual(options.ifMatch, current.etag)) {
        throw new PreconditionFailedError(key, 'If-Match does not match the current ETag');
      }
    }
    const object: StoredObject = {
      body: Uint8Array.prototype.slice.call(bytes),
      etag: md5Etag(bytes),
      lastModified: new Date(),
      metadata: { ...(options.metadata ?? {}) },
    };
    if (options.contentType !== undefined) object.contentType = options.contentType;
    if (!current) this.#sorted.splice(lowerBound(this.#sorted, key), 0, key);
    this.#objects.set(key, object);
    return { etag: object.etag };
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<void> {
    this.#checkOpen();
    validateKey(key, this.maxKeyBytes);
    const current = this.#objects.get(key);
    if (options.ifMatch !== undefined) {
      if (!current) throw new NotFoundError(key);
      if (!etagsEqual(options.ifMatch, current.etag)) {
        throw new PreconditionFailedError(key, 'If-Match does not match the current ETag');
      }
    }
    if (!current) return;
    this.#objects.delete(key);
    this.#sorted.splice(lowerBound(this.#sorted, key), 1);
  }

  async listPage(options: ListPageOptions = {}): Promise<ListPage> {
    this.#checkOpen();
    return listSortedKeys(this.#sorted, options, (key) => {
      const object = this.#objects.get(key) as StoredObject;
      return { kind: 'object', key, size: object.body.length, etag: object.etag, lastModified: object.lastModified };
    });
  }

  override async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError();
  }

  #read(key: string): StoredObject {
    this.#checkOpen();
    validateKey(key, this.maxKeyBytes);
    const object = this.#objects.get(key);
    if (!object) throw new NotFoundError(key);
    return object;
  }
}

function describe(key: string, object: StoredObject): ObjectInfo {
  const info: ObjectInfo = {
    key,
    size: object.body.length,
    etag: object.etag,
    lastModified: object.lastModified,
    metadata: { ...object.metadata },
  };
  if (object.contentType !== undefined) info.contentType = object.contentType;
  return info;
}
