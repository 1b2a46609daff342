/**
 * The one contract every bucketdb database stands on: a bucket with strongly consistent reads and
 * conditional writes. Backends: MemoryStore, FileStore, S3Store. Wrappers (metered, latency, chaos)
 * implement the same interface, so they compose: `metered(latency(chaos(store)))`.
 *
 * ETags are in S3's quoted form (`"9e107d9d372bb6826bd81d3542a419d6"`); conditions accept quoted
 * or bare values. Errors are the typed errors of `errors.ts`.
 */

/** A byte range: `offset` and optional `length`, or the last `suffix` bytes. */
export type ByteRange = { offset: number; length?: number } | { suffix: number };

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
  contentType?: string;
  /** User metadata (S3 `x-amz-meta-*`), keys in lower case. */
  metadata: Record<string, string>;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface GetOptions extends RequestOptions {
  range?: ByteRange;
  /** Return `{ notModified: true }` instead of the body when the current ETag equals this one. */
  ifNoneMatch?: string;
  /** Fail with PreconditionFailed unless the current ETag equals this one. */
  ifMatch?: string;
  /**
   * For `getStream`: the caller is done with each chunk of `body` when it asks for the next, and
   * keeps no reference to it. A store may then lend views of one buffer it reuses instead of a
   * new buffer per chunk (S3Store does: a GiB downloaded allocates nothing per read). A store
   * that can't ignores it; `get` ignores it.
   */
  lendChunks?: boolean;
}

export interface GetResult extends ObjectInfo {
  notModified?: false;
  body: Uint8Array;
  /** The range served, inclusive start and exclusive end, when a range was requested. */
  range?: { start: number; end: number };
}

export interface GetStreamResult extends ObjectInfo {
  notModified?: false;
  body: AsyncIterable<Uint8Array>;
  /**
   * The same bytes as `body`, when the store already holds them all in memory (a small object
   * read whole in one go): a consumer may send these at once and leave `body` unread.
   */
  bytes?: Uint8Array;
  range?: { start: number; end: number };
}

export interface NotModified {
  notModified: true;
  key: string;
  etag: string;
}

/** A body to store: bytes, a string (UTF-8), or a stream of chunks (never buffered whole). */
export type PutBody = Uint8Array | string | AsyncIterable<Uint8Array>;

export interface PutOptions extends RequestOptions {
  /** Compare-and-swap: write only if the current ETag equals this one (missing → NotFound). */
  ifMatch?: string;
  /** `'*'`: create only, fail with PreconditionFailed if the key exists. */
  ifNoneMatch?: '*';
  contentType?: string;
  metadata?: Record<string, string>;
  /** Size of a streamed body when known; lets backends avoid buffering or multipart. */
  contentLength?: number;
}

export interface PutResult {
  etag: string;
  versionId?: string;
}

export interface DeleteOptions extends RequestOptions {
  /** Delete only if the current ETag equals this one (missing → NotFound, as S3 answers). */
  ifMatch?: string;
}

export interface DeleteManyResult {
  deleted: string[];
  errors: { key: string; error: Error }[];
}

export interface ListOptions extends RequestOptions {
  prefix?: string;
  /** Only keys strictly greater than this one. */
  startAfter?: string;
  /** Group keys that contain the delimiter after the prefix into common prefixes. */
  delimiter?: string;
  /** Stop after this many entries in total (objects plus common prefixes). */
  limit?: number;
}

export interface ListPageOptions extends ListOptions {
  /** Opaque token from the previous page. */
  continuationToken?: string;
  /** Entries per page; backends cap it (S3: 1000). */
  pageSize?: number;
}

export interface ListedObject {
  kind: 'object';
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

export interface ListedPrefix {
  kind: 'prefix';
  prefix: string;
}

export type ListEntry = ListedObject | ListedPrefix;

export interface ListPage {
  /** Objects and common prefixes, sorted together by key in UTF-8 binary order. */
  entries: ListEntry[];
  /** Present when more entries follow. */
  continuationToken?: string;
}

export interface ObjectStore {
  /** A description of where the data lives, e.g. `file:///data` (never contains secrets). */
  readonly url: string;

  /**
   * The longest key this store accepts, in UTF-8 bytes. S3 allows 1024; an S3Store under a prefix
   * allows less; local backends allow more, so that layouts built on them (the server's
   * `o/<bucket>/<key>`) can hold any S3 key.
   */
  readonly maxKeyBytes: number;

  get(key: string, options: GetOptions & { ifNoneMatch: string }): Promise<GetResult | NotModified>;
  get(key: string, options?: GetOptions): Promise<GetResult>;

  getStream(key: string, options: GetOptions & { ifNoneMatch: string }): Promise<GetStreamResult | NotModified>;
  getStream(key: string, options?: GetOptions): Promise<GetStreamResult>;

  head(key: string, options?: RequestOptions): Promise<ObjectInfo>;

  put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult>;

  /** Deleting a missing key without a condition succeeds, as in S3. */
  delete(key: string, options?: DeleteOptions): Promise<void>;

  deleteMany(keys: string[], options?: RequestOptions): Promise<DeleteManyResult>;

  /** One LIST request. */
  listPage(options?: ListPageOptions): Promise<ListPage>;

  /** Every entry, sorted, across as many LIST requests as needed. */
  list(options?: ListOptions): AsyncIterable<ListEntry>;

  close(): Promise<void>;

  /** `close()`, so that `await using store = ...` closes the store at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}
