import { storedContentEncoding } from '../auth/index.js';
import { checksumTypeOf } from '../checksums/index.js';
import { refusePublicAcl } from '../engine/buckets.js';
import type { ObjectMeta, ObjectVersion } from '../engine/object-meta.js';
import { header, type RequestContext } from '../http/context.js';
import { checkHeader } from '../http/header-values.js';
import { httpDate } from '../http/http-date.js';
import { S3Error } from '../s3-error.js';
import { objectAclHeader } from './acl.js';
import { parseTagHeader } from './tag-set.js';

/** The standard headers S3 stores with an object and returns on GET/HEAD. */
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-language', 'expires'] as const;
/** S3's limit on user-defined metadata: 2 KB of names and values. */
const MAX_USER_METADATA_BYTES = 2048;
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

export interface WrittenHeaders {
  contentType: string | undefined;
  headers: Record<string, string>;
  user: Record<string, string>;
}

/** Content-Type, standard headers and `x-amz-meta-*` of a write request. */
export function readObjectHeaders(ctx: RequestContext): WrittenHeaders {
  const headers: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = header(ctx, name);
    if (value !== undefined) headers[name] = checked(name, value);
  }
  const encoding = storedContentEncoding(ctx.headers['content-encoding']);
  if (encoding !== undefined) headers['content-encoding'] = checked('content-encoding', encoding);
  const user: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(ctx.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    const short = name.slice('x-amz-meta-'.length);
    user[short] = checked(name, text);
    size += Buffer.byteLength(short) + Buffer.byteLength(text);
  }
  if (size > MAX_USER_METADATA_BYTES) {
    throw new S3Error('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.', {
      Size: String(size),
      MaxSizeAllowed: String(MAX_USER_METADATA_BYTES),
    });
  }
  const contentType = header(ctx, 'content-type');
  return { contentType: contentType === undefined ? undefined : checked('content-type', contentType), headers, user };
}

/** A value to be stored and sent back with every GET: it must be one HTTP can carry. */
function checked(name: string, value: string): string {
  checkHeader(name, value);
  return value;
}

/** Everything but the version fields of a new object's metadata, from a write request. */
export function newObjectMeta(ctx: RequestContext, checksums: Record<string, string>) {
  const written = readObjectHeaders(ctx);
  const meta: Omit<ObjectMeta, 'versionId' | 'seq'> = {
    headers: written.headers,
    user: written.user,
    tags: parseTagHeader(header(ctx, 'x-amz-tagging')),
    checksums,
    owner: ctx.user?.accessKeyId ?? ctx.bucket?.owner ?? '',
  };
  const acl = objectAclHeader(ctx);
  refusePublicAcl(ctx.bucket, acl ?? undefined);
  if (acl) meta.acl = acl;
  return { meta, contentType: written.contentType };
}

/**
 * Response headers describing a stored version (GET, HEAD). `checksums` only for responses that
 * carry the whole object: a checksum of the whole object would not match a range.
 */
export function objectHeaders(
  version: ObjectVersion,
  versioned: boolean,
  checksums: Record<string, string> | undefined,
): Record<string, string | number | undefined> {
  const { meta } = version;
  const out: Record<string, string | number | undefined> = {
    'last-modified': httpDate(version.lastModified),
    etag: version.etag,
    'content-type': version.contentType ?? DEFAULT_CONTENT_TYPE,
    'accept-ranges': 'bytes',
    ...meta.headers,
  };
  for (const name in meta.user) out[`x-amz-meta-${name}`] = meta.user[name];
  if (versioned || meta.versionId !== 'null') out['x-amz-version-id'] = meta.versionId;
  if (meta.tags.length > 0) out['x-amz-tagging-count'] = meta.tags.length;
  if (meta.parts) out['x-amz-mp-parts-count'] = meta.parts.length;
  for (const [algorithm, value] of Object.entries(checksums ?? {})) {
    if (algorithm === 'md5') continue;
    out[`x-amz-checksum-${algorithm}`] = value;
    out['x-amz-checksum-type'] = checksumTypeOf(value);
  }
  return out;
}
