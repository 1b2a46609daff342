import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../s3-error.js';

const GRANTS = 'Grants (x-amz-grant-*) are not supported here: use a canned ACL (x-amz-acl).';
const CUSTOMER_KEYS = 'Server-side encryption with customer-provided keys (SSE-C) is not supported.';

/** Each refused header and why. */
const REFUSED: readonly (readonly [string, string])[] = [
  ['x-amz-grant-full-control', GRANTS],
  ['x-amz-grant-read', GRANTS],
  ['x-amz-grant-read-acp', GRANTS],
  ['x-amz-grant-write', GRANTS],
  ['x-amz-grant-write-acp', GRANTS],
  ['x-amz-server-side-encryption-customer-algorithm', CUSTOMER_KEYS],
  ['x-amz-copy-source-server-side-encryption-customer-algorithm', CUSTOMER_KEYS],
];

/**
 * Refuses request headers whose promise this server cannot keep: grants to other accounts, keys
 * the caller supplies to encrypt with (SSE-C), and KMS encryption. Ignoring them would store data
 * its writer believes is shared, or unreadable without their key, when it is neither. SSE-S3
 * (`AES256`) is taken as S3 takes it, transparently: encryption at rest is the disk's business.
 */
export function refuseUnsupportedHeaders(headers: IncomingHttpHeaders): void {
  for (const [name, why] of REFUSED) {
    if (headers[name] !== undefined) throw new S3Error('NotImplemented', why, { Header: name });
  }
  const sse = headers['x-amz-server-side-encryption'];
  if (sse !== undefined && sse !== 'AES256') {
    throw new S3Error(
      'NotImplemented',
      `Server-side encryption ${String(sse).slice(0, 32)} is not supported: only AES256 (SSE-S3).`,
      { Header: 'x-amz-server-side-encryption' },
    );
  }
}
