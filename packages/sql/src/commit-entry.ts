import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { CorruptError } from '@bucketdb/store';
import { ByteReader, ByteWriter } from './byte-reader.js';

/** The pages one commit changed: full images, and the database size in pages after it. */
export interface PageSet {
  pageSize: number;
  pageCount: number;
  pages: Map<number, Uint8Array>;
}

const MAGIC = 'BQSP';
const FORMAT = 1;

/**
 * A commit's entry in a log record:
 * `"BQSP" u32 format | u32 pageSize | u32 pageCount | u32 n | deflate-raw(n × (u32 pgno, u32 crc32, image))`.
 * One deflate stream per commit: a record is always read whole, and setting up a zlib stream per
 * page cost more CPU than the compression itself. The log frames and checksums the record; the
 * per-page CRC-32 of the image also checks our own decompression.
 */
export function encodeEntry(set: PageSet): Uint8Array {
  const pages = [...set.pages].sort((a, b) => a[0] - b[0]);
  const body = new Uint8Array(pages.length * (8 + set.pageSize));
  const view = new DataView(body.buffer);
  pages.forEach(([pgno, image], i) => {
    const at = i * (8 + set.pageSize);
    view.setUint32(at, pgno, true);
    view.setUint32(at + 4, crc32(image), true);
    body.set(image, at + 8);
  });
  const packed = deflateRawSync(body, { level: 1 });
  return new ByteWriter()
    .header(MAGIC, FORMAT)
    .u32(set.pageSize)
    .u32(set.pageCount)
    .u32(pages.length)
    .bytes(new Uint8Array(packed.buffer, packed.byteOffset, packed.length))
    .finish();
}

export function decodeEntry(bytes: Uint8Array, where: string): PageSet {
  const r = new ByteReader(bytes, where);
  r.header(MAGIC, FORMAT);
  const pageSize = r.u32();
  const pageCount = r.u32();
  const n = r.u32();
  if (!isPageSize(pageSize)) throw r.corrupt(`page size ${pageSize} is invalid`);
  const size = n * (8 + pageSize);
  let body: Uint8Array;
  try {
    body = inflateRawSync(r.bytes(r.remaining), { maxOutputLength: Math.max(1, size) });
  } catch (cause) {
    throw new CorruptError(`${where} is corrupt: its pages do not decompress`, { cause });
  }
  if (body.length !== size) throw r.corrupt(`it holds ${body.length} bytes of pages, not ${size}`);
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const pages = new Map<number, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const at = i * (8 + pageSize);
    const pgno = view.getUint32(at, true);
    const image = body.slice(at + 8, at + 8 + pageSize);
    if (pgno < 1 || pgno > pageCount) throw r.corrupt(`page ${pgno} lies outside its ${pageCount} pages`);
    if (crc32(image) !== view.getUint32(at + 4, true)) throw r.corrupt(`page ${pgno} fails its checksum`);
    pages.set(pgno, image);
  }
  return { pageSize, pageCount, pages };
}

export function isPageSize(n: number): boolean {
  return n >= 512 && n <= 65536 && (n & (n - 1)) === 0;
}
