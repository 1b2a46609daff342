import { open } from '@bucketdb/sql';
import { collect, openTestBackend, spawnTs, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from './fixtures/test-helpers.js';
import { EventStore } from './event-store.js';
import { project } from './projection.js';

describe('project', () => {
  it('applies every event once, with the position in the same SQL transaction, and resumes from it', async () => {
    const backend = await openTestBackend('memory');
    const store = await backend.newStore();
    const events = await EventStore.open(store, { prefix: 'ev' });
    for (let i = 1; i <= 5; i++) await events.append(`s-${i % 2}`, [{ type: 'N', data: { n: i } }]);
    const db = await open(store, { prefix: 'proj' });
    await db.exec('CREATE TABLE totals (stream TEXT PRIMARY KEY, sum INTEGER NOT NULL)');
    const run = (stopAfter = undefined as undefined | ReturnType<typeof Object>) =>
      project(events, {
        db,
        name: 'totals',
        pollMaxMs: 10,
        stopAfter: stopAfter as never,
        handler: (e, tx) => {
          tx.run('INSERT INTO totals VALUES (?, ?) ON CONFLICT(stream) DO UPDATE SET sum = sum + excluded.sum', [
            e.stream,
            (e.data as { n: number }).n,
          ]);
        },
      });
    await run(await events.headPosition()).done;
    expect(await db.query('SELECT * FROM totals ORDER BY stream')).toEqual([
      { stream: 's-0', sum: 6 },
      { stream: 's-1', sum: 9 },
    ]);
    for (let i = 6; i <= 7; i++) await events.append(`s-${i % 2}`, [{ type: 'N', data: { n: i } }]);
    // A second run resumes after the saved position: the first five are not applied again.
    await run(await events.headPosition()).done;
    expect(await db.query('SELECT * FROM totals ORDER BY stream')).toEqual([
      { stream: 's-0', sum: 12 },
      { stream: 's-1', sum: 16 },
    ]);
    await db.close();
    await events.close();
    await backend.close();
  });
});

// File only: every round starts a process with SQLite, which costs CI minutes; the S3 server adds
// nothing to this claim that the SQL and event-store tests on it do not already cover.
describe.each(testBackendNames().filter((n) => n === 'file'))(
  'projection runners killed with SIGKILL on %s',
  (name) => {
    let backend: TestBackend;
    beforeAll(async () => {
      Object.assign(process.env, childEnv);
      backend = await openTestBackend(name);
    });
    afterAll(async () => {
      await backend.close();
    });

    it('resume without losing or repeating an event', async () => {
      const url = await backend.newStoreUrl();
      const events = await EventStore.open(url, { prefix: 'ev' });
      let expected = 0;
      let count = 0;
      const appendSome = async (k: number) => {
        for (let i = 0; i < k; i++) {
          count++;
          expected += count;
          await events.append(`s-${count % 3}`, [{ type: 'N', data: { n: count } }]);
        }
      };
      await appendSome(30);
      const script = new URL('./project.child.ts', import.meta.url);
      for (let round = 0; round < 2; round++) {
        const child = spawnTs(script, [url], childEnv);
        const exited = collect(child);
        await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
        // Kill it at a different point of its work each round, while events keep arriving.
        await appendSome(5);
        await new Promise((r) => setTimeout(r, 150 * (round + 1)));
        child.kill('SIGKILL');
        expect((await exited).signal).toBe('SIGKILL');
      }
      const head = await events.headPosition();
      // The last run, here, to the head: whatever the killed runners left half done.
      const db = await open(url, { prefix: 'proj' });
      await project(events, {
        db,
        name: 'totals',
        stopAfter: head,
        handler: (event, tx) => {
          const n = (event.data as { n: number }).n;
          tx.run('INSERT INTO applied (id, stream, n) VALUES (?, ?, ?)', [event.id, event.stream, n]);
          tx.run('UPDATE totals SET sum = sum + ? WHERE stream = ?', [n, event.stream]);
          tx.run('INSERT OR IGNORE INTO totals (stream, sum) VALUES (?, ?)', [event.stream, n]);
        },
      }).done;
      const applied = await db.get<{ n: number; ids: number; sum: number }>(
        'SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(n) AS sum FROM applied',
      );
      expect(applied).toEqual({ n: count, ids: count, sum: expected });
      const totals = await db.get<{ sum: number }>('SELECT sum(sum) AS sum FROM totals');
      expect(totals?.sum).toBe(expected);
      await db.close();
      await events.close();
    });
  },
);
