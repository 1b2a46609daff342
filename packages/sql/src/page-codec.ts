import { constants, crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { CorruptError } from '@bucketdb/store';

/** One page image compressed on its own, so any page can be fetched and checked alone. */
export interface PackedPage {
  bytes: Uint8Array;
  /** CRC-32 of the uncompressed image: checks decompression as well as storage. */
  crc: number;
}

// Level 1: commits compress their pages on the caller's critical path; the ratio gained by
// higher levels on B-tree pages is small next to the CPU it costs.
const DEFLATE = { level: 1, strategy: constants.Z_DEFAULT_STRATEGY };

export function packPage(image: Uint8Array): PackedPage {
  const packed = deflateRawSync(image, DEFLATE);
  // A plain Uint8Array: Buffer's slice() aliases instead of copying, which stores may not expect.
  return { bytes: new Uint8Array(packed.buffer, packed.byteOffset, packed.length), crc: crc32(image) };
}

/** Decompresses and verifies one page; CorruptError (naming `where`) if it is not intact. */
export function unpackPage(bytes: Uint8Array, crc: number, pageSize: number, where: string): Uint8Array {
  let image: Uint8Array;
  try {
    // chunkSize: the output buffer is one page (zlib's default allocates 16 KiB, which the image
    // would keep alive in the cache: 4× the bytes counted for a 4 KiB page).
    image = inflateRawSync(bytes, { maxOutputLength: pageSize, chunkSize: pageSize });
  } catch (cause) {
    throw new CorruptError(`page data in ${where} does not decompress`, { cause });
  }
  if (image.length !== pageSize || crc32(image) !== crc) {
    throw new CorruptError(`page data in ${where} fails its checksum`);
  }
  // Pages below 4 KiB come out of Buffer's shared 8 KiB pool: copied, so as not to pin the slab.
  return image.buffer.byteLength === image.length
    ? new Uint8Array(image.buffer, image.byteOffset, image.length)
    : new Uint8Array(image);
}
