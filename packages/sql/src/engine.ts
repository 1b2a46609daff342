import { tmpdir } from 'node:os';
import {
  type Checkpoint,
  CommitLog,
  GcFloorGuard,
  isLogError,
  type LogRecord,
  readGcFloor,
  SCAN_MAX_RECORDS,
} from '@bucketdb/log';
import { backoff, CorruptError, isStoreError, type ObjectStore } from '@bucketdb/store';
import { Batch, RetrySignal } from './batch.js';
import { decodeManifest } from './checkpoint-format.js';
import { decodeEntry, encodeEntry, type PageSet } from './commit-entry.js';
import { CommittedPages } from './committed-pages.js';
import { decodeOpenHint, encodeOpenHint, HINT_SEGMENT_BYTES, hintOf, type OpenHint } from './open-hint.js';
import { Connection } from './connection.js';
import type { DiskCache } from './disk-cache.js';
import { CommitUnknownError, ConflictError, SqliteError } from './errors.js';
import { OrderedLock } from './ordered-lock.js';
import type { ResolvedOptions } from './options.js';
import { PageFetcher } from './page-fetcher.js';
import { Layer, PageFile } from './page-file.js';
import { changeCounter, samePage1 } from './page1.js';
import { retryCatchUp, retryReads } from './retry-reads.js';
import { commitIdFor } from './was-committed.js';

const succeeded = () => true;
const failed = () => false;

/** Pages changed by other writers' records, as found by one `drain`. */
export interface Changes {
  pages: Set<number>;
}

/** Internal: a statement on a snapshot missed pages, which are now fetched: replay and run it again. */
export class MissSignal extends Error {
  constructor() {
    super('pages fetched; run again');
    this.name = 'MissSignal';
  }
}

/** What one run of a transaction body ended with (see `Engine.attempt`). */
export type Attempt<T> =
  /** `failed`: the body failed with this error, to be reported once `wait` settles (a view it ran on committed). */
  | { ok: true; result: T; wait: Promise<void> | undefined; failed?: { error: unknown } }
  /**
   * The snapshot was stale or a read-only result could not be confirmed: run the body again.
   * `behind`: it did not run, calls issued before it must run again first (their batch failed).
   */
  | { ok: false; behind?: boolean };

/**
 * The machinery under a Database: the committed page state fed by the log, the SQLite connection
 * on its PageFile, and group commit. Everything that touches the connection or the page state runs
 * under `lock` (granted in the order calls were issued); only appends and the waits for them happen
 * outside it.
 *
 * The connection's view is always exactly one committed version, or that plus this handle's batches
 * awaiting their record and the running transaction's writes. Every view has a key naming its
 * content; when the key changes, SQLite's parsed schema is thrown away (its schema cookie cannot be
 * trusted: two different schemas committed by different writers can carry the same cookie).
 */
export class Engine {
  readonly lock = new OrderedLock();
  readonly log: CommitLog;
  readonly committed: CommittedPages;
  readonly file: PageFile;
  readonly fetcher: PageFetcher;
  readonly options: ResolvedOptions;
  conn!: Connection;
  readonly #incoming: LogRecord[] = [];
  #inflight: Batch | undefined;
  #open: Batch | undefined;
  #publishing: Promise<void> | undefined;
  /** Content key of the committed state: the last foreign record, and the last local commit on it. */
  #base = 'v0';
  #baseSeq = 0;
  #localSeq = 0;
  /** Key of the view SQLite's parsed schema belongs to ('' after a rollback: unknown). */
  #viewKey = '';
  /** Set when a record could not be applied: this handle's state is unusable from then on. */
  broken: unknown;
  readonly stats = { commits: 0, conflicts: 0, retries: 0, restarts: 0, records: 0, schemaReloads: 0, rebases: 0 };
  onCommitted: (() => void) | undefined;
  /** Interactive transactions' page files: every page changed after they began is added to `changed`. */
  readonly snapshots = new Set<PageFile>();
  /** When the last tail confirmation started (the state is at least that fresh). */
  confirmedAt = Number.NEGATIVE_INFINITY;
  /** Whether this handle opened from the disk cache (`cacheDir`). */
  startedWarm = false;
  /** The disk cache's head being written after open (awaited before the next one). */
  headSaved: Promise<void> | undefined;
  /** Test-only: skip read-set validation (the history checker must then find anomalies). */
  static unsafeSkipValidation = false;
  /** Whether this handle's cold open started from the open hint (else from the checkpoint and its records). */
  startedFromHint = false;
  /** The last record applied (its commit id goes into the open hint). */
  #lastRecord: { version: number; commitId: string } | undefined;
  readonly #store: ObjectStore;

  private constructor(log: CommitLog, committed: CommittedPages, store: ObjectStore, options: ResolvedOptions) {
    this.#store = store;
    this.log = log;
    this.committed = committed;
    this.options = options;
    this.file = new PageFile(committed);
    this.fetcher = new PageFetcher(store, log, committed, options);
    log.onRecords((records) => this.#incoming.push(...records));
  }

  /** `mutex.run(task)`: runs `task` holding the lock, after every call issued before it. */
  get mutex(): OrderedLock {
    return this.lock;
  }

  /**
   * Opens the database: warm from `cache` (a DiskCache under `store`) when it holds where this
   * database was, else cold (see `#coldStart`). Then loads page 1 (the whole database when it is
   * below `prefetchBelowBytes`) and opens the SQLite connection. `signal`: checked between the
   * steps of opening (and passed to catch-up); on abort all is released.
   */
  static async open(
    store: ObjectStore,
    options: ResolvedOptions,
    cache?: DiskCache,
    signal?: AbortSignal,
  ): Promise<Engine> {
    signal?.throwIfAborted();
    // Anything unexpected on the warm path: the cold path is always correct.
    const warm = cache ? await Engine.#warmStart(store, options, cache).catch(() => undefined) : undefined;
    const engine = warm ?? (await Engine.#coldStart(store, options, signal));
    engine.startedWarm = warm !== undefined;
    const committed = engine.committed;
    try {
      signal?.throwIfAborted();
      if (committed.sizeBytes <= options.prefetchBelowBytes) await retryReads(() => engine.fetcher.prefetchAll());
      else if (!committed.cache.has(1)) await retryReads(() => engine.fetcher.fetch([1]));
      signal?.throwIfAborted();
    } catch (error) {
      committed.cache.close();
      await engine.log.close().catch(() => {});
      throw error;
    }
    committed.cache.unpinAll();
    engine.conn = await Connection.open(engine.file);
    try {
      // The connection's set-up reads the schema, which may span pages that are not resident.
      await engine.read(() => engine.conn.configure());
      signal?.throwIfAborted();
    } catch (error) {
      engine.conn.close();
      committed.cache.close();
      await engine.log.close().catch(() => {});
      throw error;
    } finally {
      committed.cache.unpinAll();
    }
    if (cache) engine.headSaved = engine.saveHead(cache).catch(() => {});
    return engine;
  }

  /**
   * Cold open in a bounded number of round trips whatever the lag (docs/design/sql-gc.md, "Cold
   * start"): (1) the checkpoint hint; (2) the newest checkpoint (a LIST from the hint and a GET of
   * the hint's manifest at once) and a LIST of the records after the hint; (3) the records, all
   * at once, with the page maps; long lags add a few probe rounds, not one round per record.
   * Pages load lazily (whole databases below `prefetchBelowBytes` with parallel GETs).
   */
  static async #coldStart(store: ObjectStore, options: ResolvedOptions, signal?: AbortSignal): Promise<Engine> {
    const log = await CommitLog.open(store, { prefix: options.prefix, clock: options.clock });
    // Both hints at once: the open hint's path is shorter, the checkpoint hint's is the fallback.
    const checkpointHint = retryReads(() => log.checkpointHint());
    checkpointHint.catch(() => {});
    const fromHint = await Engine.#hintStart(store, options, signal).catch((error: unknown) => {
      if (signal?.aborted) throw error;
      return undefined; // any doubt about the hint: the full path below is always correct
    });
    if (fromHint) {
      await log.close();
      return fromHint;
    }
    try {
      const engine = new Engine(log, Engine.#pages(options), store, options);
      const hint = await checkpointHint;
      const scan = retryReads(() => log.scan(hint ?? 0));
      scan.catch(() => {});
      const checkpoint = await retryReads(() => log.latestCheckpoint(undefined, { hint }));
      signal?.throwIfAborted();
      const segments = checkpoint ? await engine.#useCheckpoint(checkpoint) : undefined;
      const records = await scan;
      await segments;
      signal?.throwIfAborted();
      // The scan started at the hint: a newer checkpoint skips some of its records; an older one
      // (the hint's manifest missing) leaves a gap that the ordinary catch-up fills.
      if (!(await log.accept(records)) || records.length >= SCAN_MAX_RECORDS) {
        await retryCatchUp(
          () => log.catchUp(signal ? { signal } : {}),
          () => log.version,
        );
      }
      engine.drain();
      return engine;
    } catch (error) {
      await log.close().catch(() => {});
      throw error;
    }
  }

  /**
   * Cold open from the open hint (`open-hint.ts`): (1) GET the hint, alongside the GC floor;
   * (2) at once: record `version` (whose commit id must be the hint's), the next
   * `openHintEveryRecords` slots, and the pages the open reads (the first few, or the whole
   * database below `prefetchBelowBytes`) from the sources the hint names; (3+) only if all those slots
   * were taken, a scan for the rest. Records up to the hint's version are never read at open.
   * Undefined (nothing kept) when there is no usable hint.
   */
  static async #hintStart(
    store: ObjectStore,
    options: ResolvedOptions,
    signal?: AbortSignal,
  ): Promise<Engine | undefined> {
    const log = await CommitLog.open(store, { prefix: options.prefix, clock: options.clock });
    try {
      const key = log.paths.openHint;
      const hint = decodeOpenHint((await retryReads(() => store.get(key))).body, key);
      if (!(await Engine.#retained(store, log, hint))) {
        await log.close();
        return undefined;
      }
      const engine = new Engine(log, Engine.#pages(options), store, options);
      engine.#applyHint(hint);
      await log.advanceTo(hint.version);
      const probes = Math.max(1, Math.min(64, options.openHintEveryRecords || 32));
      const slots = Array.from({ length: probes + 1 }, (_, i) =>
        retryReads(() =>
          log.read(hint.version + i).catch((error: unknown) => {
            if (isStoreError(error, 'NotFound')) return undefined;
            throw error;
          }),
        ),
      );
      const c = engine.committed;
      // A lazily paged database: the first pages (the schema, early tables' roots) and the interior
      // pages the hint names come along.
      const pages =
        c.sizeBytes <= options.prefetchBelowBytes
          ? retryReads(() => engine.fetcher.prefetchAll())
          : Promise.all([
              retryReads(() => engine.fetcher.prefetch(1, engine.fetcher.readAheadMin)),
              retryReads(() => engine.fetcher.prefetchPages(hint.interior)),
            ]);
      // Pages land before any newer record is applied over them.
      const [records] = await Promise.all([Promise.all(slots), pages]);
      signal?.throwIfAborted();
      if (records[0]?.commitId !== hint.commitId) {
        await log.close();
        return undefined;
      }
      const after: LogRecord[] = [];
      for (const r of records.slice(1)) {
        if (!r) break;
        after.push(r);
      }
      await log.accept(after);
      if (after.length === probes) {
        // The hint is far behind the tail: find the rest by probing further (a few rounds).
        const more = await retryReads(() => log.scan(log.version, signal ? { signal } : {}));
        if (!(await log.accept(more)) || more.length >= SCAN_MAX_RECORDS) {
          await retryCatchUp(
            () => log.catchUp(signal ? { signal } : {}),
            () => log.version,
          );
        }
      }
      engine.#lastRecord = { version: hint.version, commitId: hint.commitId };
      engine.drain();
      engine.startedFromHint = true;
      return engine;
    } catch (error) {
      await log.close().catch(() => {});
      throw error;
    }
  }

  /**
   * Whether everything `hint` names is retained (sql-gc.md): checkpoints at or above the floor in
   * force are kept, and so are records above it. The pending floor counts too, since it may come
   * into force while the handle lives. The guard's floor copy is usually in hand already.
   */
  static async #retained(store: ObjectStore, log: CommitLog, hint: OpenHint): Promise<boolean> {
    const floor =
      store instanceof GcFloorGuard
        ? await store.current()
        : (await retryReads(() => readGcFloor(store, log.paths)))?.floor;
    return Math.max(hint.checkpoint, 0) >= (floor ? Math.max(floor.floor, floor.effective) : 0);
  }

  /** Sets the committed state to the one `hint` describes (at its version). */
  #applyHint(hint: OpenHint): void {
    const c = this.committed;
    if (hint.manifest) {
      const manifest = decodeManifest(hint.manifest, 'open hint');
      c.setCheckpoint({ version: hint.checkpoint, manifest });
      for (const [i, seg] of hint.segments) {
        const count = Math.min(manifest.segmentPages, manifest.pageCount - seg.firstPage + 1);
        if (i >= manifest.segments.length || seg.count !== count) {
          throw new CorruptError(`open hint: segment ${i} does not match its checkpoint`);
        }
        c.segments.set(i, seg);
      }
    }
    c.pageSize = hint.pageSize;
    c.pageCount = hint.pageCount;
    c.version = hint.version;
    for (const [pgno, version] of hint.recordPages) c.recordPages.set(pgno, version);
    c.recordsSinceCheckpoint = hint.recordsSinceCheckpoint;
    c.bytesSinceCheckpoint = hint.bytesSinceCheckpoint;
    this.#base = `v${hint.version}`;
  }

  /**
   * Writes the open hint for the committed state (best effort: a lost or stale hint only costs a
   * later cold open round trips). Loads the page maps the hint carries first, under the lock.
   */
  async writeOpenHint(): Promise<void> {
    const hint = await this.lock.run(async () => {
      const c = this.committed;
      const m = c.checkpoint?.manifest;
      if (m) {
        const carried = Math.max(1, Math.floor(HINT_SEGMENT_BYTES / (16 * m.segmentPages)));
        const wanted = m.segments.slice(0, carried).map((_, i) => i);
        await Promise.all(wanted.map((i) => retryReads(() => this.fetcher.loadSegment(i))));
      }
      const last = this.#lastRecord;
      return last?.version === c.version ? hintOf(c, last.commitId) : undefined;
    });
    if (hint) await this.#store.put(this.log.paths.openHint, encodeOpenHint(hint));
  }

  /**
   * Warm open from the disk cache: the checkpoint and records this database was at come from
   * disk; the bucket is asked only whether record `version` is still the one we knew (a
   * conditional GET answering 304: a database re-created under the same name fails it, and its
   * cache is wiped). Strong reads confirm the tail at the first read anyway; snapshot handles
   * catch up here. Undefined when the cache cannot be used.
   */
  static async #warmStart(store: ObjectStore, options: ResolvedOptions, cache: DiskCache): Promise<Engine | undefined> {
    const head = await cache.readHead();
    if (!head || head.version === 0) return undefined;
    const log = await CommitLog.open(store, { prefix: options.prefix, clock: options.clock });
    const engine = new Engine(log, Engine.#pages(options), store, options);
    const identity = cache.inner.get(log.paths.record(head.version), { ifNoneMatch: head.etag });
    identity.catch(() => {});
    let hint: OpenHint | undefined;
    try {
      hint = head.hint ? decodeOpenHint(head.hint, 'the cached open hint') : undefined;
    } catch {
      hint = undefined; // the older way below
    }
    if (hint?.version === head.version) {
      // The state at `version` in one piece: no record is read (pages load lazily, from disk).
      const same = await identity.then((r) => r.notModified === true, failed);
      if (!same) {
        await cache.wipe();
        return undefined;
      }
      // As for a cold open's hint: its pages may be missing from disk, so they must be retained.
      if (!(await Engine.#retained(store, log, hint))) return undefined;
      engine.#applyHint(hint);
      await log.advanceTo(hint.version);
      engine.#lastRecord = { version: hint.version, commitId: hint.commitId };
      return engine.#warmReady();
    }
    const from = Math.max(head.checkpoint, 0);
    const reads = Array.from({ length: head.version - from }, (_, i) => retryReads(() => log.read(from + i + 1)));
    const checkpoint = head.checkpoint >= 0 ? await log.checkpointAt(head.checkpoint) : undefined;
    const same = await identity.then(
      (r) => r.notModified === true,
      () => false,
    );
    if (!same) {
      await Promise.allSettled(reads);
      await cache.wipe();
      return undefined;
    }
    if (head.checkpoint >= 0 && !checkpoint) return undefined;
    const segments = checkpoint ? await engine.#useCheckpoint(checkpoint) : undefined;
    const records = await Promise.all(reads);
    await segments;
    if (!(await log.accept(records))) return undefined;
    return engine.#warmReady();
  }

  /** A warm start's last step: a snapshot handle catches up now (a strong read would at its tail check). */
  async #warmReady(): Promise<Engine> {
    if (this.options.reads === 'snapshot') {
      await retryCatchUp(
        () => this.log.catchUp(),
        () => this.log.version,
      );
    }
    this.drain();
    return this;
  }

  /** The committed pages of a new handle; pinned pages beyond the cache spill to `cacheDir` or the temp dir. */
  static #pages(o: ResolvedOptions): CommittedPages {
    return new CommittedPages(o.pageSize, o.cacheBytes, o.cacheDir ?? tmpdir());
  }

  /** Starts from `checkpoint`; returns the loads of the page maps the open needs (in flight). */
  async #useCheckpoint(checkpoint: Checkpoint): Promise<Promise<unknown>> {
    const o = this.options;
    const where = `checkpoint ${checkpoint.version} of ${o.prefix || 'the database'}`;
    const manifest = decodeManifest(checkpoint.manifest, where);
    this.committed.setCheckpoint({ version: checkpoint.version, manifest });
    await this.log.advanceTo(checkpoint.version);
    this.#base = `v${checkpoint.version}`;
    // Page maps arrive while the records do: all of them for a database fetched whole, else
    // the first (page 1 and the schema's root, unless a newer record holds them).
    const whole = manifest.pageCount * manifest.pageSize <= o.prefetchBelowBytes;
    const wanted = whole ? manifest.segments.map((_, i) => i) : manifest.segments.length > 0 ? [0] : [];
    const loads = Promise.all(wanted.map((s) => retryReads(() => this.fetcher.loadSegment(s))));
    loads.catch(() => {});
    return loads;
  }

  /** Records in `cache` where this handle is, for the next warm open (best effort). */
  async saveHead(cache: DiskCache): Promise<void> {
    const c = this.committed;
    if (c.version === 0) return;
    // Taken now, in one piece: the state may move on while the files are written.
    const last = this.#lastRecord;
    const hint = last?.version === c.version ? hintOf(c, last.commitId) : undefined;
    const version = c.version;
    const checkpoint = c.checkpoint?.version ?? -1;
    const floor = this.#store instanceof GcFloorGuard ? this.#store.copy : undefined;
    await cache.flush();
    const etag = await cache.etagOf(this.log.paths.record(version));
    if (etag === undefined) return;
    await cache.writeHead({
      checkpoint,
      version,
      etag,
      ...(hint ? { hint: encodeOpenHint(hint) } : {}),
      ...(floor ? { floor: { floor: floor.floor ?? null, readAt: floor.readAt } } : {}),
    });
  }

  get pending(): boolean {
    return this.#inflight !== undefined || this.#open !== undefined;
  }

  /** Applies the records the log has seen since the last drain. Call under the lock. */
  drain(): Changes {
    if (this.broken) throw this.broken;
    const changes: Changes = { pages: new Set() };
    while (this.#incoming.length > 0) {
      const record = this.#incoming.shift() as LogRecord;
      const size = record.entries.reduce((n, e) => n + e.length, 0);
      const mine = this.#inflight?.attempts.get(record.commitId);
      if (mine && this.#inflight) {
        this.committed.apply(record.version, [mine], size);
        this.#lastRecord = { version: record.version, commitId: record.commitId };
        // The committed state is now what the head view was: same content key, no schema reload.
        this.#baseSeq = this.#inflight.lastSeq;
        this.#inflight.resolve();
        this.#inflight = undefined;
        this.stats.commits++;
        this.onCommitted?.();
        continue;
      }
      let sets: PageSet[];
      try {
        sets = record.entries.map((e, i) => decodeEntry(e, `log record ${record.version} entry ${i}`));
      } catch (error) {
        this.broken = error;
        throw error;
      }
      this.committed.apply(record.version, sets, size);
      this.#lastRecord = { version: record.version, commitId: record.commitId };
      this.#base = `v${record.version}`;
      this.#baseSeq = 0;
      this.stats.records++;
      for (const set of sets) {
        for (const p of set.pages.keys()) {
          changes.pages.add(p);
          for (const f of this.snapshots) f.changed?.add(p);
          this.#inflight?.foreignChanged.add(p);
          this.#open?.foreignChanged.add(p);
        }
      }
    }
    if (changes.pages.size > 0) this.#failDoomed();
    return changes;
  }

  /**
   * Fails the pending batches that records of other writers have already doomed, at once: no view
   * may be built on them (their pages over the moved committed state mix two histories: a schema
   * without tables that exist, a malformed b-tree), and a call made meanwhile must run again on
   * the new state rather than report what such a view gave it. The batch in flight cannot commit
   * any more: a record of another writer came after the slots it checked, so its slot is taken.
   */
  #failDoomed(): void {
    if (Engine.unsafeSkipValidation) return;
    const inflight = this.#inflight;
    if (inflight && !inflight.valid(samePage1(inflight.basePage1, this.committed.page1))) {
      this.stats.conflicts++;
      this.#abortAll(new RetrySignal());
      return;
    }
    // Stacked on a batch in flight, the open batch's page 1 is judged with that batch.
    const open = this.#open;
    if (open && !open.valid(inflight !== undefined || samePage1(open.basePage1, this.committed.page1))) {
      this.stats.conflicts++;
      for (const t of open.tickets) this.lock.reserve(t);
      open.reject(new RetrySignal());
      this.#open = undefined;
    }
  }

  /**
   * The strong-read check: one GET of the next slot, applying whatever it finds. Under the mutex.
   * A handle so far behind that GC collected the records it needs next (LogError `Collected`)
   * moves to the newest checkpoint instead, if nothing of its own is pending.
   */
  async syncTail(): Promise<Changes> {
    const started = this.options.clock();
    const confirm = () =>
      retryCatchUp(
        () => this.log.confirmTail(),
        () => this.log.version,
      );
    try {
      await confirm();
    } catch (error) {
      if (!isLogError(error, 'Collected') || this.pending) throw error;
      const latest = await retryReads(() => this.log.latestCheckpoint());
      if (!latest || latest.version <= this.committed.version) throw error;
      const changes = await this.rebase(latest);
      await confirm();
      this.confirmedAt = started;
      const more = this.drain();
      for (const p of more.pages) changes.pages.add(p);
      return changes;
    }
    this.confirmedAt = started;
    return this.drain();
  }

  /**
   * Moves the committed state to `checkpoint`, newer than this handle's version, without reading
   * the records in between (they may be collected): the page cache is emptied and every page
   * counts as changed (interactive transactions in progress then conflict on whatever they read).
   * Only with nothing pending; under the lock. Returns the pages changed (all of them).
   */
  async rebase(checkpoint: Checkpoint): Promise<Changes> {
    this.drain();
    if (this.pending) throw new Error('internal: rebase with commits pending');
    const c = this.committed;
    const before = c.pageCount;
    const manifest = decodeManifest(checkpoint.manifest, `checkpoint ${checkpoint.version}`);
    c.setCheckpoint({ version: checkpoint.version, manifest });
    await this.log.advanceTo(checkpoint.version);
    this.#base = `v${checkpoint.version}`;
    this.#baseSeq = 0;
    this.stats.rebases++;
    const changes: Changes = { pages: new Set() };
    for (let p = 1; p <= Math.max(before, c.pageCount); p++) {
      changes.pages.add(p);
      for (const f of this.snapshots) f.changed?.add(p);
    }
    if (c.pageCount > 0) await retryReads(() => this.fetcher.fetch([1]));
    c.cache.unpinAll();
    return changes;
  }

  /** Whether reads must confirm the tail first: always when strong, when too stale for snapshot reads. */
  get mustConfirm(): boolean {
    const o = this.options;
    if (o.reads === 'strong') return true;
    return o.maxStalenessMs !== undefined && o.clock() - this.confirmedAt > o.maxStalenessMs;
  }

  /** Points the file at committed state only (read-only statements). */
  useCommittedView(): void {
    this.file.below = [];
    this.file.txn = undefined;
    this.#enter(`${this.#base}+${this.#baseSeq}`);
  }

  /** Points the file at committed state plus batches awaiting their record, with a new write layer. */
  useHeadView(): void {
    this.file.below = [this.#inflight?.layer, this.#open?.layer].filter((l): l is Layer => l !== undefined);
    this.file.txn = undefined;
    this.file.txn = new Layer(this.file.pageCount);
    this.#enter(this.#headKey());
  }

  #headKey(): string {
    return `${this.#base}+${this.#open?.lastSeq || this.#inflight?.lastSeq || this.#baseSeq}`;
  }

  /** Switches the connection to the view named `key`: SQLite's page cache always goes, its schema when the view moved. */
  #enter(key: string): void {
    if (key !== this.#viewKey) {
      this.conn.resetSchema();
      this.stats.schemaReloads++;
      this.#viewKey = key;
    }
    this.conn.dropCache();
    this.file.resetTracking();
  }

  /** After a ROLLBACK SQLite's parsed schema may belong to no view we know: reload it next time. */
  rolledBack(): void {
    this.#viewKey = '';
  }

  /** Runs `f` (a read-only statement on the committed view), fetching pages and re-running on misses. */
  async read<T>(f: () => T): Promise<T> {
    for (;;) {
      this.useCommittedView();
      try {
        const result = f();
        // Some statements (integrity_check) report I/O errors in their result instead of failing.
        if (this.file.misses.size > 0) throw new SqliteError(266, 'SQLITE_IOERR_READ', 'page not resident');
        if (!this.conn.autocommit) {
          this.conn.exec('ROLLBACK');
          this.rolledBack();
          throw new SqliteError(1, 'SQLITE_ERROR', 'transaction control statements need begin() or transaction()');
        }
        return result;
      } catch (error) {
        if (!(await this.fetchMisses(error))) throw error;
      }
    }
  }

  /**
   * A read-only statement that must see the tail (strong reads), with the tail check and the
   * statement's page fetches overlapping. The statement runs on the committed state while the GET
   * of the next slot is in flight; nothing is applied meanwhile (new records wait in `#incoming`),
   * so all its pages come from one version. If the check found no record, that version was the
   * tail when the check was made, after the call started: the result stands. Otherwise the records
   * it read are applied and the statement runs again. Under the lock.
   */
  async readAtTail<T>(f: () => T): Promise<T> {
    const started = this.options.clock();
    const version = this.log.version;
    const confirm = retryCatchUp(
      () => this.log.confirmTail(),
      () => this.log.version,
    );
    confirm.catch(() => {});
    const first = await this.read(f).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const confirmed = await confirm.then(succeeded, failed);
    if (!confirmed) {
      await this.syncTail(); // again, with its handling of collected slots
      return this.read(f);
    }
    // The check read up to an empty slot, after the call started: the tail as of then.
    this.confirmedAt = started;
    if (this.log.version === version && this.#incoming.length === 0) {
      if (!first.ok) throw first.error;
      return first.value;
    }
    this.drain();
    return this.read(f);
  }

  /** After a failed statement: if it failed on non-resident pages, fetch them and return true. */
  async fetchMisses(error: unknown, anyError = false): Promise<boolean> {
    const misses = [...this.file.misses];
    const ioError = error instanceof SqliteError && (error.resultCode & 0xff) === 10;
    if (misses.length === 0 || !(ioError || anyError)) return false;
    if (!this.conn.autocommit) this.conn.exec('ROLLBACK');
    this.rolledBack();
    this.stats.restarts++;
    await retryReads(() => this.fetcher.fetch(misses));
    return true;
  }

  /**
   * Runs a transaction body once, under the lock: BEGIN, `body`, COMMIT on the head view, fetching
   * pages and running it again on misses. A write transaction joins the open batch (`wait` settles
   * with its record); a read-only one with nothing pending is validated here (`strong`: against
   * the tail). `ok: false`: the snapshot was stale or the reads changed, run it again.
   * `explicit: false`: `body` is one statement SQLite runs in its own transaction (VACUUM cannot
   * run inside BEGIN); its writes land in the same layer and commit the same way.
   */
  async attempt<T>(body: () => T | Promise<T>, strong: boolean, ticket?: number, explicit = true): Promise<Attempt<T>> {
    this.drain();
    if (!strong && this.mustConfirm) await this.syncTail();
    if (ticket !== undefined && this.lock.reservedBefore(ticket)) return { ok: false, behind: true };
    const basePage1 = this.committed.page1;
    let result!: T;
    try {
      for (;;) {
        this.useHeadView();
        try {
          if (explicit) this.conn.exec('BEGIN');
          result = await body();
          if (this.file.misses.size > 0) throw new SqliteError(266, 'SQLITE_IOERR_READ', 'page not resident');
          if (this.conn.autocommit === explicit) {
            throw new SqliteError(1, 'SQLITE_ERROR', 'the transaction was ended inside transaction(); use begin()');
          }
          if (explicit) this.conn.exec('COMMIT');
          break;
        } catch (error) {
          if (await this.fetchMisses(error, true)) continue;
          if (!this.conn.autocommit) this.conn.exec('ROLLBACK');
          this.rolledBack();
          // The snapshot may be stale and the error an artifact of it (a table not created yet,
          // a row not there yet): if the tail moved, run again instead of failing.
          if ((await this.syncTail()).pages.size > 0) return { ok: false };
          // It ran on batches still awaiting their record: the error is a result read from
          // them, reported only if they commit (otherwise the call runs again, like any reader).
          if (this.pending) return { ok: true, result, wait: this.#joinReadonly(ticket), failed: { error } };
          throw error;
        }
      }
      const wait = this.commitLocal(ticket);
      // The read set stays recorded until the next view is entered.
      if (!wait && strong && !this.readonlyValid(new Set(this.file.reads), basePage1, await this.syncTail()))
        return { ok: false };
      return { ok: true, result, wait };
    } finally {
      this.file.txn = undefined;
      this.committed.cache.unpinAll();
    }
  }

  /**
   * Ends a transaction whose SQLite COMMIT succeeded: its pages join the open batch. Returns the
   * promise of that batch's record, or undefined for a read-only transaction with nothing pending
   * under it (the caller validates it against the tail). A read-only transaction that read a
   * pending batch joins the open batch too: it is validated with it and linearized at its slot (or,
   * if the batch has no writes, confirmed at the tail once the batches ahead have their records).
   * Under the lock.
   */
  commitLocal(ticket?: number): Promise<void> | undefined {
    const txn = this.file.txn as Layer;
    const readonly =
      txn.pages.size === 0 && txn.pageCount === (this.file.below.at(-1)?.pageCount ?? this.committed.pageCount);
    this.file.txn = undefined;
    if (readonly && !this.pending) return undefined;
    // Copied only for a batch (a scan's read set is every page of the table).
    const reads = new Set(this.file.reads);
    if (!this.#open) {
      const page1 = this.file.page(1);
      this.#open = new Batch(this.file.pageCount, page1 ?? null);
    }
    const wait = this.#open.add(txn, reads, this.committed.pageSize, ticket);
    if (!readonly) {
      this.#open.lastSeq = ++this.#localSeq;
      // SQLite's parsed schema is the one it just committed: the new head view's.
      this.#viewKey = this.#headKey();
      for (const f of this.snapshots) for (const p of txn.pages.keys()) f.changed?.add(p);
    }
    return wait;
  }

  /** Adds a read-only member (the pages the last statement read) to the open batch. Under the lock. */
  #joinReadonly(ticket?: number): Promise<void> {
    const reads = new Set(this.file.reads);
    this.#open ??= new Batch(this.#headPageCount(), this.#headPage1());
    return this.#open.add(new Layer(this.#open.layer.pageCount), reads, this.committed.pageSize, ticket);
  }

  /**
   * A view of the head as it is now that stays put while the handle moves on: a new page file
   * whose layers are copies of the pending batches' and whose page 1 and page count are frozen;
   * pages changed afterwards (by anyone) are tracked in its `changed`. Under the lock.
   */
  snapshotHead(): { file: PageFile; batches: Batch[]; basePage1: Uint8Array | null } {
    const file = new PageFile(this.committed);
    const batches = [this.#inflight, this.#open].filter((b): b is Batch => b !== undefined);
    const basePage1 = this.#headPage1();
    const base = new Layer(this.committed.pageCount);
    if (basePage1) base.pages.set(1, basePage1);
    file.below = [base, ...batches.map((b) => b.layer.copy())];
    file.changed = new Set();
    this.snapshots.add(file);
    return { file, batches, basePage1 };
  }

  /**
   * Commits an interactive transaction's layer (written on `file`, a snapshot) into the open
   * batch, if nothing it read or wrote changed since it began and the batches it saw are still
   * going to commit. Returns the batch's promise, or undefined for a conflict. Under the lock.
   */
  commitSnapshot(file: PageFile, batches: Batch[], basePage1: Uint8Array | null): Promise<void> | undefined {
    const txn = file.txn as Layer;
    const touched = new Set([...file.reads, ...txn.pages.keys()]);
    const headPage1 = this.#headPage1();
    if (batches.some((b) => b.failed) || !samePage1(basePage1, headPage1)) return undefined;
    for (const p of file.changed ?? []) if (p !== 1 && touched.has(p)) return undefined;
    const readonly = txn.pages.size === 0 && txn.pageCount === file.below.at(-1)?.pageCount;
    if (readonly && !this.pending) return Promise.resolve();
    if (!this.#open) this.#open = new Batch(this.#headPageCount(), headPage1);
    const wait = this.#open.add(txn, file.reads, this.committed.pageSize);
    if (!readonly) {
      this.#open.lastSeq = ++this.#localSeq;
      for (const f of this.snapshots) if (f !== file) for (const p of txn.pages.keys()) f.changed?.add(p);
    }
    return wait;
  }

  /**
   * A new connection on `file` (an interactive transaction's snapshot), set up through the
   * miss-fetch-retry loop. Not under the lock: it takes it only to fetch.
   */
  async snapshotConnection(file: PageFile): Promise<Connection> {
    const conn = await Connection.open(file);
    try {
      await this.runOnSnapshot(file, () => conn.configure());
      return conn;
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  /**
   * Runs `f` (statements on a snapshot's connection) once; on misses, fetches the pages (under
   * the lock) and throws MissSignal so the caller can replay. A page changed since the snapshot
   * began makes it a conflict.
   */
  async runOnSnapshot<T>(file: PageFile, f: () => T): Promise<T> {
    file.misses.clear();
    file.stale.clear();
    let result: T | undefined;
    let failure: unknown;
    try {
      result = f();
    } catch (error) {
      failure = error;
    }
    if (file.stale.size > 0)
      throw new ConflictError(1, 'a page this transaction needs was changed by a commit after it began');
    const misses = [...file.misses];
    if (misses.length > 0) {
      this.stats.restarts++;
      await this.lock.run(() => retryReads(() => this.fetcher.fetch(misses)), 0);
      throw new MissSignal();
    }
    if (failure !== undefined) throw failure;
    return result as T;
  }

  /** Stops tracking an interactive transaction's snapshot. */
  releaseSnapshot(file: PageFile): void {
    this.snapshots.delete(file);
    // Pages it fetched stayed pinned while it ran; let the cache evict them again.
    void this.lock.run(() => this.committed.cache.unpinAll(), 0);
  }

  #headPage1(): Uint8Array | null {
    return this.#open?.layer.pages.get(1) ?? this.#inflight?.layer.pages.get(1) ?? this.committed.page1;
  }

  #headPageCount(): number {
    return this.#open?.layer.pageCount ?? this.#inflight?.layer.pageCount ?? this.committed.pageCount;
  }

  /** Whether a read-only transaction that read `reads` on `base` is still valid after `changes`. */
  readonlyValid(reads: Set<number>, basePage1: Uint8Array | null, changes: Changes): boolean {
    if (!samePage1(basePage1, this.committed.page1)) return false;
    for (const p of changes.pages) if (p !== 1 && reads.has(p)) return false;
    return true;
  }

  /** Starts publishing batches if it is not running. */
  kick(): void {
    if (this.#publishing || !this.pending) return;
    this.#publishing = this.#publishLoop().finally(() => {
      this.#publishing = undefined;
      this.kick();
    });
  }

  /** Resolves when no batch is waiting for its record. */
  async settle(): Promise<void> {
    while (this.#publishing) await this.#publishing;
  }

  async #publishLoop(): Promise<void> {
    let attempt = 0;
    const strong = this.options.reads === 'strong';
    // Settling the batch in flight goes ahead of every call; starting the next one waits for the
    // calls already queued, so that they join it (otherwise records carry half the transactions).
    let afterQueued = false;
    for (;;) {
      const release = await this.lock.acquire(afterQueued ? this.lock.ticket() : 0, true);
      let batch: Batch;
      let entry: Uint8Array | undefined;
      let version = 0;
      let id = '';
      try {
        try {
          this.drain();
        } catch (error) {
          this.#abortAll(error);
          return;
        }
        if (!this.#inflight) {
          if (!afterQueued && this.#open && this.lock.waiting > 0) {
            afterQueued = true;
            continue;
          }
          afterQueued = false;
          attempt = 0;
          this.#inflight = this.#open;
          this.#open = undefined;
        }
        const b = this.#inflight;
        if (!b) return;
        if (!Engine.unsafeSkipValidation && !b.valid(samePage1(b.basePage1, this.committed.page1))) {
          this.stats.conflicts++;
          this.#abortAll(new RetrySignal());
          continue;
        }
        if (!b.hasWrites) {
          // Read-only transactions that read batches now committed: still valid (checked just
          // above), and for strong reads confirmed at the tail, which the next round re-checks.
          if (!strong || b.confirmed || Engine.unsafeSkipValidation) {
            b.resolve();
            this.#inflight = undefined;
            continue;
          }
        } else {
          const counter = this.committed.page1 ? changeCounter(this.committed.page1) : 0;
          const set = b.pageSet(this.committed.pageSize, counter);
          version = this.log.version + 1;
          id = commitIdFor(version);
          b.attempts.set(id, set);
          entry = encodeEntry(set);
        }
        batch = b;
      } finally {
        release();
      }
      try {
        if (!entry) {
          await retryCatchUp(
            () => this.log.confirmTail(),
            () => this.log.version,
          );
          batch.confirmed = true;
          continue;
        }
        const outcome = await this.log.tryAppend([entry], version, { commitId: id });
        if (!outcome.committed) {
          attempt++;
          if (attempt > this.options.maxAppendAttempts) throw new RetrySignal();
          await backoff(attempt);
          await retryCatchUp(
            () => this.log.catchUp(),
            () => this.log.version,
          );
        }
      } catch (error) {
        const unknown = isStoreError(error, 'AmbiguousWrite') ? new CommitUnknownError(id, version, error) : error;
        const release2 = await this.lock.acquire(0);
        try {
          try {
            this.drain();
          } catch {}
          if (this.#inflight === batch) this.#abortAll(unknown);
        } finally {
          release2();
        }
      }
    }
  }

  /** Fails the batch in flight with `error` and everything stacked on it with a retry. */
  #abortAll(error: unknown): void {
    const retry = (b: Batch | undefined) => {
      // Calls that will run again keep their place: no later call may overtake them.
      for (const t of b?.tickets ?? []) this.lock.reserve(t);
    };
    if (error instanceof RetrySignal) retry(this.#inflight);
    retry(this.#open);
    this.#inflight?.reject(error);
    this.#open?.reject(error instanceof RetrySignal ? error : new RetrySignal());
    this.#inflight = undefined;
    this.#open = undefined;
  }
}
