import { AmbiguousWriteError, MemoryStore } from '@bucketdb/store';
import { ScriptedStore } from '@bucketdb/testkit';
import { describe, expect, test } from 'vitest';
import { Database } from './database.js';
import { CommitUnknownError } from './errors.js';

/** Every request for the next log slot (from version `after`) answers ambiguously or fails. */
function makeNextSlotUnknown(store: ScriptedStore, slot: number, landed: boolean): () => void {
  const key = `log/${String(slot).padStart(20, '0')}`;
  const ambiguous = () => new AmbiguousWriteError(key);
  const removePut = store.add({
    match: (c) => c.op === 'put' && c.key === key,
    ...(landed ? { failAfter: ambiguous } : { fail: ambiguous }),
    times: 100,
  });
  const removeGet = store.add({ match: (c) => c.op === 'get' && c.key === key, times: 1000 });
  return () => {
    removePut();
    removeGet();
  };
}

describe('unknown commit outcomes', () => {
  test.each([true, false])(
    'CommitUnknownError carries the commit id; wasCommitted answers exactly (landed: %s)',
    async (landed) => {
      const inner = new MemoryStore();
      const store = new ScriptedStore(inner);
      const db = await Database.create(store, {});
      await db.exec('create table payments(id integer primary key, amount)');
      const heal = makeNextSlotUnknown(store, db.version + 1, landed);
      const error = await db.run('insert into payments(amount) values (100)').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommitUnknownError);
      const { commitId } = error as CommitUnknownError;
      heal();
      expect(await db.wasCommitted(commitId)).toBe(landed);
      // The answer is final: asking again (from another handle too) gives the same one.
      const other = await Database.create(inner, {});
      expect(await other.wasCommitted(commitId)).toBe(landed);
      // The pattern: retry only what did not commit. Exactly one payment either way.
      if (!landed) await db.run('insert into payments(amount) values (100)');
      expect(await db.query('select amount from payments')).toEqual([{ amount: 100 }]);
      expect(await other.query('select amount from payments')).toEqual([{ amount: 100 }]);
      expect((await db.get('pragma integrity_check'))?.integrity_check).toBe('ok');
      await Promise.all([db.close(), other.close()]);
    },
  );

  test('wasCommitted refuses what is not a commit id', async () => {
    const db = await Database.create(new MemoryStore(), {});
    await expect(db.wasCommitted('nonsense')).rejects.toThrow(/not a commit id/);
    await db.close();
  });
});
