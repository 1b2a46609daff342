import { isStoreError } from '../../errors.js';
import type { PutOptions } from '../../object-store.js';
import { FileStore } from './file-store.js';
import { say } from './fixtures/child-io.js';
import { makeBody } from './fixtures/self-checking-body.js';

/**
 * Composes self-checking versions of the key `c` from 1–4 source objects until killed, deleting
 * the sources after each composition and sometimes `c` itself, announcing each operation first.
 * With `once`: one composition of `c` from 3 sources, after saying `composing`, then waits.
 */
const [dir, tag, mode] = process.argv.slice(2) as [string, string, string?];
const store = await FileStore.open(dir);
const composition = store.composition();

if (mode === 'once') {
  const bytes = makeBody('c', tag, 3 * 65_536);
  const sources = [];
  for (let i = 0; i < 3; i++) {
    const key = `src/${i}`;
    sources.push({ key, etag: (await store.put(key, bytes.subarray(i * 65_536, (i + 1) * 65_536))).etag });
  }
  await say('composing');
  await composition.compose('c', sources, { etag: '"once-3"' });
  await new Promise(() => setInterval(() => {}, 60_000));
}

for (let op = 0; ; op++) {
  await say(`op ${op}`);
  const bytes = makeBody('c', `${tag}.${op}`, Math.floor(Math.random() * 2 ** 20));
  const cuts = [
    0,
    ...Array.from({ length: Math.floor(Math.random() * 4) }, () => Math.floor(Math.random() * bytes.length)),
    bytes.length,
  ].sort((a, b) => a - b);
  const sources = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const key = `src/${op}/${i}`;
    sources.push({ key, etag: (await store.put(key, bytes.subarray(cuts[i], cuts[i + 1]))).etag });
  }
  try {
    const choice = Math.random();
    const conditions: PutOptions =
      choice < 0.3 ? { ifMatch: (await store.head('c')).etag } : choice < 0.5 ? { ifNoneMatch: '*' } : {};
    await composition.compose('c', sources, { ...conditions, etag: `"${op}-${sources.length}"` });
    if (Math.random() < 0.2) await store.delete('c');
  } catch (error) {
    if (!isStoreError(error, 'PreconditionFailed') && !isStoreError(error, 'NotFound')) throw error;
  }
  await store.deleteMany(sources.map((s) => s.key));
}
