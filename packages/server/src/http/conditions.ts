import { etagsEqual } from '@bucketdb/store';
import { S3Error } from '../s3-error.js';

type Headers = Record<string, string | string[] | undefined>;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function matchesAny(list: string, etag: string): boolean {
  const trimmed = list.trim();
  return trimmed === '*' || trimmed.split(',').some((candidate) => etagsEqual(candidate, etag));
}

/** HTTP dates at one-second resolution, as Last-Modified is sent; undefined when unparsable. */
function seconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : Math.floor(time / 1000);
}

const conditionNames = (prefix: string) => ({
  ifMatch: `${prefix}if-match`,
  ifNoneMatch: `${prefix}if-none-match`,
  ifModifiedSince: `${prefix}if-modified-since`,
  ifUnmodifiedSince: `${prefix}if-unmodified-since`,
});
const PLAIN = conditionNames('');
const COPY_SOURCE = conditionNames('x-amz-copy-source-');

const preconditionFailed = (prefix: string, condition: string) =>
  new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
    Condition: `${prefix}${condition}`,
  });

/**
 * S3's precedence for conditional reads (RFC 9110): If-Match decides over If-Unmodified-Since,
 * If-None-Match over If-Modified-Since; a failed match is 412, a "not modified" is 304.
 * `prefix` is `''` for GET/HEAD and `'x-amz-copy-source-'` for a copy's source, where S3 answers
 * 412 for both kinds.
 */
export function checkReadConditions(
  headers: Headers,
  etag: string,
  lastModified: Date,
  prefix: '' | 'x-amz-copy-source-' = '',
): 'ok' | 'not-modified' {
  const names = prefix === '' ? PLAIN : COPY_SOURCE;
  const ifMatch = first(headers[names.ifMatch]);
  const ifNoneMatch = first(headers[names.ifNoneMatch]);
  // The common GET has no condition at all.
  if (
    ifMatch === undefined &&
    ifNoneMatch === undefined &&
    headers[names.ifModifiedSince] === undefined &&
    headers[names.ifUnmodifiedSince] === undefined
  ) {
    return 'ok';
  }
  const modified = Math.floor(lastModified.getTime() / 1000);
  // A date later than now is invalid and ignored (RFC 9110 13.1.3), as S3 does: the object is returned.
  const sinceText = seconds(first(headers[names.ifModifiedSince]));
  const ifModifiedSince = sinceText !== undefined && sinceText * 1000 > Date.now() ? undefined : sinceText;
  const ifUnmodifiedSince = seconds(first(headers[names.ifUnmodifiedSince]));
  const failed = (condition: string) => preconditionFailed(prefix, condition);
  if (ifMatch !== undefined) {
    if (!matchesAny(ifMatch, etag)) throw failed('If-Match');
  } else if (ifUnmodifiedSince !== undefined && modified > ifUnmodifiedSince) {
    throw failed('If-Unmodified-Since');
  }
  let notModified = false;
  if (ifNoneMatch !== undefined) notModified = matchesAny(ifNoneMatch, etag);
  else if (ifModifiedSince !== undefined) notModified = modified <= ifModifiedSince;
  if (notModified && prefix !== '') throw failed(ifNoneMatch !== undefined ? 'If-None-Match' : 'If-Modified-Since');
  return notModified ? 'not-modified' : 'ok';
}
