import { chaos, isStoreError, MemoryStore, type ObjectStore, seededRandom } from '@bucketdb/store';
import { afterEach, describe, expect, it } from 'vitest';
import { collectAll } from './fixtures/test-helpers.js';
import { isEventsError } from './errors.js';
import { EventStore } from './event-store.js';
import { type AckedAppend, checkHistory, type ReaderView } from './fixtures/history-checker.js';
import { START } from './position.js';
import { brokenForTests } from './test-hooks.js';
import type { ExpectedRevision, RecordedEvent } from './types.js';

const STREAMS = ['a', 'b', 'c'];

/** Retries what a store fault or a lost race may fail; the same ids make every retry safe. */
function retryable(error: unknown): boolean {
  return (
    (isStoreError(error) && (error.retryable || error.code === 'AmbiguousWrite')) || isEventsError(error, 'Contention')
  );
}

async function settle<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!retryable(error) || attempt > 200) throw error;
    }
  }
}

/**
 * One seeded run: three event stores (as three processes) on one faulty store append to three
 * streams with 'any' and exact expectations, retrying every failure with the same ids; a
 * subscription started mid-way follows along. Returns the checker's violations.
 */
async function run(seed: number): Promise<string[]> {
  const inner: ObjectStore = new MemoryStore(`chaos-${seed}`);
  const faulty = chaos(inner, {
    seed,
    ops: {
      put: { before: 0.1, after: 0.15, reorder: 0.2 },
      get: { before: 0.05, after: 0.05, reorder: 0.2 },
      list: { before: 0.05 },
    },
  });
  const rng = seededRandom(seed);
  const writers = await Promise.all(
    [0, 1, 2].map((w) =>
      EventStore.open(faulty, { prefix: 'x', checkpointEvery: 8, maxWriteAttempts: 1, random: rng.fork(`w${w}`).next }),
    ),
  );
  const acked: AckedAppend[] = [];
  const refused: string[] = [];
  let subscription:
    { after: typeof START; events: RecordedEvent[]; done: Promise<void>; close(): Promise<void> } | undefined;
  const startSubscription = (after: typeof START) => {
    const sub = (writers[0] as EventStore).subscribeToAll({ from: after, pollMinMs: 1, pollMaxMs: 5 });
    const events: RecordedEvent[] = [];
    const done = (async () => {
      for await (const e of sub) events.push(e);
    })();
    subscription = { after, events, done, close: () => sub.close() };
  };
  await Promise.all(
    writers.map(async (es, w) => {
      const r = rng.fork(`client${w}`);
      for (let i = 0; i < 12; i++) {
        const stream = STREAMS[r.int(STREAMS.length)] as string;
        const ids = Array.from({ length: 1 + r.int(2) }, (_, k) => `${w}-${i}-${k}`);
        let expected: ExpectedRevision = 'any';
        if (r.next() < 0.5) {
          const revision = await settle(() => es.streamRevision(stream));
          expected = revision < 0 ? 'no_stream' : revision;
        }
        const events = ids.map((id) => ({ id, type: 'T', data: { w, i } }));
        try {
          const result = await settle(() => es.append(stream, events, { expectedRevision: expected }));
          acked.push({ stream, ids, expected, result });
          if (w === 1 && i >= 3 && !subscription) startSubscription(result.position);
        } catch (error) {
          if (!isEventsError(error, 'WrongExpectedVersion')) throw error;
          refused.push(...ids);
        }
      }
    }),
  );
  const clean = await EventStore.open(inner, { prefix: 'x' });
  const all = await collectAll(clean.readAll());
  const views: ReaderView[] = [];
  if (!subscription) throw new Error('the subscription never started');
  {
    const due = all.filter((e) => e.position.record > (subscription as { after: typeof START }).after.record).length;
    for (let i = 0; i < 20_000 && subscription.events.length < due; i++) await new Promise((r) => setTimeout(r, 1));
    await subscription.close();
    await subscription.done;
    views.push({ name: 'subscription', after: subscription.after, events: subscription.events });
  }
  views.push({
    name: 'backwards reader',
    after: START,
    events: (await collectAll(clean.readAll({ direction: 'backwards' }))).reverse(),
  });
  for (const es of writers) await es.close();
  await clean.close();
  const problems = checkHistory(all, acked, views);
  const present = new Set(all.map((e) => e.id));
  for (const id of refused) if (present.has(id)) problems.push(`refused event ${id} is in the log`);
  return problems;
}

describe('exactly-once appends and one order under injected faults', () => {
  afterEach(() => {
    brokenForTests.skipIdCheck = false;
  });

  it('holds over many seeds', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      expect({ seed, problems: await run(seed) }).toEqual({ seed, problems: [] });
    }
  });

  it('the checker catches a build without the event-id check (duplicates after ambiguous writes)', async () => {
    brokenForTests.skipIdCheck = true;
    const duplicated = (problems: string[]) => problems.some((p) => /is in the log \d+ times/.test(p));
    let found: string[] = [];
    // Whether a seed's faults leave an ambiguous append for the client to retry depends on how the
    // three writers interleave in time (the kernel settles most unknown outcomes itself), so the
    // search goes on over many seeds, each a fraction of a second, until one shows a duplicate.
    for (let seed = 1; seed <= 60 && !duplicated(found); seed++) found = await run(seed);
    expect(duplicated(found)).toBe(true);
  });
});
