import type { ObjectStore } from '@bucketdb/store';
import { Database } from './database.js';
import type { OpenOptions } from './options.js';

/**
 * Opens (or creates) a database: in `store`, or at a store URL (`./dir`, `file:///abs`, `mem://`,
 * `s3://bucket/prefix?endpoint=…`) whose store is closed with the database.
 */
export async function open(target: string | ObjectStore, options: OpenOptions = {}): Promise<Database> {
  if (typeof target !== 'string') return Database.create(target, options);
  const { openStore } = (await import('@bucketdb/store')) as unknown as {
    openStore?: (url: string) => Promise<ObjectStore>;
  };
  if (!openStore) throw new Error('this build of @bucketdb/store cannot open store URLs');
  const store = await openStore(target);
  try {
    return await Database.create(store, options, () => store.close());
  } catch (error) {
    await store.close();
    throw error;
  }
}
