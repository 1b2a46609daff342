import type { RequestContext, S3Response } from '../http/context.js';
import { xmlDocument } from '../http/xml.js';

export interface PostedObject {
  bucket: string;
  key: string;
  etag: string;
  /** Headers every answer carries (version id, checksum). */
  headers: Record<string, string | undefined>;
}

/**
 * The object's URL, as S3 puts it in Location: on the host the form was posted to, with the
 * bucket in the path when the form was posted path-style.
 */
function locationOf(ctx: RequestContext, posted: PostedObject): string {
  const host = ctx.headers.host ?? 'localhost';
  const path = (ctx.req.url ?? '/').split('?')[0] ?? '/';
  const bucketPath = path === '/' || path === '' ? '' : `/${encodeURIComponent(posted.bucket)}`;
  return `http://${host}${bucketPath}/${encodeURIComponent(posted.key)}`;
}

/** A redirect target the browser can follow: an absolute http(s) URL, else none. */
function redirectTarget(value: string | undefined): URL | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * S3's answer to a successful POST: a 303 to `success_action_redirect` (or the older `redirect`)
 * with bucket, key and ETag in its query; else `success_action_status` 200 (empty), 201 (a
 * PostResponse document) or, for any other value or none, 204.
 */
export function postResponse(ctx: RequestContext, fields: ReadonlyMap<string, string>, posted: PostedObject) {
  const location = locationOf(ctx, posted);
  const headers = { ...posted.headers, etag: posted.etag, location };
  const redirect = redirectTarget(fields.get('success_action_redirect') ?? fields.get('redirect'));
  if (redirect) {
    redirect.searchParams.append('bucket', posted.bucket);
    redirect.searchParams.append('key', posted.key);
    redirect.searchParams.append('etag', posted.etag);
    return { status: 303, headers: { ...headers, location: redirect.href } } satisfies S3Response;
  }
  const status = fields.get('success_action_status');
  if (status === '200') return { status: 200, headers } satisfies S3Response;
  if (status !== '201') return { status: 204, headers } satisfies S3Response;
  const body = xmlDocument(
    'PostResponse',
    { Location: location, Bucket: posted.bucket, Key: posted.key, ETag: posted.etag },
    false,
  );
  return { status: 201, headers: { ...headers, 'content-type': 'application/xml' }, body } satisfies S3Response;
}
