import { say } from './fixtures/child-io.js';
import { KeyLocks } from './key-lock.js';

/** Takes the lock of a key in a store directory and holds it until killed: a crash inside a lock. */
const [dir, key] = process.argv.slice(2) as [string, string];
await new KeyLocks(`${dir}/locks`).withLock(key, async () => {
  await say('holding');
  await new Promise(() => setInterval(() => {}, 60_000));
});
