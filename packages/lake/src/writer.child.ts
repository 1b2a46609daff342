// One writer process: appends its own rows and deletes its own band of the initial rows, through
// a store URL shared with other processes; prints what it did. Used by processes.test.ts.
import { openStore } from '@bucketdb/store';
import { Lake } from './index.js';

const [url, writerArg, appendsArg, writersArg] = process.argv.slice(2);
if (!url || !writerArg || !appendsArg || !writersArg) {
  throw new Error('usage: writer.child.ts <store-url> <writer> <appends> <writers>');
}
const writer = Number(writerArg);
const store = await openStore(url);
const lake = await Lake.open({ store, checkpointInterval: 4 });
try {
  const t = lake.table('t');
  let retries = 0;
  for (let k = 0; k < Number(appendsArg); k++) {
    await t.append(Array.from({ length: 3 }, (_, i) => ({ id: 1000 + writer * 100 + k * 3 + i, w: writer })));
    if (k === 0) {
      // Every writer's delete rewrites the same files: concurrent deletes conflict and retry.
      retries += (await t.delete(`w = -1 AND id % ${writersArg} = ${writer}`, { retries: 20 })).retries;
    }
  }
  process.stdout.write(`${JSON.stringify({ writer, retries })}\n`);
} finally {
  await lake.close();
  await store.close();
}
