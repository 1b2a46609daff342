// One participant of the multi-process lease checker (lease-processes.test.ts, bench kv-leases):
// takes a lease, holds it (renewing sometimes), releases it or lets it expire, over a store with
// injected faults and delays, and prints what it believed as JSON lines (LeaseEvent) on stdout.
//
// usage: lease-worker.child.ts <store-url> <lease|put-if-absent> <seed> <rounds>
import { setTimeout as sleep } from 'node:timers/promises';
import { chaos, heldEvent, type LeaseEvent, type LeaseGrant, openStore, seededRandom } from '@bucketdb/store';
import { open } from './index.js';

const [url, mode, seed, rounds] = process.argv.slice(2);
if (!url || (mode !== 'lease' && mode !== 'put-if-absent') || !seed || !rounds) {
  throw new Error('usage: lease-worker.child.ts <store-url> <lease|put-if-absent> <seed> <rounds>');
}
const holder = `p${seed}`;
const random = seededRandom(seed);
const store = chaos(await openStore(url), {
  seed,
  faults: { before: 0.03, after: 0.03, delay: 0.2 },
  delayMs: { min: 1, max: 20 },
});
await using kv = await open(store, { maxClockSkewMs: 0 }); // one machine, one clock
const emit = (event: LeaseEvent) => process.stdout.write(`${JSON.stringify(event)}\n`);
/** Coded errors (KvError, LeaseError, StoreError) are outcomes here; anything else is a bug. */
const expected = (error: unknown) => {
  if (typeof (error as { code?: unknown }).code !== 'string') throw error;
};

let acquisitions = 0;
for (let round = 0; round < Number(rounds); round++) {
  await sleep(random.int(15));
  const ttlSeconds = (50 + random.int(150)) / 1000;
  if (mode === 'lease') {
    let grant: LeaseGrant;
    try {
      grant = await kv.acquire('lease', { ttlSeconds, holder });
    } catch (error) {
      expected(error);
      continue;
    }
    acquisitions++;
    const held = (g: LeaseGrant) => emit(heldEvent(holder, g, Date.now()));
    held(grant);
    for (let r = random.int(3); r > 0; r--) {
      await sleep(random.int(80));
      try {
        grant = await kv.renew(grant, { ttlSeconds });
      } catch (error) {
        expected(error);
        break;
      }
      held(grant);
    }
    if (random.next() < 0.7) {
      emit({ type: 'released', holder, token: grant.token, at: Date.now() });
      await kv.release(grant).catch(expected);
    }
  } else {
    // The pattern of issue 11: the same bytes every time, a TTL, and a sweeper running alongside.
    const start = Date.now();
    let version: string;
    try {
      version = await kv.put('plain-lease', 'held', { ifAbsent: true, ttlSeconds });
    } catch (error) {
      expected(error);
      continue;
    }
    acquisitions++;
    emit({ type: 'held', holder, token: version, fencingToken: 0, from: Date.now(), until: start + ttlSeconds * 1000 });
    await sleep(random.int(100));
    if (random.next() < 0.5) {
      emit({ type: 'released', holder, token: version, at: Date.now() });
      await kv.delete('plain-lease', { ifVersion: version }).catch(expected);
    }
  }
}
process.stderr.write(`${JSON.stringify({ holder, acquisitions, faults: store.counts })}\n`);
