import { isWellFormedId } from '../engine/ids.js';
import type { VersionListRow } from '../engine/version-listing.js';
import { type RequestContext, requireBucket, type S3Response } from '../http/context.js';
import { ownerParty } from '../http/owner-party.js';
import { xmlDocumentInOrder } from '../http/xml.js';
import { S3Error } from '../s3-error.js';
import { listParams } from './list-params.js';

/** key-marker and version-id-marker, refused as S3 refuses them. */
function markers(ctx: RequestContext): { keyMarker: string; versionMarker: string | undefined } {
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const versionMarker = ctx.query.get('version-id-marker') ?? undefined;
  if (versionMarker === undefined) return { keyMarker, versionMarker };
  const refuse = (message: string) =>
    new S3Error('InvalidArgument', message, {
      ArgumentName: 'version-id-marker',
      ArgumentValue: versionMarker.slice(0, 100),
    });
  if (keyMarker === '') throw refuse('A version-id marker cannot be specified without a key marker.');
  if (versionMarker === '') throw refuse('A version-id marker cannot be empty.');
  if (versionMarker !== 'null' && !isWellFormedId(versionMarker)) throw refuse('Invalid version id specified');
  return { keyMarker, versionMarker };
}

export async function listObjectVersions(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const params = listParams(ctx);
  const { keyMarker, versionMarker } = markers(ctx);
  const page: VersionListRow[] = [];
  let truncated = false;
  const rows = ctx.state.objects.versions(bucket, {
    prefix: params.prefix,
    delimiter: params.delimiter,
    keyMarker,
    versionMarker,
  });
  for await (const row of rows) {
    if (page.length >= params.maxKeys) {
      truncated = true;
      break;
    }
    page.push(row);
  }
  const last = page.at(-1);
  const owner = (id: string) => ownerParty(ctx.state, id);
  const entries = page.flatMap((r): Record<string, unknown>[] => {
    if (r.kind === 'prefix') return [];
    const common = {
      Key: params.encode(r.key),
      VersionId: r.versionId,
      IsLatest: r.isLatest,
      LastModified: r.lastModified,
    };
    return r.deleteMarker
      ? [{ DeleteMarker: { ...common, Owner: owner(r.owner) } }]
      : [{ Version: { ...common, ETag: r.etag, Size: r.size, StorageClass: 'STANDARD', Owner: owner(r.owner) } }];
  });
  // Element order as S3 sends it; Version and DeleteMarker stay interleaved in listing order.
  const body = xmlDocumentInOrder('ListVersionsResult', [
    {
      Name: bucket.name,
      Prefix: params.encode(params.prefix),
      KeyMarker: params.encode(keyMarker),
      VersionIdMarker: versionMarker ?? '',
      NextKeyMarker: truncated && last ? params.encode(last.kind === 'prefix' ? last.prefix : last.key) : undefined,
      NextVersionIdMarker: truncated && last?.kind === 'version' ? last.versionId : undefined,
      MaxKeys: params.maxKeys,
      Delimiter: params.delimiter === undefined ? undefined : params.encode(params.delimiter),
      EncodingType: params.encodingType,
      IsTruncated: truncated,
    },
    ...entries,
    { CommonPrefixes: page.flatMap((r) => (r.kind === 'prefix' ? [{ Prefix: params.encode(r.prefix) }] : [])) },
  ]);
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
}
