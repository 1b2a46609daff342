import { createHmac, timingSafeEqual } from 'node:crypto';
import { S3Error } from '../s3-error.js';
import { canonicalHeaderValue } from './canonical.js';
import type { AuthInput, User, UserDirectory } from './types.js';

/**
 * AWS Signature Version 2, which S3 still accepts and which the aws CLI v1 uses for
 * `aws s3 presign` unless told `s3.signature_version = s3v4`: `Authorization: AWS <key>:<sig>`
 * or `?AWSAccessKeyId=…&Expires=…&Signature=…`, an HMAC-SHA1 over the method, Content-MD5,
 * Content-Type, the date (or Expires), the x-amz-* headers and the canonical resource.
 */

/** The query parameters that are part of the signed resource, as S3 lists them. */
const SUBRESOURCES = new Set([
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'delete',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'partNumber',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'retention',
  'select',
  'select-type',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
]);

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export interface V2Claim {
  accessKeyId: string;
  signature: string;
  /** Presigned: seconds since the epoch. */
  expires?: number;
}

export function parseV2Header(authorization: string): V2Claim {
  const m = /^AWS ([^:\s]+):(\S+)$/.exec(authorization);
  if (!m)
    throw new S3Error('InvalidArgument', "Authorization header is invalid -- one and only one ' ' (space) required");
  return { accessKeyId: m[1]!, signature: m[2]! };
}

export function parseV2Query(params: URLSearchParams): V2Claim {
  const accessKeyId = params.get('AWSAccessKeyId');
  const signature = params.get('Signature');
  const expires = params.get('Expires');
  if (!accessKeyId || !signature || !expires || !/^\d{1,12}$/.test(expires)) {
    throw new S3Error(
      'AccessDenied',
      'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters',
    );
  }
  return { accessKeyId, signature, expires: Number(expires) };
}

/** The string S3 signs for Signature Version 2. */
export function v2StringToSign(input: AuthInput, expires?: number): string {
  const headers = input.headers;
  const amz: string[] = [];
  for (const name of Object.keys(headers).sort()) {
    if (name.startsWith('x-amz-')) amz.push(`${name}:${canonicalHeaderValue(headers[name])}\n`);
  }
  // With x-amz-date present the Date line stays empty; a presigned URL puts Expires there.
  const date = expires !== undefined ? String(expires) : headers['x-amz-date'] ? '' : (first(headers.date) ?? '');
  return [
    input.method.toUpperCase(),
    first(headers['content-md5']) ?? '',
    first(headers['content-type']) ?? '',
    `${date}\n${amz.join('')}${canonicalResource(input)}`,
  ].join('\n');
}

function canonicalResource(input: AuthInput): string {
  let resource = input.virtualHostBucket === undefined ? input.rawPath : `/${input.virtualHostBucket}${input.rawPath}`;
  if (resource === '') resource = '/';
  const subresources: [string, string | undefined][] = [];
  for (const part of input.rawQuery.split('&')) {
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    if (SUBRESOURCES.has(name)) subresources.push([name, eq < 0 ? undefined : decode(part.slice(eq + 1))]);
  }
  if (subresources.length === 0) return resource;
  subresources.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `${resource}?${subresources.map(([n, v]) => (v === undefined ? n : `${n}=${v}`)).join('&')}`;
}

/** Verifies a Signature Version 2 request; returns its user or throws S3's error. */
export function verifyV2(input: AuthInput, claim: V2Claim, users: UserDirectory, now: Date, maxSkewMs: number): User {
  if (claim.expires !== undefined) {
    if (now.getTime() > claim.expires * 1000) {
      throw new S3Error('AccessDenied', 'Request has expired', {
        Expires: new Date(claim.expires * 1000).toISOString(),
        ServerTime: now.toISOString(),
      });
    }
  } else {
    const when = Date.parse(first(input.headers['x-amz-date']) ?? first(input.headers.date) ?? '');
    if (Number.isNaN(when))
      throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    if (Math.abs(now.getTime() - when) > maxSkewMs) {
      throw new S3Error(
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
      );
    }
  }
  const user = users(claim.accessKeyId);
  if (!user) {
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: claim.accessKeyId,
    });
  }
  const stringToSign = v2StringToSign(input, claim.expires);
  const expected = createHmac('sha1', user.secretAccessKey).update(stringToSign, 'utf8').digest('base64');
  // Base64 is case-sensitive: compare as sent, in constant time.
  const provided = Buffer.from(claim.signature);
  if (provided.length !== expected.length || !timingSafeEqual(provided, Buffer.from(expected))) {
    throw new S3Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { AWSAccessKeyId: claim.accessKeyId, StringToSign: stringToSign },
    );
  }
  return user;
}
