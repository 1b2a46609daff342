import type { RoutedOperation } from './operations.js';

/**
 * Whose grants decide an operation, as S3 decides with ACLs enabled (the grants are canned ACLs here):
 * - `service`: any signed-in user (ListBuckets answers with their own buckets; CreateBucket makes one).
 * - `bucket-owner`: the bucket's owner only; its configuration and its ACL (READ_ACP/WRITE_ACP are
 *   never granted to others by a canned ACL).
 * - `bucket-read`: the bucket's ACL READ (listings, HeadBucket).
 * - `bucket-write`: the bucket's ACL WRITE (new objects, deletes). `versionId` names a version whose
 *   deletion S3 grants (s3:DeleteObjectVersion) to the bucket's owner only.
 * - `object-read`: the object's ACL READ, of the version the request names (GetObject, HeadObject,
 *   GetObjectAttributes; S3 maps object READ to s3:GetObject and s3:GetObjectVersion).
 * - `object-owner`: the object's owner (or the bucket's): its ACL (READ_ACP/WRITE_ACP) and its tags
 *   (no ACL grants s3:GetObjectTagging or s3:PutObjectTagging), object lock settings.
 * - `upload`: the multipart upload's initiator or the bucket's owner, as S3 allows by default; with
 *   `bucketWrite` the bucket's WRITE is needed as well (the parts become an object in it).
 * - `form`: POST Object, whose signature is in the form: `bucket-write` once the form is read.
 *
 * The bucket's owner passes every rule. Whoever may not list the bucket gets AccessDenied for a
 * missing object or upload too, so that they learn nothing about which keys exist.
 */
export type Rule =
  | { resource: 'service' }
  | { resource: 'bucket-owner' }
  | { resource: 'bucket-read' }
  | { resource: 'bucket-write'; versionId?: 'bucket-owner' }
  | { resource: 'object-read' }
  | { resource: 'object-owner' }
  | { resource: 'upload'; bucketWrite: boolean }
  | { resource: 'form' };

const SERVICE: Rule = { resource: 'service' };
const BUCKET_OWNER: Rule = { resource: 'bucket-owner' };
const BUCKET_READ: Rule = { resource: 'bucket-read' };
const BUCKET_WRITE: Rule = { resource: 'bucket-write' };
const OBJECT_READ: Rule = { resource: 'object-read' };
const OBJECT_OWNER: Rule = { resource: 'object-owner' };
const UPLOAD_WRITE: Rule = { resource: 'upload', bucketWrite: true };
const UPLOAD: Rule = { resource: 'upload', bucketWrite: false };

/** The one authorization table: every routed operation names the rule that decides it. */
export const AUTHORIZATION: Record<RoutedOperation, Rule> = {
  ListBuckets: SERVICE,
  CreateBucket: SERVICE,

  GetBucketVersioning: BUCKET_OWNER,
  PutBucketVersioning: BUCKET_OWNER,
  GetBucketLocation: BUCKET_OWNER,
  GetBucketAcl: BUCKET_OWNER,
  PutBucketAcl: BUCKET_OWNER,
  GetBucketCors: BUCKET_OWNER,
  PutBucketCors: BUCKET_OWNER,
  DeleteBucketCors: BUCKET_OWNER,
  GetBucketTagging: BUCKET_OWNER,
  PutBucketTagging: BUCKET_OWNER,
  DeleteBucketTagging: BUCKET_OWNER,
  GetBucketPolicy: BUCKET_OWNER,
  DeleteBucketPolicy: BUCKET_OWNER,
  GetBucketPolicyStatus: BUCKET_OWNER,
  GetPublicAccessBlock: BUCKET_OWNER,
  PutPublicAccessBlock: BUCKET_OWNER,
  DeletePublicAccessBlock: BUCKET_OWNER,
  GetBucketLifecycleConfiguration: BUCKET_OWNER,
  DeleteBucketLifecycle: BUCKET_OWNER,
  GetBucketEncryption: BUCKET_OWNER,
  DeleteBucketEncryption: BUCKET_OWNER,
  GetBucketWebsite: BUCKET_OWNER,
  DeleteBucketWebsite: BUCKET_OWNER,
  GetBucketReplication: BUCKET_OWNER,
  DeleteBucketReplication: BUCKET_OWNER,
  GetObjectLockConfiguration: BUCKET_OWNER,
  GetBucketOwnershipControls: BUCKET_OWNER,
  DeleteBucketOwnershipControls: BUCKET_OWNER,
  GetBucketLogging: BUCKET_OWNER,
  PutBucketLogging: BUCKET_OWNER,
  GetBucketRequestPayment: BUCKET_OWNER,
  PutBucketRequestPayment: BUCKET_OWNER,
  GetBucketAccelerateConfiguration: BUCKET_OWNER,
  PutBucketAccelerateConfiguration: BUCKET_OWNER,
  GetBucketNotificationConfiguration: BUCKET_OWNER,
  PutBucketNotificationConfiguration: BUCKET_OWNER,
  DeleteBucket: BUCKET_OWNER,

  ListObjects: BUCKET_READ,
  ListObjectsV2: BUCKET_READ,
  ListObjectVersions: BUCKET_READ,
  ListMultipartUploads: BUCKET_READ,
  HeadBucket: BUCKET_READ,

  PutObject: BUCKET_WRITE,
  CopyObject: BUCKET_WRITE,
  CreateMultipartUpload: BUCKET_WRITE,
  DeleteObject: { resource: 'bucket-write', versionId: 'bucket-owner' },
  DeleteObjects: { resource: 'bucket-write', versionId: 'bucket-owner' },
  PostObject: { resource: 'form' },

  GetObject: OBJECT_READ,
  HeadObject: OBJECT_READ,
  GetObjectAttributes: OBJECT_READ,

  GetObjectAcl: OBJECT_OWNER,
  PutObjectAcl: OBJECT_OWNER,
  GetObjectTagging: OBJECT_OWNER,
  PutObjectTagging: OBJECT_OWNER,
  DeleteObjectTagging: OBJECT_OWNER,
  GetObjectRetention: OBJECT_OWNER,
  PutObjectRetention: OBJECT_OWNER,
  GetObjectLegalHold: OBJECT_OWNER,
  PutObjectLegalHold: OBJECT_OWNER,

  UploadPart: UPLOAD_WRITE,
  UploadPartCopy: UPLOAD_WRITE,
  CompleteMultipartUpload: UPLOAD_WRITE,
  AbortMultipartUpload: UPLOAD,
  ListParts: UPLOAD,
};
