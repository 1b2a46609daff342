import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, startTestServer, type TestServer } from './fixtures/harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await t.client().send(new CreateBucketCommand({ Bucket: 'objects' }));
});
afterAll(() => t.close());

describe('objects over the AWS SDK', () => {
  it('puts, gets, heads and deletes an object with metadata and standard headers', async () => {
    const s3 = t.client();
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'objects',
        Key: 'dir/hello.txt',
        Body: 'hello world',
        ContentType: 'text/plain',
        CacheControl: 'max-age=60',
        ContentDisposition: 'inline',
        ContentLanguage: 'en',
        Metadata: { color: 'blue' },
      }),
    );
    expect(put.ETag).toBe('"5eb63bbbe01eeed093cb22bb8f5acdc3"');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/hello.txt' }));
    expect((await bodyBytes(got.Body)).toString()).toBe('hello world');
    expect(got.ContentType).toBe('text/plain');
    expect(got.CacheControl).toBe('max-age=60');
    expect(got.ContentDisposition).toBe('inline');
    expect(got.ContentLanguage).toBe('en');
    expect(got.Metadata).toEqual({ color: 'blue' });
    expect(got.ETag).toBe(put.ETag);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'dir/hello.txt' }));
    expect(head.ContentLength).toBe(11);
    await s3.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'dir/hello.txt' }));
    await expect(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/hello.txt' }))).rejects.toMatchObject({
      name: 'NoSuchKey',
      $metadata: { httpStatusCode: 404 },
    });
  });
});
