// Increments one counter `count` times with update(), from its own process, then prints how many
// updates it made. Used to check that compare-and-swap is exact across processes.
import { open } from './index.js';

const [url, key, count] = process.argv.slice(2);
if (!url || !key || !count) throw new Error('usage: increment.child.ts <store-url> <key> <count>');
await using kv = await open(url);
let done = 0;
for (let i = 0; i < Number(count); i++) {
  await kv.update(key, (n) => ((n as number | undefined) ?? 0) + 1, { maxAttempts: 1000 });
  done++;
}
process.stdout.write(`${JSON.stringify({ done })}\n`);
