import { ByteReader, ByteWriter } from './byte-reader.js';
import { packPage, unpackPage } from './page-codec.js';

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
 * `"BQSP" u32 format | u32 pageSize | u32 pageCount | u32 n | n × (u32 pgno, u32 crc, u32 len, bytes)`,
 * each page deflated alone. The log frames and checksums the record; the per-page CRC also
 * checks our own decompression.
 */
export function encodeEntry(set: PageSet): Uint8Array {
  const w = new ByteWriter().header(MAGIC, FORMAT).u32(set.pageSize).u32(set.pageCount).u32(set.pages.size);
  for (const [pgno, image] of [...set.pages].sort((a, b) => a[0] - b[0])) {
    const packed = packPage(image);
    w.u32(pgno).u32(packed.crc).u32(packed.bytes.length).bytes(packed.bytes);
  }
  return w.finish();
}

export function decodeEntry(bytes: Uint8Array, where: string): PageSet {
  const r = new ByteReader(bytes, where);
  r.header(MAGIC, FORMAT);
  const pageSize = r.u32();
  const pageCount = r.u32();
  const n = r.u32();
  if (!isPageSize(pageSize)) throw r.corrupt(`page size ${pageSize} is invalid`);
  const pages = new Map<number, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const pgno = r.u32();
    const crc = r.u32();
    const packed = r.bytes(r.u32());
    if (pgno < 1 || pgno > pageCount) throw r.corrupt(`page ${pgno} lies outside its ${pageCount} pages`);
    pages.set(pgno, unpackPage(packed, crc, pageSize, `${where} page ${pgno}`));
  }
  if (r.remaining !== 0) throw r.corrupt('it has trailing bytes');
  return { pageSize, pageCount, pages };
}

export function isPageSize(n: number): boolean {
  return n >= 512 && n <= 65536 && (n & (n - 1)) === 0;
}
