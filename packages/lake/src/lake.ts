import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Meter, metered, type ObjectStore } from '@bucketdb/store';
import { READER_VERSION, WRITER_VERSION } from './actions.js';
import { commit, type UnsafeOptions } from './commit.js';
import { Duck } from './duck.js';
import { isLakeError, LakeArgumentError, TableExistsError } from './errors.js';
import { FileCache } from './file-cache.js';
import { checkTableName } from './paths.js';
import { type QueryOptions, type QueryResult, runQuery } from './query.js';
import { type SchemaInput, schemaFrom } from './schema.js';
import { DeltaTable, type TableContext } from './table.js';
import { PARTITION_TYPES } from './writer.js';

export interface LakeOptions {
  /** Where tables live; each table is a prefix `<name>/` of this store. */
  store: ObjectStore;
  /** Local cache of fetched data and log files (default: a fresh directory under the OS temp dir). */
  cacheDir?: string;
  /** Milliseconds since the epoch, for commit timestamps and retention (default Date.now). */
  now?: () => number;
  /** Checkpoint after every this many commits (default 10, as the protocol's writers do). */
  checkpointInterval?: number;
  /** Checkpoints with more actions than this are written as multi-part checkpoints (default 1,000,000). */
  checkpointMaxActionsPerPart?: number;
  /** DuckDB worker threads (default: DuckDB's choice). */
  threads?: number;
  /** Deliberately broken commits, only for the negative tests of the correctness checkers. */
  unsafe?: UnsafeOptions;
}

export interface CreateTableOptions {
  schema: SchemaInput;
  partitionBy?: readonly string[];
  /** Table properties (`delta.appendOnly`, `delta.checkpointInterval`, ...). */
  configuration?: Record<string, string>;
  name?: string;
  description?: string;
}

/**
 * Delta Lake tables on one store, and SQL over them. Every request to the store goes through
 * `meter`, so callers can cost what the lake did.
 */
export class Lake {
  readonly meter: Meter;
  readonly #ctx: TableContext;
  readonly #ownCache: boolean;

  private constructor(ctx: TableContext, meter: Meter, ownCache: boolean) {
    this.#ctx = ctx;
    this.meter = meter;
    this.#ownCache = ownCache;
  }

  static async open(options: LakeOptions): Promise<Lake> {
    const meter = new Meter();
    const cacheDir = options.cacheDir ?? join(tmpdir(), `bucketdb-lake-${randomUUID()}`);
    const workDir = join(cacheDir, 'work');
    await mkdir(workDir, { recursive: true });
    const duck = await Duck.open(options.threads === undefined ? {} : { threads: options.threads });
    return new Lake(
      {
        store: metered(options.store, meter),
        duck,
        cache: new FileCache(join(cacheDir, 'files')),
        workDir,
        now: options.now ?? Date.now,
        checkpointInterval: options.checkpointInterval ?? 10,
        ...(options.checkpointMaxActionsPerPart === undefined
          ? {}
          : { checkpointMaxActionsPerPart: options.checkpointMaxActionsPerPart }),
        listings: new Map(),
        ...(options.unsafe ? { unsafe: options.unsafe } : {}),
      },
      meter,
      options.cacheDir === undefined,
    );
  }

  get cacheDir(): string {
    return join(this.#ctx.cache.dir, '..');
  }

  table(name: string): DeltaTable {
    return new DeltaTable(this.#ctx, checkTableName(name));
  }

  /** Creates a table (version 0: protocol 1/2, metaData); fails if one exists at the name. */
  async createTable(name: string, options: CreateTableOptions): Promise<DeltaTable> {
    const table = this.table(name);
    const schema = schemaFrom(options.schema);
    const partitionBy = [...(options.partitionBy ?? [])];
    for (const c of partitionBy) {
      const field = schema.fields.find((f) => f.name === c);
      if (field === undefined)
        throw new LakeArgumentError(`partition column ${JSON.stringify(c)} is not in the schema`);
      if (!PARTITION_TYPES.includes(field.type)) {
        throw new LakeArgumentError(
          `partition column ${JSON.stringify(c)} is ${field.type}; partition by ${PARTITION_TYPES.join(', ')}`,
        );
      }
    }
    if (partitionBy.length === schema.fields.length)
      throw new LakeArgumentError('a table needs a column that is not a partition column');
    if ((await table.log().list()).commits.size > 0) throw new TableExistsError(name);
    try {
      await commit(this.#ctx.store, {
        table: name,
        readVersion: -1,
        operation: 'CREATE TABLE',
        operationParameters: { partitionBy: JSON.stringify(partitionBy) },
        now: this.#ctx.now,
        maxVersionsAhead: 0,
        actions: [
          { protocol: { minReaderVersion: READER_VERSION, minWriterVersion: WRITER_VERSION } },
          {
            metaData: {
              id: randomUUID(),
              ...(options.name === undefined ? {} : { name: options.name }),
              ...(options.description === undefined ? {} : { description: options.description }),
              format: { provider: 'parquet', options: {} },
              schemaString: JSON.stringify(schema),
              partitionColumns: partitionBy,
              configuration: options.configuration ?? {},
              createdTime: this.#ctx.now(),
            },
          },
        ],
      });
    } catch (e) {
      if (isLakeError(e, 'CommitConflict')) throw new TableExistsError(name);
      throw e;
    }
    return table;
  }

  /** Runs SQL in which table names (optionally `VERSION AS OF n` / `TIMESTAMP AS OF '…'`) are lake tables. */
  query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    return runQuery(this.#ctx, sql, options);
  }

  async close(): Promise<void> {
    this.#ctx.duck.close();
    if (this.#ownCache) await rm(this.cacheDir, { recursive: true, force: true });
  }

  /** `await using lake = await Lake.open(…)` closes it (DuckDB and an own cache directory) at scope end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
