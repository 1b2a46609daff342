import { checksumTypeOf } from '../checksums/index.js';
import type { HistoryRecord } from '../engine/history.js';
import type { ObjectVersion } from '../engine/object-meta.js';
import type { OpenedBytes } from '../engine/objects.js';
import { checkReadConditions } from '../http/conditions.js';
import { header, type RequestContext, requireBucket, requireKey, type S3Response } from '../http/context.js';
import { checkHeader } from '../http/header-values.js';
import { httpDate } from '../http/http-date.js';
import { parseRangeHeader, type RequestedRange, resolveByteRange } from '../http/range-header.js';
import { S3Error } from '../s3-error.js';
import { objectHeaders } from './object-headers.js';

export const getObject = (ctx: RequestContext) => readObject(ctx, false);
export const headObject = (ctx: RequestContext) => readObject(ctx, true);

/** `response-*` query parameters override these response headers (signed requests only). */
const OVERRIDES = [
  'content-type',
  'content-language',
  'expires',
  'cache-control',
  'content-disposition',
  'content-encoding',
] as const;

async function readObject(ctx: RequestContext, head: boolean): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const versionId = ctx.query.get('versionId') ?? undefined;
  // The common case, a GET of the current version, is one store request.
  if (!head && versionId === undefined && !ctx.query.has('partNumber')) {
    const rangeText = header(ctx, 'range');
    const range = parseRangeHeader(rangeText);
    const opened = await ctx.state.objects.openCurrent(bucket.name, key, range);
    if (opened?.bytes) return respond(ctx, opened.version, head, opened.bytes);
    // An unsatisfiable range: S3's InvalidRange, with the object's size.
    if (opened) resolveByteRange(range ?? { offset: 0 }, opened.version.size, rangeText ?? '');
  }
  const resolved = await ctx.state.objects.resolve(bucket, key, versionId);
  if (resolved.kind === 'marker') throw deleteMarkerRead(ctx.method, resolved.record);
  return respond(ctx, resolved.version, head, undefined);
}

/** S3's answer to a read of a delete marker by its version id. */
export function deleteMarkerRead(method: string, marker: HistoryRecord): S3Error {
  return new S3Error(
    'MethodNotAllowed',
    'The specified method is not allowed against this resource.',
    { Method: method, ResourceType: 'DeleteMarker' },
    {
      'x-amz-delete-marker': 'true',
      'x-amz-version-id': marker.versionId,
      'last-modified': httpDate(new Date(marker.lastModified)),
      allow: 'DELETE',
    },
  );
}

/** Answers for one version; `read` is the store's answer when the bytes were already requested. */
async function respond(
  ctx: RequestContext,
  version: ObjectVersion,
  head: boolean,
  read: OpenedBytes | undefined,
): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  let condition: 'ok' | 'not-modified';
  try {
    condition = checkReadConditions(ctx.headers, version.etag, version.lastModified);
  } catch (error) {
    await closeBody(read);
    throw error;
  }
  if (condition === 'not-modified') {
    await closeBody(read);
    return { status: 304, headers: { etag: version.etag, 'last-modified': httpDate(version.lastModified) } };
  }
  const partRead = ctx.query.has('partNumber') && version.meta.parts !== undefined;
  const whole = header(ctx, 'range') === undefined && !partRead;
  const withChecksums = header(ctx, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
  const partSum = withChecksums && partRead ? partChecksum(version, ctx.query.get('partNumber')) : undefined;
  const checksums =
    whole && withChecksums ? await ctx.state.objects.checksums(bucket.name, requireKey(ctx), version) : partSum;
  const headers = objectHeaders(version, bucket.versioning !== 'Unversioned', checksums);
  // A part's own checksum is one of the parts a COMPOSITE object checksum is made of.
  if (partSum) headers['x-amz-checksum-type'] = 'COMPOSITE';
  // Most GETs carry no query at all: skip six lookups then.
  for (const name of ctx.query.size === 0 ? [] : OVERRIDES) {
    const value = ctx.query.get(`response-${name}`);
    if (value === null) continue;
    if (!ctx.user) {
      await closeBody(read);
      throw new S3Error(
        'InvalidRequest',
        'Request specific response headers cannot be used for anonymous GET requests.',
      );
    }
    checkHeader(name, value);
    headers[name] = value;
  }
  if (read) {
    if (!read.range) {
      headers['content-length'] = version.size;
      return { status: 200, headers, body: read.bytes ?? read.body };
    }
    const { start, end } = read.range;
    if (end <= start) {
      await closeBody(read);
      resolveByteRange({ offset: start, length: 0 }, version.size, header(ctx, 'range') ?? '');
    }
    headers['content-range'] = `bytes ${start}-${end - 1}/${version.size}`;
    headers['content-length'] = end - start;
    return { status: 206, headers, body: read.bytes ?? read.body };
  }
  const range = requestedRange(ctx, version);
  if (!range) {
    headers['content-length'] = version.size;
    if (head) return { status: 200, headers };
    return { status: 200, headers, body: await ctx.state.objects.read(version) };
  }
  const { start, end } = resolveByteRange(range.range, version.size, range.text);
  headers['content-length'] = end - start;
  headers['content-range'] = `bytes ${start}-${end - 1}/${version.size}`;
  if (head) return { status: 206, headers };
  return { status: 206, headers, body: await ctx.state.objects.read(version, { offset: start, length: end - start }) };
}

/**
 * The checksum of part `partText` of a multipart object whose checksum is COMPOSITE (S3 returns
 * a part's checksum for those only: a FULL_OBJECT checksum is not made of the parts' checksums).
 */
function partChecksum(version: ObjectVersion, partText: string | null): Record<string, string> | undefined {
  const [algorithm, value] = Object.entries(version.meta.checksums).find(([name]) => name !== 'md5') ?? [];
  const part = version.meta.partChecksums?.[Number(partText) - 1];
  if (algorithm === undefined || value === undefined || part === undefined || part === '') return undefined;
  return checksumTypeOf(value) === 'COMPOSITE' ? { [algorithm]: part } : undefined;
}

/** Closes a body the store already opened but the response will not carry. */
async function closeBody(read: OpenedBytes | undefined): Promise<void> {
  await read?.body[Symbol.asyncIterator]().return?.();
}

/** A Range header, or the byte range of `partNumber` in a multipart object. */
function requestedRange(
  ctx: RequestContext,
  version: ObjectVersion,
): { range: RequestedRange; text: string } | undefined {
  const partText = ctx.query.get('partNumber');
  if (partText === null) {
    const text = header(ctx, 'range');
    const range = parseRangeHeader(text);
    return range && text !== undefined ? { range, text } : undefined;
  }
  if (header(ctx, 'range') !== undefined) {
    throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  }
  const partNumber = Number(partText);
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: partText.slice(0, 20),
    });
  }
  // An object written in one piece is one part. S3 documents InvalidPartNumber (416) for a part
  // beyond the last, but answers 400 InvalidPart (observed), and 206 for part 1 of a plain object.
  const parts = version.meta.parts ?? [version.size];
  if (partNumber > parts.length) {
    throw new S3Error('InvalidPart', 'The requested partnumber is not satisfiable', {
      PartNumberRequested: String(partNumber),
      ActualPartCount: String(parts.length),
    });
  }
  if (version.size === 0) return undefined;
  const offset = parts.slice(0, partNumber - 1).reduce((a, b) => a + b, 0);
  return { range: { offset, length: parts[partNumber - 1] ?? 0 }, text: `part ${partNumber}` };
}
