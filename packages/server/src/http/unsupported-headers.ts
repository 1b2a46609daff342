import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../s3-error.js';

const GRANTS = [
  'x-amz-grant-full-control',
  'x-amz-grant-read',
  'x-amz-grant-read-acp',
  'x-amz-grant-write',
  'x-amz-grant-write-acp',
] as const;

const CUSTOMER_KEYS = [
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-copy-source-server-side-encryption-customer-algorithm',
] as const;

/**
 * Refuses request headers whose promise this server cannot keep: grants to other accounts, keys
 * the caller supplies to encrypt with (SSE-C), and KMS encryption. Ignoring them would store data
 * its writer believes is shared, or unreadable without their key, when it is neither. SSE-S3
 * (`AES256`) is taken as S3 takes it, transparently: encryption at rest is the disk's business.
 */
export function refuseUnsupportedHeaders(headers: IncomingHttpHeaders): void {
  for (const name of GRANTS) {
    if (headers[name] !== undefined) {
      throw new S3Error(
        'NotImplemented',
        'Grants (x-amz-grant-*) are not supported here: use a canned ACL (x-amz-acl).',
        {
          Header: name,
        },
      );
    }
  }
  for (const name of CUSTOMER_KEYS) {
    if (headers[name] !== undefined) {
      throw new S3Error(
        'NotImplemented',
        'Server-side encryption with customer-provided keys (SSE-C) is not supported.',
        {
          Header: name,
        },
      );
    }
  }
  const sse = headers['x-amz-server-side-encryption'];
  if (sse !== undefined && sse !== 'AES256') {
    throw new S3Error(
      'NotImplemented',
      `Server-side encryption ${String(sse).slice(0, 32)} is not supported: only AES256 (SSE-S3).`,
      {
        Header: 'x-amz-server-side-encryption',
      },
    );
  }
}
