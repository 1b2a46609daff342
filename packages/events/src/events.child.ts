// A process of the multi-process tests, on the event store at `<store-url>` (prefix `ev`):
// - `race <stream> <rounds>`: round k appends expecting revision k - 1; prints {"round","won",…};
// - `write <label> <count>`: appends `<label>-<i>` to stream s-<i % 3>, retrying failures with the
//   same id; prints one acked append per line;
// - `subscribe <record:index> <count>`: subscribes to $all after the position and prints each
//   event until `count` arrived.
import { isStoreError } from '@bucketdb/store';
import { isEventsError, WrongExpectedVersionError } from './errors.js';
import { EventStore } from './event-store.js';
import { parsePosition } from './position.js';
import type { ExpectedRevision } from './types.js';

const [url, command, a, b] = process.argv.slice(2);
if (!url || !command) throw new Error('usage: events.child.ts <store-url> race|write|subscribe …');
const events = await EventStore.open(url, { prefix: 'ev' });
const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

if (command === 'race') {
  // Round k: append to `<a>` expecting revision k - 1; exactly one process may win each round.
  for (let k = 0; k < Number(b); k++) {
    const expected: ExpectedRevision = k === 0 ? 'no_stream' : k - 1;
    try {
      const result = await events.append(a as string, [{ type: 'Won', data: { k } }], { expectedRevision: expected });
      print({ round: k, won: true, ...result });
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      print({ round: k, won: false, actual: error.actualRevision });
    }
  }
} else if (command === 'write') {
  for (let i = 0; i < Number(b); i++) {
    const id = `${a}-${i}`;
    const stream = `s-${i % 3}`;
    for (;;) {
      try {
        const result = await events.append(stream, [{ id, type: 'Wrote', data: { i } }]);
        print({ stream, ids: [id], expected: 'any', result });
        break;
      } catch (error) {
        if (
          !(isStoreError(error) && (error.retryable || error.code === 'AmbiguousWrite')) &&
          !isEventsError(error, 'Contention')
        ) {
          throw error;
        }
      }
    }
  }
} else if (command === 'subscribe') {
  let n = 0;
  const subscription = events.subscribeToAll({ from: parsePosition(a as string), pollMaxMs: 20 });
  if (Number(b) > 0) {
    for await (const e of subscription) {
      print({ id: e.id, stream: e.stream, revision: e.revision, position: e.position });
      if (++n >= Number(b)) break;
    }
  }
}
await events.close();
