import { isStoreError } from '../../errors.js';
import { FileStore } from './file-store.js';
import { say } from './fixtures/child-io.js';
import { chunked, makeBody, WRITER_KEYS } from './fixtures/self-checking-body.js';

/**
 * Writes, swaps and deletes self-checking objects until killed, announcing each operation before
 * it starts so the parent can kill it anywhere. Operation number `pauseOp` (if given) is a plain
 * put that stops halfway through its body after saying `mid-write`: a kill there certainly
 * interrupts a write.
 */
const [dir, tag, pauseOp = '-1'] = process.argv.slice(2) as [string, string, string?];
const store = await FileStore.open(dir);
const expected = ['PreconditionFailed', 'NotFound'] as const;

async function* body(key: string, op: number): AsyncIterable<Uint8Array> {
  const size = op === Number(pauseOp) ? 2 ** 20 : Math.floor(Math.random() * 3 * 2 ** 20);
  let sent = 0;
  for await (const chunk of chunked(makeBody(key, `${tag}.${op}`, size))) {
    if (op === Number(pauseOp) && sent++ === 4) {
      await say('mid-write');
      await new Promise(() => setInterval(() => {}, 60_000));
    }
    yield chunk;
  }
}

for (let op = 0; ; op++) {
  const key = WRITER_KEYS[op % WRITER_KEYS.length] as string;
  await say(`op ${op}`);
  try {
    const choice = op === Number(pauseOp) ? 0 : Math.random();
    if (choice < 0.4) await store.put(key, body(key, op));
    else if (choice < 0.6) await store.put(key, body(key, op), { ifNoneMatch: '*' });
    else if (choice < 0.8) await store.put(key, body(key, op), { ifMatch: (await store.head(key)).etag });
    else if (choice < 0.9) await store.delete(key);
    else await store.delete(key, { ifMatch: (await store.head(key)).etag });
  } catch (error) {
    if (!expected.some((code) => isStoreError(error, code))) throw error;
  }
}
