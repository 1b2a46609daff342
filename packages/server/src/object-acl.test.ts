import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  type Grant,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, failure, startWithBuckets, type TestServer } from './fixtures/harness.js';

const Bucket = 'object-acls';
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
let t: TestServer;
let s3: S3Client;
let bob: S3Client;
beforeAll(async () => {
  ({ t, s3 } = await startWithBuckets([Bucket]));
  bob = t.client(BOB);
});
afterAll(() => t.close());

/** An anonymous request (no signature at all): status and body. */
async function anonymous(key: string, method = 'GET') {
  const response = await fetch(`${t.url}/${Bucket}/${encodeURIComponent(key)}`, { method });
  return [response.status, method === 'HEAD' ? '' : await response.text()] as const;
}

const put = (Key: string, ACL?: 'public-read' | 'authenticated-read' | 'private') =>
  s3.send(new PutObjectCommand({ Bucket, Key, Body: `body of ${Key}`, ...(ACL ? { ACL } : {}) }));

const groupGrants = (grants: Grant[] | undefined) =>
  (grants ?? []).filter((g) => g.Grantee?.Type === 'Group').map((g) => [g.Grantee?.URI, g.Permission]);

describe('object ACLs', () => {
  it('public-read lets anyone read the object, not its neighbours; a missing key is AccessDenied too', async () => {
    await put('public', 'public-read');
    await put('private');
    expect(await anonymous('public')).toEqual([200, 'body of public']);
    expect((await anonymous('public', 'HEAD'))[0]).toBe(200);
    expect((await anonymous('private'))[0]).toBe(403);
    expect((await anonymous('missing'))[0]).toBe(403);
    expect(await failure(bob.send(new GetObjectCommand({ Bucket, Key: 'private' })))).toEqual(['AccessDenied', 403]);
    const read = await bob.send(new GetObjectCommand({ Bucket, Key: 'public' }));
    expect(await read.Body?.transformToString()).toBe('body of public');
  });

  it("leaves object reads to the object's ACL whatever the bucket's, as S3 does", async () => {
    await put('in-public-bucket');
    await s3.send(new PutBucketAclCommand({ Bucket, ACL: 'public-read' }));
    try {
      expect((await fetch(`${t.url}/${Bucket}?list-type=2`)).status).toBe(200);
      expect((await anonymous('in-public-bucket'))[0]).toBe(403);
      expect((await anonymous('public'))[0]).toBe(200);
      // Whoever may list the bucket learns nothing new from a 404: S3 answers NoSuchKey then.
      const [status, body] = await anonymous('never-written');
      expect([status, /<Code>(\w+)<\/Code>/.exec(body)?.[1]]).toEqual([404, 'NoSuchKey']);
    } finally {
      await s3.send(new PutBucketAclCommand({ Bucket, ACL: 'private' }));
    }
  });

  it('authenticated-read lets every signed-in user read, not anonymous requests', async () => {
    await put('members', 'authenticated-read');
    const read = await bob.send(new GetObjectCommand({ Bucket, Key: 'members' }));
    expect(await read.Body?.transformToString()).toBe('body of members');
    expect((await anonymous('members'))[0]).toBe(403);
  });

  it('shows the grants in GetObjectAcl and changes them with PutObjectAcl, canned or as a document', async () => {
    await put('changing');
    const acl = await s3.send(new GetObjectAclCommand({ Bucket, Key: 'changing' }));
    expect(acl.Owner?.ID).toBe(ALICE.accessKeyId);
    expect(groupGrants(acl.Grants)).toEqual([]);

    await s3.send(new PutObjectAclCommand({ Bucket, Key: 'changing', ACL: 'public-read-write' }));
    const readWrite = await s3.send(new GetObjectAclCommand({ Bucket, Key: 'changing' }));
    expect(groupGrants(readWrite.Grants)).toEqual([
      [ALL_USERS, 'READ'],
      [ALL_USERS, 'WRITE'],
    ]);
    await s3.send(new PutObjectAclCommand({ Bucket, Key: 'changing', ACL: 'public-read' }));
    expect(await anonymous('changing')).toEqual([200, 'body of changing']);
    const shown = await s3.send(new GetObjectAclCommand({ Bucket, Key: 'changing' }));
    expect(groupGrants(shown.Grants)).toEqual([[ALL_USERS, 'READ']]);

    // What s3cmd and boto3 send: the document read back, with the public grant removed.
    await s3.send(
      new PutObjectAclCommand({
        Bucket,
        Key: 'changing',
        AccessControlPolicy: { Owner: shown.Owner, Grants: shown.Grants?.filter((g) => g.Grantee?.Type !== 'Group') },
      }),
    );
    expect((await anonymous('changing'))[0]).toBe(403);
    expect(await failure(bob.send(new GetObjectAclCommand({ Bucket, Key: 'changing' })))).toEqual([
      'AccessDenied',
      403,
    ]);
    expect(await failure(bob.send(new PutObjectAclCommand({ Bucket, Key: 'changing', ACL: 'public-read' })))).toEqual([
      'AccessDenied',
      403,
    ]);
    expect((await anonymous('changing'))[0]).toBe(403);
  });

  it('does not copy an ACL: a copy gets the one its request names', async () => {
    await put('source', 'public-read');
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/source` }));
    expect((await anonymous('copy'))[0]).toBe(403);
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/source`, ACL: 'public-read' }));
    expect(await anonymous('copy')).toEqual([200, 'body of source']);
  });

  it('lets another user copy an object only when its ACL lets them read it', async () => {
    await bob.send(new CreateBucketCommand({ Bucket: 'bobs' }));
    await put('shareable', 'public-read');
    const copy = (Key: string) =>
      bob.send(new CopyObjectCommand({ Bucket: 'bobs', Key, CopySource: `${Bucket}/${Key}` }));
    await copy('shareable');
    const got = await bob.send(new GetObjectCommand({ Bucket: 'bobs', Key: 'shareable' }));
    expect(await got.Body?.transformToString()).toBe('body of shareable');
    expect(await failure(copy('private'))).toEqual(['AccessDenied', 403]);
    expect(await failure(copy('never-written'))).toEqual(['AccessDenied', 403]);
  });

  it('applies the ACL a multipart upload was created with when it completes', async () => {
    const Key = 'multipart';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ACL: 'public-read' }));
    const part = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'one part' }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(await anonymous(Key)).toEqual([200, 'one part']);
  });

  it('refuses an unknown canned ACL and stores nothing', async () => {
    const refused = await fetch(`${t.url}/${Bucket}/bad-acl`, { method: 'PUT' }).then((r) => r.status);
    expect(refused).toBe(403); // anonymous writes are refused before the ACL is even read
    expect(await failure(put('bad-acl', 'world-readable' as 'private'))).toEqual(['InvalidArgument', 400]);
    expect(await failure(put('bad-acl', 'constructor' as 'private'))).toEqual(['InvalidArgument', 400]);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'bad-acl' })))).toEqual(['NoSuchKey', 404]);
  });
});

describe('authenticated-read', () => {
  it('on a bucket lets every signed-in user list it, and reads as a document both ways', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'members-only', ACL: 'authenticated-read' }));
    expect((await bob.send(new ListObjectsV2Command({ Bucket: 'members-only' }))).KeyCount).toBe(0);
    expect((await fetch(`${t.url}/members-only?list-type=2`)).status).toBe(403);
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: 'members-only' }));
    expect(groupGrants(acl.Grants)).toEqual([[AUTHENTICATED_USERS, 'READ']]);

    // The document read back is taken as the canned ACL it expresses, for buckets and objects.
    await s3.send(new PutBucketAclCommand({ Bucket: 'members-only', ACL: 'private' }));
    await s3.send(new PutBucketAclCommand({ Bucket: 'members-only', AccessControlPolicy: acl }));
    expect((await bob.send(new ListObjectsV2Command({ Bucket: 'members-only' }))).KeyCount).toBe(0);
    await s3.send(new PutObjectCommand({ Bucket: 'members-only', Key: 'k', Body: 'for members' }));
    expect(await failure(bob.send(new GetObjectCommand({ Bucket: 'members-only', Key: 'k' })))).toEqual([
      'AccessDenied',
      403,
    ]);
    await s3.send(new PutObjectAclCommand({ Bucket: 'members-only', Key: 'k', AccessControlPolicy: acl }));
    const read = await bob.send(new GetObjectCommand({ Bucket: 'members-only', Key: 'k' }));
    expect(await read.Body?.transformToString()).toBe('for members');
  });
});
