import { CorruptError } from '@bucketdb/store';
import { ByteReader, ByteWriter, checkedBody, withCrc32 } from './byte-reader.js';
import { isPageSize } from './commit-entry.js';

/** Where a checkpointed page lives: a byte range of a chunk object holding its deflated image. */
export interface ChunkRef {
  key: string;
  offset: number;
  length: number;
  crc: number;
}

/**
 * The manifest of a SQL checkpoint (carried inside the log's checksummed checkpoint frame).
 * Page p (1-based) is described by segment `floor((p - 1) / segmentPages)`; segments are separate
 * objects so that a checkpoint rewrites only those whose pages changed.
 */
export interface CheckpointManifest {
  format: 'bucketdb-sql';
  formatVersion: 1;
  pageSize: number;
  pageCount: number;
  segmentPages: number;
  segments: string[];
}

export function encodeManifest(m: CheckpointManifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m));
}

export function decodeManifest(bytes: Uint8Array, where: string): CheckpointManifest {
  let m: Partial<CheckpointManifest>;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Partial<CheckpointManifest>;
  } catch (cause) {
    throw new CorruptError(`${where} is not a SQL checkpoint manifest`, { cause });
  }
  if (m.format !== 'bucketdb-sql') throw new CorruptError(`${where} is not a SQL checkpoint manifest`);
  if (m.formatVersion !== 1) {
    throw new CorruptError(`${where} has format ${m.formatVersion}, newer than this version of bucketdb reads`);
  }
  const ok =
    typeof m.pageSize === 'number' &&
    isPageSize(m.pageSize) &&
    Number.isSafeInteger(m.pageCount) &&
    (m.pageCount ?? -1) >= 0 &&
    Number.isSafeInteger(m.segmentPages) &&
    (m.segmentPages ?? 0) > 0 &&
    Array.isArray(m.segments) &&
    m.segments.length === Math.ceil((m.pageCount ?? 0) / (m.segmentPages ?? 1)) &&
    m.segments.every((s) => typeof s === 'string');
  if (!ok) throw new CorruptError(`${where} is corrupt: its fields are inconsistent`);
  return m as CheckpointManifest;
}

const MAGIC = 'BQSS';
const FORMAT = 1;
const ZERO_PAGE = 0xffffffff;

/**
 * The page map of one segment: where each of `count` pages from `firstPage` on lives (undefined:
 * an all-zero page). Held as four 32-bit columns, 16 bytes a page, as in its object: a handle keeps
 * every segment it has loaded, and a ChunkRef object per page cost ~80 bytes (about 19 MiB of heap
 * per GiB of database after a full scan).
 */
export class Segment {
  readonly firstPage: number;
  /** The chunk keys the pages name; `#table` holds an index into it. */
  readonly chunkKeys: readonly string[];
  /** Per page: chunk index (ZERO_PAGE: no chunk), offset, length, crc. */
  readonly #table: Uint32Array;

  private constructor(firstPage: number, chunkKeys: readonly string[], table: Uint32Array) {
    this.firstPage = firstPage;
    this.chunkKeys = chunkKeys;
    this.#table = table;
  }

  static of(firstPage: number, refs: readonly (ChunkRef | undefined)[]): Segment {
    const index = new Map<string, number>();
    const table = new Uint32Array(refs.length * 4);
    refs.forEach((r, i) => {
      if (!r) {
        table[i * 4] = ZERO_PAGE;
        return;
      }
      let k = index.get(r.key);
      if (k === undefined) index.set(r.key, (k = index.size));
      table.set([k, r.offset, r.length, r.crc], i * 4);
    });
    return new Segment(firstPage, [...index.keys()], table);
  }

  /** Pages described. */
  get count(): number {
    return this.#table.length / 4;
  }

  /** Where page `firstPage + i` lives; undefined for an all-zero page (or past the segment). */
  ref(i: number): ChunkRef | undefined {
    const t = this.#table;
    const chunk = t[i * 4];
    if (chunk === undefined || chunk === ZERO_PAGE) return undefined;
    return {
      key: this.chunkKeys[chunk] as string,
      offset: t[i * 4 + 1] as number,
      length: t[i * 4 + 2] as number,
      crc: t[i * 4 + 3] as number,
    };
  }

  /** Every page's ref, in page order. */
  *refs(): IterableIterator<ChunkRef | undefined> {
    for (let i = 0; i < this.count; i++) yield this.ref(i);
  }

  /**
   * `"BQSS" u32 format | u32 firstPage | u32 count | u32 nChunks | nChunks × (u32 len, key) |
   * count × (u32 chunk, u32 offset, u32 length, u32 crc) | u32 crc32 of everything before`.
   */
  encode(): Uint8Array {
    const w = new ByteWriter().header(MAGIC, FORMAT).u32(this.firstPage).u32(this.count).u32(this.chunkKeys.length);
    for (const key of this.chunkKeys) {
      const b = new TextEncoder().encode(key);
      w.u32(b.length).bytes(b);
    }
    for (const v of this.#table) w.u32(v);
    return withCrc32(w.finish());
  }

  static decode(bytes: Uint8Array, where: string): Segment {
    const b = new ByteReader(checkedBody(bytes, where), where);
    b.header(MAGIC, FORMAT);
    const firstPage = b.u32();
    const count = b.u32();
    const nKeys = b.u32();
    const keys: string[] = [];
    for (let i = 0; i < nKeys; i++) keys.push(new TextDecoder().decode(b.bytes(b.u32())));
    if (b.remaining !== count * 16) throw b.corrupt(`it does not hold ${count} page refs`);
    const table = new Uint32Array(count * 4);
    for (let i = 0; i < table.length; i++) table[i] = b.u32();
    for (let i = 0; i < count; i++) {
      const chunk = table[i * 4] as number;
      if (chunk !== ZERO_PAGE && chunk >= nKeys)
        throw b.corrupt(`page ${firstPage + i} names chunk ${chunk} of ${nKeys}`);
    }
    return new Segment(firstPage, keys, table);
  }
}
