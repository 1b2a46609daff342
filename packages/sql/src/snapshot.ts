import { CommitLog } from '@bucketdb/log';
import { mapConcurrent, type ObjectStore } from '@bucketdb/store';
import { type CheckpointManifest, decodeManifest, Segment } from './checkpoint-format.js';
import { decodeEntry } from './commit-entry.js';
import { VersionNotFoundError } from './errors.js';
import { type PackedPage, packPage, unpackPage } from './page-codec.js';
import { resolveAt } from './time-travel.js';

export interface SnapshotOptions {
  prefix?: string;
  /** The version to read, or the time (default: the newest). */
  at?: number | Date;
  /** GETs in flight per page-map segment, two segments at a time (default 8). */
  parallelGets?: number;
}

/**
 * The database file as of one version, read straight from the bucket without SQLite: the newest
 * checkpoint at or below the version, plus the records after it. Pages stream out in order
 * (export, restore); only the pages changed since that checkpoint are held in memory.
 */
export class Snapshot {
  readonly version: number;
  readonly pageSize: number;
  readonly pageCount: number;
  readonly #store: ObjectStore;
  readonly #manifest: CheckpointManifest | undefined;
  readonly #changed: Map<number, Uint8Array>;
  readonly #parallel: number;

  private constructor(
    store: ObjectStore,
    v: { version: number; pageSize: number; pageCount: number },
    manifest: CheckpointManifest | undefined,
    changed: Map<number, Uint8Array>,
    parallel: number,
  ) {
    this.#store = store;
    this.version = v.version;
    this.pageSize = v.pageSize;
    this.pageCount = v.pageCount;
    this.#manifest = manifest;
    this.#changed = changed;
    this.#parallel = parallel;
  }

  static async open(store: ObjectStore, options: SnapshotOptions = {}): Promise<Snapshot> {
    const prefix = options.prefix ?? '';
    const at = options.at === undefined ? undefined : await resolveAt(store, prefix, options.at);
    const log = await CommitLog.open(store, { prefix });
    try {
      const checkpoint = await log.latestCheckpoint(at);
      const where = `checkpoint ${checkpoint?.version} of ${prefix || 'the database'}`;
      const manifest = checkpoint ? decodeManifest(checkpoint.manifest, where) : undefined;
      const from = checkpoint?.version ?? 0;
      let version = from;
      let pageSize = manifest?.pageSize ?? 4096;
      let pageCount = manifest?.pageCount ?? 0;
      const changed = new Map<number, Uint8Array>();
      await log.advanceTo(from);
      const records = at === undefined ? await log.catchUp() : log.readRange(from, at);
      for await (const record of records) {
        if (record.version !== version + 1) break;
        for (const [i, entry] of record.entries.entries()) {
          const set = decodeEntry(entry, `log record ${record.version} entry ${i}`);
          pageSize = set.pageSize;
          pageCount = set.pageCount;
          for (const p of changed.keys()) if (p > pageCount) changed.delete(p);
          for (const [p, image] of set.pages) changed.set(p, image);
        }
        version = record.version;
      }
      if (at !== undefined && version !== at) {
        throw new VersionNotFoundError(
          `version ${at} of ${prefix || 'the database'} cannot be read: the log after checkpoint ${from} ends at ${version}`,
        );
      }
      return new Snapshot(store, { version, pageSize, pageCount }, manifest, changed, options.parallelGets ?? 8);
    } finally {
      await log.close();
    }
  }

  /** Every page image, 1 … pageCount, in order (export). */
  pages(): AsyncIterable<Uint8Array> {
    return this.#stream(
      (p, fromChunks) => this.#changed.get(p) ?? fromChunks.get(p)?.image ?? new Uint8Array(this.pageSize),
    );
  }

  /**
   * Every page compressed, in order (restore): pages read from chunks keep the bytes they were
   * stored with, checked by inflating them, so a copy does not compress every page again.
   */
  packedPages(): AsyncIterable<PackedPage> {
    return this.#stream((p, fromChunks) => {
      const changed = this.#changed.get(p);
      if (changed) return packPage(changed);
      return fromChunks.get(p)?.packed ?? packPage(new Uint8Array(this.pageSize));
    });
  }

  /**
   * One value per page, in order. The next segment's page map and chunks are fetched while the
   * consumer takes this one's pages: waiting for each segment's reads in turn left export and
   * restore at a fraction of the bandwidth (docs/benchmarks/sql-export.md).
   */
  async *#stream<T>(pick: (pgno: number, fromChunks: Map<number, ChunkPage>) => T): AsyncIterable<T> {
    const m = this.#manifest;
    const per = m?.segmentPages ?? this.pageCount;
    const segments = per > 0 ? Math.ceil(this.pageCount / per) : 0;
    const load = (s: number): Promise<Map<number, ChunkPage>> => {
      if (!m || s * per + 1 > m.pageCount) return Promise.resolve(new Map());
      const loading = this.#segmentPages(m, s);
      // Awaited in turn below; until then (or if the consumer stops early) a failure is not unhandled.
      loading.catch(() => {});
      return loading;
    };
    const ahead: Promise<Map<number, ChunkPage>>[] = [];
    for (let s = 0; s < segments; s++) {
      while (ahead.length < 2 && s + ahead.length < segments) ahead.push(load(s + ahead.length));
      const fromChunks = await (ahead.shift() as Promise<Map<number, ChunkPage>>);
      const first = s * per + 1;
      const last = Math.min(first + per - 1, this.pageCount);
      for (let p = first; p <= last; p++) yield pick(p, fromChunks);
    }
  }

  /** The checkpoint's pages of segment `s` that no later record replaced: one ranged GET per chunk. */
  async #segmentPages(m: CheckpointManifest, s: number): Promise<Map<number, ChunkPage>> {
    const key = m.segments[s] as string;
    const seg = Segment.decode((await this.#store.get(key)).body, `page-map segment ${key}`);
    const byChunk = new Map<string, { pgno: number; offset: number; length: number; crc: number }[]>();
    for (let i = 0; i < seg.count; i++) {
      const ref = seg.ref(i);
      const pgno = seg.firstPage + i;
      if (!ref || pgno > this.pageCount || this.#changed.has(pgno)) continue;
      const list = byChunk.get(ref.key) ?? [];
      list.push({ pgno, ...ref });
      byChunk.set(ref.key, list);
    }
    const pages = new Map<number, ChunkPage>();
    await mapConcurrent([...byChunk], this.#parallel, async ([chunk, refs]) => {
      const start = Math.min(...refs.map((r) => r.offset));
      const end = Math.max(...refs.map((r) => r.offset + r.length));
      const { body } = await this.#store.get(chunk, { range: { offset: start, length: end - start } });
      for (const r of refs) {
        const bytes = body.subarray(r.offset - start, r.offset - start + r.length);
        const image = unpackPage(bytes, r.crc, m.pageSize, `chunk ${chunk} page ${r.pgno}`);
        pages.set(r.pgno, { image, packed: { bytes, crc: r.crc } });
      }
    });
    return pages;
  }
}

/** A page read from a checkpoint's chunk: its image, and the bytes it was stored as. */
interface ChunkPage {
  image: Uint8Array;
  packed: PackedPage;
}
