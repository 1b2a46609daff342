import { isStoreError, metered, type ObjectStore, type StoreCall, WrappedStore } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.js';
import { isLogError } from './errors.js';
import { bytes, seededRandom, text } from './fixtures/deterministic.js';
import { FaultyStore, type PutFault } from './fixtures/faulty-store.js';
import { requests } from './fixtures/requests.js';
import { type CommitResult, GroupCommitter } from './group-committer.js';
import type { LogRecord } from './record.js';

async function allRecords(store: ObjectStore): Promise<LogRecord[]> {
  const log = await CommitLog.open(store);
  return log.catchUp();
}

/** Entries are `key=value`; a proposal conflicts with anything committed or accepted on its key. */
const keyOf = (entry: Uint8Array) => text(entry).split('=')[0];
const touches = (key: string) => (newer: readonly LogRecord[], ahead: readonly Uint8Array[]) =>
  !newer.some((r) => r.entries.some((e) => keyOf(e) === key)) && !ahead.some((e) => keyOf(e) === key);

/** Holds the first request made after `arm()` until `release()`: to interleave other work there. */
class OneHeldRequest extends WrappedStore {
  #armed = false;
  #release: (() => void) | undefined;
  held = false;

  arm(): void {
    this.#armed = true;
  }

  release(): void {
    this.#release?.();
  }

  protected async around<T>(_call: StoreCall, run: () => Promise<T>): Promise<T> {
    if (this.#armed) {
      this.#armed = false;
      const released = new Promise<void>((resolve) => (this.#release = resolve));
      this.held = true;
      await released;
    }
    return run();
  }
}

describe.each(testBackendNames())('GroupCommitter on %s', (backendName) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(backendName);
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('puts 64 concurrent proposals into far fewer records, each entry exactly once and in order', async () => {
    const counted = metered(await backend.newStore());
    const log = await CommitLog.open(counted);
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => log.commit({ entry: bytes(`k${i}=${i}`), baseVersion: 0 })),
    );
    const records = await allRecords(counted.inner);
    expect(records.length).toBeLessThanOrEqual(4);
    expect(requests(counted).put).toBe(records.length);
    const stored = records.flatMap((r) => r.entries.map(text));
    expect(stored).toEqual(Array.from({ length: 64 }, (_, i) => `k${i}=${i}`));
    results.forEach((result, i) => {
      if (!result.committed) throw new Error(`proposal ${i} was rejected`);
      const record = records[result.version - 1] as LogRecord;
      expect(record.commitId).toBe(result.commitId);
      expect(text(record.entries[result.index] as Uint8Array)).toBe(`k${i}=${i}`);
    });
    expect(log.version).toBe(records.length);
    await log.close();
  });

  it('rejects proposals that conflict with newer records or with proposals ahead of them', async () => {
    const store = await backend.newStore();
    const log = await CommitLog.open(store);
    const other = await CommitLog.open(store);
    await other.tryAppend([bytes('x=other')], 1);

    const propose = (entry: string) =>
      log.commit({ entry: bytes(entry), baseVersion: 0, check: touches(keyOf(bytes(entry)) as string) });
    const results = await Promise.all(['x=1', 'y=1', 'y=2', 'z=1'].map(propose));
    const [x1, y1, y2, z1] = results as [CommitResult, CommitResult, CommitResult, CommitResult];
    expect(x1.committed).toBe(false);
    if (!x1.committed) expect(x1.newer.map((r) => r.entries.map(text))).toEqual([['x=other']]);
    expect(y1).toMatchObject({ committed: true, version: 2, index: 0 });
    expect(y2.committed).toBe(false);
    expect(z1).toMatchObject({ committed: true, version: 2, index: 1 });

    // A proposal based on an old version sees everything committed since, including our own.
    const stale = await log.commit({ entry: bytes('y=3'), baseVersion: 1, check: touches('y') });
    expect(stale.committed).toBe(false);
    if (!stale.committed) expect(stale.newer.map((r) => r.version)).toEqual([2]);
    const fresh = await log.commit({ entry: bytes('y=3'), baseVersion: 2, check: touches('y') });
    expect(fresh).toMatchObject({ committed: true, version: 3, index: 0 });
    expect((await allRecords(store)).map((r) => r.entries.map(text))).toEqual([['x=other'], ['y=1', 'z=1'], ['y=3']]);
  });

  it('reads back records older than its window to check an old proposal', async () => {
    const store = await backend.newStore();
    const log = await CommitLog.open(store);
    const committer = new GroupCommitter(log, { windowRecords: 1 });
    for (const entry of ['a=1', 'b=1', 'c=1'])
      await committer.commit({ entry: bytes(entry), baseVersion: log.version });
    const stale = await committer.commit({ entry: bytes('b=2'), baseVersion: 0, check: touches('b') });
    expect(stale.committed).toBe(false);
    if (!stale.committed) expect(stale.newer.map((r) => r.entries.map(text))).toEqual([['a=1'], ['b=1'], ['c=1']]);
    expect(await committer.commit({ entry: bytes('d=1'), baseVersion: 0, check: touches('d') })).toMatchObject({
      committed: true,
      version: 4,
    });
  });

  it('never commits past records it did not check, when the log moves on during the check', async () => {
    const store = await backend.newStore();
    const gate = new OneHeldRequest(store);
    const log = await CommitLog.open(gate);
    const other = await CommitLog.open(store);
    await other.tryAppend([bytes('a=1')], 1);
    await log.catchUp();
    // Created after the catch-up, its window is empty: the check reads record 1 from the store.
    const committer = new GroupCommitter(log);
    gate.arm();
    const result = committer.commit({ entry: bytes('b=1'), baseVersion: 0, check: touches('b') });
    await expect.poll(() => gate.held).toBe(true);
    // While the check's read is held, a conflicting record lands and the log catches up past it.
    await other.tryAppend([bytes('b=2')], 2);
    await log.catchUp();
    expect(log.version).toBe(2);
    gate.release();
    const outcome = await result;
    expect(outcome.committed).toBe(false);
    expect((await allRecords(store)).map((r) => r.entries.map(text))).toEqual([['a=1'], ['b=2']]);
  });

  it('keeps exact counts with several committers racing for the same slots', async () => {
    const store = await backend.newStore();
    const writers = 4;
    const perWriter = 40;
    const committers = await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const log = await CommitLog.open(store, { random: seededRandom(w + 1) });
        return new GroupCommitter(log, { random: seededRandom(100 + w) });
      }),
    );
    const results = await Promise.all(
      committers.flatMap((committer, w) =>
        Array.from({ length: perWriter }, (_, i) => committer.commit({ entry: bytes(`w${w}=${i}`), baseVersion: 0 })),
      ),
    );
    expect(results.every((r) => r.committed)).toBe(true);
    const records = await allRecords(store);
    expect(records.map((r) => r.version)).toEqual(records.map((_, i) => i + 1));
    const entries = records.flatMap((r) => r.entries.map(text));
    expect(new Set(entries).size).toBe(entries.length);
    expect(entries.length).toBe(writers * perWriter);
    for (let w = 0; w < writers; w++) {
      // Each writer's own entries keep their submission order.
      const mine = entries.filter((e) => e.startsWith(`w${w}=`));
      expect(mine).toEqual(Array.from({ length: perWriter }, (_, i) => `w${w}=${i}`));
    }
    await Promise.all(committers.map((c) => c.close()));
  });

  it('commits exactly once per proposal through ambiguous and failed writes', async () => {
    const store = await backend.newStore();
    const random = seededRandom(7);
    const faults: PutFault[] = [
      'ambiguous-after',
      'ambiguous-before',
      'ambiguous-late',
      'conflict-in-flight',
      'transient',
    ];
    const faulty = new FaultyStore(store, () =>
      random() < 0.4 ? faults[Math.floor(random() * faults.length)] : undefined,
    );
    const committers = await Promise.all(
      [1, 2, 3].map(async (seed) => new GroupCommitter(await CommitLog.open(faulty, { random: seededRandom(seed) }))),
    );
    // Per committer, 4 callers each committing 8 times in a row: many batches, many PUTs.
    const propose = async (committer: GroupCommitter, entry: string) => {
      try {
        return { entry, result: await committer.commit({ entry: bytes(entry), baseVersion: 0 }) };
      } catch (error) {
        // Only an unresolvable outcome may surface, and then the entry may or may not exist.
        expect(isStoreError(error, 'AmbiguousWrite')).toBe(true);
        return { entry, result: undefined };
      }
    };
    const callers = committers.flatMap((committer, c) =>
      Array.from({ length: 4 }, async (_, k) => {
        const done = [];
        for (let i = 0; i < 8; i++) done.push(await propose(committer, `c${c}.${k}=${i}`));
        return done;
      }),
    );
    const outcomes = (await Promise.all(callers)).flat();
    const stored = (await allRecords(store)).flatMap((r) => r.entries.map(text));
    expect(new Set(stored).size).toBe(stored.length);
    for (const { entry, result } of outcomes) {
      if (result) expect(stored).toContain(entry);
      if (result?.committed === false) throw new Error('no check was given, nothing can be rejected');
    }
    expect(stored.length).toBeGreaterThanOrEqual(outcomes.filter((o) => o.result).length);
    expect(Object.values(faulty.injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
  });

  it('serves callers that propose again the moment they hear back', async () => {
    const log = await CommitLog.open(await backend.newStore());
    const committer = new GroupCommitter(log);
    const versions: number[] = [];
    // Each next proposal is submitted from the previous one's settlement, while the committer is
    // still winding down the batch that resolved it.
    const chain = (i: number): Promise<void> =>
      committer.commit({ entry: bytes(`n=${i}`), baseVersion: log.version }).then((result) => {
        if (result.committed) versions.push(result.version);
        return i < 19 ? chain(i + 1) : undefined;
      });
    await chain(0);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('gives up with Contention when a rival takes every slot first', async () => {
    const store = await backend.newStore();
    const rival = await CommitLog.open(store);
    const faulty = new FaultyStore(store, async () => {
      await rival.catchUp();
      await rival.tryAppend([bytes('rival')], rival.version + 1);
      return undefined;
    });
    const committer = new GroupCommitter(await CommitLog.open(faulty), { maxAttempts: 3, random: () => 0 });
    await expect(committer.commit({ entry: bytes('mine'), baseVersion: 0 })).rejects.toSatisfy((e) =>
      isLogError(e, 'Contention'),
    );
    expect((await allRecords(store)).map((r) => r.entries.map(text))).toEqual([['rival'], ['rival'], ['rival']]);
  });

  it('rejects only the proposal whose check throws, and refuses proposals after close', async () => {
    const log = await CommitLog.open(await backend.newStore());
    const committer = new GroupCommitter(log);
    const boom = new Error('check failed to run');
    const [bad, good] = await Promise.allSettled([
      committer.commit({
        entry: bytes('a'),
        baseVersion: 0,
        check: () => {
          throw boom;
        },
      }),
      committer.commit({ entry: bytes('b'), baseVersion: 0 }),
    ]);
    expect(bad).toEqual({ status: 'rejected', reason: boom });
    expect(good).toMatchObject({ status: 'fulfilled', value: { committed: true, version: 1, index: 0 } });
    await expect(committer.commit({ entry: bytes('c'), baseVersion: -1 })).rejects.toSatisfy((e) =>
      isLogError(e, 'InvalidArgument'),
    );
    await committer.close();
    await expect(committer.commit({ entry: bytes('c'), baseVersion: 1 })).rejects.toSatisfy((e) =>
      isLogError(e, 'Closed'),
    );
  });
});
