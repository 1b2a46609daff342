import { InvalidArgumentError } from './errors.js';
import { compareKeys } from './keys.js';
import type { ListEntry, ListedObject, ListPage, ListPageOptions } from './object-store.js';

interface Cursor {
  /** Resume strictly after this key... */
  after: string;
  /** ...and past every key under this common prefix, when the last entry was one. */
  skipPrefix?: string;
}

export function encodeListToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeListToken(token: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
    if (typeof cursor.after !== 'string') throw new Error('no cursor');
    return cursor;
  } catch (cause) {
    throw new InvalidArgumentError('the continuation token is not valid', { cause });
  }
}

/** Index of the first key strictly greater than `key` in a sorted array. */
export function upperBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(sorted[mid] as string, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first key greater than or equal to `key` in a sorted array. */
export function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(sorted[mid] as string, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One LIST page over keys held in a sorted array (by `compareKeys`), with S3's semantics for
 * prefix, start-after, delimiter and continuation.
 */
export function listSortedKeys(
  sorted: readonly string[],
  options: ListPageOptions,
  describe: (key: string) => ListedObject,
): ListPage {
  const prefix = options.prefix ?? '';
  const { delimiter } = options;
  const pageSize = Math.max(1, Math.min(options.pageSize ?? 1000, 1000));
  const cursor: Cursor = options.continuationToken
    ? decodeListToken(options.continuationToken)
    : { after: options.startAfter ?? '' };

  let i = cursor.after === '' ? lowerBound(sorted, prefix) : upperBound(sorted, cursor.after);
  if (compareKeys(prefix, cursor.after) > 0) i = Math.max(i, lowerBound(sorted, prefix));
  const entries: ListEntry[] = [];
  let last: Cursor | undefined;
  while (i < sorted.length && entries.length < pageSize) {
    const key = sorted[i] as string;
    if (!key.startsWith(prefix)) break;
    if (cursor.skipPrefix !== undefined && key.startsWith(cursor.skipPrefix)) {
      i++;
      continue;
    }
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (delimiter && cut >= 0) {
      const common = key.slice(0, cut + delimiter.length);
      entries.push({ kind: 'prefix', prefix: common });
      last = { after: common, skipPrefix: common };
      cursor.skipPrefix = common;
    } else {
      entries.push(describe(key));
      last = { after: key };
    }
    i++;
  }
  while (i < sorted.length && cursor.skipPrefix !== undefined && (sorted[i] as string).startsWith(cursor.skipPrefix))
    i++;
  const more = i < sorted.length && (sorted[i] as string).startsWith(prefix);
  return more && last ? { entries, continuationToken: encodeListToken(last) } : { entries };
}
