import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CommitLog } from '@bucketdb/log';
import type { ObjectStore } from '@bucketdb/store';
import { decodeManifest } from './checkpoint-format.js';
import { decodeEntry } from './commit-entry.js';
import { CommittedPages } from './committed-pages.js';
import type { Row, SqlParams } from './connection.js';
import { SqliteError } from './errors.js';
import { PageFetcher } from './page-fetcher.js';
import { retryCatchUp, retryReads } from './retry-reads.js';

export interface BlockingReaderOptions {
  prefix?: string;
  /** Bytes of pages the worker keeps (default 64 MiB); SQLite's own 8 MiB page cache comes on top. */
  cacheBytes?: number;
  /** Most pages one miss may bring over (default 2048: 8 MiB of 4 KiB pages; at most a quarter of the cache). */
  windowPages?: number;
  /** GETs in flight for a scan's window (default 8). */
  parallelGets?: number;
}

/** Words before the page numbers in the shared buffer: state, count, error. */
const HEADER = 4;

/** What the worker sends: a miss, or the end of a request. */
type FromWorker =
  | { type: 'miss'; pgno: number }
  | { type: 'ready' }
  | { type: 'result'; id: number; rows: Row[] }
  | { type: 'error'; id: number; resultCode: number; code: string; message: string };

/**
 * PROTOTYPE of the blocking-miss design (issue 9), read-only: SQLite runs in a worker thread whose
 * VFS, on a page it does not hold, posts the page number here and sleeps in `Atomics.wait` on a
 * SharedArrayBuffer; this thread fetches the page (and, during a scan, a window after it, the next
 * window already in flight) from the same page store as the engine, copies the images into the
 * buffer and wakes it. The statement never restarts and the worker's pages are an LRU bounded by
 * `cacheBytes`, so a scan's memory does not grow with the data.
 *
 * Left out (it exists only to be measured against restart-on-miss): writes, read sets and
 * validation, following records committed after open (it reads the version it opened at), strong
 * reads' tail check, interactive transactions, several statements at once.
 */
export class BlockingReader {
  readonly #worker: Worker;
  readonly #ctl: Int32Array;
  readonly #images: Uint8Array;
  readonly #committed: CommittedPages;
  readonly #fetcher: PageFetcher;
  readonly #log: CommitLog;
  readonly #window: number;
  readonly #pending = new Map<number, { resolve: (rows: Row[]) => void; reject: (e: unknown) => void }>();
  #nextId = 0;
  #ahead: Promise<void> | undefined;
  #failed: unknown;
  /** Misses the worker waited for, and pages sent over. */
  readonly stats = { misses: 0, pagesSent: 0, bootMs: 0 };
  readonly #started = performance.now();

  private constructor(
    log: CommitLog,
    committed: CommittedPages,
    fetcher: PageFetcher,
    o: Required<BlockingReaderOptions>,
  ) {
    this.#log = log;
    this.#committed = committed;
    this.#fetcher = fetcher;
    this.#window = o.windowPages;
    const ps = committed.pageSize;
    const shared = new SharedArrayBuffer((HEADER + o.windowPages) * 4 + o.windowPages * ps);
    this.#ctl = new Int32Array(shared, 0, HEADER + o.windowPages);
    this.#images = new Uint8Array(shared, (HEADER + o.windowPages) * 4);
    const data = {
      shared,
      pageSize: ps,
      pageCount: committed.pageCount,
      cacheBytes: o.cacheBytes,
      windowPages: o.windowPages,
    };
    if (import.meta.url.endsWith('.ts')) {
      // From source (tests, benchmarks): the worker first installs the TypeScript loader.
      const file = new URL('./blocking-reader.worker.ts', import.meta.url).href;
      // tsx registers its hooks only on the main thread when loaded with --import; its API does it here.
      const api = createRequire(import.meta.url)
        .resolve('tsx/esm/api')
        .replace(/\.cjs$/, '.mjs');
      const boot = `import(${JSON.stringify(pathToFileURL(api).href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(file)}); })`;
      this.#worker = new Worker(boot, { eval: true, execArgv: ['--conditions=source'], workerData: data });
    } else {
      this.#worker = new Worker(new URL('./blocking-reader.worker.js', import.meta.url), { workerData: data });
    }
    this.#worker.on('message', (m: FromWorker) => this.#onMessage(m));
    this.#worker.on('error', (e) => this.#fail(e));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the SQLite worker exited (code ${code})`)));
  }

  static async open(store: ObjectStore, options: BlockingReaderOptions = {}): Promise<BlockingReader> {
    const o: Required<BlockingReaderOptions> = {
      prefix: options.prefix ?? '',
      cacheBytes: options.cacheBytes ?? 64 * 2 ** 20,
      // A reply may fill at most a quarter of the worker's cache: larger ones would evict pages
      // of the same scan before SQLite reached them (they were sent again: superlinear).
      windowPages: Math.max(
        8,
        Math.min(options.windowPages ?? 2048, Math.floor((options.cacheBytes ?? 64 * 2 ** 20) / 4096 / 4)),
      ),
      parallelGets: options.parallelGets ?? 8,
    };
    const log = await CommitLog.open(store, { prefix: o.prefix });
    // Pages pass through here on their way to the worker: room for the window sent and the one ahead.
    const committed = new CommittedPages(4096, 3 * o.windowPages * 4096);
    const checkpoint = await retryReads(() => log.latestCheckpoint());
    if (checkpoint) {
      committed.setCheckpoint({
        version: checkpoint.version,
        manifest: decodeManifest(checkpoint.manifest, 'checkpoint'),
      });
      await log.advanceTo(checkpoint.version);
    }
    log.onRecords((records) => {
      for (const r of records) {
        const sets = r.entries.map((e, i) => decodeEntry(e, `log record ${r.version} entry ${i}`));
        committed.apply(r.version, sets, 0);
      }
    });
    await retryCatchUp(
      () => log.catchUp(),
      () => log.version,
    );
    const fetcher = new PageFetcher(store, log, committed, {
      readAheadMax: o.windowPages,
      parallelGets: o.parallelGets,
    });
    const reader = new BlockingReader(log, committed, fetcher, o);
    await new Promise<void>((resolve, reject) => {
      reader.#pending.set(-1, { resolve: () => resolve(), reject });
    });
    return reader;
  }

  /** Runs one read-only statement in the worker. */
  query<T = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise<T[]>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (rows: Row[]) => void, reject });
      this.#worker.postMessage({ type: 'query', id, sql, params });
    });
  }

  async get<T = Row>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return (await this.query<T>(sql, params))[0];
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
    await this.#log.close();
  }

  #onMessage(m: FromWorker): void {
    if (m.type === 'miss') {
      if (this.stats.misses === 0) this.stats.bootMs = performance.now() - this.#started;
      void this.#serve(m.pgno);
      return;
    }
    const id = m.type === 'ready' ? -1 : m.id;
    const waiter = this.#pending.get(id);
    this.#pending.delete(id);
    if (m.type === 'error') waiter?.reject(new SqliteError(m.resultCode, m.code, m.message));
    else waiter?.resolve(m.type === 'result' ? m.rows : []);
  }

  /** Fetches `pgno` (and what follows it, if a scan is going on), copies it over, wakes the worker. */
  async #serve(pgno: number): Promise<void> {
    const c = this.#committed;
    const ctl = this.#ctl;
    this.stats.misses++;
    try {
      await this.#ahead?.catch(() => {});
      this.#ahead = undefined;
      if (!c.cache.has(pgno) && !(pgno === 1 && c.page1)) await retryReads(() => this.#fetcher.fetch([pgno]));
      const ps = c.pageSize;
      let n = 0;
      for (let p = pgno; p <= c.pageCount && n < this.#window; p++, n++) {
        const image = p === 1 && c.page1 ? c.page1 : c.cache.get(p);
        if (!image) break;
        ctl[HEADER + n] = p;
        this.#images.set(image, n * ps);
        if (p !== 1) c.cache.delete(p);
      }
      if (n === 0) throw new Error(`page ${pgno} could not be fetched`);
      this.stats.pagesSent += n;
      Atomics.store(ctl, 1, n);
      Atomics.store(ctl, 2, 0);
    } catch (error) {
      Atomics.store(ctl, 2, 1);
      this.#fail(error);
    }
    c.cache.unpinAll();
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    // While the worker works through these pages, the next window of a scan is already on its way.
    // (From the end of the scan's window, whatever page this miss was: an interior page elsewhere
    // must not send read-ahead off in another direction.)
    const ahead = this.#fetcher.windowEnd + 1;
    if (this.#fetcher.scanning && ahead <= c.pageCount && !c.cache.has(ahead)) {
      this.#ahead = retryReads(() => this.#fetcher.fetch([ahead]));
    }
  }

  #fail(error: unknown): void {
    this.#failed ??= error;
    for (const w of this.#pending.values()) w.reject(error);
    this.#pending.clear();
  }
}
