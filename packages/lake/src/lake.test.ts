import type { ObjectStore } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames, tempDir } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeltaTable, Lake } from './index.js';
import { commitKey } from './paths.js';

function trips(n: number, start = 0): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, j) => {
    const i = start + j;
    return {
      id: i,
      city: ['ams', 'ber', 'par'][i % 3],
      day: `2026-01-${String((i % 28) + 1).padStart(2, '0')}`,
      fare: (i % 97) + 0.5,
      note: i % 5 === 0 ? null : `trip ${i}`,
    };
  });
}

const SCHEMA = { id: 'long', city: 'string', day: 'date', fare: 'double', note: 'string' };

describe.each(testBackendNames())('lake on %s', (backendName) => {
  let backend: TestBackend;
  let store: ObjectStore;
  let lake: Lake;
  let table: DeltaTable;

  beforeAll(async () => {
    backend = await openTestBackend(backendName);
    store = await backend.newStore();
    lake = await Lake.open({ store, checkpointInterval: 4 });
    table = await lake.createTable('trips', { schema: SCHEMA, partitionBy: ['city'] });
  });
  afterAll(async () => {
    await lake?.close();
    await backend?.close();
  });

  it('closes through Symbol.asyncDispose, after which queries are refused', async () => {
    const other = await Lake.open({ store });
    expect((await other.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await other[Symbol.asyncDispose]();
    await expect(other.query('SELECT 1 AS one')).rejects.toThrow();
  });

  it('appends, queries, prunes, time-travels, deletes and updates', async () => {
    const first = await table.append(trips(300), { rowsPerFile: 50, sortBy: ['id'] });
    expect(first).toMatchObject({ version: 1, committed: true, rows: 300 });
    expect(first.filesAdded).toBe(6 + 0); // 100 rows per city, 50 per file
    await table.append(trips(30, 300));

    const all = await lake.query('SELECT count(*) AS n, sum(id) AS s FROM trips');
    expect(all.rows).toEqual([{ n: '330', s: String((329 * 330) / 2) }]);

    const one = await lake.query("SELECT id FROM trips WHERE city = 'ber' AND id < 40 ORDER BY id");
    expect(one.rows.map((r) => Number(r['id']))).toEqual(
      Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 3 === 1),
    );
    const [scan] = one.report.tables;
    expect(scan?.filesTotal).toBe(9);
    expect(scan?.filesSkippedByPartition).toBe(6);
    // ber's files: ids 1..148 and 151..298 (sorted), and 301..328: only the first can hold id < 40.
    expect(scan?.filesSkippedByStats).toBe(2);
    expect(scan?.filesRead).toBe(1);

    const del = await table.delete('id % 2 = 0 AND id < 100');
    expect(del).toMatchObject({ committed: true, rows: 50 });
    const upd = await table.update("city = 'par'", { fare: 'fare * 2', note: "'doubled'" });
    expect(upd.committed).toBe(true);
    expect(upd.version).toBe(4); // checkpoint interval 4: version 4 is checkpointed
    expect(upd.checkpointError).toBeUndefined();
    await store.head('trips/_delta_log/00000000000000000004.checkpoint.parquet');

    const now = await lake.query("SELECT count(*) AS n, sum(fare) AS f FROM trips WHERE note = 'doubled'");
    expect(now.rows[0]?.['n']).toBe(
      String(
        trips(330).filter((r) => r['city'] === 'par' && !((r['id'] as number) % 2 === 0 && (r['id'] as number) < 100))
          .length,
      ),
    );
    const v2 = await lake.query('SELECT count(*) AS n FROM trips VERSION AS OF 2');
    expect(v2.rows).toEqual([{ n: '330' }]);
    const v3 = await lake.query('SELECT count(*) AS n FROM trips VERSION AS OF 3');
    expect(v3.rows).toEqual([{ n: '280' }]);

    // A reader starting from the checkpoint sees what replay from version 0 sees.
    const fresh = await Lake.open({ store });
    try {
      const again = await fresh.query('SELECT count(*) AS n, sum(fare) AS f FROM trips');
      const before = await lake.query('SELECT count(*) AS n, sum(fare) AS f FROM trips');
      expect(again.rows).toEqual(before.rows);
    } finally {
      await fresh.close();
    }
  });

  it('writes commits in the protocol shape', async () => {
    const body = new TextDecoder().decode((await store.get(commitKey('trips', 0))).body);
    const actions = body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
    expect(actions.map((a) => Object.keys(a)[0])).toEqual(['commitInfo', 'protocol', 'metaData']);
    expect(actions[1]?.['protocol']).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    const meta = actions[2]?.['metaData'] as Record<string, unknown>;
    expect(meta['format']).toEqual({ provider: 'parquet', options: {} });
    expect(meta['partitionColumns']).toEqual(['city']);
    expect(JSON.parse(meta['schemaString'] as string)).toEqual({
      type: 'struct',
      fields: Object.entries(SCHEMA).map(([name, type]) => ({ name, type, nullable: true, metadata: {} })),
    });
  });
});

describe('lake files', () => {
  it('appends Parquet, CSV and JSON files and refuses bad ones without committing', async () => {
    await using dir = await tempDir('lake-files');
    const { MemoryStore } = await import('@bucketdb/store');
    const lake = await Lake.open({ store: new MemoryStore('files') });
    try {
      const t = await lake.createTable('t', { schema: { id: 'long', name: 'string' } });
      const { writeFile } = await import('node:fs/promises');
      await writeFile(`${dir.path}/a.csv`, 'id,name\n1,one\n2,two\n');
      await writeFile(`${dir.path}/b.json`, '{"id":3,"name":"three"}\n');
      await t.append({ files: [`${dir.path}/a.csv`, `${dir.path}/b.json`] });
      expect((await lake.query('SELECT count(*) AS n FROM t')).rows).toEqual([{ n: '3' }]);
      await writeFile(`${dir.path}/bad.parquet`, 'PAR1 this is not parquet');
      await expect(t.append({ files: [`${dir.path}/bad.parquet`] })).rejects.toMatchObject({ code: 'InvalidData' });
      await writeFile(`${dir.path}/wrong.csv`, 'id,name\nabc,x\n');
      await expect(t.append({ files: [`${dir.path}/wrong.csv`] })).rejects.toMatchObject({ code: 'SchemaMismatch' });
      await expect(t.append([{ id: 'x', name: 'y' }])).rejects.toMatchObject({ code: 'InvalidRows' });
      await expect(t.append([{ id: 1, other: 'y' }])).rejects.toMatchObject({ code: 'SchemaMismatch' });
      expect((await t.snapshot()).version).toBe(1);
    } finally {
      await lake.close();
    }
  });
});
