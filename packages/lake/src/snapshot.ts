import { readFile } from 'node:fs/promises';
import { isStoreError, type ListedObject, mapConcurrent, type ObjectStore } from '@bucketdb/store';
import {
  type Action,
  type AddFile,
  type CommitInfo,
  checkReadable,
  type Metadata,
  parseActions,
  type Protocol,
  type RemoveFile,
  type Txn,
} from './actions.js';
import type { Duck } from './duck.js';
import { CorruptLogError, isLakeError, TableNotFoundError, VersionNotFoundError } from './errors.js';
import type { FileCache } from './file-cache.js';
import { commitKey, logPrefix, parseLogKey } from './paths.js';
import { parseSchemaString, type Schema } from './schema.js';

/** A table's state at one version: the result of log replay. */
export interface Snapshot {
  table: string;
  version: number;
  /** The commit's timestamp (commitInfo.timestamp, else the commit object's modification time). */
  timestamp: number;
  protocol: Protocol;
  metadata: Metadata;
  schema: Schema;
  /** Live data files by path. */
  files: Map<string, AddFile>;
  /** Removed files by path (tombstones kept for vacuum's retention and checkpoints). */
  tombstones: Map<string, RemoveFile>;
  /** The latest transaction identifier (`txn` action) per application id. */
  txns: Map<string, Txn>;
}

export interface LogListing {
  commits: Map<number, ListedObject>;
  /** Complete checkpoints only (all parts present), by version. */
  checkpoints: Map<number, ListedObject[]>;
}

export interface SnapshotTarget {
  version?: number;
  /** Milliseconds since the epoch: the newest version committed at or before it. */
  timestamp?: number;
}

export interface HistoryEntry {
  version: number;
  timestamp: number;
  commitInfo: CommitInfo;
}

/** Reads a table's `_delta_log`: listing, commits, checkpoints, replay. */
export class DeltaLog {
  readonly table: string;
  readonly #store: ObjectStore;
  readonly #cache: FileCache;
  readonly #duck: Duck;
  readonly #listings: Map<string, LogListing> | undefined;

  /**
   * `listings`, shared by the logs of one process, lets a later `list()` skip the LIST: commits
   * are numbered without gaps and created put-if-absent, so HEAD of the next numbers until one is
   * absent finds every newer commit (strongly consistent, like a LIST, at a GET's price).
   * Checkpoints written meanwhile are not seen; the commits after the known one are replayed.
   */
  constructor(store: ObjectStore, cache: FileCache, duck: Duck, table: string, listings?: Map<string, LogListing>) {
    this.#store = store;
    this.#cache = cache;
    this.#duck = duck;
    this.table = table;
    this.#listings = listings;
  }

  async list(): Promise<LogListing> {
    const known = this.#listings?.get(this.table);
    if (known !== undefined && known.commits.size > 0) {
      const commits = new Map(known.commits);
      for (let v = Math.max(...commits.keys()) + 1; ; v++) {
        const key = commitKey(this.table, v);
        try {
          const info = await this.#store.head(key);
          commits.set(v, { kind: 'object', key, size: info.size, etag: info.etag, lastModified: info.lastModified });
        } catch (e) {
          if (isStoreError(e, 'NotFound')) break;
          throw e;
        }
      }
      const listing = { commits, checkpoints: known.checkpoints };
      this.#listings?.set(this.table, listing);
      return listing;
    }
    const listing = await this.#listAll();
    if (listing.commits.size > 0) this.#listings?.set(this.table, listing);
    return listing;
  }

  async #listAll(): Promise<LogListing> {
    const commits = new Map<number, ListedObject>();
    const parts = new Map<number, Map<string, ListedObject[]>>();
    for await (const entry of this.#store.list({ prefix: logPrefix(this.table) })) {
      if (entry.kind !== 'object') continue;
      const f = parseLogKey(this.table, entry.key);
      if (f?.kind === 'commit') commits.set(f.version, entry);
      else if (f?.kind === 'checkpoint') {
        const byParts = parts.get(f.version) ?? new Map<string, ListedObject[]>();
        parts.set(f.version, byParts);
        const group = `${f.parts}`;
        byParts.set(group, [...(byParts.get(group) ?? []), entry]);
      }
    }
    const checkpoints = new Map<number, ListedObject[]>();
    for (const [version, groups] of parts) {
      for (const [n, files] of groups) {
        if (files.length === Number(n))
          checkpoints.set(
            version,
            files.sort((a, b) => (a.key < b.key ? -1 : 1)),
          );
      }
    }
    return { commits, checkpoints };
  }

  async readCommit(version: number, entry: ListedObject): Promise<Action[]> {
    const local = await this.#cache.get(this.#store, entry.key, entry.etag, entry.size);
    return parseActions(await readFile(local.path), `commit ${version} (${entry.key})`);
  }

  async latestVersion(listing?: LogListing): Promise<number> {
    const { commits } = listing ?? (await this.list());
    if (commits.size === 0) throw new TableNotFoundError(this.table);
    return Math.max(...commits.keys());
  }

  async snapshot(target: SnapshotTarget = {}, given?: LogListing): Promise<Snapshot> {
    if (given === undefined && this.#listings?.has(this.table)) {
      try {
        return await this.#snapshot(target, await this.list());
      } catch (e) {
        // Another engine may have cleaned up commits our remembered listing still names: list afresh.
        if (!isLakeError(e, 'VersionNotFound')) throw e;
        this.#listings.delete(this.table);
      }
    }
    return this.#snapshot(target, given ?? (await this.list()));
  }

  async #snapshot(target: SnapshotTarget, listing: LogListing): Promise<Snapshot> {
    if (listing.commits.size === 0 && listing.checkpoints.size === 0) throw new TableNotFoundError(this.table);
    const latest = Math.max(...listing.commits.keys(), ...listing.checkpoints.keys());
    let version = target.version ?? latest;
    if (target.timestamp !== undefined) version = await this.versionAt(target.timestamp, listing);
    if (!Number.isSafeInteger(version) || version < 0 || version > latest) {
      throw new VersionNotFoundError(
        `table ${JSON.stringify(this.table)} has versions up to ${latest}, not ${version}`,
      );
    }
    const cp = Math.max(-1, ...[...listing.checkpoints.keys()].filter((v) => v <= version));
    const state: Replay = { files: new Map(), tombstones: new Map(), txns: new Map() };
    if (cp >= 0) this.#apply(state, await this.#readCheckpoint(cp, listing.checkpoints.get(cp) ?? []));
    const versions: number[] = [];
    for (let v = cp + 1; v <= version; v++) {
      if (!listing.commits.has(v)) {
        throw new VersionNotFoundError(
          `table ${JSON.stringify(this.table)}: commit ${v} is missing, so version ${version} cannot be reconstructed`,
        );
      }
      versions.push(v);
    }
    const commits = await mapConcurrent(versions, 8, (v) => this.readCommit(v, listing.commits.get(v) as ListedObject));
    let timestamp = listing.commits.get(version)?.lastModified.getTime() ?? 0;
    for (const actions of commits) {
      this.#apply(state, actions);
      for (const a of actions)
        if ('commitInfo' in a && typeof a.commitInfo.timestamp === 'number') timestamp = a.commitInfo.timestamp;
    }
    if (state.protocol === undefined || state.metadata === undefined) {
      throw new CorruptLogError(
        `table ${JSON.stringify(this.table)} has no protocol or metaData action by version ${version}`,
      );
    }
    checkReadable(state.protocol);
    return {
      table: this.table,
      version,
      timestamp,
      protocol: state.protocol,
      metadata: state.metadata,
      schema: parseSchemaString(state.metadata.schemaString),
      files: state.files,
      tombstones: state.tombstones,
      txns: state.txns,
    };
  }

  /** Commits with their commitInfo, newest first. */
  async history(listing?: LogListing): Promise<HistoryEntry[]> {
    const { commits } = listing ?? (await this.list());
    if (commits.size === 0) throw new TableNotFoundError(this.table);
    const versions = [...commits.keys()].sort((a, b) => b - a);
    return mapConcurrent(versions, 8, async (version) => {
      const entry = commits.get(version) as ListedObject;
      const info = (await this.readCommit(version, entry)).find((a) => 'commitInfo' in a) as
        { commitInfo: CommitInfo } | undefined;
      const timestamp = info?.commitInfo.timestamp ?? entry.lastModified.getTime();
      return { version, timestamp, commitInfo: info?.commitInfo ?? {} };
    });
  }

  /** The newest version whose commit timestamp is at or before `timestamp`. */
  async versionAt(timestamp: number, listing?: LogListing): Promise<number> {
    const history = await this.history(listing);
    // Timestamps are made monotone in version order, as the protocol asks of readers.
    let floor = -Infinity;
    const adjusted = history
      .slice()
      .reverse()
      .map((h) => {
        floor = Math.max(floor + 1, h.timestamp);
        return { version: h.version, timestamp: floor };
      });
    const hit = adjusted.filter((h) => h.timestamp <= timestamp).pop();
    if (hit === undefined) {
      throw new VersionNotFoundError(
        `table ${JSON.stringify(this.table)} has no version at or before ${new Date(timestamp).toISOString()}`,
      );
    }
    return hit.version;
  }

  #apply(state: Replay, actions: readonly Action[]): void {
    for (const a of actions) {
      if ('protocol' in a) state.protocol = a.protocol;
      else if ('metaData' in a) state.metadata = a.metaData;
      else if ('add' in a) {
        state.files.set(a.add.path, a.add);
        state.tombstones.delete(a.add.path);
      } else if ('remove' in a) {
        state.files.delete(a.remove.path);
        state.tombstones.set(a.remove.path, a.remove);
      } else if ('txn' in a) state.txns.set(a.txn.appId, a.txn);
    }
  }

  async #readCheckpoint(version: number, parts: readonly ListedObject[]): Promise<Action[]> {
    const locals = await mapConcurrent(parts, 4, (p) => this.#cache.get(this.#store, p.key, p.etag, p.size));
    const list = locals.map((l) => `'${l.path.replace(/'/g, "''")}'`).join(', ');
    try {
      return await this.#duck.session(async (s) => {
        const { rows } = await s.rows(`SELECT to_json(c) AS j FROM read_parquet([${list}]) c`);
        const actions: Action[] = [];
        for (const row of rows) {
          const obj = JSON.parse(String(row['j'])) as Record<string, unknown>;
          for (const kind of ['protocol', 'metaData', 'add', 'remove', 'txn'] as const) {
            const value = obj[kind];
            if (value !== null && value !== undefined) actions.push({ [kind]: dropNulls(value) } as Action);
          }
        }
        return actions;
      });
    } catch (e) {
      if (isLakeError(e, 'QueryFailed')) {
        throw new CorruptLogError(
          `checkpoint ${version} of ${JSON.stringify(this.table)} cannot be read: ${e.message}`,
          {
            cause: e,
          },
        );
      }
      throw e;
    }
  }
}

interface Replay {
  protocol?: Protocol;
  metadata?: Metadata;
  files: Map<string, AddFile>;
  tombstones: Map<string, RemoveFile>;
  txns: Map<string, Txn>;
}

/** Checkpoint structs have every field; absent optional fields come back null. */
function dropNulls(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null && k !== 'partitionValues') continue;
    out[k] = k === 'partitionValues' || k === 'configuration' || k === 'options' ? v : dropNulls(v);
  }
  return out;
}
