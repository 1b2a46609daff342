import { chaos, isStoreError, type ObjectStore } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.js';
import { isLogError } from './errors.js';
import { bytes, seededRandom, sequentialIds, text } from './fixtures/deterministic.js';
import { FaultyStore, type PutFault } from './fixtures/faulty-store.js';
import { GroupCommitter } from './group-committer.js';

async function storedEntries(store: ObjectStore): Promise<string[]> {
  const log = await CommitLog.open(store);
  return (await log.catchUp()).flatMap((r) => r.entries.map(text));
}

/** Faults for the first PUT of each key only. */
function firstPutOf(fault: PutFault) {
  const seen = new Set<string>();
  return (key: string) => {
    if (seen.has(key)) return undefined;
    seen.add(key);
    return fault;
  };
}

describe.each(testBackendNames())('ambiguous writes on %s', (backendName) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(backendName);
  });
  afterAll(async () => {
    await backend?.close();
  });

  it.each(['ambiguous-after', 'ambiguous-before', 'ambiguous-late', 'conflict-in-flight', 'transient'] as const)(
    'resolves a %s PUT to committed, exactly once',
    async (fault) => {
      const store = await backend.newStore();
      const faulty = new FaultyStore(store, firstPutOf(fault));
      const log = await CommitLog.open(faulty, { randomId: sequentialIds('w') });
      for (let v = 1; v <= 3; v++) {
        expect(await log.tryAppend([bytes(`e${v}`)], v)).toEqual({ committed: true, version: v, commitId: `w-${v}` });
      }
      expect(faulty.injected[fault]).toBe(3);
      expect(await storedEntries(store)).toEqual(['e1', 'e2', 'e3']);
    },
  );

  it.each(['ambiguous-before', 'conflict-in-flight'] as const)(
    'reports a slot that someone else won during a %s write as not committed',
    async (fault) => {
      const store = await backend.newStore();
      const rival = await CommitLog.open(store, { randomId: sequentialIds('rival') });
      // Our request is lost in transit, or meets the rival's in flight; the rival's lands.
      const faulty = new FaultyStore(store, async () => {
        await rival.tryAppend([bytes('rival')], rival.version + 1);
        return fault;
      });
      const log = await CommitLog.open(faulty, { randomId: sequentialIds('us') });
      expect(await log.tryAppend([bytes('us')], 1)).toEqual({ committed: false, version: 1 });
      expect((await log.catchUp()).map((r) => r.commitId)).toEqual(['rival-1']);
    },
  );

  it('reports a corrupt object found in the slot after an ambiguous write as Corrupt', async () => {
    const store = await backend.newStore();
    const faulty = new FaultyStore(store, async (key) => {
      await store.put(key, 'garbage that landed instead');
      return 'ambiguous-before' as const;
    });
    const log = await CommitLog.open(faulty);
    await expect(log.tryAppend([bytes('x')], 1)).rejects.toSatisfy((e) => isLogError(e, 'Corrupt'));
  });

  it('surfaces AmbiguousWrite, never a clean failure, when the outcome cannot be resolved', async () => {
    const store = await backend.newStore();
    const faulty = new FaultyStore(store, () => 'ambiguous-before');
    const log = await CommitLog.open(faulty, { maxWriteAttempts: 3, random: () => 0 });
    await expect(log.tryAppend([bytes('x')], 1)).rejects.toSatisfy((e) => isStoreError(e, 'AmbiguousWrite'));
    expect(faulty.injected['ambiguous-before']).toBe(3);
  });

  it('applies every acknowledged commit exactly once under random faults and racing writers', async () => {
    const store = await backend.newStore();
    const random = seededRandom(42);
    const faults: PutFault[] = [
      'ambiguous-after',
      'ambiguous-before',
      'ambiguous-late',
      'conflict-in-flight',
      'transient',
    ];
    const faulty = new FaultyStore(
      store,
      () => (random() < 0.3 ? faults[Math.floor(random() * faults.length)] : undefined),
      () => random() < 0.05,
    );
    const writers = 4;
    const perWriter = backendName === 's3' ? 8 : 15; // HTTP round trips are slow on a shared machine
    const acknowledged = await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const log = await CommitLog.open(faulty, { random: seededRandom(w) });
        const seen = new Set<string>();
        log.onRecords((records) => {
          for (const r of records) for (const e of r.entries) seen.add(text(e));
        });
        const mine: string[] = [];
        for (let i = 0; i < perWriter; i++) {
          const entry = `w${w}-${i}`;
          for (;;) {
            try {
              await log.catchUp();
              if ((await log.tryAppend([bytes(entry)], log.version + 1)).committed) break;
            } catch (error) {
              if (!isStoreError(error) || !(error.retryable || error.code === 'AmbiguousWrite')) throw error;
              // Unknown outcome: the entry is either in the log already or not at all.
              await retry(() => log.catchUp());
              if (seen.has(entry)) break;
            }
          }
          mine.push(entry);
        }
        return mine;
      }),
    );
    const entries = await storedEntries(store);
    expect(new Set(entries).size).toBe(entries.length);
    expect([...entries].sort()).toEqual(acknowledged.flat().sort());
    expect(entries.length).toBe(writers * perWriter);
    const injected = Object.values(faulty.injected).reduce((a, b) => a + b, 0);
    expect(injected).toBeGreaterThan(10);
  });

  it('commits every acknowledged group-commit proposal exactly once through the chaos store', async () => {
    const store = await backend.newStore();
    const chaotic = chaos(store, {
      seed: 'log-group-commit',
      ops: { put: { before: 0.1, after: 0.2 }, get: { before: 0.05 } },
      faults: { reorder: 0.2, delay: 0.1 },
      delayMs: { min: 1, max: 5 },
    });
    const acknowledged: string[] = [];
    const committers = [1, 2, 3].map(async (seed) => {
      const log = await CommitLog.open(chaotic, { random: seededRandom(seed) });
      const seen = new Set<string>();
      log.onRecords((records) => {
        for (const r of records) for (const e of r.entries) seen.add(text(e));
      });
      const committer = new GroupCommitter(log, { random: seededRandom(seed + 10) });
      const caller = async (c: number) => {
        for (let i = 0; i < 6; i++) {
          const entry = `g${seed}.${c}=${i}`;
          for (;;) {
            try {
              const result = await committer.commit({ entry: bytes(entry), baseVersion: log.version });
              expect(result.committed).toBe(true);
              break;
            } catch (error) {
              if (!isStoreError(error) || !(error.retryable || error.code === 'AmbiguousWrite')) throw error;
              await retry(() => log.catchUp());
              if (seen.has(entry)) break;
            }
          }
          acknowledged.push(entry);
        }
      };
      await Promise.all([0, 1, 2].map(caller));
    });
    await Promise.all(committers);
    const entries = await storedEntries(store);
    expect(new Set(entries).size).toBe(entries.length);
    expect([...entries].sort()).toEqual([...acknowledged].sort());
    expect(entries).toHaveLength(3 * 3 * 6);
    expect(chaotic.counts.after).toBeGreaterThan(0);
  });
});

async function retry<T>(fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!isStoreError(error) || !error.retryable) throw error;
    }
  }
}
