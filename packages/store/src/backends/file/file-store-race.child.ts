import { isStoreError } from '../../errors.js';
import { md5Etag } from '../../keys.js';
import { FileStore } from './file-store.js';
import { readyThenGo, say } from './fixtures/child-io.js';

/**
 * One racer. `create <rounds>`: put-if-absent `race/<r>` for every round, report the rounds won.
 * `count <n>`: increment the `counter` object n times with If-Match, report the values written.
 * `mixed-put|mixed-create|mixed-swap <rounds>`: for every round, one write to the new key
 * `mixed/<r>`: an unconditional put of `put <r>`, a put-if-absent of `create <r>`, or a swap of
 * `create <r>` (If-Match its ETag) for `swap <r>`; reports the rounds whose write succeeded.
 * `log <slots>`: like a commit log's writers, two FileStore instances in this process with three
 * appenders each put-if-absent `log/<next>` until `slots` exist; reports the slots won and every
 * error other than PreconditionFailed (there must be none).
 * A last argument `false` opens the store with `sync: false`.
 */
const [dir, id, mode, n, sync] = process.argv.slice(2) as [string, string, string, string, string?];
const store = await FileStore.open(dir, { sync: sync !== 'false' });
await readyThenGo();
const won: number[] = [];
const encoder = new TextEncoder();
if (mode === 'create') {
  for (let round = 0; round < Number(n); round++) {
    try {
      await store.put(`race/${round}`, id, { ifNoneMatch: '*' });
      won.push(round);
    } catch (error) {
      if (!isStoreError(error, 'PreconditionFailed')) throw error;
    }
  }
} else if (mode.startsWith('mixed-')) {
  const role = mode.slice('mixed-'.length);
  for (let round = 0; round < Number(n); round++) {
    const key = `mixed/${round}`;
    try {
      if (role === 'put') await store.put(key, `put ${round}`);
      else if (role === 'create') await store.put(key, `create ${round}`, { ifNoneMatch: '*' });
      else await store.put(key, `swap ${round}`, { ifMatch: md5Etag(encoder.encode(`create ${round}`)) });
      won.push(round);
    } catch (error) {
      if (!isStoreError(error, 'PreconditionFailed') && !isStoreError(error, 'NotFound')) throw error;
    }
  }
} else if (mode === 'log') {
  const errors: string[] = [];
  const stores = [store, await FileStore.open(dir, { sync: sync !== 'false' })];
  const appender = async (s: FileStore) => {
    for (let slot = 0; slot < Number(n); slot++) {
      try {
        await s.put(`log/${String(slot).padStart(6, '0')}`, `${id} ${slot}`, { ifNoneMatch: '*' });
        won.push(slot);
      } catch (error) {
        if (!isStoreError(error, 'PreconditionFailed')) errors.push(String(error));
      }
    }
  };
  await Promise.all(stores.flatMap((s) => [appender(s), appender(s), appender(s)]));
  await say(JSON.stringify({ id, won, errors }));
  process.exit(0);
} else {
  while (won.length < Number(n)) {
    const current = await store.get('counter');
    const next = Number(new TextDecoder().decode(current.body)) + 1;
    try {
      await store.put('counter', String(next), { ifMatch: current.etag });
      won.push(next);
    } catch (error) {
      if (!isStoreError(error, 'PreconditionFailed')) throw error;
    }
  }
}
await say(JSON.stringify({ id, won }));
await store.close();
process.exit(0);
