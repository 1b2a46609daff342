import { type ObjectStore, openStore } from '@bucketdb/store';
import { Database } from './database.js';
import type { OpenOptions } from './options.js';

/**
 * Opens (or creates) a database: in `store`, or at a store URL (`./dir`, `file:///abs`, `mem://`,
 * `s3://bucket/prefix?endpoint=…`) whose store is closed with the database.
 */
export async function open(target: string | ObjectStore, options: OpenOptions = {}): Promise<Database> {
  if (typeof target !== 'string') return Database.create(target, options);
  const store = await openStore(target);
  try {
    return await Database.create(store, options, () => store.close());
  } catch (error) {
    await store.close();
    throw error;
  }
}
