import * as acl from '../handlers/acl.js';
import * as attributes from '../handlers/object-attributes.js';
import * as bucket from '../handlers/bucket.js';
import * as config from '../handlers/bucket-config.js';
import * as cors from '../handlers/bucket-cors.js';
import * as copy from '../handlers/copy-object.js';
import * as del from '../handlers/delete-object.js';
import * as get from '../handlers/get-object.js';
import * as list from '../handlers/list-objects.js';
import * as versions from '../handlers/list-versions.js';
import * as multipart from '../handlers/multipart.js';
import * as multipartList from '../handlers/multipart-list.js';
import * as post from '../handlers/post-object.js';
import * as put from '../handlers/put-object.js';
import * as service from '../handlers/service.js';
import * as tagging from '../handlers/tagging.js';
import { S3Error } from '../s3-error.js';
import type { RequestContext, S3Response } from './context.js';

/**
 * Who may run an operation: any signed-in user (`user`), the bucket's owner (`owner`), also
 * anyone when the bucket's ACL is public-read (`read`) or public-read-write (`write`), or whoever
 * the object's ACL lets read it (`object-read`).
 */
export type Access = 'user' | 'owner' | 'read' | 'write' | 'object-read';
export type Target = 'service' | 'bucket' | 'object';

interface Route {
  method: string;
  target: Target;
  /** The query parameter (subresource) that selects this route, optionally with a value. */
  query?: string | [string, string];
  /** A header that must be present. */
  header?: string;
  operation: string;
  access: Access;
  handler: (ctx: RequestContext) => Promise<S3Response>;
}

type Handler = (ctx: RequestContext) => Promise<S3Response>;

/** A route on a subresource of a bucket that only its owner may use. */
function ownerRoute<M extends string, O extends string>(method: M, query: string, operation: O, handler: Handler) {
  return { method, target: 'bucket', query, operation, access: 'owner', handler } as const;
}

/** Configurations no bucket here has (handlers/bucket-config.ts); their other PUTs stay NotImplemented. */
const BUCKET_CONFIG_ROUTES = [
  ownerRoute('GET', 'policy', 'GetBucketPolicy', config.getBucketPolicy),
  ownerRoute('DELETE', 'policy', 'DeleteBucketPolicy', config.removed),
  ownerRoute('GET', 'policyStatus', 'GetBucketPolicyStatus', config.getBucketPolicyStatus),
  ownerRoute('GET', 'publicAccessBlock', 'GetPublicAccessBlock', config.getPublicAccessBlock),
  ownerRoute('DELETE', 'publicAccessBlock', 'DeletePublicAccessBlock', config.removed),
  ownerRoute('GET', 'lifecycle', 'GetBucketLifecycleConfiguration', config.getBucketLifecycle),
  ownerRoute('DELETE', 'lifecycle', 'DeleteBucketLifecycle', config.removed),
  ownerRoute('GET', 'encryption', 'GetBucketEncryption', config.getBucketEncryption),
  ownerRoute('DELETE', 'encryption', 'DeleteBucketEncryption', config.removed),
  ownerRoute('GET', 'website', 'GetBucketWebsite', config.getBucketWebsite),
  ownerRoute('DELETE', 'website', 'DeleteBucketWebsite', config.removed),
  ownerRoute('GET', 'replication', 'GetBucketReplication', config.getBucketReplication),
  ownerRoute('DELETE', 'replication', 'DeleteBucketReplication', config.removed),
  ownerRoute('GET', 'object-lock', 'GetObjectLockConfiguration', config.getObjectLockConfiguration),
  ownerRoute('GET', 'ownershipControls', 'GetBucketOwnershipControls', config.getBucketOwnershipControls),
  ownerRoute('DELETE', 'ownershipControls', 'DeleteBucketOwnershipControls', config.removed),
  ownerRoute('GET', 'logging', 'GetBucketLogging', config.getBucketLogging),
  ownerRoute('PUT', 'logging', 'PutBucketLogging', config.putBucketLogging),
  ownerRoute('GET', 'requestPayment', 'GetBucketRequestPayment', config.getBucketRequestPayment),
  ownerRoute('PUT', 'requestPayment', 'PutBucketRequestPayment', config.putBucketRequestPayment),
  ownerRoute('GET', 'accelerate', 'GetBucketAccelerateConfiguration', config.getBucketAccelerate),
  ownerRoute('PUT', 'accelerate', 'PutBucketAccelerateConfiguration', config.putBucketAccelerate),
  ownerRoute('GET', 'notification', 'GetBucketNotificationConfiguration', config.getBucketNotification),
  ownerRoute('PUT', 'notification', 'PutBucketNotificationConfiguration', config.putBucketNotification),
] as const;

/** The one routing table: first match wins, so specific routes come before general ones. */
const ROUTES = [
  { method: 'GET', target: 'service', operation: 'ListBuckets', access: 'user', handler: service.listBuckets },

  {
    method: 'GET',
    target: 'bucket',
    query: 'versioning',
    operation: 'GetBucketVersioning',
    access: 'owner',
    handler: bucket.getBucketVersioning,
  },
  {
    method: 'PUT',
    target: 'bucket',
    query: 'versioning',
    operation: 'PutBucketVersioning',
    access: 'owner',
    handler: bucket.putBucketVersioning,
  },
  {
    method: 'GET',
    target: 'bucket',
    query: 'location',
    operation: 'GetBucketLocation',
    access: 'owner',
    handler: bucket.getBucketLocation,
  },
  {
    method: 'GET',
    target: 'bucket',
    query: 'acl',
    operation: 'GetBucketAcl',
    access: 'owner',
    handler: bucket.getBucketAcl,
  },
  {
    method: 'PUT',
    target: 'bucket',
    query: 'acl',
    operation: 'PutBucketAcl',
    access: 'owner',
    handler: bucket.putBucketAcl,
  },
  {
    method: 'GET',
    target: 'bucket',
    query: 'cors',
    operation: 'GetBucketCors',
    access: 'owner',
    handler: cors.getBucketCors,
  },
  {
    method: 'PUT',
    target: 'bucket',
    query: 'cors',
    operation: 'PutBucketCors',
    access: 'owner',
    handler: cors.putBucketCors,
  },
  {
    method: 'DELETE',
    target: 'bucket',
    query: 'cors',
    operation: 'DeleteBucketCors',
    access: 'owner',
    handler: cors.deleteBucketCors,
  },
  {
    method: 'GET',
    target: 'bucket',
    query: 'tagging',
    operation: 'GetBucketTagging',
    access: 'owner',
    handler: tagging.getBucketTagging,
  },
  {
    method: 'PUT',
    target: 'bucket',
    query: 'tagging',
    operation: 'PutBucketTagging',
    access: 'owner',
    handler: tagging.putBucketTagging,
  },
  {
    method: 'DELETE',
    target: 'bucket',
    query: 'tagging',
    operation: 'DeleteBucketTagging',
    access: 'owner',
    handler: tagging.deleteBucketTagging,
  },
  ...BUCKET_CONFIG_ROUTES,
  {
    method: 'GET',
    target: 'bucket',
    query: 'uploads',
    operation: 'ListMultipartUploads',
    access: 'read',
    handler: multipartList.listMultipartUploads,
  },
  {
    method: 'GET',
    target: 'bucket',
    query: 'versions',
    operation: 'ListObjectVersions',
    access: 'read',
    handler: versions.listObjectVersions,
  },
  {
    method: 'POST',
    target: 'bucket',
    query: 'delete',
    operation: 'DeleteObjects',
    access: 'write',
    handler: del.deleteObjects,
  },
  {
    method: 'GET',
    target: 'bucket',
    query: ['list-type', '2'],
    operation: 'ListObjectsV2',
    access: 'read',
    handler: list.listObjectsV2,
  },
  { method: 'GET', target: 'bucket', operation: 'ListObjects', access: 'read', handler: list.listObjects },
  // Its signature is in the form: the handler authenticates, then checks `write` access itself.
  { method: 'POST', target: 'bucket', operation: 'PostObject', access: 'write', handler: post.postObject },
  { method: 'PUT', target: 'bucket', operation: 'CreateBucket', access: 'user', handler: bucket.createBucket },
  { method: 'DELETE', target: 'bucket', operation: 'DeleteBucket', access: 'owner', handler: bucket.deleteBucket },
  { method: 'HEAD', target: 'bucket', operation: 'HeadBucket', access: 'read', handler: bucket.headBucket },

  {
    method: 'PUT',
    target: 'object',
    query: 'uploadId',
    header: 'x-amz-copy-source',
    operation: 'UploadPartCopy',
    access: 'write',
    handler: multipart.uploadPartCopy,
  },
  {
    method: 'PUT',
    target: 'object',
    query: 'uploadId',
    operation: 'UploadPart',
    access: 'write',
    handler: multipart.uploadPart,
  },
  {
    method: 'POST',
    target: 'object',
    query: 'uploads',
    operation: 'CreateMultipartUpload',
    access: 'write',
    handler: multipart.createMultipartUpload,
  },
  {
    method: 'POST',
    target: 'object',
    query: 'uploadId',
    operation: 'CompleteMultipartUpload',
    access: 'write',
    handler: multipart.completeMultipartUpload,
  },
  {
    method: 'DELETE',
    target: 'object',
    query: 'uploadId',
    operation: 'AbortMultipartUpload',
    access: 'write',
    handler: multipart.abortMultipartUpload,
  },
  {
    method: 'GET',
    target: 'object',
    query: 'uploadId',
    operation: 'ListParts',
    access: 'read',
    handler: multipartList.listParts,
  },
  {
    method: 'GET',
    target: 'object',
    query: 'tagging',
    operation: 'GetObjectTagging',
    access: 'read',
    handler: tagging.getObjectTagging,
  },
  {
    method: 'PUT',
    target: 'object',
    query: 'tagging',
    operation: 'PutObjectTagging',
    access: 'write',
    handler: tagging.putObjectTagging,
  },
  {
    method: 'DELETE',
    target: 'object',
    query: 'tagging',
    operation: 'DeleteObjectTagging',
    access: 'write',
    handler: tagging.deleteObjectTagging,
  },
  {
    method: 'PUT',
    target: 'object',
    header: 'x-amz-copy-source',
    operation: 'CopyObject',
    access: 'write',
    handler: copy.copyObject,
  },
  {
    method: 'GET',
    target: 'object',
    query: 'acl',
    operation: 'GetObjectAcl',
    access: 'owner',
    handler: acl.getObjectAcl,
  },
  {
    method: 'PUT',
    target: 'object',
    query: 'acl',
    operation: 'PutObjectAcl',
    access: 'owner',
    handler: acl.putObjectAcl,
  },
  {
    method: 'GET',
    target: 'object',
    query: 'attributes',
    operation: 'GetObjectAttributes',
    access: 'read',
    handler: attributes.getObjectAttributes,
  },
  {
    method: 'GET',
    target: 'object',
    query: 'retention',
    operation: 'GetObjectRetention',
    access: 'read',
    handler: config.objectLockMissing,
  },
  {
    method: 'PUT',
    target: 'object',
    query: 'retention',
    operation: 'PutObjectRetention',
    access: 'write',
    handler: config.objectLockMissing,
  },
  {
    method: 'GET',
    target: 'object',
    query: 'legal-hold',
    operation: 'GetObjectLegalHold',
    access: 'read',
    handler: config.objectLockMissing,
  },
  {
    method: 'PUT',
    target: 'object',
    query: 'legal-hold',
    operation: 'PutObjectLegalHold',
    access: 'write',
    handler: config.objectLockMissing,
  },
  { method: 'PUT', target: 'object', operation: 'PutObject', access: 'write', handler: put.putObject },
  { method: 'GET', target: 'object', operation: 'GetObject', access: 'object-read', handler: get.getObject },
  { method: 'HEAD', target: 'object', operation: 'HeadObject', access: 'object-read', handler: get.headObject },
  { method: 'DELETE', target: 'object', operation: 'DeleteObject', access: 'write', handler: del.deleteObject },
] as const satisfies readonly Route[];

export type Operation = (typeof ROUTES)[number]['operation'] | 'Unknown' | 'Preflight' | 'Metrics';

/** Query parameters that name a subresource (everything else filters or modifies a request). */
const SUBRESOURCES = new Set([
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'delete',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'location',
  'logging',
  'metadataTable',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'renameObject',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'session',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versioning',
  'versions',
  'website',
]);

export interface MatchedRoute {
  operation: Operation;
  access: Access;
  handler: (ctx: RequestContext) => Promise<S3Response>;
}

/** A route with its query condition split once, at load, rather than on every request. */
interface IndexedRoute {
  name: string | undefined;
  value: string | undefined;
  header: string | undefined;
  matched: MatchedRoute;
}

/** The table by method and target, each list in table order (first match still wins). */
const ROUTE_INDEX = new Map<string, IndexedRoute[]>();
for (const route of ROUTES as readonly Route[]) {
  const [name, value] = typeof route.query === 'string' ? [route.query, undefined] : (route.query ?? []);
  const id = `${route.method} ${route.target}`;
  const list = ROUTE_INDEX.get(id) ?? [];
  list.push({
    name,
    value,
    header: route.header,
    matched: { operation: route.operation as Operation, access: route.access, handler: route.handler },
  });
  ROUTE_INDEX.set(id, list);
}

export function matchRoute(
  method: string,
  target: Target,
  query: URLSearchParams,
  headers: Record<string, unknown>,
): MatchedRoute {
  const present = query.size === 0 ? [] : [...query.keys()].filter((name) => SUBRESOURCES.has(name));
  const candidates = ROUTE_INDEX.get(`${method} ${target}`);
  for (const route of candidates ?? []) {
    if (route.header !== undefined && headers[route.header] === undefined) continue;
    const { name, value } = route;
    if (name !== undefined && (!query.has(name) || (value !== undefined && query.get(name) !== value))) continue;
    // A route without a subresource takes a request only if it names none (or only the route's own).
    if (present.some((p) => p !== name)) continue;
    return route.matched;
  }
  const known = candidates !== undefined;
  if (!known && method !== 'GET' && method !== 'PUT' && method !== 'POST' && method !== 'DELETE' && method !== 'HEAD') {
    throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', {
      Method: method,
    });
  }
  throw new S3Error('NotImplemented', 'A header or query you provided implies functionality that is not implemented.', {
    ...(present.length > 0 ? { Subresource: present.join(',') } : {}),
  });
}
