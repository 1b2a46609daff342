import { InvalidArgumentError } from '../../errors.js';
import type {
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
} from '../../object-store.js';
import { type Random, seededRandom } from '../../random.js';
import { type StoreCall, WrappedStore } from '../wrapped-store.js';

export interface DirectoryBucketOptions {
  /**
   * Only LISTs under this key prefix get directory-bucket rules (default: all). The server sets it
   * to where a bucket's objects live, so its own records keep the listing they rely on.
   */
  scope?: string;
  /** Seed of the shuffle of each LIST page (default `directory-bucket`). */
  seed?: number | string;
}

/**
 * A store with S3 Express One Zone directory-bucket semantics, so applications meet them on a
 * laptop (`bucketdb server --emulate s3-express`, `emulate(store, 's3-express')`):
 *
 * - LIST pages come unsorted (each page shuffled, seeded; pages still follow one another);
 * - `StartAfter` is refused, and so is a prefix not ending in `/` or a delimiter other than `/`
 *   (InvalidArgument, as S3 answers);
 * - ETags are not the MD5 of the body: every 32-hex-digit ETag is XORed with a fixed mask on the
 *   way out and back on the way in (If-Match, If-None-Match), so they stay stable and usable in
 *   conditions while a client that checks them against an MD5 sees the difference.
 */
export class DirectoryBucketStore extends WrappedStore {
  readonly #scope: string;
  readonly #random: Random;

  constructor(inner: ObjectStore, options: DirectoryBucketOptions = {}) {
    super(inner);
    this.#scope = options.scope ?? '';
    this.#random = seededRandom(options.seed ?? 'directory-bucket');
  }

  protected around<T>(_call: StoreCall, run: () => Promise<T>): Promise<T> {
    return run();
  }

  override getStream(
    key: string,
    options: GetOptions & { ifNoneMatch: string },
  ): Promise<GetStreamResult | NotModified>;
  override getStream(key: string, options?: GetOptions): Promise<GetStreamResult>;
  override async getStream(key: string, options: GetOptions = {}): Promise<GetStreamResult | NotModified> {
    const result = await super.getStream(key, unmaskConditions(options) as GetOptions & { ifNoneMatch: string });
    return { ...result, etag: maskEtag(result.etag) };
  }

  override async head(key: string, options?: RequestOptions): Promise<ObjectInfo> {
    const info = await super.head(key, options);
    return { ...info, etag: maskEtag(info.etag) };
  }

  override async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    const result = await super.put(key, body, unmaskConditions(options));
    return { ...result, etag: maskEtag(result.etag) };
  }

  override delete(key: string, options: DeleteOptions = {}): Promise<void> {
    return super.delete(key, unmaskConditions(options));
  }

  override async listPage(options: ListPageOptions = {}): Promise<ListPage> {
    const prefix = options.prefix ?? '';
    const scoped = prefix.startsWith(this.#scope);
    if (scoped) {
      if (options.startAfter !== undefined) {
        throw new InvalidArgumentError('directory buckets do not support StartAfter');
      }
      if (prefix !== this.#scope && !prefix.endsWith('/')) {
        throw new InvalidArgumentError(`directory buckets take only prefixes ending in "/": ${JSON.stringify(prefix)}`);
      }
      if (options.delimiter !== undefined && options.delimiter !== '/') {
        throw new InvalidArgumentError('directory buckets take only "/" as a delimiter');
      }
    }
    const page = await super.listPage(options);
    const entries = page.entries.map((e) => (e.kind === 'object' ? { ...e, etag: maskEtag(e.etag) } : e));
    if (scoped) {
      for (let i = entries.length - 1; i > 0; i--) {
        const j = this.#random.int(i + 1);
        [entries[i], entries[j]] = [entries[j] as (typeof entries)[number], entries[i] as (typeof entries)[number]];
      }
    }
    return { ...page, entries };
  }
}

/** S3 Express directory-bucket semantics over `store` (see DirectoryBucketStore). */
export function directoryBucket(store: ObjectStore, options: DirectoryBucketOptions = {}): DirectoryBucketStore {
  return new DirectoryBucketStore(store, options);
}

const MASK = '5c3a96e1d07b428f1e6ac35b9470d2a8';

/** XORs the 32 hex digits of an MD5-shaped ETag with MASK: its own inverse. Other ETags pass as they are. */
export function maskEtag(etag: string): string {
  return etag.replace(/\b[0-9a-fA-F]{32}\b/, (hex) =>
    Array.from(hex.toLowerCase(), (digit, i) =>
      (Number.parseInt(digit, 16) ^ Number.parseInt(MASK[i] as string, 16)).toString(16),
    ).join(''),
  );
}

function unmaskConditions<T extends { ifMatch?: string; ifNoneMatch?: string }>(options: T): T {
  const out = { ...options };
  if (out.ifMatch !== undefined) out.ifMatch = maskEtag(out.ifMatch);
  if (out.ifNoneMatch !== undefined && out.ifNoneMatch !== '*') out.ifNoneMatch = maskEtag(out.ifNoneMatch);
  return out;
}
