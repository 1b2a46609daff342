import { ByteReader, ByteWriter, checkedBody, withCrc32 } from './byte-reader.js';
import { decodeManifest, encodeManifest, Segment } from './checkpoint-format.js';
import type { CommittedPages } from './committed-pages.js';

/**
 * What a cold open needs to start at `version` without reading the records since the checkpoint:
 * the checkpoint's manifest and its first page maps, and where each page changed since then lives
 * (the record holding its newest image). Written by writers now and then (unconditional PUT of
 * `<prefix>/_open_hint`), trusted for nothing: everything it names is immutable (records are
 * put-if-absent and never re-created, checkpoint objects have random names), an open checks that
 * record `version` carries `commitId`, refuses a hint whose checkpoint is below the GC floor, and
 * falls back to the full open on any doubt (docs/design/sql-gc.md, "Cold start").
 */
export interface OpenHint {
  /** The checkpoint the state starts from (-1: none, every page is in a record). */
  checkpoint: number;
  version: number;
  /** The commit id of record `version` (identifies the log this hint was written for). */
  commitId: string;
  pageSize: number;
  pageCount: number;
  recordsSinceCheckpoint: number;
  bytesSinceCheckpoint: number;
  /** The checkpoint's manifest, as `encodeManifest` writes it (absent without a checkpoint). */
  manifest: Uint8Array | undefined;
  /** Page maps of the checkpoint carried along (index → segment). */
  segments: Map<number, Segment>;
  /** Pages changed after the checkpoint → the record holding their image. */
  recordPages: Map<number, number>;
  /**
   * B-tree interior pages the writer used most recently: a lazily paged open fetches them at once,
   * so that a first query misses only its leaf, not one page per level.
   */
  interior: number[];
}

/** The hint's JSON header: its scalar fields, and the sizes of the binary parts that follow. */
type HintHeader = Pick<
  OpenHint,
  'checkpoint' | 'version' | 'commitId' | 'pageSize' | 'pageCount' | 'recordsSinceCheckpoint' | 'bytesSinceCheckpoint'
> & { manifestBytes: number; segments: [number, number][]; recordPages: number; interior: number };

const MAGIC = 'BQOH';
const FORMAT = 1;

/** Page maps carried in a hint at most (bytes): beyond that, the open loads them lazily. */
export const HINT_SEGMENT_BYTES = 256 * 1024;
/** Interior pages named in a hint at most: each costs a cold open one GET (all in parallel). */
const HINT_INTERIOR_PAGES = 64;

/** Whether `image` (page `pgno`) is a B-tree interior page (table 0x05 or index 0x02). */
function isInterior(pgno: number, image: Uint8Array): boolean {
  const type = image[pgno === 1 ? 100 : 0];
  return type === 0x05 || type === 0x02;
}

/** The hint describing `c` at its version (record `version` has `commitId`), or undefined if it cannot. */
export function hintOf(c: CommittedPages, commitId: string): OpenHint | undefined {
  if (c.version === 0) return undefined;
  const segments = new Map<number, Segment>();
  let bytes = 0;
  // The first page maps first: page 1 and the schema live there, and small databases fit whole.
  for (const [i, seg] of [...c.segments].sort((a, b) => a[0] - b[0])) {
    bytes += 16 * seg.count;
    if (bytes > HINT_SEGMENT_BYTES) break;
    segments.set(i, seg);
  }
  const interior: number[] = [];
  for (const [pgno, image] of c.cache.entries()) if (isInterior(pgno, image)) interior.push(pgno);
  return {
    interior: interior.slice(-HINT_INTERIOR_PAGES).sort((a, b) => a - b),
    checkpoint: c.checkpoint?.version ?? -1,
    version: c.version,
    commitId,
    pageSize: c.pageSize,
    pageCount: c.pageCount,
    recordsSinceCheckpoint: c.recordsSinceCheckpoint,
    bytesSinceCheckpoint: c.bytesSinceCheckpoint,
    manifest: c.checkpoint ? encodeManifest(c.checkpoint.manifest) : undefined,
    segments,
    recordPages: new Map(c.recordPages),
  };
}

/**
 * `"BQOH" u32 format | u32 n | JSON header (n bytes) | manifest | segments | recordPages as
 * (u32 pgno, u32 version - checkpoint) | interior as u32 pgno | u32 crc32 of everything before`.
 */
export function encodeOpenHint(h: OpenHint): Uint8Array {
  const segments = [...h.segments].map(([i, seg]) => [i, seg.encode()] as const);
  const fields: HintHeader = {
    checkpoint: h.checkpoint,
    version: h.version,
    commitId: h.commitId,
    pageSize: h.pageSize,
    pageCount: h.pageCount,
    recordsSinceCheckpoint: h.recordsSinceCheckpoint,
    bytesSinceCheckpoint: h.bytesSinceCheckpoint,
    manifestBytes: h.manifest?.length ?? 0,
    segments: segments.map(([i, b]) => [i, b.length]),
    recordPages: h.recordPages.size,
    interior: h.interior.length,
  };
  const header = new TextEncoder().encode(JSON.stringify(fields));
  const w = new ByteWriter().header(MAGIC, FORMAT).u32(header.length).bytes(header);
  if (h.manifest) w.bytes(h.manifest);
  for (const [, b] of segments) w.bytes(b);
  const base = Math.max(h.checkpoint, 0);
  for (const [pgno, version] of h.recordPages) w.u32(pgno).u32(version - base);
  for (const pgno of h.interior) w.u32(pgno);
  const body = w.finish();
  return withCrc32(body);
}

/** Decodes a hint; CorruptError on anything malformed (callers then open without it). */
export function decodeOpenHint(bytes: Uint8Array, where: string): OpenHint {
  const b = new ByteReader(checkedBody(bytes, where), where);
  b.header(MAGIC, FORMAT);
  let h: HintHeader;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b.bytes(b.u32()))) as HintHeader;
  } catch {
    throw b.corrupt('its header is not JSON');
  }
  const ints = [h.version, h.pageSize, h.pageCount, h.recordsSinceCheckpoint, h.bytesSinceCheckpoint];
  const ok =
    ints.every((n) => Number.isSafeInteger(n) && n >= 0) &&
    Number.isSafeInteger(h.checkpoint) &&
    h.checkpoint >= -1 &&
    h.checkpoint <= h.version &&
    h.version > 0 &&
    typeof h.commitId === 'string' &&
    Array.isArray(h.segments) &&
    Number.isSafeInteger(h.recordPages) &&
    Number.isSafeInteger(h.interior);
  if (!ok) throw b.corrupt('its fields are inconsistent');
  const manifest = h.manifestBytes > 0 ? b.bytes(h.manifestBytes) : undefined;
  if ((manifest === undefined) !== h.checkpoint < 0) throw b.corrupt('its checkpoint and manifest disagree');
  const m = manifest ? decodeManifest(manifest, `${where} manifest`) : undefined;
  const segments = new Map<number, Segment>();
  for (const [i, length] of h.segments) {
    const seg = Segment.decode(b.bytes(length), `${where} segment ${i}`);
    if (!m || seg.firstPage !== i * m.segmentPages + 1) throw b.corrupt(`segment ${i} describes the wrong pages`);
    segments.set(i, seg);
  }
  const recordPages = new Map<number, number>();
  const base = Math.max(h.checkpoint, 0);
  for (let i = 0; i < h.recordPages; i++) {
    const pgno = b.u32();
    const version = base + b.u32();
    if (pgno < 1 || pgno > h.pageCount || version <= h.checkpoint || version > h.version) {
      throw b.corrupt(`page ${pgno} names record ${version}`);
    }
    recordPages.set(pgno, version);
  }
  const interior: number[] = [];
  for (let i = 0; i < h.interior; i++) {
    const pgno = b.u32();
    if (pgno < 1 || pgno > h.pageCount) throw b.corrupt(`interior page ${pgno} is out of range`);
    interior.push(pgno);
  }
  if (b.remaining !== 0) throw b.corrupt('it has trailing bytes');
  return {
    checkpoint: h.checkpoint,
    version: h.version,
    commitId: h.commitId,
    pageSize: h.pageSize,
    pageCount: h.pageCount,
    recordsSinceCheckpoint: h.recordsSinceCheckpoint,
    bytesSinceCheckpoint: h.bytesSinceCheckpoint,
    manifest,
    segments,
    recordPages,
    interior,
  };
}
