/**
 * A writer process for the multi-process tests. Prints one JSON line per acknowledged commit, so
 * the parent knows exactly what was acknowledged even if it kills this process mid-commit.
 *   workload.child.ts <url> counter|bank|doctors <iterations> <seed>
 */
import { open } from './open.js';

const [url, mode, iterationsText, seedText] = process.argv.slice(2);
const iterations = Number(iterationsText);
let seed = Number(seedText) || 1;
const rand = (k: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % k;
};
const ack = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

const db = await open(url as string, { prefix: 'shared' });
for (let i = 0; i < iterations; i++) {
  if (mode === 'counter') {
    await db.transaction((tx) => tx.run('update counter set n = n + 1 where id = 1'));
    ack({ counter: i });
  } else if (mode === 'bank') {
    const id = `${process.pid}-${i}`;
    const from = rand(8) + 1;
    const to = ((from + rand(7)) % 8) + 1;
    const amount = rand(40) + 1;
    const moved = await db.transaction((tx) => {
      const row = tx.get<{ balance: number }>('select balance from account where id = ?', [from]);
      if (!row || row.balance < amount) return false;
      tx.run('update account set balance = balance - ? where id = ?', [amount, from]);
      tx.run('update account set balance = balance + ? where id = ?', [amount, to]);
      tx.run('insert into transfer(id, amount) values (?, ?)', [id, amount]);
      return true;
    });
    ack({ transfer: id, moved });
  } else if (mode === 'doctors') {
    const me = process.argv[6] as string;
    const wentOff = await db.transaction((tx) => {
      const row = tx.get<{ n: number }>('select count(*) n from doctor where round = ? and on_call = 1', [i]);
      if ((row?.n ?? 0) < 2) return false;
      tx.run('update doctor set on_call = 0 where round = ? and name = ?', [i, me]);
      return true;
    });
    ack({ round: i, wentOff });
  }
}
await db.close();
