import type { _Object, CommonPrefix, GetObjectOutput, HeadObjectOutput } from '@aws-sdk/client-s3';
import { CorruptError, TransientError } from '../../errors.js';
import { compareKeys } from '../../keys.js';
import type { ByteRange, ListEntry, ObjectInfo } from '../../object-store.js';

/** The `Range` header for a range already checked with `resolveRange`. */
export function rangeHeader(range: ByteRange | undefined): string | undefined {
  if (range === undefined) return undefined;
  if ('suffix' in range) return `bytes=-${range.suffix}`;
  return range.length === undefined
    ? `bytes=${range.offset}-`
    : `bytes=${range.offset}-${range.offset + range.length - 1}`;
}

/** `bytes 0-4/10` → start 0, end 5 (exclusive), size 10. */
export function parseContentRange(value: string | undefined): { start: number; end: number; size: number } | undefined {
  const match = value && /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value.trim());
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]) + 1, size: Number(match[3]) };
}

export function objectInfo(key: string, out: HeadObjectOutput | GetObjectOutput, size: number): ObjectInfo {
  const info: ObjectInfo = {
    key,
    size,
    etag: out.ETag ?? '',
    lastModified: out.LastModified ?? new Date(0),
    metadata: { ...(out.Metadata ?? {}) },
  };
  if (out.ContentType !== undefined) info.contentType = out.ContentType;
  return info;
}

/** Keys in a listing answered with `EncodingType=url` are form-encoded, as botocore decodes them. */
export function decodeListedKey(key: string, urlEncoded: boolean): string {
  return urlEncoded ? decodeURIComponent(key.replaceAll('+', ' ')) : key;
}

/** S3 returns objects and common prefixes in two lists; the contract wants them merged in key order. */
export function listEntries(
  contents: _Object[] | undefined,
  prefixes: CommonPrefix[] | undefined,
  strip: (fullKey: string) => string,
): ListEntry[] {
  const entries: ListEntry[] = [];
  for (const o of contents ?? []) {
    entries.push({
      kind: 'object',
      key: strip(o.Key ?? ''),
      size: o.Size ?? 0,
      etag: o.ETag ?? '',
      lastModified: o.LastModified ?? new Date(0),
    });
  }
  for (const p of prefixes ?? []) entries.push({ kind: 'prefix', prefix: strip(p.Prefix ?? '') });
  return entries.sort((a, b) =>
    compareKeys(a.kind === 'object' ? a.key : a.prefix, b.kind === 'object' ? b.key : b.prefix),
  );
}

/** A response body whose network failures surface as TransientError, like every other failure. */
export async function* mapBodyErrors(body: AsyncIterable<Uint8Array>, key: string): AsyncIterable<Uint8Array> {
  try {
    yield* body;
  } catch (cause) {
    // The SDK checks the body against the checksum header S3 sent with it.
    if (/checksum mismatch/i.test((cause as Error).message)) {
      throw new CorruptError(`the body of ${JSON.stringify(key)} failed its checksum: ${(cause as Error).message}`, {
        key,
        cause,
      });
    }
    throw new TransientError(`the body of ${JSON.stringify(key)} broke off: ${(cause as Error).message}`, {
      key,
      cause,
    });
  }
}
