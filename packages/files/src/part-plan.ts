import { MULTIPART_LIMITS } from '@bucketdb/store';
import { FilesError } from './errors.js';

const MiB = 1 << 20;
/** 8 MiB parts over 8 connections: where S3 transfer tools reach the link's speed (s5cmd, CRT). */
export const DEFAULT_PART_SIZE = 8 * MiB;
export const DEFAULT_CONCURRENCY = 8;

/**
 * The largest part a download cuts once it knows the size. A download writes each part to its
 * place in the file as it streams, so a larger part costs no memory, only resume granularity, and
 * saves requests: on the repo's server, a 256 MiB download in 8 MiB parts cost the client about a
 * fifth and the server a quarter more CPU than in 32 MiB parts (docs/design/files.md).
 */
export const MAX_DOWNLOAD_PART_SIZE = 32 * MiB;

/**
 * The largest part an upload of a known size takes by itself: a large file goes in about 64
 * parts, between 8 and 16 MiB each. Fewer requests cost less (S3 bills each PUT) and spend less
 * per byte on the server: a 1 GiB upload to the repo's server in 16 MiB parts ran at about 1.1×
 * the speed of 8 MiB parts with 10% less server CPU (docs/benchmarks/files.md). Each part in
 * flight is held in memory, so the cap is low.
 */
export const MAX_UPLOAD_PART_SIZE = 16 * MiB;
const UPLOAD_PARTS = 64;

export interface PartOptions {
  /**
   * Bytes per part (default 8 MiB; an upload of a known size over 512 MiB takes up to 16 MiB);
   * raised when an object would need more than 10,000 parts.
   */
  partSize?: number;
  /** Parts in flight at once (default 8); memory stays within about concurrency × part size. */
  concurrency?: number;
}

export interface PartPlan {
  partSize: number;
  parts: number;
  concurrency: number;
}

/**
 * Splits `size` bytes into parts. `multipart` applies S3's upload limits (parts of at least 5 MiB,
 * at most 10,000 of them); ranged reads may use any part size.
 */
export function planParts(size: number, options: PartOptions = {}, multipart = false): PartPlan {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
    throw new FilesError('InvalidArgument', `concurrency must be an integer in 1..1024, got ${concurrency}`);
  }
  let partSize = options.partSize ?? (multipart ? uploadPartSize(size) : DEFAULT_PART_SIZE);
  if (!Number.isSafeInteger(partSize) || partSize < 1) {
    throw new FilesError('InvalidArgument', `part size must be a positive integer, got ${partSize}`);
  }
  if (multipart) {
    partSize = Math.max(partSize, MULTIPART_LIMITS.minPartSize);
    const least = Math.ceil(size / MULTIPART_LIMITS.maxParts / MiB) * MiB;
    partSize = Math.max(partSize, least);
    if (partSize > MULTIPART_LIMITS.maxPartSize) {
      throw new FilesError('InvalidArgument', `${size} bytes is larger than a multipart upload can hold`);
    }
  }
  const parts = Math.max(1, Math.ceil(size / partSize));
  return { partSize, parts, concurrency: Math.min(concurrency, parts) };
}

/**
 * A download's later parts, once part 0 (`first` bytes) told the size: the rest spread over the
 * connections, whole MiB, between `first` and MAX_DOWNLOAD_PART_SIZE. Every connection stays busy
 * on a mid-sized file; a large one takes fewer, larger requests.
 */
export function downloadPartSize(remaining: number, first: number, concurrency: number): number {
  const spread = Math.ceil(Math.max(0, remaining) / concurrency / MiB) * MiB;
  return Math.max(first, Math.min(MAX_DOWNLOAD_PART_SIZE, spread));
}

/** An upload's own part size for `size` bytes: whole MiB, about UPLOAD_PARTS parts, within the bounds. */
function uploadPartSize(size: number): number {
  const spread = Math.ceil(size / UPLOAD_PARTS / MiB) * MiB;
  return Math.min(MAX_UPLOAD_PART_SIZE, Math.max(DEFAULT_PART_SIZE, spread));
}
