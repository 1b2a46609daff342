import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { type GcFloor, LogPaths } from '@bucketdb/log';
import {
  type GetOptions,
  type GetStreamResult,
  type NotModified,
  type ObjectStore,
  type PutBody,
  type PutOptions,
  type PutResult,
  type StoreCall,
  WrappedStore,
} from '@bucketdb/store';

/** What a warm open starts from: the checkpoint and newest record this database was at. */
export interface CacheHead {
  checkpoint: number;
  version: number;
  /** ETag of record `version`: a database re-created under the same name has other records. */
  etag: string;
  /** The state at `version` as an open hint (`encodeOpenHint`): a warm open then reads no record. */
  hint?: Uint8Array;
  /** The GC floor copy the handle had, and when it was read (the options' clock): reused while fresh. */
  floor?: { floor: GcFloor | null; readAt: number };
}

interface Meta {
  key: string;
  etag: string;
  size: number;
  lastModified: number;
  /** The bytes held: [start, end) of the object. */
  start: number;
  end: number;
}

const MAGIC = 0x43424442; // "BDBC"
const FORMAT = 1;
/** Files older than this with a temporary name were left by a process that died while writing. */
const STALE_TEMP_MS = 3_600_000;

/**
 * An on-disk cache of a database's immutable objects (log records, checkpoint manifests, page
 * maps and chunk ranges) that outlives the process, so a restarted service or a warm serverless
 * start reads them from disk instead of the bucket (docs/design/sql-gc.md, "cacheDir").
 *
 * Safety: only keys that are never rewritten are cached (a record slot is written once with
 * put-if-absent and GC never lets it be re-created; checkpoint objects carry a random tag or are
 * put-if-absent); each file carries its key, ETag and a CRC-32 over everything, and a file that
 * fails the check is deleted and read from the bucket; files are written to a temporary name and
 * renamed, so processes sharing the directory only ever see whole files; the directory is kept
 * under `maxBytes` by deleting the least recently used files. Entries are namespaced by the
 * store's URL and the database's prefix; a database re-created under the same name is detected at
 * open (its newest known record's ETag, see `Engine.open`) and its namespace wiped.
 */
export class DiskCache extends WrappedStore {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #paths: LogPaths;
  readonly #pending = new Set<Promise<unknown>>();
  #bytes: number | undefined;
  #sizing: Promise<void> | undefined;
  #evicting: Promise<void> | undefined;
  /** Reads served from disk, and files found corrupt (and removed). */
  hits = 0;
  corrupt = 0;

  constructor(inner: ObjectStore, root: string, prefix: string, maxBytes: number) {
    super(inner);
    this.#paths = new LogPaths(prefix);
    const ns = createHash('sha256').update(`${inner.url}\0${this.#paths.prefix}`).digest('hex').slice(0, 32);
    this.dir = join(root, `v${FORMAT}`, ns);
    this.maxBytes = maxBytes;
  }

  protected around<T>(_call: StoreCall, run: () => Promise<T>): Promise<T> {
    return run();
  }

  #cacheable(key: string): boolean {
    if (this.#paths.recordVersion(key) !== undefined) return true;
    return this.#paths.checkpointObjectVersion(key) !== undefined && !key.endsWith('/claim');
  }

  #objectDir(key: string): string {
    const h = createHash('sha256').update(key).digest('hex');
    return join(this.dir, 'objects', h.slice(0, 2), h.slice(2, 40));
  }

  override getStream(
    key: string,
    options: GetOptions & { ifNoneMatch: string },
  ): Promise<GetStreamResult | NotModified>;
  override getStream(key: string, options?: GetOptions): Promise<GetStreamResult>;
  override async getStream(key: string, options: GetOptions = {}): Promise<GetStreamResult | NotModified> {
    if (!this.#cacheable(key) || options.ifMatch !== undefined || options.ifNoneMatch !== undefined) {
      return this.inner.getStream(key, options as GetOptions & { ifNoneMatch: string });
    }
    const range = options.range;
    if (range && !('offset' in range)) return this.inner.getStream(key, options);
    const want = range
      ? { start: range.offset, end: range.length === undefined ? undefined : range.offset + range.length }
      : undefined;
    const hit = await this.#lookup(key, want?.start ?? 0, want?.end);
    if (hit) {
      this.hits++;
      const { meta, body } = hit;
      const from = (want?.start ?? 0) - meta.start;
      const to = (want?.end ?? meta.size) - meta.start;
      const bytes = body.subarray(from, to);
      const result: GetStreamResult = {
        key,
        size: meta.size,
        etag: meta.etag,
        lastModified: new Date(meta.lastModified),
        metadata: {},
        body: (async function* () {
          yield bytes;
        })(),
        bytes,
      };
      if (want) result.range = { start: want.start, end: want.start + bytes.length };
      return result;
    }
    const got = await this.inner.get(key, options);
    const start = got.range?.start ?? 0;
    const end = got.range?.end ?? got.size;
    this.#store(
      { key, etag: got.etag, size: got.size, lastModified: got.lastModified.getTime(), start, end },
      got.body,
    );
    return {
      ...got,
      body: (async function* () {
        yield got.body;
      })(),
      bytes: got.body,
    };
  }

  override async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    const result = await this.inner.put(key, body, options);
    if (this.#cacheable(key) && body instanceof Uint8Array) {
      this.#store(
        { key, etag: result.etag, size: body.length, lastModified: Date.now(), start: 0, end: body.length },
        body,
      );
    }
    return result;
  }

  /** The ETag a cached object was read or written with (for the warm open's identity check). */
  async etagOf(key: string): Promise<string | undefined> {
    return (await this.#lookup(key, 0, undefined))?.meta.etag;
  }

  async readHead(): Promise<CacheHead | undefined> {
    const body = await this.#readVerified(join(this.dir, 'head'));
    if (!body) return undefined;
    try {
      const h = JSON.parse(body.meta.key) as Partial<CacheHead>;
      const ok = Number.isSafeInteger(h.checkpoint) && Number.isSafeInteger(h.version) && typeof h.etag === 'string';
      if (body.body.length > 0) h.hint = body.body;
      return ok ? (h as CacheHead) : undefined;
    } catch {
      return undefined;
    }
  }

  async writeHead(head: CacheHead): Promise<void> {
    const { hint, ...rest } = head;
    const body = hint ?? new Uint8Array();
    await this.#writeFile(
      join(this.dir, 'head'),
      { key: JSON.stringify(rest), etag: '', size: 0, lastModified: 0, start: 0, end: body.length },
      body,
    );
  }

  /** Forgets everything cached for this database (it was re-created under the same name). */
  async wipe(): Promise<void> {
    await this.flush();
    await rm(this.dir, { recursive: true, force: true });
    this.#bytes = undefined;
    this.#sizing = undefined;
  }

  /** Verifies every file of the whole cache directory; corrupt ones are removed. For tests and `.stats`. */
  async check(): Promise<{ files: number; bytes: number; bad: number }> {
    const files = (await this.#files(join(this.dir, '..'))).filter((f) => !f.path.endsWith('.tmp'));
    let bad = 0;
    for (const f of files) if (!(await this.#readVerified(f.path))) bad++;
    return { files: files.length, bytes: files.reduce((n, f) => n + f.size, 0), bad };
  }

  /** Waits for the cache writes in progress. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await this.#evicting;
  }

  override async close(): Promise<void> {
    // The inner store is the caller's: only the cache's own writes are finished here.
    await this.flush();
  }

  async #lookup(
    key: string,
    start: number,
    end: number | undefined,
  ): Promise<{ meta: Meta; body: Uint8Array } | undefined> {
    const dir = this.#objectDir(key);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return undefined;
    }
    for (const name of names) {
      const m = /^(\d+)-(\d+)$/.exec(name);
      if (!m) continue;
      const s = Number(m[1]);
      const e = Number(m[2]);
      if (s > start || (end !== undefined && e < end)) continue;
      const file = join(dir, name);
      const got = await this.#readVerified(file);
      if (!got || got.meta.key !== key || got.meta.start !== s || got.meta.end !== e) continue;
      if (end === undefined && e !== got.meta.size) continue;
      const now = new Date();
      utimes(file, now, now).catch(() => {});
      return got;
    }
    return undefined;
  }

  /** A cache file's meta and body, or undefined when it is missing or fails its check (then it is deleted). */
  async #readVerified(file: string): Promise<{ meta: Meta; body: Uint8Array } | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      return undefined;
    }
    try {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (bytes.length < 16 || view.getUint32(0) !== MAGIC || view.getUint32(4) !== FORMAT) throw new Error('header');
      if (crc32(bytes.subarray(12)) !== view.getUint32(8)) throw new Error('checksum');
      const metaLength = view.getUint32(12);
      const meta = JSON.parse(bytes.subarray(16, 16 + metaLength).toString('utf8')) as Meta;
      const body = new Uint8Array(bytes.subarray(16 + metaLength));
      if (body.length !== meta.end - meta.start) throw new Error('length');
      return { meta, body };
    } catch {
      // Corrupt or partial (a foreign or damaged file): drop it; the bucket has the truth.
      this.corrupt++;
      await unlink(file).catch(() => {});
      return undefined;
    }
  }

  #store(meta: Meta, body: Uint8Array): void {
    const file = join(this.#objectDir(meta.key), `${meta.start}-${meta.end}`);
    const write = this.#writeFile(file, meta, body)
      .then(() => this.#grew(body.length))
      .catch(() => {});
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  }

  async #writeFile(file: string, meta: Meta, body: Uint8Array): Promise<void> {
    const m = Buffer.from(JSON.stringify(meta), 'utf8');
    const out = Buffer.alloc(16 + m.length + body.length);
    out.writeUInt32BE(MAGIC, 0);
    out.writeUInt32BE(FORMAT, 4);
    out.writeUInt32BE(m.length, 12);
    m.copy(out, 16);
    out.set(body, 16 + m.length);
    out.writeUInt32BE(crc32(out.subarray(12)), 8);
    const dir = join(file, '..');
    await mkdir(dir, { recursive: true });
    // Whole files only: another process sharing the directory sees the old file or the new one.
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, out);
    try {
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
  }

  async #grew(bytes: number): Promise<void> {
    // One walk of the directory per process (shared by the writes racing to start it), then a
    // running count.
    this.#sizing ??= this.#files(join(this.dir, '..')).then((files) => {
      this.#bytes ??= files.reduce((n, f) => n + f.size, 0);
    });
    await this.#sizing;
    this.#bytes = (this.#bytes ?? 0) + bytes;
    if (this.#bytes > this.maxBytes && !this.#evicting) {
      this.#evicting = this.#evict().finally(() => {
        this.#evicting = undefined;
      });
    }
  }

  /** Deletes least recently used files (of every database sharing the directory) down to 80 % of the bound. */
  async #evict(): Promise<void> {
    const files = (await this.#files(join(this.dir, '..'))).sort((a, b) => a.mtime - b.mtime);
    let total = files.reduce((n, f) => n + f.size, 0);
    for (const f of files) {
      if (total <= this.maxBytes * 0.8) break;
      if (f.path.endsWith(`${'/'}head`)) continue;
      await unlink(f.path).catch(() => {});
      total -= f.size;
    }
    this.#bytes = total;
  }

  async #files(root: string): Promise<{ path: string; size: number; mtime: number }[]> {
    const out: { path: string; size: number; mtime: number }[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const path = join(dir, e.name);
        if (e.isDirectory()) {
          await walk(path);
          continue;
        }
        try {
          const s = await stat(path);
          if (e.name.endsWith('.tmp') && Date.now() - s.mtimeMs > STALE_TEMP_MS) {
            await unlink(path).catch(() => {});
            continue;
          }
          out.push({ path, size: s.size, mtime: s.mtimeMs });
        } catch {
          // Removed by another process meanwhile.
        }
      }
    };
    await walk(root);
    return out;
  }
}
