// A process of the concurrency tests, on the log in the store at `url`:
// - `append <label> <count>`: appends records `<label>:<i>`; prints one line per commit,
//   {"version":…,"commitId":…};
// - `dump`: prints one line per record in the log, {"version":…,"commitId":…,"entries":[…]}.
import { isStoreError, openStore } from '@bucketdb/store';
import { CommitLog } from './commit-log.js';

const [url, command, label, countText] = process.argv.slice(2);
if (!url || (command !== 'dump' && (command !== 'append' || !label || !countText))) {
  throw new Error('usage: appender.child.ts <store-url> append <label> <count> | dump');
}
const store = await openStore(url);
const log = await CommitLog.open(store);
const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

if (command === 'dump') {
  const decoder = new TextDecoder();
  for (const r of await log.catchUp()) {
    print({ version: r.version, commitId: r.commitId, entries: r.entries.map((e) => decoder.decode(e)) });
  }
} else {
  const encoder = new TextEncoder();
  for (let i = 0; i < Number(countText); i++) {
    for (;;) {
      try {
        await log.catchUp();
        const outcome = await log.tryAppend([encoder.encode(`${label}:${i}`)], log.version + 1);
        if (outcome.committed) {
          print({ version: outcome.version, commitId: outcome.commitId });
          break;
        }
      } catch (error) {
        // Only clean, retryable failures are retried blindly; anything else fails the test.
        if (!isStoreError(error) || !error.retryable) throw error;
      }
    }
  }
}
await log.close();
await store.close();
