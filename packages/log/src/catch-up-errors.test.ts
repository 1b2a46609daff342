import { isStoreError, MemoryStore } from '@bucketdb/store';
import { ScriptedStore } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.js';
import { bytes } from './fixtures/deterministic.js';

describe('CommitLog catch-up with a failing read', () => {
  it('confirmTail throws when a GET fails part way, and the next call reaches the tail', async () => {
    const inner = new MemoryStore();
    const writer = await CommitLog.open(inner);
    for (let i = 1; i <= 3; i++) expect((await writer.tryAppend([bytes(`r${i}`)], i)).committed).toBe(true);
    const store = new ScriptedStore(inner);
    // The reader's confirmTail GETs log/1 (present), then catch-up GETs log/2: that one fails once.
    store.add({ match: (c) => c.op === 'get' && c.key.endsWith('00000000000000000002') });
    const reader = await CommitLog.open(store);
    const heard: number[] = [];
    reader.onRecords((records) => heard.push(...records.map((r) => r.version)));
    const error = await reader.confirmTail().catch((e: unknown) => e);
    // Stopping one record short and calling that the tail would make a strong read stale.
    expect(isStoreError(error, 'Transient')).toBe(true);
    expect(reader.version).toBe(1);
    expect((await reader.confirmTail()).map((r) => r.version)).toEqual([2, 3]);
    expect(heard).toEqual([1, 2, 3]);
    expect(reader.version).toBe(3);
  });

  it('catchUp throws when a GET fails part way', async () => {
    const inner = new MemoryStore();
    const writer = await CommitLog.open(inner);
    for (let i = 1; i <= 3; i++) await writer.tryAppend([bytes(`r${i}`)], i);
    const store = new ScriptedStore(inner);
    store.add({ match: (c) => c.op === 'get' && c.key.endsWith('00000000000000000003') });
    const reader = await CommitLog.open(store);
    await expect(reader.catchUp()).rejects.toThrow(/scripted fault/);
    expect(reader.version).toBe(2);
    expect((await reader.catchUp()).map((r) => r.version)).toEqual([3]);
  });
});
