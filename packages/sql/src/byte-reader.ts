import { crc32 } from 'node:zlib';
import { CorruptError } from '@bucketdb/store';

/** Bounds-checked little-endian reading of a binary object; truncation is a CorruptError. */
export class ByteReader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #where: string;
  offset = 0;

  constructor(bytes: Uint8Array, where: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#where = where;
  }

  get remaining(): number {
    return this.#bytes.length - this.offset;
  }

  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.#need(n);
    const out = this.#bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Checks a 4-byte magic and a format version this code can read. */
  header(magic: string, maxFormat: number): number {
    const got = new TextDecoder().decode(this.bytes(4));
    if (got !== magic) throw this.corrupt(`it is not a ${magic} object`);
    const format = this.u32();
    if (format < 1 || format > maxFormat) {
      throw this.corrupt(`format ${format} is newer than this version of bucketdb reads (${maxFormat})`);
    }
    return format;
  }

  corrupt(detail: string): CorruptError {
    return new CorruptError(`${this.#where} is corrupt: ${detail}`);
  }

  #need(n: number): void {
    if (n < 0 || this.offset + n > this.#bytes.length) throw this.corrupt('it is truncated');
  }
}

/** Little-endian writing into a growing buffer. */
export class ByteWriter {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  length = 0;

  header(magic: string, format: number): this {
    this.bytes(new TextEncoder().encode(magic));
    return this.u32(format);
  }

  u32(v: number): this {
    this.#grow(4);
    this.#view.setUint32(this.length, v, true);
    this.length += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#grow(b.length);
    this.#buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }

  #grow(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.length + n, this.#buf.length * 2));
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}

/** `body` followed by its CRC32 (u32, little-endian): how the engine's binary objects end. */
export function withCrc32(body: Uint8Array): Uint8Array {
  return new ByteWriter().bytes(body).u32(crc32(body)).finish();
}

/** The body of an object written by `withCrc32`; CorruptError when truncated or damaged. */
export function checkedBody(bytes: Uint8Array, where: string): Uint8Array {
  const r = new ByteReader(bytes, where);
  if (bytes.length < 4) throw r.corrupt('it is truncated');
  const body = bytes.subarray(0, bytes.length - 4);
  const stored = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
  if (crc32(body) !== stored) throw r.corrupt('it fails its checksum');
  return body;
}
