import { isStoreError, MAX_KEY_BYTES, validateKey } from '@bucketdb/store';
import { S3Error } from '../s3-error.js';
import type { Target } from './operations.js';

export interface RequestTarget {
  target: Target;
  bucketName: string | undefined;
  key: string | undefined;
  /** The path as it arrived (percent-encoded), for signatures. */
  rawPath: string;
  rawQuery: string;
  query: URLSearchParams;
  /** The bucket named by the Host header (virtual-host style); Signature V2 signs it into the path. */
  virtualHostBucket?: string;
}

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.", { URI: raw.slice(0, 200) });
  }
}

/**
 * Splits a request into bucket and key. Path style: `/bucket/key`. Virtual-host style:
 * `Host: bucket.localhost:9000` (or `bucket.<domain>` for each configured domain) with `/key`.
 * The key is taken literally: `..` and `//` are ordinary key characters in S3.
 */
export function parseTarget(url: string, host: string | undefined, domains: readonly string[]): RequestTarget {
  // Origin-form (`/path`) is what clients send; the absolute form is rare.
  const absolute = url.charCodeAt(0) !== 0x2f && /^[a-z][a-z0-9+.-]*:\/\//i.test(url);
  const withoutOrigin = absolute ? url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '') || '/' : url;
  const q = withoutOrigin.indexOf('?');
  const rawPath = q < 0 ? withoutOrigin : withoutOrigin.slice(0, q);
  const rawQuery = q < 0 ? '' : withoutOrigin.slice(q + 1);
  const query = new URLSearchParams(rawQuery);
  if (!rawPath.startsWith('/'))
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.", { URI: rawPath.slice(0, 200) });

  const hostname = (host ?? '').toLowerCase().replace(/:\d+$/, '');
  const domain = domains.find((d) => hostname.endsWith(`.${d}`));
  let bucketName: string | undefined;
  let rawKey: string;
  if (domain) {
    bucketName = hostname.slice(0, -domain.length - 1);
    rawKey = rawPath.slice(1);
  } else {
    const slash = rawPath.indexOf('/', 1);
    const rawBucket = slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash);
    bucketName = rawBucket === '' ? undefined : decode(rawBucket);
    rawKey = slash < 0 ? '' : rawPath.slice(slash + 1);
  }
  const key = rawKey === '' ? undefined : decode(rawKey);
  if (bucketName !== undefined && key !== undefined) checkKey(bucketName, key);
  const target: Target = bucketName === undefined ? 'service' : key === undefined ? 'bucket' : 'object';
  const parsed: RequestTarget = { target, bucketName, key, rawPath, rawQuery, query };
  if (domain && bucketName !== undefined) parsed.virtualHostBucket = bucketName;
  return parsed;
}

/**
 * Characters refused in keys: NUL, and the two noncharacters. S3 takes the other control
 * characters, which XML 1.0 cannot carry: listings write them as character references, or
 * URL-encoded with `encoding-type=url` (http/xml.ts).
 */
const REFUSED_IN_KEYS = /[\u0000\ufffe\uffff]/;

/** A key S3 would accept and our layout can hold; throws KeyTooLongError / InvalidArgument. */
export function checkKey(bucket: string, key: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new S3Error('KeyTooLongError', 'Your key is too long.', { MaxSizeAllowed: String(MAX_KEY_BYTES) });
  }
  if (REFUSED_IN_KEYS.test(key)) {
    throw new S3Error('InvalidArgument', 'Object keys must not contain control characters.', { ArgumentName: 'key' });
  }
  try {
    validateKey(key);
  } catch (error) {
    if (isStoreError(error, 'InvalidKey')) throw new S3Error('InvalidArgument', error.message, { ArgumentName: 'key' });
    throw error;
  }
}
