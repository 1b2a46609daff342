// A projection runner of the crash tests: projects the event store at `<store-url>` (prefix `ev`)
// into the SQL database at the same URL (prefix `proj`) until it is killed or reaches the
// position `[record:index]` given. Prints "ready" once the projection runs.
import { open } from '@bucketdb/sql';
import { EventStore } from './event-store.js';
import { parsePosition } from './position.js';
import { project } from './projection.js';

const [url, stopAt] = process.argv.slice(2);
if (!url) throw new Error('usage: project.child.ts <store-url> [record:index]');
const events = await EventStore.open(url, { prefix: 'ev' });
const db = await open(url, { prefix: 'proj' });
await db.exec('CREATE TABLE IF NOT EXISTS applied (id TEXT NOT NULL, stream TEXT NOT NULL, n INTEGER NOT NULL)');
await db.exec('CREATE TABLE IF NOT EXISTS totals (stream TEXT PRIMARY KEY, sum INTEGER NOT NULL)');
const projection = project(events, {
  db,
  name: 'totals',
  pollMaxMs: 20,
  ...(stopAt ? { stopAfter: parsePosition(stopAt) } : {}),
  handler: (event, tx) => {
    const n = (event.data as { n: number }).n;
    tx.run('INSERT INTO applied (id, stream, n) VALUES (?, ?, ?)', [event.id, event.stream, n]);
    tx.run(
      'INSERT INTO totals (stream, sum) VALUES (?, ?) ON CONFLICT(stream) DO UPDATE SET sum = sum + excluded.sum',
      [event.stream, n],
    );
  },
});
process.stdout.write('ready\n');
await projection.done;
await db.close();
await events.close();
