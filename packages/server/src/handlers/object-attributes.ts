import { bareEtag } from '@bucketdb/store';
import { checksumElement, checksumTypeOf, isChecksumAlgorithm } from '../checksums/index.js';
import type { ObjectVersion } from '../engine/object-meta.js';
import { header, type RequestContext, requireBucket, requireKey, type S3Response } from '../http/context.js';
import { httpDate } from '../http/http-date.js';
import { xmlResponse } from '../http/respond.js';
import { S3Error } from '../s3-error.js';
import { deleteMarkerRead } from './get-object.js';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];
const MAX_PARTS = 1000;

/** GetObjectAttributes: the attributes `x-amz-object-attributes` names, of one version, without its bytes. */
export async function getObjectAttributes(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const wanted = requestedAttributes(header(ctx, 'x-amz-object-attributes'));
  const maxParts = integerHeader(ctx, 'x-amz-max-parts', MAX_PARTS);
  const marker = integerHeader(ctx, 'x-amz-part-number-marker', 0);
  const resolved = await ctx.state.objects.resolve(bucket, key, ctx.query.get('versionId') ?? undefined);
  if (resolved.kind === 'marker') throw deleteMarkerRead(ctx.method, resolved.record);
  const { version } = resolved;
  const content: Record<string, unknown> = {};
  if (wanted.has('ETag')) content.ETag = bareEtag(version.etag);
  if (wanted.has('Checksum') || wanted.has('ObjectParts')) {
    const checksums = await ctx.state.objects.checksums(bucket.name, key, version);
    const [algorithm, value] = Object.entries(checksums).find(([name]) => name !== 'md5') ?? [];
    if (wanted.has('Checksum') && algorithm !== undefined && value !== undefined && isChecksumAlgorithm(algorithm)) {
      content.Checksum = { [checksumElement(algorithm)]: value, ChecksumType: checksumTypeOf(value) };
    }
    if (wanted.has('ObjectParts') && version.meta.parts) content.ObjectParts = objectParts(version, maxParts, marker);
  }
  if (wanted.has('StorageClass')) content.StorageClass = 'STANDARD';
  if (wanted.has('ObjectSize')) content.ObjectSize = version.size;
  const response = xmlResponse('GetObjectAttributesResponse', content);
  const versioned = bucket.versioning !== 'Unversioned' || version.meta.versionId !== 'null';
  response.headers = {
    ...response.headers,
    'last-modified': httpDate(version.lastModified),
    'x-amz-version-id': versioned ? version.meta.versionId : undefined,
  };
  return response;
}

/**
 * The parts of a multipart object. As S3 does for general purpose buckets, the parts themselves
 * are listed only when the upload had per-part checksums; the count is always given.
 */
function objectParts(version: ObjectVersion, maxParts: number, marker: number) {
  const sizes = version.meta.parts ?? [];
  const checksums = version.meta.partChecksums;
  const algorithm = Object.keys(version.meta.checksums).find(isChecksumAlgorithm);
  if (!checksums || algorithm === undefined) return { PartsCount: sizes.length };
  const listed = sizes.slice(marker, marker + maxParts).map((size, i) => ({
    PartNumber: marker + i + 1,
    Size: size,
    [checksumElement(algorithm)]: checksums[marker + i],
  }));
  const truncated = marker + listed.length < sizes.length;
  return {
    PartsCount: sizes.length,
    PartNumberMarker: marker,
    ...(truncated ? { NextPartNumberMarker: marker + listed.length } : {}),
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: listed,
  };
}

function requestedAttributes(value: string | undefined): Set<Attribute> {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) {
    throw new S3Error(
      'InvalidRequest',
      'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
    );
  }
  for (const name of names) {
    if (!(ATTRIBUTES as readonly string[]).includes(name)) {
      throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', {
        ArgumentName: 'x-amz-object-attributes',
        ArgumentValue: name.slice(0, 100),
      });
    }
  }
  return new Set(names as Attribute[]);
}

/** A non-negative integer header (`x-amz-max-parts` capped at S3's 1000). */
function integerHeader(ctx: RequestContext, name: string, fallback: number): number {
  const value = header(ctx, name)?.trim();
  if (value === undefined) return fallback;
  if (!/^\d{1,9}$/.test(value)) {
    throw new S3Error('InvalidArgument', `${name} must be a non-negative integer`, {
      ArgumentName: name,
      ArgumentValue: value.slice(0, 20),
    });
  }
  return name === 'x-amz-max-parts' ? Math.min(Number(value), MAX_PARTS) : Number(value);
}
