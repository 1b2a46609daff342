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
    image = inflateRawSync(bytes, { maxOutputLength: pageSize });
  } catch (cause) {
    throw new CorruptError(`page data in ${where} does not decompress`, { cause });
  }
  if (image.length !== pageSize || crc32(image) !== crc) {
    throw new CorruptError(`page data in ${where} fails its checksum`);
  }
  return new Uint8Array(image.buffer, image.byteOffset, image.length);
}
