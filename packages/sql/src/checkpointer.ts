import { randomUUID } from 'node:crypto';
import type { Checkpoint } from '@bucketdb/log';
import { putIfAbsent } from '@bucketdb/store';
import {
  type CheckpointManifest,
  type ChunkRef,
  decodeManifest,
  encodeManifest,
  Segment,
} from './checkpoint-format.js';
import { ChunkWriter } from './chunk-writer.js';
import type { Engine } from './engine.js';
import { parseDuration } from './duration.js';
import { CheckpointAbandonedError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { retryReads } from './retry-reads.js';

interface Plan {
  version: number;
  pageSize: number;
  pageCount: number;
  segmentPages: number;
  changed: [number, Uint8Array][];
  old: CheckpointManifest | undefined;
  /** Segments of the old checkpoint that must be rewritten. */
  rewrite: Map<number, Segment | undefined>;
}

/**
 * Writes a checkpoint of the current version (unless `stillDue` says otherwise once the newest
 * published checkpoint is adopted, or another writer claimed this version): the pages changed since the last checkpoint packed
 * into new chunks, the page-map segments that describe them, and a manifest that reuses every
 * other segment (and so every other chunk) of the previous checkpoint. Uploads happen outside
 * the mutex; the object names carry a random tag, so writers checkpointing the same version never
 * overwrite each other's objects (the first manifest wins and names only its own).
 */
export async function writeCheckpoint(
  engine: Engine,
  o: ResolvedOptions,
  stillDue: () => boolean = () => true,
): Promise<number> {
  // Start from the newest checkpoint anyone published: the base of a new checkpoint must be one
  // GC still retains (docs/design/sql-gc.md), and a checkpoint at or past our version needs no
  // second copy.
  const latest = await adoptLatestCheckpoint(engine);
  // An automatic checkpoint is not needed if another writer's checkpoint just made it early.
  if (!stillDue()) return latest ?? 0;
  const started = o.clock();
  const plan = await engine.mutex.run(() => planCheckpoint(engine, o));
  if (!plan) return engine.committed.checkpoint?.version ?? 0;
  if (latest !== undefined && latest >= plan.version) return latest;
  const { version, pageCount, segmentPages, old } = plan;
  const tag = randomUUID().slice(0, 8);
  const store = engine.log.store;
  // One writer per interval: the first to create the claim writes this checkpoint.
  if (!(await claim(engine, version, tag, started))) return engine.committed.checkpoint?.version ?? 0;
  const refs = await uploadChunks(engine, plan, tag, o);
  const segments = new Map<number, Segment>();
  const keys: string[] = [];
  const nSegments = Math.ceil(pageCount / segmentPages);
  const uploads: Promise<unknown>[] = [];
  for (let s = 0; s < nSegments; s++) {
    const oldKey = old?.segments[s];
    if (oldKey !== undefined && !plan.rewrite.has(s)) {
      keys.push(oldKey);
      continue;
    }
    const oldSeg = plan.rewrite.get(s);
    const firstPage = s * segmentPages + 1;
    const pageRefs: (ChunkRef | undefined)[] = [];
    for (let p = firstPage; p <= Math.min(firstPage + segmentPages - 1, pageCount); p++) {
      pageRefs.push(refs.get(p) ?? (old && p <= old.pageCount ? oldSeg?.ref(p - firstPage) : undefined));
    }
    const seg = Segment.of(firstPage, pageRefs);
    const key = engine.log.checkpointKey(version, `segment-${tag}-${s}`);
    keys.push(key);
    segments.set(s, seg);
    uploads.push(store.put(key, seg.encode()));
  }
  await Promise.all(uploads);
  // GC may delete unreferenced checkpoint objects a grace period after they were written: a
  // manifest published later could name deleted chunks, so a slow checkpoint is abandoned.
  const limit = parseDuration(o.gcGrace, 'gcGrace') / 2;
  if (o.clock() - started > limit) {
    throw new CheckpointAbandonedError(version, o.clock() - started, limit);
  }
  const manifest: CheckpointManifest = {
    format: 'bucketdb-sql',
    formatVersion: 1,
    pageSize: plan.pageSize,
    pageCount,
    segmentPages,
    segments: keys,
  };
  await engine.log.writeCheckpoint(version, encodeManifest(manifest));
  await engine.mutex.run(() => {
    const c = engine.committed;
    if ((c.checkpoint?.version ?? -1) >= version) return;
    const keep = new Map([...c.segments].filter(([s]) => keys[s] !== undefined && keys[s] === old?.segments[s]));
    c.checkpoint = { version, manifest };
    c.segments.clear();
    for (const [s, seg] of [...keep, ...segments]) c.segments.set(s, seg);
    for (const [p, v] of [...c.recordPages]) if (v <= version) c.recordPages.delete(p);
    c.recordsSinceCheckpoint = c.version - version;
    c.bytesSinceCheckpoint = 0;
  });
  return version;
}

async function planCheckpoint(engine: Engine, o: ResolvedOptions): Promise<Plan | undefined> {
  engine.drain();
  const c = engine.committed;
  if (c.checkpoint?.version === c.version || (c.version === 0 && !c.checkpoint)) return undefined;
  const old = c.checkpoint?.manifest;
  const segmentPages = old?.segmentPages ?? o.segmentPages;
  const repack = o.repackBelow > 0 ? await pagesToRepack(engine, o.repackBelow) : [];
  const pages = [...new Set([...c.recordPages.keys(), ...repack])].sort((a, b) => a - b);
  const changed: [number, Uint8Array][] = [];
  try {
    for (const p of pages) {
      let image = p === 1 ? c.page1 : c.cache.get(p);
      if (!image) {
        await engine.fetcher.fetch([p]);
        image = c.cache.get(p);
      }
      if (!image) throw new Error(`internal: page ${p} could not be loaded for the checkpoint`);
      // A cached image is a view of a cache slot, which the fetches for the pages after it may
      // reuse: copied (page 1 is kept apart, in `c.page1`).
      changed.push([p, image === c.page1 ? image : image.slice()]);
    }
    const rewrite = new Map<number, Segment | undefined>();
    const touched = new Set(pages.map((p) => Math.floor((p - 1) / segmentPages)));
    if (c.pageCount > 0 && c.pageCount !== old?.pageCount) touched.add(Math.floor((c.pageCount - 1) / segmentPages));
    for (const s of touched) {
      if (old && s < old.segments.length) await engine.fetcher.loadSegment(s);
      rewrite.set(s, c.segments.get(s));
    }
    return { version: c.version, pageSize: c.pageSize, pageCount: c.pageCount, segmentPages, changed, old, rewrite };
  } finally {
    c.cache.unpinAll();
  }
}

/** Packs the changed pages, in page order, into new chunks. */
async function uploadChunks(
  engine: Engine,
  plan: Plan,
  tag: string,
  o: ResolvedOptions,
): Promise<Map<number, ChunkRef>> {
  const keyOf = (n: number) => engine.log.checkpointKey(plan.version, `chunk-${tag}-${n}`);
  const writer = new ChunkWriter(engine.log.store, keyOf, o.chunkBytes);
  const refs = new Map<number, ChunkRef>();
  for (const [pgno, image] of plan.changed) refs.set(pgno, await writer.add(image));
  await writer.finish();
  return refs;
}

/**
 * Moves the handle to the newest published checkpoint if it is newer than its own and not past
 * its version: pages unchanged since then are read from the new checkpoint, so the handle stops
 * depending on older records and chunks. Returns the newest checkpoint's version.
 */
export async function adoptLatestCheckpoint(engine: Engine): Promise<number | undefined> {
  const latest = await retryReads(() => engine.log.latestCheckpoint());
  if (!latest) return undefined;
  return adoptCheckpoint(engine, latest);
}

/** `adoptLatestCheckpoint` with the newest checkpoint already read. */
export async function adoptCheckpoint(engine: Engine, latest: Checkpoint): Promise<number> {
  const c = engine.committed;
  if (latest.version <= (c.checkpoint?.version ?? -1)) return latest.version;
  const manifest = decodeManifest(latest.manifest, `checkpoint ${latest.version}`);
  await engine.mutex.run(() => {
    engine.drain();
    const old = c.checkpoint?.manifest;
    if (latest.version <= (c.checkpoint?.version ?? -1) || latest.version > c.version) return;
    if (manifest.pageSize !== c.pageSize || manifest.segmentPages !== (old?.segmentPages ?? manifest.segmentPages))
      return;
    for (const s of [...c.segments.keys()]) if (old?.segments[s] !== manifest.segments[s]) c.segments.delete(s);
    c.checkpoint = { version: latest.version, manifest };
    for (const [p, v] of [...c.recordPages]) if (v <= latest.version) c.recordPages.delete(p);
    c.recordsSinceCheckpoint = c.version - latest.version;
    c.bytesSinceCheckpoint = 0;
  });
  return latest.version;
}

/** Creates `checkpoints/<v>/claim` if absent; false when another writer claimed this version. */
async function claim(engine: Engine, version: number, tag: string, at: number): Promise<boolean> {
  const body = new TextEncoder().encode(JSON.stringify({ tag, at }));
  const outcome = await putIfAbsent(engine.log.store, engine.log.checkpointKey(version, 'claim'), body, {
    isOurs: (existing) => new TextDecoder().decode(existing) === new TextDecoder().decode(body),
  });
  return outcome.created;
}

/** Page images one checkpoint rewrites at most to repack chunks (bounds its memory). */
const REPACK_BUDGET_BYTES = 16 * 2 ** 20;

/**
 * Pages of the checkpoint's chunks whose live share (bytes the checkpoint still references, not
 * counting pages replaced since) is below `below`, lowest share first, within a budget. Rewriting
 * them into new chunks leaves the old chunks unreferenced, and GC deletes them. Loads every
 * segment of the checkpoint and LISTs the checkpoint objects for the chunks' sizes.
 */
async function pagesToRepack(engine: Engine, below: number): Promise<number[]> {
  const c = engine.committed;
  const manifest = c.checkpoint?.manifest;
  if (!manifest) return [];
  for (let s = 0; s < manifest.segments.length; s++) await engine.fetcher.loadSegment(s);
  const live = new Map<string, { bytes: number; pages: number[] }>();
  for (const seg of c.segments.values()) {
    for (let i = 0; i < seg.count; i++) {
      const ref = seg.ref(i);
      const pgno = seg.firstPage + i;
      if (!ref || pgno > c.pageCount || c.recordPages.has(pgno)) continue;
      const entry = live.get(ref.key) ?? { bytes: 0, pages: [] };
      entry.bytes += ref.length;
      entry.pages.push(pgno);
      live.set(ref.key, entry);
    }
  }
  const candidates: { share: number; pages: number[] }[] = [];
  for await (const e of engine.log.store.list({ prefix: engine.log.paths.checkpointsDir })) {
    const entry = e.kind === 'object' ? live.get(e.key) : undefined;
    if (entry && e.kind === 'object' && e.size > 0 && entry.bytes / e.size < below) {
      candidates.push({ share: entry.bytes / e.size, pages: entry.pages });
    }
  }
  const out: number[] = [];
  for (const cand of candidates.sort((a, b) => a.share - b.share)) {
    if ((out.length + cand.pages.length) * c.pageSize > REPACK_BUDGET_BYTES) break;
    out.push(...cand.pages);
  }
  return out;
}
