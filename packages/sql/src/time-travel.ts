import { CommitLog, LogPaths, readGcFloor } from '@bucketdb/log';
import {
  NotFoundError,
  type ListPage,
  type ListPageOptions,
  type ObjectStore,
  type StoreCall,
  WrappedStore,
} from '@bucketdb/store';
import { ReadOnlyError, VersionNotFoundError } from './errors.js';

/**
 * The store as a database at `version` saw it: records after `version`, checkpoints after it and
 * the checkpoint and open hints look absent, and every write fails with ReadOnlyError before any request.
 * A Database opened on it is the database as of that version, read-only.
 */
export class AtVersionStore extends WrappedStore {
  readonly version: number;
  readonly #paths: LogPaths;

  constructor(inner: ObjectStore, prefix: string, version: number) {
    super(inner);
    this.#paths = new LogPaths(prefix);
    this.version = version;
  }

  #hidden(key: string): boolean {
    if (key === this.#paths.lastCheckpoint || key === this.#paths.openHint) return true;
    const v = this.#paths.recordVersion(key) ?? this.#paths.checkpointObjectVersion(key);
    return v !== undefined && v > this.version;
  }

  protected around<T>(call: StoreCall, run: () => Promise<T>): Promise<T> {
    if (call.op === 'put' || call.op === 'delete' || call.op === 'deleteMany') {
      return Promise.reject(new ReadOnlyError(`this database is opened read-only at version ${this.version}`));
    }
    if ((call.op === 'get' || call.op === 'head') && this.#hidden(call.key)) {
      return Promise.reject(new NotFoundError(call.key));
    }
    return run();
  }

  override async listPage(options: ListPageOptions = {}): Promise<ListPage> {
    const page = await super.listPage(options);
    const entries = page.entries.filter((e) =>
      e.kind === 'object' ? !this.#hidden(e.key) : !this.#hidden(`${e.prefix}x`),
    );
    return { ...page, entries };
  }
}

/** InvalidArgument-like VersionNotFound if `version` is below the GC floor in force (its state may be gone). */
export async function assertRetained(store: ObjectStore, prefix: string, version: number): Promise<void> {
  const paths = new LogPaths(prefix);
  const got = await readGcFloor(store, paths);
  if (!got) return;
  const f = got.floor;
  // The higher of the two floors: the pending one may come into force while the caller reads.
  const floor = Math.max(f.floor, f.effective);
  if (version < floor) {
    throw new VersionNotFoundError(`version ${version} is older than the retention window (oldest retained: ${floor})`);
  }
}

/**
 * The version current at `time`: the newest record committed at or before it (by the committing
 * writer's clock), found by binary search over the retained records.
 */
export async function versionAt(store: ObjectStore, prefix: string, time: Date): Promise<number> {
  const t = time.getTime();
  if (!Number.isFinite(t)) throw new VersionNotFoundError('not a valid time');
  const paths = new LogPaths(prefix);
  const got = await readGcFloor(store, paths);
  const floor = got ? Math.max(got.floor.floor, got.floor.effective) : 0;
  const log = await CommitLog.open(store, { prefix });
  try {
    const latest = await log.latestCheckpoint();
    let tail = latest?.version ?? 0;
    for await (const e of store.list({ prefix: paths.logDir, startAfter: paths.record(tail) })) {
      const v = e.kind === 'object' ? paths.recordVersion(e.key) : undefined;
      if (v !== undefined) tail = v;
    }
    const first = await store.listPage({ prefix: paths.logDir, startAfter: paths.record(floor), pageSize: 1 });
    const firstEntry = first.entries[0];
    let lo = firstEntry?.kind === 'object' ? (paths.recordVersion(firstEntry.key) ?? tail) : tail;
    lo = Math.max(lo, floor);
    const timeOf = async (v: number) => (await log.read(v)).timestamp;
    if (tail === 0 || lo > tail || (await timeOf(lo)) > t) {
      // Before the oldest retained record: the checkpoint just below it, if it is old enough.
      const below = await log.latestCheckpoint(Math.max(lo - 1, 0));
      if (below && below.version >= floor && below.timestamp <= t && (below.version === lo - 1 || lo > tail)) {
        return below.version;
      }
      throw new VersionNotFoundError(
        `no retained version of ${prefix || 'the database'} is as old as ${time.toISOString()}`,
      );
    }
    let hi = tail;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((await timeOf(mid)) <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  } finally {
    await log.close();
  }
}

/** The version `at` names (a version, or a time), checked against the GC floor. */
export async function resolveAt(store: ObjectStore, prefix: string, at: number | Date): Promise<number> {
  if (at instanceof Date) return versionAt(store, prefix, at);
  if (!Number.isSafeInteger(at) || at < 0)
    throw new VersionNotFoundError(`a version is a whole number >= 0, got ${at}`);
  await assertRetained(store, prefix, at);
  return at;
}
