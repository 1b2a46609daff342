import { randomBytes } from 'node:crypto';
import { isStoreError, type ObjectStore } from '@bucketdb/store';
import { KvError } from './errors.js';

/**
 * What the KV store relies on beyond plain GET/PUT/HEAD/DELETE/LIST. S3 general-purpose buckets,
 * MemoryStore, FileStore and our server have them all; S3 Express directory buckets list
 * unsorted, refuse StartAfter and take only `/`-terminated prefixes; some S3-compatible stores
 * ignore If-Match on DELETE.
 */
export interface StoreCapabilities {
  /** LIST returns keys in UTF-8 byte order (ordered scans, the TTL index's early stop). */
  sortedList: boolean;
  /** LIST honours StartAfter (a scan's `start` without listing from the beginning). */
  startAfter: boolean;
  /** LIST takes any prefix, not only ones ending in `/` (a scan's key prefix). */
  anyPrefix: boolean;
  /** DELETE honours If-Match (sweep deletes only the exact expired entry). */
  conditionalDelete: boolean;
}

export const FULL_CAPABILITIES: StoreCapabilities = {
  sortedList: true,
  startAfter: true,
  anyPrefix: true,
  conditionalDelete: true,
};

/**
 * Probes a store under `dir` (a fresh, `/`-terminated directory it then empties): three PUTs,
 * three LISTs, a conditional DELETE that must fail, and clean-up DELETEs.
 */
export async function detectCapabilities(store: ObjectStore, dir: string): Promise<StoreCapabilities> {
  const probe = `${dir}${randomBytes(6).toString('hex')}/`;
  const names = ['b', 'a', 'c'];
  for (const name of names) await store.put(probe + name, new Uint8Array(0));
  try {
    const keys = async (options: { prefix: string; startAfter?: string }) =>
      (await store.listPage(options)).entries.map((e) => (e.kind === 'object' ? e.key.slice(probe.length) : ''));
    const all = await keys({ prefix: probe });
    const listedSorted = all.join() === 'a,b,c';
    const startAfter = await keys({ prefix: probe, startAfter: `${probe}a` }).then(
      (after) => !after.includes('a') && after.length === 2,
      (error: unknown) => refused(error),
    );
    const anyPrefix = await keys({ prefix: `${probe}a` }).then(
      (found) => found.join() === 'a',
      (error: unknown) => refused(error),
    );
    // Three keys come back sorted by chance one time in six from an unsorted store: a store that
    // cannot resume a listing (no StartAfter) is not trusted to list sorted either, as directory
    // buckets, which lack both, show.
    const sortedList = listedSorted && startAfter;
    let conditionalDelete = false;
    try {
      await store.delete(`${probe}a`, { ifMatch: '"00000000000000000000000000000000"' });
    } catch (error) {
      if (!isStoreError(error, 'PreconditionFailed')) throw error;
      conditionalDelete = true;
    }
    return { sortedList, startAfter, anyPrefix, conditionalDelete };
  } finally {
    for (const name of names) await store.delete(probe + name).catch(() => {});
  }
}

/** A LIST option the store rejects is a missing capability; any other failure is the store's. */
function refused(error: unknown): false {
  if (isStoreError(error, 'InvalidArgument')) return false;
  throw error;
}

/** Fails loudly when `what` needs a capability the store lacks. */
export function requireCapability(caps: StoreCapabilities, name: keyof StoreCapabilities, what: string): void {
  if (caps[name]) return;
  const why: Record<keyof StoreCapabilities, string> = {
    sortedList: 'the store lists keys unsorted (as S3 Express directory buckets do); pass { unordered: true }',
    startAfter: 'the store does not support StartAfter on LIST',
    anyPrefix: 'the store lists only prefixes ending in "/"',
    conditionalDelete: 'the store ignores If-Match on DELETE, so an entry re-put meanwhile could be deleted',
  };
  throw new KvError('Unsupported', `${what} needs a capability this store lacks: ${why[name]}`);
}
