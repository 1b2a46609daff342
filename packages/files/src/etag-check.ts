import { createHash, type Hash } from 'node:crypto';
import { bareEtag } from '@bucketdb/store';

const MiB = 1 << 20;
/** Part sizes other tools use (aws CLI and boto3 8 MiB, rclone 5 MiB, ...), tried when none is recorded. */
const COMMON_PART_SIZES = [8, 16, 5, 10, 15, 32, 64, 100, 128, 256, 512].map((n) => n * MiB);
/** Object metadata recording the part size of an upload, so a reader can check its ETag. */
export const PART_SIZE_METADATA = 'bucketdb-part-size';

export function md5(bytes: Uint8Array): Buffer {
  return createHash('md5').update(bytes).digest();
}

/** The ETag S3 gives a multipart object: the MD5 of the parts' MD5s, a dash, the part count. */
export function multipartEtag(partMd5s: Uint8Array[]): string {
  const hash = createHash('md5');
  for (const d of partMd5s) hash.update(d);
  return `"${hash.digest('hex')}-${partMd5s.length}"`;
}

interface Candidate {
  partSize: number;
  hash: Hash;
  inPart: number;
  digests: Buffer[];
}

/**
 * Checks bytes read in order against an object's ETag, which every S3-compatible store computes:
 * the MD5 of the content, or for a multipart upload the MD5 of its parts' MD5s. That needs the
 * upload's part size: the one recorded in metadata by our uploads, else the common sizes that
 * give the right part count. An ETag that is neither (S3 with SSE-KMS) cannot be checked.
 */
export class EtagCheck {
  readonly expected: string;
  readonly multipart: boolean;
  readonly #candidates: Candidate[];
  #seen = 0;

  constructor(etag: string, size: number, metadata: Record<string, string> = {}) {
    const bare = bareEtag(etag).toLowerCase();
    this.expected = `"${bare}"`;
    const single = /^[0-9a-f]{32}$/.test(bare);
    const multi = /^[0-9a-f]{32}-(\d+)$/.exec(bare);
    const sizes: number[] = [];
    if (single) sizes.push(Number.POSITIVE_INFINITY);
    else if (multi) {
      const parts = Number(multi[1]);
      const recorded = Number(metadata[PART_SIZE_METADATA]);
      const guesses = [recorded, ...COMMON_PART_SIZES, Math.ceil(size / parts / MiB) * MiB];
      if (parts === 1) guesses.unshift(Math.max(size, 1));
      for (const p of guesses) {
        if (Number.isSafeInteger(p) && p > 0 && Math.max(1, Math.ceil(size / p)) === parts && !sizes.includes(p)) {
          sizes.push(p);
        }
      }
    }
    // Each candidate hashes every byte once more: keep the work bounded.
    this.#candidates = sizes
      .slice(0, 3)
      .map((partSize) => ({ partSize, hash: createHash('md5'), inPart: 0, digests: [] }));
    this.multipart = multi !== null;
  }

  /** Whether the ETag can be checked at all. */
  get checkable(): boolean {
    return this.#candidates.length > 0;
  }

  get bytesSeen(): number {
    return this.#seen;
  }

  update(bytes: Uint8Array): void {
    this.#seen += bytes.length;
    for (const c of this.#candidates) {
      let offset = 0;
      while (offset < bytes.length) {
        const take = Math.min(bytes.length - offset, c.partSize - c.inPart);
        c.hash.update(bytes.subarray(offset, offset + take));
        c.inPart += take;
        offset += take;
        if (c.inPart === c.partSize) {
          c.digests.push(c.hash.digest());
          c.hash = createHash('md5');
          c.inPart = 0;
        }
      }
    }
  }

  /** After the last byte: whether the content matches the ETag (false when it cannot be checked). */
  matches(): boolean {
    return this.#candidates.some((c) => {
      if (!this.multipart) return `"${c.hash.copy().digest('hex')}"` === this.expected;
      const digests = c.inPart > 0 || c.digests.length === 0 ? [...c.digests, c.hash.copy().digest()] : c.digests;
      return multipartEtag(digests) === this.expected;
    });
  }
}
