import { isStoreError } from '../errors.js';
import { FileStore } from './file-store.js';
import { readyThenGo, say } from './fixtures/child-io.js';

/**
 * One racer. `create <rounds>`: put-if-absent `race/<r>` for every round, report the rounds won.
 * `count <n>`: increment the `counter` object n times with If-Match, report the values written.
 */
const [dir, id, mode, n] = process.argv.slice(2) as [string, string, string, string];
const store = await FileStore.open(dir);
await readyThenGo();
const won: number[] = [];
if (mode === 'create') {
  for (let round = 0; round < Number(n); round++) {
    try {
      await store.put(`race/${round}`, id, { ifNoneMatch: '*' });
      won.push(round);
    } catch (error) {
      if (!isStoreError(error, 'PreconditionFailed')) throw error;
    }
  }
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
