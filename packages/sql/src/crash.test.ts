import { openTestBackend, spawnTs, type TestBackend } from '@bucketdb/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { open } from './open.js';

const worker = new URL('./workload.child.ts', import.meta.url);
let backend: TestBackend;
beforeAll(async () => {
  backend = await openTestBackend('file');
});
afterAll(async () => {
  await backend.close();
});

/** Starts a bank writer and kills it with SIGKILL once it has acknowledged `after` commits. */
function killAfter(url: string, after: number, seed: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawnTs(worker, [url, 'bank', '100000', String(seed)]);
    const acked: string[] = [];
    let buffer = '';
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      buffer += s;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const ack = JSON.parse(line) as { transfer: string; moved: boolean };
        if (ack.moved) acked.push(ack.transfer);
      }
      if (acked.length >= after) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (_code, signal) =>
      signal === 'SIGKILL' ? resolve(acked) : reject(new Error(`writer exited without being killed: ${stderr}`)),
    );
  });
}

test('kill -9 of a writer mid-commit, again and again: integrity and invariants hold', async () => {
  const url = await backend.newStoreUrl();
  {
    await using db = await open(url, { prefix: 'shared' });
    await db.exec(`
      create table account(id integer primary key, balance integer);
      insert into account select value, 100 from json_each('[1,2,3,4,5,6,7,8]');
      create table transfer(id text primary key, amount integer);
    `);
  }
  const acked: string[] = [];
  for (let round = 0; round < 3; round++) {
    // Two writers at once, so kills land while the other is mid-commit too.
    const [a, b] = await Promise.all([killAfter(url, 3 + round, 10 + round), killAfter(url, 5, 20 + round)]);
    acked.push(...a, ...b);
    await using db = await open(url, { prefix: 'shared' });
    expect((await db.get('pragma integrity_check'))?.integrity_check).toBe('ok');
    expect(await db.get('select sum(balance) t from account')).toEqual({ t: 800 });
    const present = new Set((await db.query<{ id: string }>('select id from transfer')).map((r) => r.id));
    expect(acked.filter((id) => !present.has(id))).toEqual([]);
    if (round === 1) await db.checkpoint();
  }
});
