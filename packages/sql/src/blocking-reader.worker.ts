/**
 * The worker side of the BlockingReader prototype: SQLite on a read-only file whose missing pages
 * are requested from the parent thread while this thread sleeps in `Atomics.wait`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Connection } from './connection.js';
import { SqliteError } from './errors.js';
import { PageCache } from './page-cache.js';
import type { VfsFile } from './vfs.js';

interface Init {
  shared: SharedArrayBuffer;
  pageSize: number;
  pageCount: number;
  cacheBytes: number;
  windowPages: number;
}

const HEADER = 4;
const IOERR_READ = 266;
const SHORT_READ = 522;
const READONLY = 8;

const init = workerData as Init;
const port = parentPort;
if (!port) throw new Error('blocking-reader.worker runs only as a worker thread');

class BlockingFile implements VfsFile {
  readonly pageSize = init.pageSize;
  readonly #cache = new PageCache(init.cacheBytes);
  readonly #ctl = new Int32Array(init.shared, 0, HEADER + init.windowPages);
  readonly #images = new Uint8Array(init.shared, (HEADER + init.windowPages) * 4);

  read(dest: Uint8Array, offset: number): number {
    const ps = this.pageSize;
    const size = init.pageCount * ps;
    for (let at = offset; at < offset + dest.length && at < size; at = (Math.floor(at / ps) + 1) * ps) {
      const pgno = Math.floor(at / ps) + 1;
      const image = this.#cache.get(pgno) ?? this.#miss(pgno);
      if (!image) return IOERR_READ;
      const from = at % ps;
      const n = Math.min(ps - from, offset + dest.length - at);
      dest.set(image.subarray(from, from + n), at - offset);
    }
    if (offset + dest.length > size) {
      dest.fill(0, Math.max(0, size - offset));
      return SHORT_READ;
    }
    return 0;
  }

  /** Asks the parent for `pgno` and sleeps until it has copied that page (and maybe more) over. */
  #miss(pgno: number): Uint8Array | undefined {
    const ctl = this.#ctl;
    Atomics.store(ctl, 0, 0);
    port?.postMessage({ type: 'miss', pgno });
    Atomics.wait(ctl, 0, 0);
    if (Atomics.load(ctl, 2) !== 0) return undefined;
    const n = Atomics.load(ctl, 1);
    const ps = this.pageSize;
    let wanted: Uint8Array | undefined;
    for (let i = 0; i < n; i++) {
      const image = this.#images.slice(i * ps, (i + 1) * ps);
      const p = ctl[HEADER + i] as number;
      this.#cache.set(p, image);
      if (p === pgno) wanted = image;
    }
    // Nothing here is pinned: no statement restarts, so every page may be evicted again.
    this.#cache.unpinAll();
    return wanted;
  }

  write(): number {
    return READONLY;
  }

  truncate(): number {
    return READONLY;
  }

  size(): number {
    return init.pageCount * init.pageSize;
  }
}

const conn = await Connection.open(new BlockingFile());
conn.exec('PRAGMA query_only=ON; PRAGMA cache_size=-8192');
port.postMessage({ type: 'ready' });
port.on('message', (m: { type: 'query'; id: number; sql: string; params?: unknown[] }) => {
  try {
    port.postMessage({ type: 'result', id: m.id, rows: conn.query(m.sql, m.params).rows });
  } catch (error) {
    const e = error instanceof SqliteError ? error : new SqliteError(1, 'SQLITE_ERROR', String(error));
    port.postMessage({ type: 'error', id: m.id, resultCode: e.resultCode, code: e.code, message: e.message });
  }
});
