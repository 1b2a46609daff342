import type { ChildProcess } from 'node:child_process';
import {
  collect,
  openTestBackend,
  spawnTs,
  TEST_CREDENTIALS,
  type TestBackend,
  testBackendNames,
} from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { open } from './open.js';

const worker = new URL('./workload.child.ts', import.meta.url);
const shared = testBackendNames().filter((n) => n !== 'memory');

async function run(child: ChildProcess): Promise<Record<string, unknown>[]> {
  const result = await collect(child);
  if (result.code !== 0) throw new Error(`worker failed (${result.code}): ${result.stderr}`);
  return result.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe.each(shared)('several processes writing one database on %s', (name) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(name);
    // s3:// URLs take credentials from the SDK's default chain; child processes inherit them.
    process.env.AWS_ACCESS_KEY_ID ??= TEST_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= TEST_CREDENTIALS.secretAccessKey;
    process.env.AWS_REGION ??= 'us-east-1';
  });
  afterAll(async () => {
    await backend.close();
  });

  test('exact counters and bank transfers that keep the total', async () => {
    const url = await backend.newStoreUrl();
    {
      await using db = await open(url, { prefix: 'shared' });
      await db.exec(`
        create table counter(id integer primary key, n integer); insert into counter values (1, 0);
        create table account(id integer primary key, balance integer);
        insert into account select value, 100 from json_each('[1,2,3,4,5,6,7,8]');
        create table transfer(id text primary key, amount integer);
      `);
    }
    const n = 15;
    const acks = await Promise.all([
      run(spawnTs(worker, [url, 'counter', String(n), '1'])),
      run(spawnTs(worker, [url, 'bank', String(n), '3'])),
      run(spawnTs(worker, [url, 'bank', String(n), '4'])),
    ]);
    await using db = await open(url, { prefix: 'shared' });
    expect(await db.get('select n from counter')).toEqual({ n });
    expect(await db.get('select sum(balance) t from account')).toEqual({ t: 800 });
    const moved = acks
      .flat()
      .filter((a) => a.moved === true)
      .map((a) => a.transfer);
    const rows = await db.query<{ id: string }>('select id from transfer order by id');
    expect(rows.map((r) => r.id)).toEqual([...moved].sort());
  });

  test('write skew across processes: in every round exactly one doctor stays on call', async () => {
    const url = await backend.newStoreUrl();
    const rounds = 10;
    {
      await using db = await open(url, { prefix: 'shared' });
      await db.exec('create table doctor(round integer, name text, on_call integer, primary key (round, name))');
      await db.transaction((tx) => {
        for (let r = 0; r < rounds; r++) tx.run("insert into doctor values (?, 'alice', 1), (?, 'bob', 1)", [r, r]);
      });
    }
    const acks = await Promise.all([
      run(spawnTs(worker, [url, 'doctors', String(rounds), '1', 'alice'])),
      run(spawnTs(worker, [url, 'doctors', String(rounds), '2', 'bob'])),
    ]);
    await using db = await open(url, { prefix: 'shared' });
    const perRound = await db.query('select round, sum(on_call) on_call from doctor group by round');
    expect(perRound).toEqual(Array.from({ length: rounds }, (_, r) => ({ round: r, on_call: 1 })));
    expect(acks.flat().filter((a) => a.wentOff === true)).toHaveLength(rounds);
  });
});
