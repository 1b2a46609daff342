import { createHash } from 'node:crypto';
import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@bucketdb/testkit-base';
import { describe, expect, it } from 'vitest';
import { collectBody } from '../../body.js';
import { isStoreError } from '../../errors.js';
import { multipartOf } from '../../multipart.js';
import { FileStore } from './file-store.js';

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest();
const part = (n: number, size: number) => new Uint8Array(size).fill(n);

describe('FileStore multipart uploads', () => {
  it('completes parts sent out of order into one object with the S3-form ETag', async () => {
    await using dir = await tempDir('bucketdb-file-multipart');
    const store = await FileStore.open(dir.path);
    const uploads = multipartOf(store);
    if (!uploads) throw new Error('FileStore has no multipart capability');
    expect(uploads.checksums).toEqual([]);
    const id = await uploads.create('a/b', { contentType: 'text/plain', metadata: { m: 'v' } });
    const bodies = [part(1, 1000), part(2, 1000), part(3, 17)];
    const sent = await Promise.all([3, 1, 2].map((n) => uploads.uploadPart('a/b', id, n, bodies[n - 1]!)));
    // A part sent again replaces itself.
    await uploads.uploadPart('a/b', id, 2, bodies[1]!);
    const listed = await uploads.listParts('a/b', id);
    expect(listed.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 1000],
      [2, 1000],
      [3, 17],
    ]);
    expect(listed.map((p) => p.etag)).toEqual([1, 2, 3].map((n) => sent.find((s) => s.partNumber === n)?.etag));
    await expect(store.head('a/b')).rejects.toThrow(/no object/);
    const done = await uploads.complete('a/b', id, listed);
    const whole = Buffer.concat(bodies);
    const expected = createHash('md5')
      .update(Buffer.concat(bodies.map((b) => md5(b))))
      .digest('hex');
    expect(done.etag).toBe(`"${expected}-3"`);
    const got = await store.get('a/b');
    expect(Buffer.from(got.body).equals(whole)).toBe(true);
    expect(got.etag).toBe(done.etag);
    expect(got.contentType).toBe('text/plain');
    expect(got.metadata).toEqual({ m: 'v' });
    // The upload is gone: a repeated completion answers NotFound (as S3's NoSuchUpload).
    await expect(uploads.complete('a/b', id, listed)).rejects.toSatisfy((e) => isStoreError(e, 'NotFound'));
    expect(await readdir(join(dir.path, 'uploads'))).toEqual([]);
    // The parts were not copied: they are the object's pieces, in the blob directory it names.
    expect(await readdir(join(dir.path, 'blobs'))).toHaveLength(1);
    await store.delete('a/b');
    expect(await readdir(join(dir.path, 'blobs'))).toEqual([]);
  });

  it('refuses damaged parts and parts never sent, and aborts without a trace', async () => {
    await using dir = await tempDir('bucketdb-file-multipart');
    const store = await FileStore.open(dir.path);
    const uploads = multipartOf(store)!;
    const id = await uploads.create('k');
    const bytes = part(9, 100);
    const wrongMd5 = md5(part(8, 100)).toString('base64');
    await expect(uploads.uploadPart('k', id, 1, bytes, { md5: wrongMd5 })).rejects.toSatisfy((e) =>
      isStoreError(e, 'Corrupt'),
    );
    expect(await uploads.listParts('k', id)).toEqual([]);
    const one = await uploads.uploadPart('k', id, 1, bytes, { md5: md5(bytes).toString('base64') });
    await expect(uploads.complete('k', id, [one, { partNumber: 2, etag: one.etag }])).rejects.toSatisfy((e) =>
      isStoreError(e, 'InvalidArgument'),
    );
    await expect(uploads.complete('k', id, [{ ...one, etag: `"${'0'.repeat(32)}"` }])).rejects.toSatisfy((e) =>
      isStoreError(e, 'InvalidArgument'),
    );
    await expect(uploads.listParts('other', id)).rejects.toSatisfy((e) => isStoreError(e, 'NotFound'));
    await expect(uploads.listParts('k', '../../objects')).rejects.toSatisfy((e) => isStoreError(e, 'InvalidArgument'));
    await uploads.abort('k', id);
    await expect(uploads.listParts('k', id)).rejects.toSatisfy((e) => isStoreError(e, 'NotFound'));
    await expect(store.head('k')).rejects.toThrow(/no object/);
    expect(await readdir(join(dir.path, 'uploads'))).toEqual([]);
  });

  it('removes uploads left untouched for the stale age when a store is opened', async () => {
    await using dir = await tempDir('bucketdb-file-multipart');
    const store = await FileStore.open(dir.path);
    const uploads = multipartOf(store)!;
    const old = await uploads.create('old');
    await uploads.uploadPart('old', old, 1, part(1, 10));
    const fresh = await uploads.create('fresh');
    const weekAgo = new Date(Date.now() - 8 * 86_400_000);
    await utimes(join(dir.path, 'uploads', old), weekAgo, weekAgo);
    const reopened = await FileStore.open(dir.path);
    const again = multipartOf(reopened)!;
    await expect(again.listParts('old', old)).rejects.toSatisfy((e) => isStoreError(e, 'NotFound'));
    expect(await again.listParts('fresh', fresh)).toEqual([]);
    // A streamed completion is an ordinary object afterwards.
    await again.uploadPart('fresh', fresh, 1, part(4, 5));
    await again.complete('fresh', fresh, await again.listParts('fresh', fresh));
    expect(Buffer.from(await collectBody((await reopened.getStream('fresh')).body)).equals(part(4, 5))).toBe(true);
  });
});
