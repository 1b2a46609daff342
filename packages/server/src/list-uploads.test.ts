import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MemoryStore, metered, type MeteredStore } from '@bucketdb/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithBuckets, type TestServer } from './fixtures/harness.js';

// ListMultipartUploads pages through uploads in key order, then initiation order for one key,
// honouring prefix, delimiter, max-uploads and both markers, and reads only the page's records.

const Bucket = 'uploads';
const KEYS = ['a', 'a', 'a/b', 'a/c/d', 'a b', 'b', 'b/x', 'b/y', 'c', 'c', 'c', 'z/1', 'z/2', 'é'];
let t: TestServer;
let s3: S3Client;
let store: MeteredStore;
/** Every upload as created: key and id, in creation order. */
const created: { key: string; uploadId: string }[] = [];

beforeAll(async () => {
  store = metered(new MemoryStore());
  ({ t, s3 } = await startWithBuckets([Bucket], { store }));
  for (const Key of KEYS) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    created.push({ key: Key, uploadId: UploadId ?? '' });
  }
});
afterAll(() => t.close());

/** What S3 lists for a prefix and delimiter: uploads by key, a key's in creation order; common prefixes once. */
function expected(prefix: string, delimiter?: string): string[] {
  const rows: string[] = [];
  const sorted = created
    .filter((u) => u.key.startsWith(prefix))
    .map((u, i) => ({ ...u, i }))
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.i - y.i));
  for (const u of sorted) {
    const at = delimiter === undefined ? -1 : u.key.indexOf(delimiter, prefix.length);
    const row = at < 0 ? `${u.key} ${u.uploadId}` : `prefix ${u.key.slice(0, at + (delimiter?.length ?? 0))}`;
    if (rows.at(-1) !== row) rows.push(row);
  }
  return rows;
}

/** Every page, following the markers, as rows like `expected`'s. */
async function listAllPages(max: number, prefix = '', delimiter?: string) {
  const rows: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  let pages = 0;
  for (;;) {
    const page: ListMultipartUploadsCommandOutput = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket,
        MaxUploads: max,
        Prefix: prefix,
        ...(delimiter === undefined ? {} : { Delimiter: delimiter }),
        ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
        ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
      }),
    );
    pages++;
    const uploads = (page.Uploads ?? []).map((u) => ({ row: `${u.Key} ${u.UploadId}`, key: u.Key ?? '' }));
    const prefixes = (page.CommonPrefixes ?? []).map((p) => ({ row: `prefix ${p.Prefix}`, key: p.Prefix ?? '' }));
    // Uploads and prefixes come in separate lists; their order together is by key.
    rows.push(
      ...[...uploads, ...prefixes].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)).map((r) => r.row),
    );
    expect(uploads.length + prefixes.length).toBeLessThanOrEqual(max);
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
  return { rows, pages };
}

describe('ListMultipartUploads', () => {
  it('pages through every upload in key order, then creation order, with any page size', async () => {
    for (const max of [1, 2, 3, 5, 1000]) {
      const { rows, pages } = await listAllPages(max);
      expect(rows).toEqual(expected(''));
      expect(pages).toBe(Math.max(1, Math.ceil(created.length / max)));
    }
  });

  it('honours prefix and delimiter across pages', async () => {
    for (const [prefix, delimiter] of [
      ['a', undefined],
      ['', '/'],
      ['a/', '/'],
      ['b', '/'],
      ['', 'b'],
    ] as const) {
      for (const max of [1, 2, 1000]) {
        expect((await listAllPages(max, prefix, delimiter)).rows, `${prefix} ${delimiter} ${max}`).toEqual(
          expected(prefix, delimiter),
        );
      }
    }
  });

  it('reads only the records of the page it answers', async () => {
    store.meter.reset();
    const page = await s3.send(new ListMultipartUploadsCommand({ Bucket, MaxUploads: 1 }));
    expect(page.Uploads).toHaveLength(1);
    expect(page.IsTruncated).toBe(true);
    // The record of the one upload listed; the bucket's record; nothing per other upload.
    expect(store.meter.snapshot().requests.get).toBeLessThanOrEqual(2);
  });
});
