import { writeFile } from 'node:fs/promises';
import { EventStore } from '@bucketdb/events';
import { Lake } from '@bucketdb/lake';
import { open as openSql } from '@bucketdb/sql';
import { openStore } from '@bucketdb/store';
import { tempDir } from '@bucketdb/testkit';
import { runCli } from '../fixtures/run-cli.js';
import { describe, expect, it } from 'vitest';

describe('bucketdb lake', () => {
  it('creates, appends, queries with an explain report, usage errors exit 2', async () => {
    await using dir = await tempDir('lake-cli');
    const store = `${dir.path}/data`;
    await writeFile(`${dir.path}/t.csv`, 'id,city,fare\n1,ams,3.5\n2,ber,4\n3,ams,10\n');
    const create = await runCli([
      'lake',
      'create',
      store,
      'trips',
      '--schema',
      'id:long,city:string,fare:double',
      '--partition-by',
      'city',
    ]);
    expect(create.code, create.stderr).toBe(0);
    const append = await runCli(['lake', 'append', store, 'trips', `${dir.path}/t.csv`]);
    expect(append.code, append.stderr).toBe(0);
    expect(JSON.parse(append.stdout)).toMatchObject({ version: 1, rows: 3, filesAdded: 2 });
    const query = await runCli([
      'lake',
      'query',
      store,
      "SELECT sum(fare) AS s FROM trips WHERE city = 'ams'",
      '--json',
      '--explain',
    ]);
    expect(query.code, query.stderr).toBe(0);
    expect(JSON.parse(query.stdout)).toEqual({ s: 13.5 });
    expect(query.stderr).toMatch(/trips \(version 1\): 2 files, skipped 1 by partition and 0 by min\/max, read 1/);
    const missing = await runCli(['lake', 'create', store, 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--schema <columns>'");
  }, 240_000);

  it('ingests a bucketdb SQL table incrementally; the lake sql shell reads it', async () => {
    await using dir = await tempDir('lake-ingest');
    const sqlUrl = `${dir.path}/sql`;
    const db = await openSql(sqlUrl);
    await db.exec(
      "create table orders(id integer primary key, item text, price real); insert into orders(item, price) values ('a', 2.5), ('b', null), ('c', 4)",
    );
    await db.close();
    const ingest = await runCli([
      'lake',
      'ingest',
      `${dir.path}/lake`,
      'orders',
      '--from-sql',
      sqlUrl,
      '--sql-table',
      'orders',
      '--batch',
      '2',
    ]);
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(JSON.parse(ingest.stdout)).toEqual({ rows: 3, batches: 2, position: 3 });
    const shell = await runCli(['lake', 'sql', `${dir.path}/lake`, '--json'], {
      stdin: 'SELECT count(*) AS n\nFROM orders;\nSELECT nope FROM orders;\nSELECT max(id) AS m FROM orders;\n',
    });
    expect(shell.stdout.trim().split('\n')).toEqual(['{"n":"3"}', '{"m":"3"}']);
    expect(shell.stderr).toContain('nope');
    expect(shell.code).toBe(1);
    const store = await openStore(`${dir.path}/lake`);
    const lake = await Lake.open({ store });
    expect((await lake.query('SELECT id, item, price FROM orders ORDER BY id')).rows).toEqual([
      { id: '1', item: 'a', price: 2.5 },
      { id: '2', item: 'b', price: null },
      { id: '3', item: 'c', price: 4 },
    ]);
    await lake.close();
    await store.close();
  }, 240_000);

  it('ingests event streams ($all through a filter, one stream) exactly once; bad source options exit 2', async () => {
    await using dir = await tempDir('lake-events');
    const eventsUrl = `${dir.path}/events`;
    const lakeUrl = `${dir.path}/lake`;
    {
      await using events = await EventStore.open(eventsUrl);
      await events.append('order-1', [{ type: 'Placed', data: { total: 5 } }, { type: 'Paid' }]);
      await events.append('user-1', [{ type: 'Joined' }]);
      await events.append('order-2', [{ type: 'Placed', data: { total: 7 } }]);
    }
    const all = ['lake', 'ingest', lakeUrl, 'orders', '--from-events', eventsUrl, '--all', '--stream-prefix', 'order-'];
    const first = await runCli([...all, '--partition-by', 'day', '--batch', '2']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ rows: 3, batches: 2, position: 3 });
    {
      await using events = await EventStore.open(eventsUrl);
      await events.append('order-1', [{ type: 'Shipped' }]);
    }
    const again = await runCli(all);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ rows: 1, batches: 1, position: 4 });
    const one = await runCli(['lake', 'ingest', lakeUrl, 'order1', '--from-events', eventsUrl, '--stream', 'order-1']);
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ rows: 3, batches: 1, position: 2 });
    const query = await runCli([
      'lake',
      'query',
      lakeUrl,
      'SELECT stream, type, data FROM orders ORDER BY position_record, position_index',
      '--json',
    ]);
    expect(query.code, query.stderr).toBe(0);
    expect(
      query.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { stream: 'order-1', type: 'Placed', data: '{"total":5}' },
      { stream: 'order-1', type: 'Paid', data: 'null' },
      { stream: 'order-2', type: 'Placed', data: '{"total":7}' },
      { stream: 'order-1', type: 'Shipped', data: 'null' },
    ]);
    for (const bad of [
      ['--from-events', eventsUrl, '--stream', 'a', '--all'],
      ['--from-sql', `${dir.path}/sql`, '--from-events', eventsUrl, '--all'],
    ]) {
      const r = await runCli(['lake', 'ingest', lakeUrl, 'x', ...bad]);
      expect(r.code, `${bad.join(' ')}: ${r.stderr}`).toBe(2);
    }
  }, 240_000);
});
