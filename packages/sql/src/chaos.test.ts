import { chaos } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Database } from './database.js';

describe.each(testBackendNames())('commits under injected faults on %s', (name) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  test('every acknowledged commit is present exactly once; nothing is applied twice', async () => {
    const raw = await backend.newStore();
    {
      await using db = await Database.create(raw, {});
      await db.exec(
        'create table op(id text primary key); create table counter(id integer primary key, n integer); insert into counter values (1, 0);',
      );
    }
    const faulty = chaos(raw, {
      seed: `sql-${name}`,
      faults: { before: 0.1, after: 0.1, delay: 0.2, reorder: 0.2 },
      delayMs: { min: 0, max: 4 },
    });
    const openFaulty = async () => {
      for (;;) {
        try {
          return await Database.create(faulty, { checkpointEveryRecords: 10 });
        } catch {
          // A fault during open: nothing was written, try again.
        }
      }
    };
    const acked: string[] = [];
    let failed = 0;
    await Promise.all(
      [0, 1, 2].map(async (w) => {
        const db = await openFaulty();
        await Promise.all(
          [0, 1].map(async (lane) => {
            for (let i = 0; i < 10; i++) {
              const id = `${w}-${lane}-${i}`;
              try {
                await db.transaction((tx) => {
                  tx.run('insert into op values (?)', [id]);
                  tx.run('update counter set n = n + 1 where id = 1');
                });
                acked.push(id);
              } catch {
                failed++;
              }
            }
          }),
        );
        await db.close().catch(() => {});
      }),
    );
    expect(faulty.counts.after + faulty.counts.before).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(10);
    await using db = await Database.create(raw, {});
    const ids = (await db.query<{ id: string }>('select id from op')).map((r) => r.id);
    expect(acked.filter((id) => !ids.includes(id))).toEqual([]);
    expect(await db.get('select n from counter')).toEqual({ n: ids.length });
    expect(ids.length).toBeLessThanOrEqual(acked.length + failed);
    expect((await db.get('pragma integrity_check'))?.integrity_check).toBe('ok');
  });
});
