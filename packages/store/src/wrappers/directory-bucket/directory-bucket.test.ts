import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../backends/memory/memory-store.js';
import { isStoreError } from '../../errors.js';
import type { ListPage } from '../../object-store.js';
import { directoryBucket, maskEtag } from './directory-bucket.js';

const md5 = (text: string) => `"${createHash('md5').update(text).digest('hex')}"`;

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isStoreError(error) ? error.code : String(error);
  }
  return 'resolved';
}

describe('directory-bucket semantics (S3 Express One Zone)', () => {
  it('lists every key once, page after page, each page unsorted', async () => {
    const store = directoryBucket(new MemoryStore());
    const keys = Array.from({ length: 60 }, (_, i) => `dir/${String(i).padStart(3, '0')}`);
    for (const key of keys) await store.put(key, key);
    const listed: string[] = [];
    let unsortedPages = 0;
    let token: string | undefined;
    do {
      const page: ListPage = await store.listPage({
        prefix: 'dir/',
        pageSize: 10,
        ...(token === undefined ? {} : { continuationToken: token }),
      });
      const names = page.entries.map((e) => (e.kind === 'object' ? e.key : e.prefix));
      if (names.join() !== [...names].sort().join()) unsortedPages++;
      listed.push(...names);
      token = page.continuationToken;
    } while (token !== undefined);
    expect([...listed].sort()).toEqual(keys);
    expect(unsortedPages).toBeGreaterThan(3);
  });

  it('refuses StartAfter, prefixes not ending in "/", and delimiters other than "/"', async () => {
    const store = directoryBucket(new MemoryStore());
    await store.put('a/b', 'x');
    expect(await refusal(store.listPage({ prefix: 'a/', startAfter: 'a/a' }))).toBe('InvalidArgument');
    expect(await refusal(store.listPage({ prefix: 'a/b' }))).toBe('InvalidArgument');
    expect(await refusal(store.listPage({ prefix: 'a/', delimiter: '-' }))).toBe('InvalidArgument');
    expect((await store.listPage({ prefix: 'a/', delimiter: '/' })).entries).toHaveLength(1);
    expect((await store.listPage({})).entries).toHaveLength(1);
  });

  it('keeps ordinary listing outside its scope', async () => {
    const store = directoryBucket(new MemoryStore(), { scope: 'o/' });
    for (const key of ['r/c', 'r/a', 'r/b']) await store.put(key, key);
    const page = await store.listPage({ prefix: 'r/', startAfter: 'r/a' });
    expect(page.entries.map((e) => (e.kind === 'object' ? e.key : ''))).toEqual(['r/b', 'r/c']);
    expect(await refusal(store.listPage({ prefix: 'o/x' }))).toBe('InvalidArgument');
  });

  it('returns ETags that are not MD5s, consistently, and conditions on them work', async () => {
    const store = directoryBucket(new MemoryStore());
    const { etag } = await store.put('k', 'value');
    expect(etag).not.toBe(md5('value'));
    expect(maskEtag(etag)).toBe(md5('value'));
    expect((await store.head('k')).etag).toBe(etag);
    expect((await store.get('k')).etag).toBe(etag);
    const [listed] = (await store.listPage({})).entries;
    expect(listed?.kind === 'object' && listed.etag).toBe(etag);
    expect((await store.get('k', { ifNoneMatch: etag })).notModified).toBe(true);
    // The MD5 a client might compute names nothing.
    expect(await refusal(store.put('k', 'next', { ifMatch: md5('value') }))).toBe('PreconditionFailed');
    const next = await store.put('k', 'next', { ifMatch: etag });
    expect(await refusal(store.delete('k', { ifMatch: etag }))).toBe('PreconditionFailed');
    await store.delete('k', { ifMatch: next.etag });
    expect(await refusal(store.head('k'))).toBe('NotFound');
  });
});
