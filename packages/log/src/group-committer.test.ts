import type { ObjectStore } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.js';
import { CountingStore } from './fixtures/counting-store.js';
import { bytes, seededRandom, text } from './fixtures/deterministic.js';
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

describe.each(testBackendNames())('GroupCommitter on %s', (backendName) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(backendName);
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('puts 64 concurrent proposals into far fewer records, each entry exactly once and in order', async () => {
    const counted = new CountingStore(await backend.newStore());
    const log = await CommitLog.open(counted);
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => log.commit({ entry: bytes(`k${i}=${i}`), baseVersion: 0 })),
    );
    const records = await allRecords(counted.inner);
    expect(records.length).toBeLessThanOrEqual(4);
    expect(counted.counts.put).toBe(records.length);
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
});
