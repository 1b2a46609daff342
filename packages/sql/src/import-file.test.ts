import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryStore } from '@bucketdb/store';
import { tempDir } from '@bucketdb/testkit';
import { expect, test } from 'vitest';
import { Database } from './database.js';
import { importSqliteFile } from './import-file.js';
import { loadSqlite } from './sqlite.js';

test('an existing SQLite file becomes a database, read lazily and writable', async () => {
  await using dir = await tempDir('bucketdb-import');
  const sqlite3 = await loadSqlite();
  const source = new sqlite3.oo1.DB(':memory:');
  source.exec(`pragma page_size = 8192;
    create table t(id integer primary key, v text);
    insert into t(v) select printf('%0300d', value) from json_each((select json_group_array(x) from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000) select x from c)));`);
  const path = join(dir.path, 'source.db');
  await writeFile(path, sqlite3.capi.sqlite3_js_db_export(source));
  source.close();

  const store = new MemoryStore('import');
  const { pageSize, pageCount } = await importSqliteFile(store, path, {
    prefix: 'imported',
    segmentPages: 32,
    chunkBytes: 8192,
  });
  expect(pageSize).toBe(8192);
  expect(pageCount).toBeGreaterThan(100);
  await expect(importSqliteFile(store, path, { prefix: 'imported' })).rejects.toMatchObject({
    code: 'InvalidArgument',
  });

  await using db = await Database.create(store, { prefix: 'imported', prefetchBelowBytes: 0 });
  expect(await db.get('select count(*) n, max(id) m from t')).toEqual({ n: 3000, m: 3000 });
  await db.run("insert into t(v) values ('new')");
  expect(await db.get('select v from t where id = 3001')).toEqual({ v: 'new' });
  expect((await db.get('pragma integrity_check'))?.integrity_check).toBe('ok');
});
