import { type RequestContext, requireBucket, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { text, xmlDocument } from '../http/xml.js';
import { S3Error, type S3ErrorCode } from '../s3-error.js';
import { readXmlBody } from './request-xml.js';

/*
 * Bucket configurations this server never holds (policy, lifecycle, website, …), answered as S3
 * answers them for a bucket that has none, so that clients probing a bucket see a plain bucket
 * rather than an unsupported operation. Writes stay NotImplemented (the route table has none)
 * except where the request asks for exactly the state every bucket here is in: removing a
 * configuration (DELETE), or setting the default (logging off, bucket owner pays, …).
 */

/** GET of a configuration S3 reports as missing with a 404 of its own code. */
export function missing(code: S3ErrorCode, message: string) {
  return async (ctx: RequestContext): Promise<S3Response> => {
    throw new S3Error(code, message, { BucketName: requireBucket(ctx).name });
  };
}

/** GET of a configuration S3 reports, when unset, as this (empty or default) document. */
export function unset(root: string, content: Record<string, unknown> = {}, namespace?: string) {
  return async (ctx: RequestContext): Promise<S3Response> => {
    requireBucket(ctx);
    if (namespace === undefined) return xmlResponse(root, content);
    const body = xmlDocument(root, { '@xmlns': namespace, ...content }, false);
    return { status: 200, headers: { 'content-type': 'application/xml' }, body };
  };
}

/** DELETE of a configuration no bucket has: done already. */
export async function removed(ctx: RequestContext): Promise<S3Response> {
  requireBucket(ctx);
  return { status: 204 };
}

/** PUT that succeeds only when the document asks for the default state (`isDefault`). */
export function defaultOnly(root: string, isDefault: (doc: Record<string, unknown>) => boolean) {
  return async (ctx: RequestContext): Promise<S3Response> => {
    requireBucket(ctx);
    if (!isDefault(await readXmlBody(ctx, root))) {
      throw new S3Error('NotImplemented', `This server keeps the default ${root} only`, { Subresource: root });
    }
    return { status: 200 };
  };
}

/** S3's logging documents use this namespace rather than the API's. */
export const LOGGING_NAMESPACE = 'http://doc.s3.amazonaws.com/2006-03-01';

const isEmpty = (doc: Record<string, unknown>) => Object.keys(doc).length === 0;
const field = (doc: Record<string, unknown>, name: string) => text(doc[name])?.trim();

export const getBucketPolicy = missing('NoSuchBucketPolicy', 'The bucket policy does not exist');
export const getBucketPolicyStatus = getBucketPolicy;
export const getBucketLifecycle = missing('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist');
export const getBucketEncryption = missing(
  'ServerSideEncryptionConfigurationNotFoundError',
  'The server side encryption configuration was not found',
);
export const getBucketWebsite = missing(
  'NoSuchWebsiteConfiguration',
  'The specified bucket does not have a website configuration',
);
export const getBucketReplication = missing(
  'ReplicationConfigurationNotFoundError',
  'The replication configuration was not found',
);
export const getObjectLockConfiguration = missing(
  'ObjectLockConfigurationNotFoundError',
  'Object Lock configuration does not exist for this bucket',
);
export const getBucketOwnershipControls = missing(
  'OwnershipControlsNotFoundError',
  'The bucket ownership controls were not found',
);

export const getBucketLogging = unset('BucketLoggingStatus', {}, LOGGING_NAMESPACE);
export const getBucketRequestPayment = unset('RequestPaymentConfiguration', { Payer: 'BucketOwner' });
export const getBucketAccelerate = unset('AccelerateConfiguration');
export const getBucketNotification = unset('NotificationConfiguration');

export const putBucketLogging = defaultOnly('BucketLoggingStatus', (doc) => doc.LoggingEnabled === undefined);
export const putBucketRequestPayment = defaultOnly(
  'RequestPaymentConfiguration',
  (doc) => field(doc, 'Payer') === 'BucketOwner',
);
export const putBucketAccelerate = defaultOnly(
  'AccelerateConfiguration',
  (doc) => field(doc, 'Status') === 'Suspended',
);
export const putBucketNotification = defaultOnly('NotificationConfiguration', isEmpty);

/**
 * Retention and legal holds need Object Lock, which no bucket here has: S3 refuses both reads and
 * writes of them on such a bucket with this error.
 */
export async function objectLockMissing(ctx: RequestContext): Promise<S3Response> {
  requireBucket(ctx);
  throw new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
}
