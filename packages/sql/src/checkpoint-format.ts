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

/** The page map of one segment: `refs[i]` locates page `firstPage + i` (undefined: an all-zero page). */
export interface Segment {
  firstPage: number;
  refs: (ChunkRef | undefined)[];
}

const MAGIC = 'BQSS';
const FORMAT = 1;
const ZERO_PAGE = 0xffffffff;

/**
 * `"BQSS" u32 format | u32 firstPage | u32 count | u32 nChunks | nChunks × (u32 len, key) |
 * count × (u32 chunk, u32 offset, u32 length, u32 crc) | u32 crc32 of everything before`.
 */
export function encodeSegment(seg: Segment): Uint8Array {
  const keys = [...new Set(seg.refs.flatMap((r) => (r ? [r.key] : [])))];
  const index = new Map(keys.map((k, i) => [k, i]));
  const w = new ByteWriter().header(MAGIC, FORMAT).u32(seg.firstPage).u32(seg.refs.length).u32(keys.length);
  for (const key of keys) {
    const b = new TextEncoder().encode(key);
    w.u32(b.length).bytes(b);
  }
  for (const r of seg.refs) {
    if (r)
      w.u32(index.get(r.key) as number)
        .u32(r.offset)
        .u32(r.length)
        .u32(r.crc);
    else w.u32(ZERO_PAGE).u32(0).u32(0).u32(0);
  }
  const body = w.finish();
  return withCrc32(body);
}

export function decodeSegment(bytes: Uint8Array, where: string): Segment {
  const b = new ByteReader(checkedBody(bytes, where), where);
  b.header(MAGIC, FORMAT);
  const firstPage = b.u32();
  const count = b.u32();
  const nKeys = b.u32();
  const keys: string[] = [];
  for (let i = 0; i < nKeys; i++) keys.push(new TextDecoder().decode(b.bytes(b.u32())));
  const refs: (ChunkRef | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const chunk = b.u32();
    const offset = b.u32();
    const length = b.u32();
    const crc = b.u32();
    if (chunk === ZERO_PAGE) {
      refs.push(undefined);
      continue;
    }
    const key = keys[chunk];
    if (key === undefined) throw b.corrupt(`page ${firstPage + i} names chunk ${chunk} of ${nKeys}`);
    refs.push({ key, offset, length, crc });
  }
  if (b.remaining !== 0) throw b.corrupt('it has trailing bytes');
  return { firstPage, refs };
}
