/**
 * A process racing others to migrate one database, through a store that injects faults.
 *   migrate.child.ts <url> <migrations> <seed>
 * Prints `{"applied":[…]}` when done.
 */
import { chaos, openStore } from '@bucketdb/store';
import { Database } from './database.js';
import { applyMigrations } from './migrations.js';
import { testMigrations } from './migrations.fixture.js';

const [url, countText, seed] = process.argv.slice(2);
const store = chaos(await openStore(url as string), {
  seed: seed as string,
  ops: { put: { before: 0.1, after: 0.1 }, get: { before: 0.05 } },
});
const db = await Database.create(store, {});
const result = await applyMigrations(db, testMigrations(Number(countText)));
await db.close();
await store.close();
process.stdout.write(`${JSON.stringify({ applied: result.applied })}\n`);
