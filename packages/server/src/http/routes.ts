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
import * as publicAccess from '../handlers/public-access-block.js';
import * as put from '../handlers/put-object.js';
import * as service from '../handlers/service.js';
import * as tagging from '../handlers/tagging.js';
import { S3Error } from '../s3-error.js';
import type { RequestContext, S3Response } from './context.js';
import type { RoutedOperation, Target } from './operations.js';

type Handler = (ctx: RequestContext) => Promise<S3Response>;

interface Route {
  method: string;
  target: Target;
  operation: RoutedOperation;
  handler: Handler;
  /** The query parameter (subresource) that selects this route, optionally with a value. */
  query?: string | [string, string];
  /** A header that must be present. */
  header?: string;
}

/** One row of the table; who may run the operation is the authorization table's (authorization.ts). */
function route(
  method: string,
  target: Target,
  operation: RoutedOperation,
  handler: Handler,
  select: Pick<Route, 'query' | 'header'> = {},
): Route {
  return { method, target, operation, handler, ...select };
}

/** The one routing table: first match wins, so specific routes come before general ones. */
const ROUTES: readonly Route[] = [
  route('GET', 'service', 'ListBuckets', service.listBuckets),
  route('GET', 'bucket', 'GetBucketVersioning', bucket.getBucketVersioning, { query: 'versioning' }),
  route('PUT', 'bucket', 'PutBucketVersioning', bucket.putBucketVersioning, { query: 'versioning' }),
  route('GET', 'bucket', 'GetBucketLocation', bucket.getBucketLocation, { query: 'location' }),
  route('GET', 'bucket', 'GetBucketAcl', bucket.getBucketAcl, { query: 'acl' }),
  route('PUT', 'bucket', 'PutBucketAcl', bucket.putBucketAcl, { query: 'acl' }),
  route('GET', 'bucket', 'GetBucketCors', cors.getBucketCors, { query: 'cors' }),
  route('PUT', 'bucket', 'PutBucketCors', cors.putBucketCors, { query: 'cors' }),
  route('DELETE', 'bucket', 'DeleteBucketCors', cors.deleteBucketCors, { query: 'cors' }),
  route('GET', 'bucket', 'GetBucketTagging', tagging.getBucketTagging, { query: 'tagging' }),
  route('PUT', 'bucket', 'PutBucketTagging', tagging.putBucketTagging, { query: 'tagging' }),
  route('DELETE', 'bucket', 'DeleteBucketTagging', tagging.deleteBucketTagging, { query: 'tagging' }),
  route('GET', 'bucket', 'GetPublicAccessBlock', publicAccess.getPublicAccessBlock, { query: 'publicAccessBlock' }),
  route('PUT', 'bucket', 'PutPublicAccessBlock', publicAccess.putPublicAccessBlock, { query: 'publicAccessBlock' }),
  route('DELETE', 'bucket', 'DeletePublicAccessBlock', publicAccess.deletePublicAccessBlock, {
    query: 'publicAccessBlock',
  }),
  // Configurations no bucket here has (handlers/bucket-config.ts); their other PUTs stay NotImplemented.
  route('GET', 'bucket', 'GetBucketPolicy', config.getBucketPolicy, { query: 'policy' }),
  route('DELETE', 'bucket', 'DeleteBucketPolicy', config.removed, { query: 'policy' }),
  route('GET', 'bucket', 'GetBucketPolicyStatus', config.getBucketPolicyStatus, { query: 'policyStatus' }),
  route('GET', 'bucket', 'GetBucketLifecycleConfiguration', config.getBucketLifecycle, { query: 'lifecycle' }),
  route('DELETE', 'bucket', 'DeleteBucketLifecycle', config.removed, { query: 'lifecycle' }),
  route('GET', 'bucket', 'GetBucketEncryption', config.getBucketEncryption, { query: 'encryption' }),
  route('DELETE', 'bucket', 'DeleteBucketEncryption', config.removed, { query: 'encryption' }),
  route('GET', 'bucket', 'GetBucketWebsite', config.getBucketWebsite, { query: 'website' }),
  route('DELETE', 'bucket', 'DeleteBucketWebsite', config.removed, { query: 'website' }),
  route('GET', 'bucket', 'GetBucketReplication', config.getBucketReplication, { query: 'replication' }),
  route('DELETE', 'bucket', 'DeleteBucketReplication', config.removed, { query: 'replication' }),
  route('GET', 'bucket', 'GetObjectLockConfiguration', config.getObjectLockConfiguration, { query: 'object-lock' }),
  route('GET', 'bucket', 'GetBucketOwnershipControls', config.getBucketOwnershipControls, {
    query: 'ownershipControls',
  }),
  route('DELETE', 'bucket', 'DeleteBucketOwnershipControls', config.removed, { query: 'ownershipControls' }),
  route('GET', 'bucket', 'GetBucketLogging', config.getBucketLogging, { query: 'logging' }),
  route('PUT', 'bucket', 'PutBucketLogging', config.putBucketLogging, { query: 'logging' }),
  route('GET', 'bucket', 'GetBucketRequestPayment', config.getBucketRequestPayment, { query: 'requestPayment' }),
  route('PUT', 'bucket', 'PutBucketRequestPayment', config.putBucketRequestPayment, { query: 'requestPayment' }),
  route('GET', 'bucket', 'GetBucketAccelerateConfiguration', config.getBucketAccelerate, { query: 'accelerate' }),
  route('PUT', 'bucket', 'PutBucketAccelerateConfiguration', config.putBucketAccelerate, { query: 'accelerate' }),
  route('GET', 'bucket', 'GetBucketNotificationConfiguration', config.getBucketNotification, { query: 'notification' }),
  route('PUT', 'bucket', 'PutBucketNotificationConfiguration', config.putBucketNotification, { query: 'notification' }),
  route('GET', 'bucket', 'ListMultipartUploads', multipartList.listMultipartUploads, { query: 'uploads' }),
  route('GET', 'bucket', 'ListObjectVersions', versions.listObjectVersions, { query: 'versions' }),
  route('POST', 'bucket', 'DeleteObjects', del.deleteObjects, { query: 'delete' }),
  route('GET', 'bucket', 'ListObjectsV2', list.listObjectsV2, { query: ['list-type', '2'] }),
  route('GET', 'bucket', 'ListObjects', list.listObjects),
  route('POST', 'bucket', 'PostObject', post.postObject),
  route('PUT', 'bucket', 'CreateBucket', bucket.createBucket),
  route('DELETE', 'bucket', 'DeleteBucket', bucket.deleteBucket),
  route('HEAD', 'bucket', 'HeadBucket', bucket.headBucket),
  route('PUT', 'object', 'UploadPartCopy', multipart.uploadPartCopy, {
    query: 'uploadId',
    header: 'x-amz-copy-source',
  }),
  route('PUT', 'object', 'UploadPart', multipart.uploadPart, { query: 'uploadId' }),
  route('POST', 'object', 'CreateMultipartUpload', multipart.createMultipartUpload, { query: 'uploads' }),
  route('POST', 'object', 'CompleteMultipartUpload', multipart.completeMultipartUpload, { query: 'uploadId' }),
  route('DELETE', 'object', 'AbortMultipartUpload', multipart.abortMultipartUpload, { query: 'uploadId' }),
  route('GET', 'object', 'ListParts', multipartList.listParts, { query: 'uploadId' }),
  route('GET', 'object', 'GetObjectTagging', tagging.getObjectTagging, { query: 'tagging' }),
  route('PUT', 'object', 'PutObjectTagging', tagging.putObjectTagging, { query: 'tagging' }),
  route('DELETE', 'object', 'DeleteObjectTagging', tagging.deleteObjectTagging, { query: 'tagging' }),
  route('PUT', 'object', 'CopyObject', copy.copyObject, { header: 'x-amz-copy-source' }),
  route('GET', 'object', 'GetObjectAcl', acl.getObjectAcl, { query: 'acl' }),
  route('PUT', 'object', 'PutObjectAcl', acl.putObjectAcl, { query: 'acl' }),
  route('GET', 'object', 'GetObjectAttributes', attributes.getObjectAttributes, { query: 'attributes' }),
  route('GET', 'object', 'GetObjectRetention', config.objectLockMissing, { query: 'retention' }),
  route('PUT', 'object', 'PutObjectRetention', config.objectLockMissing, { query: 'retention' }),
  route('GET', 'object', 'GetObjectLegalHold', config.objectLockMissing, { query: 'legal-hold' }),
  route('PUT', 'object', 'PutObjectLegalHold', config.objectLockMissing, { query: 'legal-hold' }),
  route('PUT', 'object', 'PutObject', put.putObject),
  route('GET', 'object', 'GetObject', get.getObject),
  route('HEAD', 'object', 'HeadObject', get.headObject),
  route('DELETE', 'object', 'DeleteObject', del.deleteObject),
];

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
  operation: RoutedOperation;
  handler: Handler;
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
for (const route of ROUTES) {
  const [name, value] = typeof route.query === 'string' ? [route.query, undefined] : (route.query ?? []);
  const id = `${route.method} ${route.target}`;
  const list = ROUTE_INDEX.get(id) ?? [];
  list.push({
    name,
    value,
    header: route.header,
    matched: { operation: route.operation, handler: route.handler },
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
