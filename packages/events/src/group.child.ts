// A consumer-group member of the multi-process test, on the event store at `<store-url>` (prefix
// `ev`): joins group `g` as `<member-id>` (waiting while an older subscriber's lease runs), and
// for each event acks, retries, parks, skips or stalls past its ack timeout, chosen by `<seed>`.
// Prints one JSON line when it sends a settle ({"sent": …}) and one with the outcome, so the
// parent knows which settles of a process it killed may have landed. Runs until killed.
import { isStoreError, seededRandom } from '@bucketdb/store';
import { isEventsError } from './errors.js';
import { EventStore } from './event-store.js';
import type { GroupEvent } from './group-subscription.js';

const [url, memberId, seed, ackTimeout] = process.argv.slice(2);
if (!url || !memberId) throw new Error('usage: group.child.ts <store-url> <member-id> <seed> <ack-timeout-ms>');
const events = await EventStore.open(url, { prefix: 'ev' });
const r = seededRandom(`${seed}-${memberId}`);
const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function settle(e: GroupEvent, action: 'ack' | 'retry' | 'park' | 'skip'): void {
  const key = `${e.event.position.record}:${e.event.position.index}`;
  const line = { member: memberId, key, token: e.token, action };
  print({ ...line, outcome: 'sent' });
  void (action === 'ack' ? e.ack() : e.nack(action, `chose ${action}`)).then(
    () => print({ ...line, outcome: 'accepted' }),
    (error: unknown) => print({ ...line, outcome: isEventsError(error, 'Fenced') ? 'fenced' : 'unknown' }),
  );
}

for (;;) {
  const member = events.subscribeToGroup('g', {
    memberId,
    bufferSize: 2,
    leaseTtlMs: 3000,
    maxClockSkewMs: 50,
    pollMaxMs: 50,
  });
  try {
    for await (const e of member) {
      const x = r.next();
      if (x < 0.7) settle(e, 'ack');
      else if (x < 0.8) settle(e, 'retry');
      else if (x < 0.83) settle(e, 'park');
      else if (x < 0.86) settle(e, 'skip');
      else void sleep(Number(ackTimeout) + 100 + r.int(300)).then(() => settle(e, 'ack'));
    }
  } catch (error) {
    process.stderr.write(`member ${memberId}: ${String(error)}\n`);
    if (!(isStoreError(error) || isEventsError(error, 'MemberActive') || isEventsError(error, 'Fenced'))) throw error;
  }
  await member.close().catch(() => {});
  await sleep(100);
}
