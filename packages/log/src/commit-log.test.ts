import { isStoreError, metered, type ObjectStore } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.js';
import { isLogError } from './errors.js';
import { bytes, sequentialIds, text, tickingClock } from './fixtures/deterministic.js';
import { requests } from './fixtures/requests.js';
import type { LogRecord } from './record.js';

const entriesOf = (records: readonly LogRecord[]) => records.map((r) => r.entries.map(text));

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Appends `n` single-entry records `<label>:<i>` as a writer that is caught up. */
async function appendMany(log: CommitLog, n: number, label = 'r'): Promise<void> {
  for (let i = 0; i < n; i++) {
    const outcome = await log.tryAppend([bytes(`${label}:${i}`)], log.version + 1);
    expect(outcome.committed).toBe(true);
  }
}

describe.each(testBackendNames())('CommitLog on %s', (backendName) => {
  let backend: TestBackend;
  let store: ObjectStore;

  beforeAll(async () => {
    backend = await openTestBackend(backendName);
  });
  afterAll(async () => {
    await backend?.close();
  });

  const fresh = async () => {
    store = await backend.newStore();
    return metered(store);
  };

  it('starts empty and appends records that others read back in order', async () => {
    const counted = await fresh();
    const writer = await CommitLog.open(counted, {
      prefix: 'db/main',
      clock: tickingClock(1000),
      randomId: sequentialIds('w'),
    });
    expect(writer.version).toBe(0);
    expect(await writer.catchUp()).toEqual([]);
    expect(await writer.confirmTail()).toEqual([]);

    expect(await writer.tryAppend([bytes('a'), bytes('b')], 1)).toEqual({
      committed: true,
      version: 1,
      commitId: 'w-1',
    });
    expect(await writer.tryAppend([], 2)).toEqual({ committed: true, version: 2, commitId: 'w-2' });
    expect(await writer.tryAppend([bytes('c')], 3, { epoch: 7 })).toEqual({
      committed: true,
      version: 3,
      commitId: 'w-3',
    });
    expect(writer.version).toBe(3);

    const reader = await CommitLog.open(store, { prefix: 'db/main/' });
    const records = await reader.catchUp();
    expect(records.map((r) => [r.version, r.commitId, r.timestamp, r.epoch])).toEqual([
      [1, 'w-1', 1000, undefined],
      [2, 'w-2', 1001, undefined],
      [3, 'w-3', 1002, 7],
    ]);
    expect(entriesOf(records)).toEqual([['a', 'b'], [], ['c']]);
    expect(reader.version).toBe(3);
    expect(await reader.catchUp()).toEqual([]);

    const keys = await collect(store.list({ prefix: 'db/' }));
    expect(keys.map((e) => (e.kind === 'object' ? e.key : e.prefix))).toEqual([
      'db/main/log/00000000000000000001',
      'db/main/log/00000000000000000002',
      'db/main/log/00000000000000000003',
    ]);
  });

  it('costs one PUT per append when caught up and one GET per confirmTail at the tail', async () => {
    const counted = await fresh();
    const log = await CommitLog.open(counted);
    await appendMany(log, 3);
    expect(requests(counted)).toEqual({ get: 0, head: 0, put: 3, delete: 0, deleteMany: 0, list: 0 });

    counted.meter.reset();
    expect(await log.confirmTail()).toEqual([]);
    expect(requests(counted)).toEqual({ get: 1, head: 0, put: 0, delete: 0, deleteMany: 0, list: 0 });

    // Concurrent strong reads share one check that starts after all of them.
    counted.meter.reset();
    const checks = await Promise.all(Array.from({ length: 20 }, () => log.confirmTail()));
    expect(checks.every((records) => records.length === 0)).toBe(true);
    expect(requests(counted)).toEqual({ get: 1, head: 0, put: 0, delete: 0, deleteMany: 0, list: 0 });

    // Someone else appends: confirmTail notices and catches up.
    const other = await CommitLog.open(store);
    await other.catchUp();
    await appendMany(other, 2, 'other');
    const newer = await log.confirmTail();
    expect(entriesOf(newer)).toEqual([['other:0'], ['other:1']]);
    expect(log.version).toBe(5);
  });

  it('loses a taken slot cleanly and reuses the winner it read during catch-up', async () => {
    const counted = await fresh();
    const a = await CommitLog.open(store, { randomId: sequentialIds('a') });
    const b = await CommitLog.open(counted, { randomId: sequentialIds('b') });
    await appendMany(a, 3, 'a');

    expect(await b.tryAppend([bytes('b')], 1)).toEqual({ committed: false, version: 1 });
    expect(b.version).toBe(0);
    counted.meter.reset();
    const records = await b.catchUp();
    expect(records.map((r) => r.commitId)).toEqual(['a-1', 'a-2', 'a-3']);
    // Slot 1 came from the losing append; GETs of 2, 3 and the 404 at 4.
    expect(requests(counted).get).toBe(3);

    // Known-taken slots answer without a request; a slot past the next one is refused.
    counted.meter.reset();
    expect(await b.tryAppend([bytes('b')], 2)).toEqual({ committed: false, version: 2 });
    expect(requests(counted).put + requests(counted).get).toBe(0);
    await expect(b.tryAppend([bytes('b')], 5)).rejects.toSatisfy((e) => isLogError(e, 'InvalidArgument'));
    await expect(b.tryAppend([bytes('b')], 0)).rejects.toSatisfy((e) => isLogError(e, 'InvalidArgument'));
    expect(await b.tryAppend([bytes('b')], 4)).toMatchObject({ committed: true, version: 4 });
  });

  it('catches up across a long gap with one LIST', async () => {
    const counted = await fresh();
    const writer = await CommitLog.open(store);
    await appendMany(writer, 25);
    const reader = await CommitLog.open(counted);
    const records = await reader.catchUp();
    expect(records.map((r) => r.version)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(entriesOf(records).flat()).toEqual(Array.from({ length: 25 }, (_, i) => `r:${i}`));
    expect(requests(counted)).toEqual({ get: 25, head: 0, put: 0, delete: 0, deleteMany: 0, list: 1 });
  });

  it('stops catch-up at a missing slot instead of skipping past it', async () => {
    const writer = await CommitLog.open(await fresh());
    await appendMany(writer, 12);
    await store.delete(writer.paths.record(3));
    await store.delete(writer.paths.record(10));
    const reader = await CommitLog.open(store);
    expect((await reader.catchUp()).map((r) => r.version)).toEqual([1, 2]);
    await reader.advanceTo(3);
    // After GETs of 4..7 the rest is found by LIST, which must stop at the hole too.
    expect((await reader.catchUp()).map((r) => r.version)).toEqual([4, 5, 6, 7, 8, 9]);
    expect((await collect(reader.readRange(3))).map((r) => r.version)).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it('reads single records and ranges without moving its version', async () => {
    const writer = await CommitLog.open(await fresh());
    await appendMany(writer, 6);
    const reader = await CommitLog.open(store);
    expect(entriesOf([await reader.read(4)])).toEqual([['r:3']]);
    await expect(reader.read(7)).rejects.toSatisfy((e) => isStoreError(e, 'NotFound'));
    const versions = async (after: number, upTo?: number) =>
      (await collect(reader.readRange(after, upTo))).map((r) => r.version);
    expect(await versions(0)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await versions(2, 4)).toEqual([3, 4]);
    expect(await versions(5, 100)).toEqual([6]);
    expect(await versions(4, 4)).toEqual([]);
    expect(await versions(6)).toEqual([]);
    expect(reader.version).toBe(0);
  });

  it('tells listeners about every record once, in order, whoever caused it', async () => {
    const a = await CommitLog.open(await fresh());
    const b = await CommitLog.open(store);
    const heard: number[] = [];
    const stop = a.onRecords((records) => heard.push(...records.map((r) => r.version)));
    await appendMany(a, 2);
    await appendMany(await caughtUp(b), 3);
    await a.tryAppend([bytes('late')], 3); // loses; the winner is read but not yet seen
    await a.confirmTail();
    await appendMany(a, 1);
    await a.catchUp();
    stop();
    await appendMany(await caughtUp(b), 1);
    await a.catchUp();
    expect(heard).toEqual([1, 2, 3, 4, 5, 6]);
    expect(a.version).toBe(7);
  });

  it('starts from a given version and moves forward only', async () => {
    const writer = await CommitLog.open(await fresh());
    await appendMany(writer, 5);
    const reader = await CommitLog.open(store, { version: 2 });
    expect((await reader.catchUp()).map((r) => r.version)).toEqual([3, 4, 5]);
    const skipper = await CommitLog.open(store);
    await skipper.advanceTo(4);
    expect((await skipper.catchUp()).map((r) => r.version)).toEqual([5]);
    await expect(skipper.advanceTo(1)).rejects.toSatisfy((e) => isLogError(e, 'InvalidArgument'));
  });

  it('stops catch-up, range reads and appends when their signal aborts', async () => {
    const writer = await CommitLog.open(await fresh());
    await appendMany(writer, 12);
    const reason = new Error('stop');
    const aborted = AbortSignal.abort(reason);
    const reader = await CommitLog.open(store);
    await expect(reader.catchUp({ signal: aborted })).rejects.toBe(reason);
    expect(reader.version).toBe(0);
    await expect(collect(reader.readRange(0, undefined, { signal: aborted }))).rejects.toBe(reason);
    // Aborted part way: the abort is thrown (a caller must never take a partial catch-up for the
    // tail), the records seen so far reached the listeners, and a later call goes on from there.
    const controller = new AbortController();
    const counting = await CommitLog.open(store);
    const heard: number[] = [];
    counting.onRecords((records) => {
      heard.push(...records.map((r) => r.version));
      if (records.some((r) => r.version === 6)) controller.abort(reason);
    });
    await expect(counting.catchUp({ signal: controller.signal })).rejects.toBe(reason);
    expect(heard).toEqual([1, 2, 3, 4, 5, 6]);
    expect(counting.version).toBe(6);
    expect((await counting.catchUp()).map((r) => r.version)).toEqual([7, 8, 9, 10, 11, 12]);
    // An append aborted before it starts writes nothing.
    const late = await caughtUp(await CommitLog.open(store));
    await expect(late.tryAppend([bytes('x')], 13, { signal: aborted })).rejects.toBe(reason);
    expect(await late.catchUp()).toEqual([]);
    await late[Symbol.asyncDispose]();
    await expect(late.catchUp()).rejects.toSatisfy((e) => isLogError(e, 'Closed'));
  });

  it('keeps logs under different prefixes apart and refuses use after close', async () => {
    const s = await fresh();
    const one = await CommitLog.open(s, { prefix: 'one' });
    const two = await CommitLog.open(s, { prefix: 'two' });
    await appendMany(one, 2);
    expect(await two.catchUp()).toEqual([]);
    expect(two.prefix).toBe('two');
    await one.close();
    await expect(one.catchUp()).rejects.toSatisfy((e) => isLogError(e, 'Closed'));
    await expect(one.tryAppend([], 3)).rejects.toSatisfy((e) => isLogError(e, 'Closed'));
  });
});

async function caughtUp(log: CommitLog): Promise<CommitLog> {
  await log.catchUp();
  return log;
}
