import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * The CRCs S3 keeps as FULL_OBJECT checksums of multipart uploads and that a client can compute
 * per part and combine (`fullObjectChecksum`): cheap enough to check every byte of a transfer,
 * unlike MD5 (an order of magnitude slower per byte).
 */
export type CrcAlgorithm = 'crc32' | 'crc32c';
export const CRC_ALGORITHMS: readonly CrcAlgorithm[] = ['crc32', 'crc32c'];

type CrcFunction = (bytes: Uint8Array, previous: number) => number;

/**
 * CRC32C from @node-rs/crc32 (SIMD, native) where its prebuilt binary exists for this platform;
 * otherwise a table in JavaScript, tens of times slower.
 */
const nativeCrc32c: CrcFunction | undefined = (() => {
  try {
    return (createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: CrcFunction }).crc32c;
  } catch {
    return undefined;
  }
})();

/** Whether CRC32C runs natively here; CRC32 always does (node:zlib, Node ≥ 20.15). */
export const crc32cIsNative = nativeCrc32c !== undefined;

/** Reflected CRC32C (Castagnoli) table, for platforms without the native module. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function jsCrc32c(bytes: Uint8Array, previous: number): number {
  let c = ~previous >>> 0;
  for (const byte of bytes) c = CRC32C_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const UPDATE: Record<CrcAlgorithm, CrcFunction> = {
  crc32: (bytes, previous) => zlibCrc32(bytes, previous),
  crc32c: nativeCrc32c ?? jsCrc32c,
};

/** CRC32C of `bytes` as a number (continuing from `previous`), native where available. */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  return UPDATE.crc32c(bytes, previous) >>> 0;
}

/** A running CRC: `update` with each chunk in order, `base64` as S3 shows it (big-endian). */
export class Crc {
  readonly algorithm: CrcAlgorithm;
  #value = 0;
  #bytes = 0;

  constructor(algorithm: CrcAlgorithm) {
    this.algorithm = algorithm;
  }

  update(bytes: Uint8Array): this {
    this.#value = UPDATE[this.algorithm](bytes, this.#value) >>> 0;
    this.#bytes += bytes.length;
    return this;
  }

  get bytes(): number {
    return this.#bytes;
  }

  base64(): string {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.#value >>> 0);
    return out.toString('base64');
  }
}

/** The CRC of `bytes`, base64. */
export function crcOf(algorithm: CrcAlgorithm, bytes: Uint8Array): string {
  return new Crc(algorithm).update(bytes).base64();
}
