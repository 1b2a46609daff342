import { BaseStore } from '../base-store.js';
import { type Composition, compositionOf } from '../compose.js';
import { type MultipartUploads, multipartOf } from '../multipart.js';
import type {
  DeleteManyResult,
  DeleteOptions,
  GetOptions,
  GetStreamResult,
  ListPage,
  ListPageOptions,
  NotModified,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
  PutResult,
  RequestOptions,
} from '../object-store.js';

/** The requests a store receives, one per primitive (`get` and `list` are built on `getStream` and `listPage`). */
export const STORE_OPS = ['get', 'head', 'put', 'delete', 'deleteMany', 'list'] as const;
export type StoreOp = (typeof STORE_OPS)[number];

export interface StoreCall {
  op: StoreOp;
  /** The key; for `list` the prefix listed, for `deleteMany` the first key. */
  key: string;
  /** Whether this is a conditional write (If-Match / If-None-Match): its failure after the fact is ambiguous. */
  conditional: boolean;
  /** Bytes of a put's body when known before it is sent. */
  bytes?: number;
  /** Keys of a `deleteMany`. */
  count?: number;
}

const encoder = new TextEncoder();

/**
 * A store that delegates to another and routes every primitive through one `around` hook, plus
 * optional hooks on the bodies flowing through. The wrappers (metered, latency, chaos) are
 * subclasses that implement only those hooks, so they compose and keep the contract unchanged.
 */
export abstract class WrappedStore extends BaseStore {
  readonly inner: ObjectStore;

  constructor(inner: ObjectStore) {
    super();
    this.inner = inner;
  }

  get url(): string {
    return this.inner.url;
  }

  get maxKeyBytes(): number {
    return this.inner.maxKeyBytes;
  }

  /** Runs one request: `run` performs it on the inner store. */
  protected abstract around<T>(call: StoreCall, run: () => Promise<T>): Promise<T>;

  /** The body of a put on its way in. */
  protected requestBody(_call: StoreCall, body: PutBody): PutBody {
    return body;
  }

  /** The body of a get on its way out, consumed after `around` has returned. */
  protected responseBody(_call: StoreCall, body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    return body;
  }

  getStream(key: string, options: GetOptions & { ifNoneMatch: string }): Promise<GetStreamResult | NotModified>;
  getStream(key: string, options?: GetOptions): Promise<GetStreamResult>;
  getStream(key: string, options: GetOptions = {}): Promise<GetStreamResult | NotModified> {
    const call: StoreCall = { op: 'get', key, conditional: false };
    return this.around(call, async () => {
      const result = await this.inner.getStream(key, options as GetOptions & { ifNoneMatch: string });
      if (result.notModified) return result;
      const body = this.responseBody(call, result.body);
      if (body === result.body) return result;
      // A wrapper that watches the body (counting, pacing) must see every byte: no shortcut around it.
      const { bytes: _bytes, ...rest } = result;
      return { ...rest, body };
    });
  }

  head(key: string, options?: RequestOptions): Promise<ObjectInfo> {
    return this.around({ op: 'head', key, conditional: false }, () => this.inner.head(key, options));
  }

  put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    const call: StoreCall = {
      op: 'put',
      key,
      conditional: options.ifMatch !== undefined || options.ifNoneMatch !== undefined,
    };
    const bytes = knownSize(body) ?? options.contentLength;
    if (bytes !== undefined) call.bytes = bytes;
    return this.around(call, () => this.inner.put(key, this.requestBody(call, body), options));
  }

  delete(key: string, options: DeleteOptions = {}): Promise<void> {
    const call: StoreCall = { op: 'delete', key, conditional: options.ifMatch !== undefined };
    return this.around(call, () => this.inner.delete(key, options));
  }

  override deleteMany(keys: string[], options?: RequestOptions): Promise<DeleteManyResult> {
    const call: StoreCall = { op: 'deleteMany', key: keys[0] ?? '', conditional: false, count: keys.length };
    return this.around(call, () => this.inner.deleteMany(keys, options));
  }

  listPage(options: ListPageOptions = {}): Promise<ListPage> {
    return this.around({ op: 'list', key: options.prefix ?? '', conditional: false }, () =>
      this.inner.listPage(options),
    );
  }

  /** The inner store's multipart uploads, each request routed through `around` like the others. */
  multipart(): MultipartUploads | undefined {
    const inner = multipartOf(this.inner);
    if (!inner) return undefined;
    const write = (key: string, bytes?: number): StoreCall =>
      bytes === undefined ? { op: 'put', key, conditional: false } : { op: 'put', key, conditional: false, bytes };
    return {
      checksums: inner.checksums,
      create: (key, options) => this.around(write(key), () => inner.create(key, options)),
      uploadPart: (key, uploadId, n, body, options) =>
        this.around(write(key, body.length), () => inner.uploadPart(key, uploadId, n, body, options)),
      listParts: (key, uploadId, options) =>
        this.around({ op: 'list', key, conditional: false }, () => inner.listParts(key, uploadId, options)),
      complete: (key, uploadId, parts, options) =>
        this.around(write(key), () => inner.complete(key, uploadId, parts, options)),
      abort: (key, uploadId, options) => this.around(write(key), () => inner.abort(key, uploadId, options)),
      checksumOf: (key, options) =>
        this.around({ op: 'head', key, conditional: false }, () => inner.checksumOf(key, options)),
    };
  }

  /** The inner store's composition, routed through `around` as a put. */
  composition(): Composition | undefined {
    const inner = compositionOf(this.inner);
    if (!inner) return undefined;
    return {
      compose: (key, sources, options) =>
        this.around(
          { op: 'put', key, conditional: options.ifMatch !== undefined || options.ifNoneMatch !== undefined },
          () => inner.compose(key, sources, options),
        ),
    };
  }

  override close(): Promise<void> {
    return this.inner.close();
  }
}

/** The size of a body known without reading it. */
export function knownSize(body: PutBody): number | undefined {
  if (body instanceof Uint8Array) return body.length;
  if (typeof body === 'string') return encoder.encode(body).length;
  return undefined;
}
