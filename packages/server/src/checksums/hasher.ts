import { createHash, type Hash } from 'node:crypto';
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
      return sdkHasher(new AwsCrc32c());
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
