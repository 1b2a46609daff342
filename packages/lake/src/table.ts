import type { ObjectStore } from '@bucketdb/store';
import type { ArrowInput } from './arrow.js';
import { type Action, type AddFile, checkWritable, type RemoveFile } from './actions.js';
import { writeCheckpoint } from './checkpoint.js';
import { commit, type UnsafeOptions } from './commit.js';
import type { Duck, DuckSession } from './duck.js';
import { CommitConflictError, isLakeError, LakeArgumentError, UnsupportedFeatureError } from './errors.js';
import type { FileCache } from './file-cache.js';
import { dataKey } from './paths.js';
import { skipFile, tableRefs } from './prune.js';
import { duckType, ident, literal } from './schema.js';
import { DeltaLog, type HistoryEntry, type LogListing, type Snapshot, type SnapshotTarget } from './snapshot.js';
import { vacuum, type VacuumOptions, type VacuumResult } from './vacuum.js';
import { stageArrow, stageFiles, stageRows, stageSql, writeStaged } from './writer.js';

export interface TableContext {
  store: ObjectStore;
  duck: Duck;
  cache: FileCache;
  workDir: string;
  now: () => number;
  /** Write a checkpoint after every this many commits (the table's delta.checkpointInterval wins). */
  checkpointInterval: number;
  /** Checkpoints with more actions than this are written in parts. */
  checkpointMaxActionsPerPart?: number;
  /** Log listings this process has seen, so later reads probe for new commits instead of listing. */
  listings: Map<string, LogListing>;
  unsafe?: UnsafeOptions;
}

/**
 * Rows as objects, local files (.parquet, .csv, .json/.jsonl, .arrow Arrow IPC), or Arrow data (an
 * IPC buffer in stream or file format, or an Apache Arrow JS Table).
 */
export type WriteInput = readonly Record<string, unknown>[] | { files: readonly string[] } | { arrow: ArrowInput };

export interface WriteOptions {
  rowsPerFile?: number;
  sortBy?: readonly string[];
  /** Attempts after a commit conflict for operations that read files (default 5). */
  retries?: number;
  /**
   * An application's transaction identifier, committed with the data (the protocol's `txn`
   * action): incremental loaders record how far they got, atomically with what they loaded.
   * The append fails with a `ConcurrentTransaction` conflict unless `version` is above the
   * version the table records for `appId`, and, when `after` is given, unless the table records
   * exactly `after` (undefined: nothing yet) — the version the caller decided from.
   */
  txn?: { appId: string; version: number; after?: number | undefined };
}

export interface WriteResult {
  /** The version committed, or the current one when there was nothing to commit. */
  version: number;
  committed: boolean;
  rows: number;
  filesAdded: number;
  filesRemoved: number;
  /** Conflicting commits that made us start over. */
  retries: number;
  checkpointError?: Error;
}

/** One Delta table: reads, writes and maintenance; every write is one optimistic commit. */
export class DeltaTable {
  readonly name: string;
  readonly #ctx: TableContext;

  constructor(ctx: TableContext, name: string) {
    this.#ctx = ctx;
    this.name = name;
  }

  log(store: ObjectStore = this.#ctx.store): DeltaLog {
    return new DeltaLog(store, this.#ctx.cache, this.#ctx.duck, this.name, this.#ctx.listings);
  }

  snapshot(target: SnapshotTarget = {}): Promise<Snapshot> {
    return this.log().snapshot(target);
  }

  history(): Promise<HistoryEntry[]> {
    return this.log().history();
  }

  /** Adds rows (a blind append: never conflicts with concurrent writers except on metadata). */
  async append(input: WriteInput, options: WriteOptions = {}): Promise<WriteResult> {
    // With a txn the caller decides what to load from the recorded progress: never retry for it.
    const opts = options.txn ? { ...options, retries: 0 } : options;
    return this.#write('WRITE', { mode: 'Append' }, opts, async (s, snap) => {
      if (options.txn) checkTxnProgress(snap, options.txn);
      const rows = await this.#stage(s, snap, input);
      const adds = rows === 0 ? [] : await this.#writeStaged(s, snap, options);
      const txn: Action[] = options.txn
        ? [{ txn: { appId: options.txn.appId, version: options.txn.version, lastUpdated: this.#ctx.now() } }]
        : [];
      return { rows, actions: [...txn, ...adds.map((add): Action => ({ add }))], readFiles: new Set<string>() };
    });
  }

  /** Replaces the table's contents with the input. */
  async overwrite(input: WriteInput, options: WriteOptions = {}): Promise<WriteResult> {
    return this.#write('WRITE', { mode: 'Overwrite' }, options, async (s, snap) => {
      this.#checkMutable(snap);
      const rows = await this.#stage(s, snap, input);
      const adds = rows === 0 ? [] : await this.#writeStaged(s, snap, options);
      const removes = [...snap.files.values()].map((f) => this.#remove(f, true));
      return { rows, actions: [...removes, ...adds.map((add) => ({ add }))], readFiles: new Set(snap.files.keys()) };
    });
  }

  /** Deletes the rows where the SQL predicate is true. */
  async delete(where: string, options: WriteOptions = {}): Promise<WriteResult> {
    return this.#rewrite('DELETE', { predicate: where }, where, options, (cols) => ({
      filter: `NOT coalesce((${where}), false)`,
      select: cols,
    }));
  }

  /** Sets columns (to SQL expressions) in the rows where the predicate is true. */
  async update(where: string, set: Record<string, string>, options: WriteOptions = {}): Promise<WriteResult> {
    if (Object.keys(set).length === 0) throw new LakeArgumentError('update needs at least one column to set');
    return this.#rewrite('UPDATE', { predicate: where, set }, where, options, (cols, snap) => {
      for (const c of Object.keys(set)) {
        if (!snap.schema.fields.some((f) => f.name === c))
          throw new LakeArgumentError(`no column ${JSON.stringify(c)} to set`);
      }
      const select = snap.schema.fields.map((f) => {
        const expr = set[f.name];
        if (expr === undefined) return ident(f.name);
        return `CASE WHEN coalesce((${where}), false) THEN CAST((${expr}) AS ${duckType(f.type)}) ELSE ${ident(f.name)} END AS ${ident(f.name)}`;
      });
      return { filter: 'true', select: select.join(', ') };
    });
  }

  /**
   * Compacts each partition's files smaller than `targetFileBytes` into as few files as fit,
   * optionally sorted by columns. A dataChange=false rewrite: readers see the same rows.
   */
  async optimize(options: WriteOptions & { targetFileBytes?: number } = {}): Promise<WriteResult> {
    const target = options.targetFileBytes ?? 64 * 2 ** 20;
    return this.#write(
      'OPTIMIZE',
      { targetFileBytes: target, sortBy: options.sortBy ?? [] },
      options,
      async (s, snap) => {
        const groups = new Map<string, AddFile[]>();
        for (const f of snap.files.values()) {
          if (f.size >= target) continue;
          const k = JSON.stringify(snap.metadata.partitionColumns.map((c) => f.partitionValues[c] ?? null));
          groups.set(k, [...(groups.get(k) ?? []), f]);
        }
        const chosen = [...groups.values()].filter((g) => g.length > 1 || (options.sortBy?.length ?? 0) > 0).flat();
        if (chosen.length === 0) return { rows: 0, actions: [], readFiles: new Set<string>() };
        const rows = await this.#stageExisting(s, snap, chosen, () => ({ filter: 'true', select: '*' }));
        const adds = await this.#writeStaged(s, snap, options);
        return {
          rows,
          actions: [
            ...chosen.map((f) => this.#remove(f, false)),
            ...adds.map((add) => ({ add: { ...add, dataChange: false } })),
          ],
          readFiles: new Set(chosen.map((f) => f.path)),
        };
      },
    );
  }

  /** Deletes data files that no version inside the retention period needs. */
  vacuum(options: VacuumOptions = {}): Promise<VacuumResult> {
    return vacuum(this.#ctx.store, this.log(), this.#ctx.now(), options);
  }

  /** Writes a checkpoint of the given (default: latest) version. */
  async checkpoint(version?: number): Promise<number> {
    const snap = await this.snapshot(version === undefined ? {} : { version });
    await writeCheckpoint(this.#ctx.store, this.#ctx.duck, snap, this.#ctx.workDir, this.#ctx.now(), {
      ...(this.#ctx.checkpointMaxActionsPerPart === undefined
        ? {}
        : { maxActionsPerPart: this.#ctx.checkpointMaxActionsPerPart }),
    });
    return snap.version;
  }

  async #rewrite(
    operation: string,
    parameters: Record<string, unknown>,
    where: string,
    options: WriteOptions,
    plan: (columns: string, snap: Snapshot) => { filter: string; select: string },
  ): Promise<WriteResult> {
    return this.#write(operation, parameters, options, async (s, snap) => {
      this.#checkMutable(snap);
      const candidates = await this.#candidates(s, snap, where);
      const touched: AddFile[] = [];
      let rows = 0;
      for (const f of candidates) {
        const view = await this.#fileView(s, snap, f);
        const { rows: counted } = await s.rows(
          `SELECT count(*) FILTER (WHERE coalesce((${where}), false)) AS m FROM ${view}`,
        );
        const matched = Number(counted[0]?.['m']);
        if (matched === 0) continue;
        rows += matched;
        touched.push(f);
      }
      if (touched.length === 0) return { rows: 0, actions: [], readFiles: new Set(candidates.map((f) => f.path)) };
      const columns = snap.schema.fields.map((f) => ident(f.name)).join(', ');
      const kept = await this.#stageExisting(s, snap, touched, () => plan(columns, snap));
      const adds = kept === 0 ? [] : await this.#writeStaged(s, snap, options);
      return {
        rows,
        actions: [...touched.map((f) => this.#remove(f, true)), ...adds.map((add) => ({ add }))],
        readFiles: new Set(candidates.map((f) => f.path)),
      };
    });
  }

  async #write(
    operation: string,
    parameters: Record<string, unknown>,
    options: WriteOptions,
    build: (s: DuckSession, snap: Snapshot) => Promise<{ rows: number; actions: Action[]; readFiles: Set<string> }>,
  ): Promise<WriteResult> {
    const retries = options.retries ?? 5;
    for (let attempt = 0; ; attempt++) {
      const snap = await this.snapshot();
      checkWritable(snap.protocol);
      if (Object.values(snap.schema.fields).some((f) => 'delta.invariants' in f.metadata)) {
        throw new UnsupportedFeatureError(
          `table ${JSON.stringify(this.name)} has column invariants, which this writer does not check`,
        );
      }
      const built = await this.#ctx.duck.session((s) => build(s, snap));
      if (built.actions.length === 0) {
        return {
          version: snap.version,
          committed: false,
          rows: built.rows,
          filesAdded: 0,
          filesRemoved: 0,
          retries: attempt,
        };
      }
      try {
        const { version } = await commit(this.#ctx.store, {
          table: this.name,
          readVersion: snap.version,
          actions: built.actions,
          operation,
          operationParameters: parameters,
          readFiles: built.readFiles,
          now: this.#ctx.now,
          ...(this.#ctx.unsafe ? { unsafe: this.#ctx.unsafe } : {}),
        });
        const result: WriteResult = {
          version,
          committed: true,
          rows: built.rows,
          filesAdded: built.actions.filter((a) => 'add' in a).length,
          filesRemoved: built.actions.filter((a) => 'remove' in a).length,
          retries: attempt,
        };
        const interval = Number(
          snap.metadata.configuration['delta.checkpointInterval'] ?? this.#ctx.checkpointInterval,
        );
        if (interval > 0 && version % interval === 0) {
          // The commit has landed: a failed checkpoint must not look like a failed write.
          try {
            await this.checkpoint(version);
          } catch (e) {
            result.checkpointError = e as Error;
          }
        }
        return result;
      } catch (e) {
        // Our data files were uploaded but never committed: vacuum removes them after retention.
        if (!isLakeError(e, 'CommitConflict') || attempt >= retries) throw e;
      }
    }
  }

  #checkMutable(snap: Snapshot): void {
    if (snap.metadata.configuration['delta.appendOnly'] === 'true') {
      throw new UnsupportedFeatureError(`table ${JSON.stringify(this.name)} is append-only (delta.appendOnly)`);
    }
  }

  async #stage(s: DuckSession, snap: Snapshot, input: WriteInput): Promise<number> {
    if (Array.isArray(input)) return stageRows(s, snap.schema, input, this.#ctx.workDir);
    if (typeof input === 'object' && input !== null && 'arrow' in input) {
      return stageArrow(s, snap.schema, input.arrow, this.#ctx.workDir);
    }
    const files = (input as { files?: readonly string[] } | null)?.files;
    if (!Array.isArray(files) || files.length === 0)
      throw new LakeArgumentError('append needs rows, { files: [...] } or { arrow: buffer | Table }');
    return stageFiles(s, snap.schema, files, this.#ctx.workDir);
  }

  #writeStaged(s: DuckSession, snap: Snapshot, options: WriteOptions): Promise<AddFile[]> {
    return writeStaged(s, {
      store: this.#ctx.store,
      table: this.name,
      schema: snap.schema,
      partitionBy: snap.metadata.partitionColumns,
      workDir: this.#ctx.workDir,
      now: this.#ctx.now,
      ...(options.rowsPerFile === undefined ? {} : { rowsPerFile: options.rowsPerFile }),
      ...(options.sortBy === undefined ? {} : { sortBy: options.sortBy }),
    });
  }

  #remove(f: AddFile, dataChange: boolean): { remove: RemoveFile } {
    return {
      remove: {
        path: f.path,
        deletionTimestamp: this.#ctx.now(),
        dataChange,
        extendedFileMetadata: true,
        partitionValues: f.partitionValues,
        size: f.size,
      },
    };
  }

  /** The files a predicate may touch, after partition pruning and min/max skipping. */
  async #candidates(s: DuckSession, snap: Snapshot, where: string): Promise<AddFile[]> {
    const { rows } = await s.rows(`SELECT json_serialize_sql(${literal(`SELECT * FROM t WHERE ${where}`)}) AS j`);
    const ast = JSON.parse(String(rows[0]?.['j'])) as { error?: boolean; error_message?: string };
    if (ast.error) throw new LakeArgumentError(`bad predicate ${JSON.stringify(where)}: ${ast.error_message ?? ''}`);
    const columns = new Set(snap.schema.fields.map((f) => f.name));
    const conjuncts = tableRefs(ast, () => columns)[0]?.conjuncts ?? [];
    return [...snap.files.values()].filter(
      (f) => skipFile(f, snap.schema, snap.metadata.partitionColumns, conjuncts) === undefined,
    );
  }

  /** A view over one data file with its partition columns put back. */
  async #fileView(s: DuckSession, snap: Snapshot, f: AddFile): Promise<string> {
    const local = await this.#ctx.cache.get(this.#ctx.store, dataKey(this.name, f.path), String(f.size), f.size);
    const view = 'lake_file';
    await s.run(`CREATE OR REPLACE TEMP VIEW ${view} AS ${fileSelect(snap, f, local.path)}`);
    return view;
  }

  /** Stages rows of existing files (each filtered and projected by `plan`). */
  async #stageExisting(
    s: DuckSession,
    snap: Snapshot,
    files: readonly AddFile[],
    plan: () => { filter: string; select: string },
  ): Promise<number> {
    let first = true;
    let rows = 0;
    for (const f of files) {
      const view = await this.#fileView(s, snap, f);
      const { filter, select } = plan();
      rows = await stageSql(s, snap.schema, `SELECT ${select} FROM ${view} WHERE ${filter}`, `file ${f.path}`, !first);
      first = false;
    }
    return rows;
  }
}

/** SELECT of a data file's rows in schema order, partition values as typed constants. */
export function fileSelect(snap: Snapshot, f: AddFile, localPath: string | readonly string[]): string {
  const parts = snap.metadata.partitionColumns;
  const cols = snap.schema.fields.map((field) => {
    const type = duckType(field.type);
    if (!parts.includes(field.name)) return `CAST(${ident(field.name)} AS ${type}) AS ${ident(field.name)}`;
    const v = f.partitionValues[field.name];
    // An empty partition value means null (protocol: Partition Value Serialization).
    return `CAST(${v === null || v === undefined || v === '' ? 'NULL' : literal(v)} AS ${type}) AS ${ident(field.name)}`;
  });
  const paths = (typeof localPath === 'string' ? [localPath] : localPath).map(literal).join(', ');
  return `SELECT ${cols.join(', ')} FROM read_parquet([${paths}], union_by_name = true)`;
}

/**
 * The caller decided what to load from a snapshot it read before ours: a commit in between that
 * recorded progress for the same application (another ingester) makes that decision stale.
 */
function checkTxnProgress(snap: Snapshot, txn: NonNullable<WriteOptions['txn']>): void {
  const recorded = snap.txns.get(txn.appId)?.version;
  const stale = 'after' in txn ? recorded !== txn.after : recorded !== undefined && recorded >= txn.version;
  if (stale) {
    throw new CommitConflictError(
      'ConcurrentTransaction',
      snap.version,
      `application ${txn.appId} is at ${String(recorded)}, not ${'after' in txn ? String(txn.after) : `below ${txn.version}`}`,
    );
  }
}
