/** Reflected polynomials and widths of the CRCs S3 can combine into a FULL_OBJECT checksum. */
const CRCS = {
  crc32: { width: 32, poly: 0xedb88320n },
  crc32c: { width: 32, poly: 0x82f63b78n },
  crc64nvme: { width: 64, poly: 0x9a6c9329ac4bc9b5n },
} as const;
export type CombinableCrc = keyof typeof CRCS;

export function isCombinableCrc(algorithm: string): algorithm is CombinableCrc {
  return Object.hasOwn(CRCS, algorithm);
}

/**
 * The CRC of a whole multipart object from its parts' CRCs and sizes, without reading the data
 * (S3's FULL_OBJECT checksum type). This is zlib's crc32_combine: shifting the first CRC by the
 * second part's length is a multiplication by x^(8·len) modulo the polynomial. All three CRCs
 * start from and are XORed with all ones, which is what lets the registers combine with XOR.
 */
export function fullObjectChecksum(
  algorithm: CombinableCrc,
  parts: readonly { checksum: string; size: number }[],
): string {
  const crc = new CrcCombiner(CRCS[algorithm].width, CRCS[algorithm].poly);
  let value: bigint | undefined;
  for (const part of parts) {
    const next = fromBase64(part.checksum);
    value = value === undefined ? next : crc.combine(value, next, part.size);
  }
  return toBase64(value ?? 0n, CRCS[algorithm].width);
}

function fromBase64(value: string): bigint {
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function toBase64(value: bigint, width: number): string {
  return Buffer.from(value.toString(16).padStart(width / 4, '0'), 'hex').toString('base64');
}

class CrcCombiner {
  readonly #top: bigint;
  readonly #poly: bigint;
  /** x^(2^k) mod p for k = 0…63: squares, so any power is a product of a few of them. */
  readonly #powers: bigint[] = [];
  readonly #shifts = new Map<number, bigint>();

  constructor(width: number, poly: bigint) {
    this.#top = 1n << BigInt(width - 1); // x^0 in the reflected representation
    this.#poly = poly;
    let p = this.#top >> 1n; // x^1
    for (let k = 0; k < 64; k++) {
      this.#powers.push(p);
      p = this.#multiply(p, p);
    }
  }

  /** The CRC of A‖B from crc(A), crc(B) and |B|. */
  combine(crcA: bigint, crcB: bigint, lengthB: number): bigint {
    return this.#multiply(this.#shiftFor(lengthB), crcA) ^ crcB;
  }

  /** x^(8·bytes) mod p, memoized: multipart parts are usually all the same size. */
  #shiftFor(bytes: number): bigint {
    let p = this.#shifts.get(bytes);
    if (p === undefined) {
      p = this.#top;
      let n = BigInt(bytes);
      for (let k = 3; n > 0n; k++, n >>= 1n) if (n & 1n) p = this.#multiply(this.#powers[k]!, p);
      this.#shifts.set(bytes, p);
    }
    return p;
  }

  /** a·b mod p for reflected polynomials. */
  #multiply(a: bigint, b: bigint): bigint {
    let product = 0n;
    for (let m = this.#top; m > 0n; m >>= 1n) {
      if (a & m) {
        product ^= b;
        if ((a & (m - 1n)) === 0n) break;
      }
      b = b & 1n ? (b >> 1n) ^ this.#poly : b >> 1n;
    }
    return product;
  }
}
