import { collectBody } from './body.js';
import { mapConcurrent } from './kernel/map-concurrent.js';
import type {
  DeleteManyResult,
  DeleteOptions,
  GetOptions,
  GetResult,
  GetStreamResult,
  ListEntry,
  ListOptions,
  ListPage,
  ListPageOptions,
  NotModified,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
  PutResult,
  RequestOptions,
} from './object-store.js';

/**
 * Derives the convenience methods of ObjectStore from the primitive ones, so a backend or a
 * wrapper implements only `getStream`, `head`, `put`, `delete` and `listPage`.
 */
export abstract class BaseStore implements ObjectStore {
  abstract readonly url: string;
  abstract readonly maxKeyBytes: number;

  abstract getStream(
    key: string,
    options: GetOptions & { ifNoneMatch: string },
  ): Promise<GetStreamResult | NotModified>;
  abstract getStream(key: string, options?: GetOptions): Promise<GetStreamResult>;
  abstract head(key: string, options?: RequestOptions): Promise<ObjectInfo>;
  abstract put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult>;
  abstract delete(key: string, options?: DeleteOptions): Promise<void>;
  abstract listPage(options?: ListPageOptions): Promise<ListPage>;

  get(key: string, options: GetOptions & { ifNoneMatch: string }): Promise<GetResult | NotModified>;
  get(key: string, options?: GetOptions): Promise<GetResult>;
  async get(key: string, options: GetOptions = {}): Promise<GetResult | NotModified> {
    // Collecting keeps every chunk: none may be lent.
    const { lendChunks: _, ...rest } = options;
    const result = await this.getStream(key, rest as GetOptions & { ifNoneMatch: string });
    if (result.notModified) return result;
    return { ...result, body: await collectBody(result.body) };
  }

  async deleteMany(keys: string[], options: RequestOptions = {}): Promise<DeleteManyResult> {
    return deleteEach(this, keys, options);
  }

  list(options: ListOptions = {}): AsyncIterable<ListEntry> {
    return listAll(this, options);
  }

  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Deletes keys one request each, a few at a time; for backends without a batch delete. */
export async function deleteEach(
  store: Pick<ObjectStore, 'delete'>,
  keys: string[],
  options: RequestOptions = {},
  concurrency = 16,
): Promise<DeleteManyResult> {
  const result: DeleteManyResult = { deleted: [], errors: [] };
  await mapConcurrent(keys, concurrency, async (key) => {
    try {
      await store.delete(key, options);
      result.deleted.push(key);
    } catch (error) {
      result.errors.push({ key, error: error as Error });
    }
  });
  return result;
}

/** Walks `listPage` across pages, honouring `limit`. */
export async function* listAll(
  store: Pick<ObjectStore, 'listPage'>,
  options: ListOptions = {},
): AsyncIterable<ListEntry> {
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;
  let continuationToken: string | undefined;
  while (remaining > 0) {
    const pageOptions: ListPageOptions = { ...options, pageSize: Math.min(1000, remaining) };
    delete pageOptions.limit;
    if (continuationToken !== undefined) pageOptions.continuationToken = continuationToken;
    const page = await store.listPage(pageOptions);
    for (const entry of page.entries) {
      if (remaining <= 0) return;
      remaining--;
      yield entry;
    }
    if (page.continuationToken === undefined) return;
    continuationToken = page.continuationToken;
  }
}
