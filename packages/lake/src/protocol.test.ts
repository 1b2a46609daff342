import { DuckDBInstance } from '@duckdb/node-api';
import { writeFile } from 'node:fs/promises';
import { MemoryStore } from '@bucketdb/store';
import { tempDir } from '@bucketdb/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AddFile, Lake, parseActions, serializeActions } from './index.js';
import { checkpointKey, commitKey, lastCheckpointKey } from './paths.js';

let store: MemoryStore;
let lake: Lake;
let clock: number;

beforeEach(async () => {
  store = new MemoryStore('protocol');
  clock = Date.UTC(2026, 0, 1);
  lake = await Lake.open({ store, now: () => clock, checkpointInterval: 3 });
});
afterEach(async () => {
  await lake.close();
});

async function actionsOf(table: string, version: number) {
  return parseActions((await store.get(commitKey(table, version))).body, `v${version}`);
}

async function duckRows(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(`SET TimeZone = 'UTC'`);
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

describe('what we write follows the Delta protocol', () => {
  it('add actions: relative URI paths, partition values as strings, size, stats per the spec', async () => {
    const t = await lake.createTable('ev', {
      schema: { id: 'long', kind: 'string', day: 'date', at: 'timestamp', v: 'double', ok: 'boolean' },
      partitionBy: ['kind'],
    });
    await t.append([
      { id: 1, kind: 'a b', day: '2026-01-02', at: '2026-01-02T03:04:05.123456Z', v: 1.5, ok: true },
      { id: 7, kind: 'a b', day: '2026-01-01', at: null, v: -2, ok: null },
      { id: 3, kind: null, day: null, at: '2026-01-01T00:00:00Z', v: null, ok: false },
    ]);
    const adds = (await actionsOf('ev', 1)).flatMap((a) => ('add' in a ? [a.add] : [])) as AddFile[];
    expect(adds).toHaveLength(2);
    const ab = adds.find((a) => a.partitionValues['kind'] === 'a b') as AddFile;
    expect(ab.path).toMatch(/^kind=a%20b\/part-00000-[0-9a-f-]{36}\.c000\.snappy\.parquet$/);
    expect(ab.dataChange).toBe(true);
    expect(ab.modificationTime).toBe(clock);
    const object = await store.head(`ev/${decodeURIComponent(ab.path)}`);
    expect(ab.size).toBe(object.size);
    expect(JSON.parse(ab.stats as string)).toEqual({
      numRecords: 2,
      // Partition columns are not in the file and have no stats; booleans have only null counts.
      minValues: { id: 1, day: '2026-01-01', at: '2026-01-02T03:04:05.123Z', v: -2 },
      maxValues: { id: 7, day: '2026-01-02', at: '2026-01-02T03:04:05.124Z', v: 1.5 },
      nullCount: { id: 0, day: 0, at: 1, v: 0, ok: 1 },
    });
    const nul = adds.find((a) => a.partitionValues['kind'] === null) as AddFile;
    expect(nul.path).toMatch(/^kind=__HIVE_DEFAULT_PARTITION__\//);
    // The data file holds the non-partition columns only, readable by DuckDB's own Parquet reader.
    const local = `${(await tempDir('lake-pq')).path}/f.parquet`;
    await writeFile(local, (await store.get(`ev/${decodeURIComponent(ab.path)}`)).body);
    const cols = await duckRows(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('${local}'))`);
    expect(cols.map((c) => c['column_name'])).toEqual(['id', 'day', 'at', 'v', 'ok']);
  });

  it('round-trips through DuckDB: the same rows from our query and from the Parquet files directly', async () => {
    const t = await lake.createTable('r', { schema: { id: 'long', s: 'string', g: 'integer' }, partitionBy: ['g'] });
    const rows = Array.from({ length: 500 }, (_, i) => ({ id: i * 7919, s: `s${(i * 31) % 101}`, g: i % 4 }));
    await t.append(rows, { rowsPerFile: 60 });
    await t.delete('id % 3 = 0');
    const ours = await lake.query('SELECT id, s, g FROM r ORDER BY id');
    // Read the live files ourselves with DuckDB, adding the partition column from the log.
    const snap = await t.snapshot();
    const dir = await tempDir('lake-rt');
    const parts: string[] = [];
    let n = 0;
    for (const f of snap.files.values()) {
      const path = `${dir.path}/${n++}.parquet`;
      await writeFile(path, (await store.get(`r/${decodeURIComponent(f.path)}`)).body);
      parts.push(`SELECT id, s, ${Number(f.partitionValues['g'])} AS g FROM read_parquet('${path}')`);
    }
    const direct = await duckRows(`SELECT id, s, g FROM (${parts.join(' UNION ALL ')}) ORDER BY id`);
    expect(ours.rows).toEqual(direct);
    expect(ours.rows).toEqual(
      rows
        .filter((r) => r.id % 3 !== 0)
        .sort((a, b) => a.id - b.id)
        .map((r) => ({ id: String(r.id), s: r.s, g: r.g })),
    );
    await dir.remove();
  });

  it('checkpoints: the protocol schema, _last_checkpoint, and replay that starts from them', async () => {
    const t = await lake.createTable('c', { schema: { id: 'long', p: 'string' }, partitionBy: ['p'] });
    await t.append([{ id: 1, p: 'x' }]);
    await t.append([{ id: 2, p: 'y' }]);
    const v3 = await t.delete('id = 1');
    expect(v3.version).toBe(3);
    const last = JSON.parse(new TextDecoder().decode((await store.get(lastCheckpointKey('c'))).body)) as Record<
      string,
      number
    >;
    expect(last).toMatchObject({ version: 3, size: 4, numOfAddFiles: 1 });
    const dir = await tempDir('lake-cp');
    const local = `${dir.path}/cp.parquet`;
    await writeFile(local, (await store.get(checkpointKey('c', 3))).body);
    const schema = await duckRows(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${local}'))`,
    );
    // Field names and types of the protocol's checkpoint schema (DuckDB quotes reserved words).
    expect(Object.fromEntries(schema.map((r) => [r['column_name'], r['column_type']]))).toEqual({
      txn: 'STRUCT(appId VARCHAR, "version" BIGINT, lastUpdated BIGINT)',
      add: 'STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR, tags MAP(VARCHAR, VARCHAR))',
      remove:
        'STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT)',
      metaData:
        'STRUCT(id VARCHAR, "name" VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, "options" MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], "configuration" MAP(VARCHAR, VARCHAR), createdTime BIGINT)',
      protocol:
        'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])',
    });
    const kinds = await duckRows(
      `SELECT count(add) AS adds, count(remove) AS removes, count(metaData) AS meta, count(protocol) AS proto FROM read_parquet('${local}')`,
    );
    expect(kinds).toEqual([{ adds: '1', removes: '1', meta: '1', proto: '1' }]);
    // Remove the commits the checkpoint covers: a reader must now start from the checkpoint.
    for (const v of [0, 1, 2, 3]) await store.delete(commitKey('c', v));
    const fresh = await Lake.open({ store });
    expect((await fresh.query('SELECT id, p FROM c')).rows).toEqual([{ id: '2', p: 'y' }]);
    await expect(fresh.query('SELECT * FROM c VERSION AS OF 2')).rejects.toMatchObject({ code: 'VersionNotFound' });
    await fresh.close();
    await dir.remove();
  });

  it('multi-part checkpoints past the action threshold: parts, _last_checkpoint.parts, read back by us and DuckDB', async () => {
    const parted = await Lake.open({ store, now: () => clock, checkpointInterval: 0, checkpointMaxActionsPerPart: 4 });
    try {
      const t = await parted.createTable('mp', { schema: { id: 'long', p: 'string' }, partitionBy: ['p'] });
      for (let i = 0; i < 4; i++) await t.append([0, 1].map((k) => ({ id: i * 2 + k, p: `p${k}` })));
      await t.delete('id = 0');
      expect(await t.checkpoint()).toBe(5);
      // protocol + metaData + 7 adds + 1 remove = 10 actions: parts of 4, 4 and 2.
      const keys: string[] = [];
      for await (const e of store.list({ prefix: 'mp/_delta_log/' })) if (e.kind === 'object') keys.push(e.key);
      const parts = [1, 2, 3].map((i) => checkpointKey('mp', 5, i, 3));
      expect(keys.filter((k) => k.includes('.checkpoint.'))).toEqual(parts);
      expect(parts[0]).toMatch(/00000000000000000005\.checkpoint\.0000000001\.0000000003\.parquet$/);
      const last = JSON.parse(new TextDecoder().decode((await store.get(lastCheckpointKey('mp'))).body)) as Record<
        string,
        number
      >;
      expect(last).toMatchObject({ version: 5, size: 10, parts: 3, numOfAddFiles: 7 });
      const dir = await tempDir('lake-mp');
      const locals: string[] = [];
      for (const [i, key] of parts.entries()) {
        locals.push(`${dir.path}/part${i}.parquet`);
        await writeFile(locals[i] as string, (await store.get(key)).body);
      }
      // DuckDB's own Parquet reader: each part is a checkpoint file; together they hold the table's state.
      const perPart = await duckRows(
        `SELECT filename[-13:] AS f, count(*) AS n, count(protocol) AS proto, count(metaData) AS meta, count(add) AS adds,
           count(remove) AS removes FROM read_parquet([${locals.map((l) => `'${l}'`).join(', ')}], filename = true) GROUP BY 1 ORDER BY 1`,
      );
      expect(perPart).toEqual([
        { f: 'part0.parquet', n: '4', proto: '1', meta: '1', adds: '2', removes: '0' },
        { f: 'part1.parquet', n: '4', proto: '0', meta: '0', adds: '4', removes: '0' },
        { f: 'part2.parquet', n: '2', proto: '0', meta: '0', adds: '1', removes: '1' },
      ]);
      // Our reader, with the commits before the checkpoint gone, starts from the three parts.
      for (let v = 0; v < 5; v++) await store.delete(commitKey('mp', v));
      const fresh = await Lake.open({ store });
      expect((await fresh.query('SELECT id FROM mp ORDER BY id')).rows.map((r) => Number(r['id']))).toEqual([
        1, 2, 3, 4, 5, 6, 7,
      ]);
      // A checkpoint with a part missing is not used: the reader would need commits 0 to 4, which are gone.
      await store.delete(parts[1] as string);
      const partial = await Lake.open({ store });
      await expect(partial.query('SELECT id FROM mp')).rejects.toMatchObject({ code: 'VersionNotFound' });
      await partial.close();
      await fresh.close();
      await dir.remove();
    } finally {
      await parted.close();
    }
  });
});

describe('time travel', () => {
  it('by version and by timestamp, exactly', async () => {
    const t = await lake.createTable('tt', { schema: { id: 'long' } });
    const at: number[] = [clock];
    for (let v = 1; v <= 5; v++) {
      clock += 60_000;
      at.push(clock);
      await t.append([{ id: v }]);
    }
    for (let v = 0; v <= 5; v++) {
      const byVersion = await lake.query(`SELECT count(*) AS n FROM tt VERSION AS OF ${v}`);
      expect(byVersion.rows).toEqual([{ n: String(v) }]);
      const iso = new Date((at[v] as number) + 30_000).toISOString();
      const byTime = await lake.query(`SELECT count(*) AS n FROM tt TIMESTAMP AS OF '${iso}'`);
      expect(byTime.rows).toEqual([{ n: String(v) }]);
      expect(byTime.report.tables[0]?.version).toBe(v);
    }
    await expect(lake.query(`SELECT * FROM tt TIMESTAMP AS OF '2020-01-01'`)).rejects.toMatchObject({
      code: 'VersionNotFound',
    });
    await expect(lake.query(`SELECT * FROM tt VERSION AS OF 9`)).rejects.toMatchObject({ code: 'VersionNotFound' });
  });
});

describe('refusals', () => {
  it('an unknown reader feature in the log refuses reads and writes, committing nothing', async () => {
    const t = await lake.createTable('f', { schema: { id: 'long' } });
    await store.put(
      commitKey('f', 1),
      serializeActions([
        {
          protocol: {
            minReaderVersion: 3,
            minWriterVersion: 7,
            readerFeatures: ['deletionVectors'],
            writerFeatures: ['deletionVectors'],
          },
        },
      ]),
    );
    await expect(lake.query('SELECT * FROM f')).rejects.toMatchObject({
      code: 'UnsupportedFeature',
      message: expect.stringContaining('deletionVectors'),
    });
    await expect(t.append([{ id: 1 }])).rejects.toMatchObject({ code: 'UnsupportedFeature' });
    await expect(store.head(commitKey('f', 2))).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('creating a table twice, bad schemas, bad predicates', async () => {
    await lake.createTable('x', { schema: { id: 'long' } });
    await expect(lake.createTable('x', { schema: { id: 'long' } })).rejects.toMatchObject({ code: 'TableExists' });
    await expect(lake.createTable('y', { schema: { id: 'map<string,int>' } })).rejects.toMatchObject({
      code: 'InvalidArgument',
    });
    await expect(lake.createTable('y', { schema: { id: 'long' }, partitionBy: ['nope'] })).rejects.toMatchObject({
      code: 'InvalidArgument',
    });
    await expect(lake.table('x').delete('id = ')).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(lake.table('missing').append([{ id: 1 }])).rejects.toMatchObject({ code: 'TableNotFound' });
    await expect(lake.table('x').append([{ id: 2 ** 70 }])).rejects.toMatchObject({ code: 'InvalidRows' });
    await expect(lake.createTable('../up', { schema: { id: 'long' } })).rejects.toMatchObject({
      code: 'InvalidArgument',
    });
  });

  it('a stale delete whose files were removed meanwhile conflicts; a stale blind append does not', async () => {
    const { commit } = await import('./commit.js');
    const t = await lake.createTable('k', { schema: { id: 'long' } });
    await t.append([{ id: 1 }]);
    const stale = await t.snapshot();
    const [file] = [...stale.files.keys()];
    await t.delete('id = 1');
    await expect(
      commit(store, {
        table: 'k',
        readVersion: stale.version,
        actions: [{ remove: { path: file as string, dataChange: true, deletionTimestamp: clock } }],
        readFiles: new Set([file as string]),
        operation: 'DELETE',
        now: () => clock,
      }),
    ).rejects.toMatchObject({ code: 'CommitConflict', kind: 'ConcurrentDeleteRead' });
    const appended = await commit(store, {
      table: 'k',
      readVersion: stale.version,
      actions: [
        { add: { path: 'x.parquet', partitionValues: {}, size: 1, modificationTime: clock, dataChange: true } },
      ],
      operation: 'WRITE',
      now: () => clock,
    });
    expect(appended).toEqual({ version: 3, skipped: 1 });
  });
});

describe('maintenance', () => {
  it('optimize compacts small files without changing rows; vacuum keeps what retained versions need', async () => {
    const t = await lake.createTable('m', { schema: { id: 'long', p: 'integer' }, partitionBy: ['p'] });
    for (let i = 0; i < 4; i++) {
      clock += 3_600_000;
      await t.append(Array.from({ length: 20 }, (_, j) => ({ id: i * 20 + j, p: j % 2 })));
    }
    const before = (await lake.query('SELECT sum(id) AS s, count(*) AS n FROM m')).rows;
    expect((await t.snapshot()).files.size).toBe(8);
    clock += 3_600_000;
    const opt = await t.optimize({ sortBy: ['id'] });
    expect(opt).toMatchObject({ committed: true, filesRemoved: 8, filesAdded: 2 });
    expect((await lake.query('SELECT sum(id) AS s, count(*) AS n FROM m')).rows).toEqual(before);
    const optimizeVersion = opt.version;
    // Removed files stay while a version inside the retention window needs them...
    clock += 2 * 3_600_000;
    const early = await t.vacuum({ retentionMs: 3 * 3_600_000 });
    expect(early.deleted).toEqual([]);
    expect((await lake.query(`SELECT count(*) AS n FROM m VERSION AS OF ${optimizeVersion - 1}`)).rows).toEqual([
      { n: '80' },
    ]);
    // ...and go once the removal is older than the retention.
    clock += 2 * 3_600_000;
    const late = await t.vacuum({ retentionMs: 3 * 3_600_000, dryRun: true });
    expect(late.deleted).toHaveLength(8);
    expect((await t.vacuum({ retentionMs: 3 * 3_600_000 })).deleted).toHaveLength(8);
    expect((await lake.query('SELECT sum(id) AS s, count(*) AS n FROM m')).rows).toEqual(before);
    await expect(t.vacuum({ retentionMs: 1000 })).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});
