/**
 * A process using a shared cache directory, for disk-cache.test.ts. Prints one JSON line: the
 * requests its open and first query made, whether it opened warm, and the row count it saw.
 *   cache.child.ts <storeDir> <cacheDir> <rowsToInsert> <tag>
 */
import { FileStore, Meter, metered } from '@bucketdb/store';
import { Database } from './database.js';

const [storeDir, cacheDir, rowsText, tag] = process.argv.slice(2) as [string, string, string, string];
const meter = new Meter();
const store = metered(await FileStore.open(storeDir), meter);
const db = await Database.create(store, { prefix: 'db', cacheDir });
const first = await db.get<{ n: number }>('select count(*) n from t');
const open = meter.snapshot().requests;
for (let i = 0; i < Number(rowsText); i++) await db.run('insert into t(tag) values (?)', [`${tag}-${i}`]);
const after = await db.get<{ n: number }>('select count(*) n from t');
const warm = db.warm;
await db.close();
await store.close();
process.stdout.write(
  `${JSON.stringify({ gets: open.get, lists: open.list, warm, first: first?.n, after: after?.n })}\n`,
);
