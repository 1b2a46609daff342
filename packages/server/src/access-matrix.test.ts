import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeletePublicAccessBlockCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetObjectAclCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketAclCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOB, failure, startWithBuckets, type TestServer } from './fixtures/harness.js';

// The access-control matrix: every object operation by the owner, another user and an anonymous
// requester, in buckets of every canned ACL, on objects of every canned ACL. The expectations are
// S3's documented rules for ACLs, written here independently of the server's authorization table:
// - bucket READ lists (ListObjects, ListMultipartUploads, HeadBucket); bucket WRITE creates,
//   overwrites and deletes objects (docs: "Access control list (ACL) overview", permissions table).
// - object READ reads the object and its versions (s3:GetObject, s3:GetObjectVersion) and its
//   attributes ("you must have READ access to the object"); READ_ACP/WRITE_ACP and tagging are the
//   owner's (no canned ACL grants them, and no ACL permission maps to s3:*ObjectTagging).
// - a multipart upload's parts are listed, uploaded and aborted by its initiator or the bucket's
//   owner; deleting a specific version (s3:DeleteObjectVersion) is the bucket owner's.

type Canned = 'private' | 'public-read' | 'public-read-write' | 'authenticated-read';
type Requester = 'owner' | 'other' | 'anonymous';
const CANNED: Canned[] = ['private', 'public-read', 'public-read-write', 'authenticated-read'];
const REQUESTERS: Requester[] = ['owner', 'other', 'anonymous'];

/** Whether a canned ACL grants READ (or, for a bucket, WRITE) to the requester. */
function grants(acl: Canned, permission: 'READ' | 'WRITE', who: Requester): boolean {
  if (who === 'owner') return true;
  if (permission === 'WRITE') return acl === 'public-read-write';
  if (acl === 'public-read' || acl === 'public-read-write') return true;
  return acl === 'authenticated-read' && who === 'other';
}

interface Cell {
  bucket: string;
  bucketAcl: Canned;
  key: string;
  objectAcl: Canned;
  versionId: string;
  uploadId: string;
}

/** Each operation with the rule S3 documents for it. */
const OPERATIONS: {
  name: string;
  allowed: (cell: Cell, who: Requester) => boolean;
  run: (s3: S3Client, cell: Cell) => Promise<unknown>;
}[] = [
  {
    name: 'ListObjectsV2',
    allowed: (c, who) => grants(c.bucketAcl, 'READ', who),
    run: (s3, c) => s3.send(new ListObjectsV2Command({ Bucket: c.bucket })),
  },
  {
    name: 'HeadBucket',
    allowed: (c, who) => grants(c.bucketAcl, 'READ', who),
    run: (s3, c) => s3.send(new HeadBucketCommand({ Bucket: c.bucket })),
  },
  {
    name: 'ListMultipartUploads',
    allowed: (c, who) => grants(c.bucketAcl, 'READ', who),
    run: (s3, c) => s3.send(new ListMultipartUploadsCommand({ Bucket: c.bucket })),
  },
  {
    name: 'GetObject',
    allowed: (c, who) => grants(c.objectAcl, 'READ', who),
    run: (s3, c) =>
      s3.send(new GetObjectCommand({ Bucket: c.bucket, Key: c.key })).then((r) => r.Body?.transformToString()),
  },
  {
    name: 'HeadObject',
    allowed: (c, who) => grants(c.objectAcl, 'READ', who),
    run: (s3, c) => s3.send(new HeadObjectCommand({ Bucket: c.bucket, Key: c.key })),
  },
  {
    name: 'GetObject versionId',
    allowed: (c, who) => grants(c.objectAcl, 'READ', who),
    run: (s3, c) =>
      s3
        .send(new GetObjectCommand({ Bucket: c.bucket, Key: c.key, VersionId: c.versionId }))
        .then((r) => r.Body?.transformToString()),
  },
  {
    name: 'GetObjectAttributes',
    allowed: (c, who) => grants(c.objectAcl, 'READ', who),
    run: (s3, c) =>
      s3.send(
        new GetObjectAttributesCommand({ Bucket: c.bucket, Key: c.key, ObjectAttributes: ['ETag', 'ObjectSize'] }),
      ),
  },
  {
    name: 'GetObjectAttributes versionId',
    allowed: (c, who) => grants(c.objectAcl, 'READ', who),
    run: (s3, c) =>
      s3.send(
        new GetObjectAttributesCommand({
          Bucket: c.bucket,
          Key: c.key,
          VersionId: c.versionId,
          ObjectAttributes: ['ETag'],
        }),
      ),
  },
  {
    name: 'GetObjectTagging',
    allowed: (_c, who) => who === 'owner',
    run: (s3, c) => s3.send(new GetObjectTaggingCommand({ Bucket: c.bucket, Key: c.key })),
  },
  {
    name: 'GetObjectTagging versionId',
    allowed: (_c, who) => who === 'owner',
    run: (s3, c) => s3.send(new GetObjectTaggingCommand({ Bucket: c.bucket, Key: c.key, VersionId: c.versionId })),
  },
  {
    name: 'GetObjectAcl',
    allowed: (_c, who) => who === 'owner',
    run: (s3, c) => s3.send(new GetObjectAclCommand({ Bucket: c.bucket, Key: c.key })),
  },
  {
    name: 'ListParts',
    allowed: (_c, who) => who === 'owner',
    run: (s3, c) => s3.send(new ListPartsCommand({ Bucket: c.bucket, Key: c.key, UploadId: c.uploadId })),
  },
  {
    name: 'CopyObject (this object as source)',
    allowed: (c, who) => grants(c.bucketAcl, 'WRITE', who) && grants(c.objectAcl, 'READ', who),
    run: (s3, c) =>
      s3.send(new CopyObjectCommand({ Bucket: c.bucket, Key: `${c.key}-copy`, CopySource: `${c.bucket}/${c.key}` })),
  },
  {
    name: 'PutObjectTagging',
    allowed: (_c, who) => who === 'owner',
    run: (s3, c) =>
      s3.send(
        new PutObjectTaggingCommand({ Bucket: c.bucket, Key: c.key, Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }),
      ),
  },
  {
    name: 'DeleteObjectTagging',
    allowed: (_c, who) => who === 'owner',
    run: (s3, c) => s3.send(new DeleteObjectTaggingCommand({ Bucket: c.bucket, Key: c.key })),
  },
  {
    name: 'PutObjectAcl',
    allowed: (_c, who) => who === 'owner',
    run: (s3, c) => s3.send(new PutObjectAclCommand({ Bucket: c.bucket, Key: c.key, ACL: c.objectAcl })),
  },
  {
    name: 'UploadPart',
    allowed: (_c, who) => who === 'owner',
    run: (s3, c) =>
      s3.send(
        new UploadPartCommand({ Bucket: c.bucket, Key: c.key, UploadId: c.uploadId, PartNumber: 1, Body: 'part' }),
      ),
  },
  {
    name: 'AbortMultipartUpload',
    allowed: (_c, who) => who === 'owner',
    run: (s3, c) => s3.send(new AbortMultipartUploadCommand({ Bucket: c.bucket, Key: c.key, UploadId: c.uploadId })),
  },
  {
    name: 'CreateMultipartUpload',
    allowed: (c, who) => grants(c.bucketAcl, 'WRITE', who),
    run: (s3, c) => s3.send(new CreateMultipartUploadCommand({ Bucket: c.bucket, Key: `${c.key}-new-upload` })),
  },
  {
    name: 'DeleteObject versionId',
    allowed: (_c, who) => who === 'owner',
    run: (s3, c) => s3.send(new DeleteObjectCommand({ Bucket: c.bucket, Key: c.key, VersionId: c.versionId })),
  },
  {
    name: 'PutObject (overwrite)',
    allowed: (c, who) => grants(c.bucketAcl, 'WRITE', who),
    run: (s3, c) => s3.send(new PutObjectCommand({ Bucket: c.bucket, Key: c.key, Body: 'overwritten' })),
  },
  {
    name: 'DeleteObject',
    allowed: (c, who) => grants(c.bucketAcl, 'WRITE', who),
    run: (s3, c) => s3.send(new DeleteObjectCommand({ Bucket: c.bucket, Key: c.key })),
  },
];

let t: TestServer;
let owner: S3Client;
const clients = {} as Record<Requester, S3Client>;
beforeAll(async () => {
  const buckets = CANNED.map((acl) => `matrix-${acl}`);
  ({ t, s3: owner } = await startWithBuckets([]));
  for (const [i, Bucket] of buckets.entries()) {
    await owner.send(new CreateBucketCommand({ Bucket, ACL: CANNED[i] }));
    await owner.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  clients.owner = owner;
  clients.other = t.client(BOB);
  clients.anonymous = t.anonymousClient();
});
afterAll(() => t.close());

/** The owner writes the object afresh (tagged, with its ACL) and starts an upload of the same key. */
async function freshCell(bucketAcl: Canned, objectAcl: Canned, who: Requester, prefix = 'matrix'): Promise<Cell> {
  const bucket = `${prefix}-${bucketAcl}`;
  const key = `object-${objectAcl}-${who}`;
  const put = await owner.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'secret', ACL: objectAcl, Tagging: 'owner=only' }),
  );
  const upload = await owner.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  return { bucket, bucketAcl, key, objectAcl, versionId: put.VersionId ?? '', uploadId: upload.UploadId ?? '' };
}

/** 'allowed', 'denied' (403 AccessDenied), or the unexpected answer. */
async function outcome(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'allowed';
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    // HEAD answers carry no body: the status is all there is.
    if (status === 403 && ['AccessDenied', 'Forbidden', 'Unknown'].includes(e.name ?? '')) return 'denied';
    return `${status} ${e.name}`;
  }
}

describe('access-control matrix (requester × bucket ACL × object ACL × object operation)', () => {
  for (const bucketAcl of CANNED) {
    it(`follows S3's ACL rules in a ${bucketAcl} bucket`, async () => {
      const wrong: string[] = [];
      let checked = 0;
      for (const objectAcl of CANNED) {
        for (const who of REQUESTERS) {
          const cell = await freshCell(bucketAcl, objectAcl, who);
          for (const op of OPERATIONS) {
            const got = await outcome(op.run(clients[who], cell));
            const wanted = op.allowed(cell, who) ? 'allowed' : 'denied';
            if (got !== wanted) wrong.push(`${who} ${op.name} on a ${objectAcl} object: ${got}, S3: ${wanted}`);
            checked++;
          }
        }
      }
      expect(wrong).toEqual([]);
      expect(checked).toBe(CANNED.length * REQUESTERS.length * OPERATIONS.length);
    }, 120_000);
  }

  it('answers AccessDenied, not NoSuchKey, for a missing object to whoever may not list the bucket', async () => {
    const anonymous = clients.anonymous;
    for (const [Bucket, wanted] of [
      ['matrix-private', 'denied'],
      ['matrix-public-read', '404 NoSuchKey'],
    ] as const) {
      expect(await outcome(anonymous.send(new GetObjectTaggingCommand({ Bucket, Key: 'never-written' })))).toBe(wanted);
      expect(await outcome(anonymous.send(new GetObjectCommand({ Bucket, Key: 'never-written' })))).toBe(wanted);
    }
  });
});

// Block Public Access (PutPublicAccessBlock) on top of the ACLs, as S3 documents it: IgnorePublicAcls
// makes every public grant (AllUsers, AuthenticatedUsers: every canned ACL but private) of the
// bucket and its objects ineffective; BlockPublicAcls refuses requests that would set one.
describe('Block Public Access', () => {
  const IGNORING: Canned[] = ['public-read-write', 'authenticated-read'];
  beforeAll(async () => {
    for (const acl of IGNORING) {
      const Bucket = `ignoring-${acl}`;
      await owner.send(new CreateBucketCommand({ Bucket, ACL: acl }));
      await owner.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      await owner.send(
        new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }),
      );
    }
  });

  for (const bucketAcl of IGNORING) {
    it(`IgnorePublicAcls: a ${bucketAcl} bucket and its public objects act as private ones`, async () => {
      const wrong: string[] = [];
      for (const objectAcl of CANNED) {
        for (const who of REQUESTERS) {
          const cell = await freshCell(bucketAcl, objectAcl, who, 'ignoring');
          const asPrivate: Cell = { ...cell, bucketAcl: 'private', objectAcl: 'private' };
          for (const op of OPERATIONS) {
            const got = await outcome(op.run(clients[who], cell));
            const wanted = op.allowed(asPrivate, who) ? 'allowed' : 'denied';
            if (got !== wanted) wrong.push(`${who} ${op.name} on a ${objectAcl} object: ${got}, S3: ${wanted}`);
          }
        }
      }
      expect(wrong).toEqual([]);
    }, 120_000);
  }

  it('BlockPublicAcls: every request that would set a public ACL is AccessDenied; private ones pass', async () => {
    const Bucket = 'blocking';
    await owner.send(new CreateBucketCommand({ Bucket }));
    await owner.send(
      new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: { BlockPublicAcls: true } }),
    );
    await owner.send(new PutObjectCommand({ Bucket, Key: 'source', Body: 'data' }));
    const rows: [string, (acl: Canned) => Promise<unknown>][] = [
      ['PutObject', (ACL) => owner.send(new PutObjectCommand({ Bucket, Key: 'put', Body: 'x', ACL }))],
      ['PutObjectAcl', (ACL) => owner.send(new PutObjectAclCommand({ Bucket, Key: 'source', ACL }))],
      [
        'CopyObject',
        (ACL) => owner.send(new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/source`, ACL })),
      ],
      ['CreateMultipartUpload', (ACL) => owner.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu', ACL }))],
      ['PutBucketAcl', (ACL) => owner.send(new PutBucketAclCommand({ Bucket, ACL }))],
    ];
    const wrong: string[] = [];
    for (const [name, run] of rows) {
      for (const acl of CANNED) {
        const got = await outcome(run(acl));
        const wanted = acl === 'private' ? 'allowed' : 'denied';
        if (got !== wanted) wrong.push(`${name} with ${acl}: ${got}, S3: ${wanted}`);
      }
    }
    expect(wrong).toEqual([]);
    // Nothing public was written: an anonymous reader still cannot read the source.
    expect(await outcome(clients.anonymous.send(new GetObjectCommand({ Bucket, Key: 'source' })))).toBe('denied');
  });

  it('stores, returns and deletes the configuration, for the bucket owner only', async () => {
    const Bucket = 'configured';
    await owner.send(new CreateBucketCommand({ Bucket }));
    expect(await failure(owner.send(new GetPublicAccessBlockCommand({ Bucket })))).toEqual([
      'NoSuchPublicAccessBlockConfiguration',
      404,
    ]);
    const settings = {
      BlockPublicAcls: false,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    };
    await owner.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: settings }));
    expect((await owner.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration).toEqual(
      settings,
    );
    expect(await outcome(clients.other.send(new GetPublicAccessBlockCommand({ Bucket })))).toBe('denied');
    expect(
      await outcome(
        clients.other.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: settings })),
      ),
    ).toBe('denied');
    await owner.send(new DeletePublicAccessBlockCommand({ Bucket }));
    expect(await failure(owner.send(new GetPublicAccessBlockCommand({ Bucket })))).toEqual([
      'NoSuchPublicAccessBlockConfiguration',
      404,
    ]);
  });
});
