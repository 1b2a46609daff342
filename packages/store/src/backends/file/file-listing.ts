import { compareKeys } from '../../keys.js';
import type { ListEntry, ListedObject, ListPage, ListPageOptions } from '../../object-store.js';
import { decodeListToken, encodeListToken, lowerBound, upperBound } from '../../sorted-listing.js';
import type { DirCache } from './dir-cache.js';
import { entryName } from './segment-names.js';

/** Where a walk starts: at the first key greater than (or equal to) `key`. */
interface Seek {
  key: string;
  inclusive: boolean;
}

/**
 * Yields the keys below a directory in S3 order, starting at `seek`, without entering
 * subdirectories or yielding keys for which `skip` holds. A subdirectory for which `grouped` holds
 * is not walked: its own key (ending in `/`) stands for all of it, if it holds any object. Only
 * the directories on the way to the start and those actually walked are read, so a page costs the
 * same at any depth into a listing.
 */
async function* walk(
  cache: DirCache,
  path: string,
  dirKey: string,
  depth: number,
  seek: Seek | undefined,
  skip: (key: string) => boolean,
  grouped: (dirKey: string) => boolean,
): AsyncGenerator<string> {
  const entries = await cache.entries(path, depth);
  let i = 0;
  if (seek) {
    i = seek.inclusive ? lowerBound(entries, seek.key) : upperBound(entries, seek.key);
    const before = entries[i - 1];
    // The start lies inside the subdirectory just before the insertion point.
    if (before?.endsWith('/') && seek.key.startsWith(before) && !skip(dirKey + before)) {
      const inner = { key: seek.key.slice(before.length), inclusive: seek.inclusive };
      yield* walk(cache, subdir(path, before), dirKey + before, depth + 1, inner, skip, grouped);
    }
  }
  const probes = new Map<number, Promise<boolean>>();
  for (; i < entries.length; i++) {
    const entry = entries[i] as string;
    const key = dirKey + entry;
    if (skip(key)) continue;
    if (!entry.endsWith('/')) yield key;
    else if (!grouped(key)) yield* walk(cache, subdir(path, entry), key, depth + 1, undefined, skip, grouped);
    else {
      // Every key below falls into one common prefix: yield the directory's own key, which the
      // lister turns into that prefix, if anything is there at all. Probe a few ahead at once.
      for (let j = i; j < Math.min(entries.length, i + PROBE_AHEAD); j++) {
        const next = entries[j] as string;
        if (probes.has(j) || !next.endsWith('/') || !grouped(dirKey + next)) continue;
        const probe = cache.hasObjects(subdir(path, next));
        probe.catch(() => {}); // an abandoned probe must not become an unhandled rejection
        probes.set(j, probe);
      }
      const found = await probes.get(i);
      probes.delete(i);
      if (found) yield key;
    }
  }
}

const PROBE_AHEAD = 32;

function subdir(path: string, entry: string): string {
  return `${path}/${entryName(entry.slice(0, -1), 'dir')}`;
}

/**
 * One LIST page over the directory tree at `root`, with the semantics of `listSortedKeys`
 * (prefix, start-after, delimiter, continuation). `describe` answers undefined for an object
 * deleted since its directory was read; it is then left out.
 */
export async function listTreePage(
  cache: DirCache,
  root: string,
  options: ListPageOptions,
  describe: (key: string) => Promise<ListedObject | undefined>,
): Promise<ListPage> {
  const prefix = options.prefix ?? '';
  const { delimiter } = options;
  const pageSize = Math.max(1, Math.min(options.pageSize ?? 1000, 1000));
  const cursor = options.continuationToken
    ? decodeListToken(options.continuationToken)
    : { after: options.startAfter ?? '' };
  let skipPrefix = cursor.skipPrefix;
  const skip = (key: string) => skipPrefix !== undefined && key.startsWith(skipPrefix);
  // A directory whose key already contains the delimiter after the prefix is one common prefix.
  const grouped = (dirKey: string) => {
    if (!delimiter || !dirKey.startsWith(prefix)) return false;
    const cut = dirKey.indexOf(delimiter, prefix.length);
    return cut >= 0 && cut + delimiter.length <= dirKey.length;
  };
  const seek: Seek =
    compareKeys(prefix, cursor.after) > 0 ? { key: prefix, inclusive: true } : { key: cursor.after, inclusive: false };

  const found: (ListEntry | string)[] = [];
  let last: { after: string; skipPrefix?: string } | undefined;
  let more = false;
  for await (const key of walk(cache, root, '', 0, seek, skip, grouped)) {
    if (!key.startsWith(prefix)) {
      if (compareKeys(key, prefix) > 0) break;
      continue;
    }
    if (skip(key)) continue;
    if (found.length === pageSize) {
      more = true;
      break;
    }
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (delimiter && cut >= 0) {
      const common = key.slice(0, cut + delimiter.length);
      found.push({ kind: 'prefix', prefix: common });
      last = { after: common, skipPrefix: common };
      skipPrefix = common;
    } else {
      found.push(key);
      last = { after: key };
    }
  }
  const described = await Promise.all(found.map((e) => (typeof e === 'string' ? describe(e) : e)));
  const entries = described.filter((e): e is ListEntry => e !== undefined);
  return more && last ? { entries, continuationToken: encodeListToken(last) } : { entries };
}
