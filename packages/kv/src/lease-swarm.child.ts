// One process of the lease checkers (lease-processes.test.ts, bench kv-leases): `concurrency`
// loops, each taking a random one of `names` leases — through kv.acquire/renew/release, or the
// put({ ifAbsent, ttlSeconds }) pattern with constant bytes, or (`mix` both) even names the first
// and odd names the second way — holding it briefly with short
// TTLs (200–500 ms), renewing sometimes, releasing or letting it expire, over a store with injected
// faults and delays. Stops after `acquisitions` successful acquisitions or at `deadline` (epoch
// ms). Prints each event it believed as a JSON line (a LeaseEvent plus the lease `name`), then a
// summary line on stderr.
//
// usage: lease-swarm.child.ts <store-url> <lease|put-if-absent|both> <seed> <acquisitions> <names> <concurrency> <deadline-ms>
import { setTimeout as sleep } from 'node:timers/promises';
import { chaos, heldEvent, type LeaseEvent, type LeaseGrant, openStore, seededRandom } from '@bucketdb/store';
import { open } from './index.js';

const USAGE =
  'usage: lease-swarm.child.ts <store-url> <lease|put-if-absent|both> <seed> <acquisitions> <names> <concurrency> <deadline-ms>';
const [url, mix, seed, target, names, concurrency, deadline] = process.argv.slice(2);
if (!url || !mix || !['lease', 'put-if-absent', 'both'].includes(mix) || !seed || !target || !names || !concurrency) {
  throw new Error(USAGE);
}
if (!deadline) throw new Error(USAGE);
const store = chaos(await openStore(url), {
  seed,
  faults: { before: 0.03, after: 0.03, delay: 0.2 },
  delayMs: { min: 1, max: 20 },
});
await using kv = await open(store, { maxClockSkewMs: 0 }); // one machine, one clock
const emit = (name: string, event: LeaseEvent) => process.stdout.write(`${JSON.stringify({ ...event, name })}\n`);
/** Coded errors (KvError, LeaseError, StoreError) are outcomes here; anything else is a bug. */
const expected = (error: unknown) => {
  if (typeof (error as { code?: unknown }).code !== 'string') throw error;
};

let acquisitions = 0;
let attempts = 0;
const more = () => acquisitions < Number(target) && Date.now() < Number(deadline);

async function leaseRound(name: string, holder: string, random: ReturnType<typeof seededRandom>) {
  const ttlSeconds = (200 + random.int(300)) / 1000;
  let grant: LeaseGrant;
  try {
    grant = await kv.acquire(name, { ttlSeconds, holder });
  } catch (error) {
    expected(error);
    return;
  }
  acquisitions++;
  const held = (g: LeaseGrant) => emit(name, heldEvent(holder, g, Date.now()));
  held(grant);
  for (let r = random.int(3); r > 0; r--) {
    await sleep(random.int(150));
    try {
      grant = await kv.renew(grant, { ttlSeconds });
    } catch (error) {
      expected(error);
      return;
    }
    held(grant);
  }
  await sleep(random.int(100));
  if (random.next() < 0.7) {
    emit(name, { type: 'released', holder, token: grant.token, at: Date.now() });
    await kv.release(grant).catch(expected);
  }
}

async function putIfAbsentRound(name: string, holder: string, random: ReturnType<typeof seededRandom>) {
  const ttlSeconds = (200 + random.int(300)) / 1000;
  const start = Date.now();
  let version: string;
  try {
    version = await kv.put(name, 'held', { ifAbsent: true, ttlSeconds });
  } catch (error) {
    expected(error);
    return;
  }
  acquisitions++;
  emit(name, {
    type: 'held',
    holder,
    token: version,
    fencingToken: 0,
    from: Date.now(),
    until: start + ttlSeconds * 1000,
  });
  await sleep(random.int(250));
  if (random.next() < 0.5) {
    emit(name, { type: 'released', holder, token: version, at: Date.now() });
    await kv.delete(name, { ifVersion: version }).catch(expected);
  }
}

await Promise.all(
  Array.from({ length: Number(concurrency) }, async (_, loop) => {
    const random = seededRandom(`${seed}/${loop}`);
    const holder = `p${seed}.${loop}`;
    while (more()) {
      attempts++;
      const i = random.int(Number(names));
      // One name, one mechanism: with `both`, even names are leases, odd ones put-if-absent locks.
      if (mix === 'lease' || (mix === 'both' && i % 2 === 0)) await leaseRound(`lease/${i}`, holder, random);
      else await putIfAbsentRound(`plain/${i}`, holder, random);
      await sleep(random.int(20));
    }
  }),
);
process.stderr.write(`${JSON.stringify({ seed, acquisitions, attempts, faults: store.counts })}\n`);
