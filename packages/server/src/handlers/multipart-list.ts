import { type RequestContext, requireBucket, requireKey, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { S3Error } from '../s3-error.js';
import { checksumElement } from '../checksums/index.js';
import { listParams } from './list-params.js';
import { uploadChecksumElements } from './multipart-checksums.js';
import { ownerParty } from '../http/owner-party.js';

function intParam(ctx: RequestContext, name: string, fallback: number, max: number): number {
  const raw = ctx.query.get(name);
  if (raw === null) return fallback;
  if (!/^\d{1,9}$/.test(raw)) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: raw.slice(0, 20),
    });
  }
  return Math.min(max, Number(raw));
}

const party = (ctx: RequestContext, id: string) => ownerParty(ctx.state, id);

export async function listParts(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const uploadId = ctx.query.get('uploadId') ?? '';
  const upload = await ctx.state.uploads.get(bucket.name, uploadId, key);
  const maxParts = intParam(ctx, 'max-parts', 1000, 1000);
  const marker = intParam(ctx, 'part-number-marker', 0, 10000);
  const { encode, encodingType } = listParams(ctx);
  const all = (await ctx.state.uploads.parts(bucket.name, uploadId)).filter((p) => p.partNumber > marker);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  return xmlResponse('ListPartsResult', {
    Bucket: bucket.name,
    Key: encode(key),
    EncodingType: encodingType,
    UploadId: uploadId,
    Initiator: party(ctx, upload.initiator ?? upload.owner),
    Owner: party(ctx, upload.owner),
    StorageClass: 'STANDARD',
    PartNumberMarker: marker,
    NextPartNumberMarker: page.at(-1)?.partNumber ?? marker,
    MaxParts: maxParts,
    IsTruncated: truncated,
    ...uploadChecksumElements(upload.checksum),
    Part: page.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: p.lastModified.toISOString(),
      ETag: p.etag,
      Size: p.size,
      ...(upload.checksum && p.checksum !== undefined
        ? { [checksumElement(upload.checksum.algorithm)]: p.checksum }
        : {}),
    })),
  });
}

export async function listMultipartUploads(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const params = listParams(ctx, 'max-uploads');
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const uploadIdMarker = ctx.query.get('upload-id-marker') ?? '';
  const page = await ctx.state.uploads.listPage(bucket.name, {
    prefix: params.prefix,
    delimiter: params.delimiter,
    keyMarker,
    uploadIdMarker: keyMarker === '' ? '' : uploadIdMarker,
    max: params.maxKeys,
  });
  return xmlResponse('ListMultipartUploadsResult', {
    Bucket: bucket.name,
    KeyMarker: params.encode(keyMarker),
    UploadIdMarker: uploadIdMarker,
    NextKeyMarker: page.nextKeyMarker === undefined ? undefined : params.encode(page.nextKeyMarker),
    NextUploadIdMarker: page.nextUploadIdMarker,
    Prefix: params.encode(params.prefix),
    Delimiter: params.delimiter === undefined ? undefined : params.encode(params.delimiter),
    MaxUploads: params.maxKeys,
    EncodingType: params.encodingType,
    IsTruncated: page.truncated,
    Upload: page.rows.flatMap((r) =>
      'prefix' in r
        ? []
        : [
            {
              Key: params.encode(r.key),
              UploadId: r.uploadId,
              Initiator: party(ctx, r.initiator ?? r.owner),
              Owner: party(ctx, r.owner),
              StorageClass: 'STANDARD',
              Initiated: r.initiated,
              ...uploadChecksumElements(r.checksum),
            },
          ],
    ),
    CommonPrefixes: page.rows.flatMap((r) => ('prefix' in r ? [{ Prefix: params.encode(r.prefix) }] : [])),
  });
}
