// A writer process for the concurrency tests: appends `count` records `<label>:<i>` to the log in
// the store at `url`, then prints one JSON line per committed record: {"version":…,"commitId":…}.
import { isStoreError } from '@bucketdb/store';
import { CommitLog } from './commit-log.js';
import { openStoreUrl } from './fixtures/open-store-url.js';

const [url, label, countText] = process.argv.slice(2);
if (!url || !label || !countText || !openStoreUrl)
  throw new Error('usage: appender.child.ts <store-url> <label> <count>');
const store = await openStoreUrl(url);
const log = await CommitLog.open(store);
const encoder = new TextEncoder();
for (let i = 0; i < Number(countText); i++) {
  for (;;) {
    try {
      await log.catchUp();
      const outcome = await log.tryAppend([encoder.encode(`${label}:${i}`)], log.version + 1);
      if (outcome.committed) {
        process.stdout.write(`${JSON.stringify({ version: outcome.version, commitId: outcome.commitId })}\n`);
        break;
      }
    } catch (error) {
      // Only clean, retryable failures are retried blindly; anything else fails the test.
      if (!isStoreError(error) || !error.retryable) throw error;
    }
  }
}
await log.close();
await store.close();
