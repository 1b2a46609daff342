import { createHash, type Hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import { AwsCrc32c } from '@aws-crypto/crc32c';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import type { ChecksumAlgorithm } from './algorithms.js';

/** An incremental digest. `digest` is async because the SDK's CRC64/NVME digest is. */
export interface Hasher {
  update(bytes: Uint8Array): void;
  digest(): Promise<Uint8Array>;
}

/** A hasher for one of S3's flexible checksums, or `md5` for Content-MD5 and ETags. */
export function createHasher(algorithm: ChecksumAlgorithm | 'md5'): Hasher {
  switch (algorithm) {
    case 'crc32':
      return new Crc32Hasher();
    case 'crc32c':
      return nativeCrc32c ? new Crc32cHasher(nativeCrc32c) : sdkHasher(new AwsCrc32c());
    case 'crc64nvme':
      return sdkHasher(new Crc64Nvme());
    case 'sha1':
    case 'sha256':
    case 'md5':
      return nodeHasher(createHash(algorithm));
  }
}

/** Computes one checksum of a whole buffer, base64 as S3 shows it. */
export async function checksumOf(algorithm: ChecksumAlgorithm | 'md5', bytes: Uint8Array): Promise<string> {
  const hasher = createHasher(algorithm);
  hasher.update(bytes);
  return Buffer.from(await hasher.digest()).toString('base64');
}

/** node:zlib's native CRC-32 (Node ≥ 20.15), an order of magnitude faster than a JS table. */
class Crc32Hasher implements Hasher {
  #value = 0;
  update(bytes: Uint8Array): void {
    this.#value = crc32(bytes, this.#value);
  }
  async digest(): Promise<Uint8Array> {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.#value >>> 0);
    return out;
  }
}

type Crc32cFunction = (input: Uint8Array, initialState?: number) => number;

/**
 * CRC32C from @node-rs/crc32 (SIMD, native; over 1 GB/s) where its prebuilt binary exists for
 * this platform; otherwise @aws-crypto/crc32c, pure JavaScript at about 30 MB/s, which would
 * hold the event loop for milliseconds per chunk of a large upload.
 */
const nativeCrc32c: Crc32cFunction | undefined = (() => {
  try {
    return (createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: Crc32cFunction }).crc32c;
  } catch {
    return undefined;
  }
})();

/** Whether CRC32C runs natively here (reported by tests and the benchmark). */
export const crc32cIsNative = nativeCrc32c !== undefined;

class Crc32cHasher implements Hasher {
  readonly #crc32c: Crc32cFunction;
  #value = 0;
  constructor(fn: Crc32cFunction) {
    this.#crc32c = fn;
  }
  update(bytes: Uint8Array): void {
    this.#value = this.#crc32c(bytes, this.#value);
  }
  async digest(): Promise<Uint8Array> {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.#value >>> 0);
    return out;
  }
}

function nodeHasher(hash: Hash): Hasher {
  return {
    update: (bytes) => {
      hash.update(bytes);
    },
    digest: async () => hash.digest(),
  };
}

/** The SDK's checksum classes (AwsCrc32c, Crc64Nvme) share the smithy `Checksum` shape. */
function sdkHasher(checksum: { update(bytes: Uint8Array): void; digest(): Promise<Uint8Array> }): Hasher {
  return { update: (bytes) => checksum.update(bytes), digest: () => checksum.digest() };
}
