import { MemoryStore } from '@bucketdb/store';
import { describe, expect, it } from 'vitest';
import { EventStore } from './event-store.js';
import { collectAll } from './fixtures/test-helpers.js';

const revisions = async (it: AsyncIterable<{ revision: number }>) => (await collectAll(it)).map((e) => e.revision);

describe('stream metadata', () => {
  it('hides events by maxCount, truncateBefore and maxAge on stream and $all reads, also for a cold reader after a checkpoint', async () => {
    const store = new MemoryStore('meta');
    let now = 1_000_000;
    const events = await EventStore.open(store, { prefix: 'ev', checkpointEvery: 4, wallClock: () => now });
    for (let i = 0; i < 6; i++) {
      await events.append('a', [{ type: 'T', data: i }]);
      now += 1000;
    }
    await events.append('b', [{ type: 'T', data: 0 }]);
    await events.setStreamMetadata('a', { maxCount: 4 });
    expect(await revisions(events.readStream('a'))).toEqual([2, 3, 4, 5]);
    expect(await revisions(events.readStream('a', { direction: 'backwards', limit: 2 }))).toEqual([5, 4]);
    await events.setStreamMetadata('a', { maxCount: 4, truncateBefore: 3 });
    expect(await revisions(events.readStream('a'))).toEqual([3, 4, 5]);
    // Events written more than 2.5 s before now: revisions 0 to 3 (written at 1,000,000 + 1000 i).
    await events.setStreamMetadata('a', { maxAgeMs: 2500 });
    expect(await revisions(events.readStream('a'))).toEqual([4, 5]);
    expect((await collectAll(events.readAll())).map((e) => `${e.stream}${e.revision}`)).toEqual(['a4', 'a5', 'b0']);
    expect(await events.getStreamMetadata('a')).toEqual({ maxAgeMs: 2500 });
    await events.checkpoint();
    // A cold reader: the metadata comes from the checkpoint's index.
    const cold = await EventStore.open(store, { prefix: 'ev', wallClock: () => now });
    expect(await revisions(cold.readStream('a'))).toEqual([4, 5]);
    await cold.close();
    await events.close();
  });

  it('soft-deletes a stream (appending recreates it, revisions continue) and tombstones one for good', async () => {
    const events = await EventStore.open(new MemoryStore('delete'), { prefix: 'ev' });
    await events.append('s', [{ type: 'T' }, { type: 'T' }]);
    await events.append('t', [{ type: 'T' }]);
    await events.deleteStream('s');
    expect(await revisions(events.readStream('s'))).toEqual([]);
    expect((await events.streams()).map((s) => s.stream)).toEqual(['t']);
    const again = await events.append('s', [{ type: 'T' }]);
    expect(again.nextRevision).toBe(2);
    expect(await revisions(events.readStream('s'))).toEqual([2]);

    await events.deleteStream('t', { hard: true });
    await expect(events.append('t', [{ type: 'T' }])).rejects.toMatchObject({ code: 'StreamDeleted' });
    await expect(collectAll(events.readStream('t'))).rejects.toMatchObject({ code: 'StreamDeleted' });
    await expect(events.deleteStream('t')).rejects.toMatchObject({ code: 'StreamDeleted' });
    await expect(events.setStreamMetadata('t', { maxCount: 1 })).rejects.toMatchObject({ code: 'StreamDeleted' });
    // A concurrent writer that has not seen the tombstone is refused inside group commit.
    const other = await EventStore.open(events.store, { prefix: 'ev' });
    await expect(other.append('t', [{ type: 'T' }])).rejects.toMatchObject({ code: 'StreamDeleted' });
    expect((await events.streams()).map((s) => s.stream)).toEqual(['s']);
    expect((await collectAll(events.readAll())).map((e) => e.stream)).toEqual(['s']);
    await other.close();
    await events.close();
  });

  it('refuses bad metadata, writing nothing', async () => {
    const events = await EventStore.open(new MemoryStore('bad'), { prefix: 'ev' });
    await expect(events.setStreamMetadata('s', { maxCount: -1 })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(events.setStreamMetadata('s', { colour: 1 } as never)).rejects.toMatchObject({
      code: 'InvalidArgument',
    });
    await expect(events.setStreamMetadata('$s', {})).rejects.toMatchObject({ code: 'InvalidStreamName' });
    expect(await events.headPosition()).toEqual({ record: 0, index: 0 });
    await events.close();
  });
});
