import { metered, type ObjectStore } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.js';
import { isLogError } from './errors.js';
import { bytes, text } from './fixtures/deterministic.js';
import { requests } from './fixtures/requests.js';
import { decodeFrame, encodeFrame } from './frame.js';

describe.each(testBackendNames())('checkpoints on %s', (backendName) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(backendName);
  });
  afterAll(async () => {
    await backend?.close();
  });

  /** A log with checkpoints at 10, 20 and 30, each with one object of its own. */
  async function withCheckpoints(): Promise<{ store: ObjectStore; log: CommitLog }> {
    const store = await backend.newStore();
    const log = await CommitLog.open(store, { prefix: 'db' });
    for (const v of [10, 20, 30]) {
      await store.put(log.checkpointKey(v, 'pages'), `pages at ${v}`);
      await log.writeCheckpoint(v, bytes(`manifest ${v}`));
    }
    return { store, log };
  }

  const latest = async (log: CommitLog, atOrBelow?: number) => {
    const found = await log.latestCheckpoint(atOrBelow);
    return found && { version: found.version, manifest: text(found.manifest) };
  };

  it('finds the newest checkpoint at or below a version', async () => {
    const { store, log } = await withCheckpoints();
    expect(await latest(log)).toEqual({ version: 30, manifest: 'manifest 30' });
    expect(await latest(log, 30)).toEqual({ version: 30, manifest: 'manifest 30' });
    expect(await latest(log, 29)).toEqual({ version: 20, manifest: 'manifest 20' });
    expect(await latest(log, 9)).toBeUndefined();
    expect(await latest(await CommitLog.open(store, { prefix: 'other' }))).toBeUndefined();
    expect(log.checkpointKey(30, 'pages')).toBe('db/checkpoints/00000000000000000030/pages');
    expect(text((await store.get(log.checkpointKey(30, 'pages'))).body)).toBe('pages at 30');
  });

  it('costs three requests with a current hint: hint, one LIST page, manifest', async () => {
    const { store } = await withCheckpoints();
    const counted = metered(store);
    const log = await CommitLog.open(counted, { prefix: 'db' });
    expect((await log.latestCheckpoint())?.version).toBe(30);
    expect(requests(counted)).toEqual({ get: 2, head: 0, put: 0, delete: 0, deleteMany: 0, list: 1 });
  });

  it('treats a second write of the same version as harmless: the first manifest stays', async () => {
    const { log } = await withCheckpoints();
    await log.writeCheckpoint(30, bytes('again'));
    expect(await latest(log)).toEqual({ version: 30, manifest: 'manifest 30' });
  });

  it('never moves the hint back', async () => {
    const { store, log } = await withCheckpoints();
    await log.writeCheckpoint(15, bytes('manifest 15'));
    const hint = decodeFrame('hint', (await store.get(log.paths.lastCheckpoint)).body, 'hint');
    expect(hint.header).toEqual({ version: 30 });
    expect(await latest(log, 19)).toEqual({ version: 15, manifest: 'manifest 15' });
  });

  it.each([
    [
      'stale',
      (log: CommitLog, store: ObjectStore) => store.put(log.paths.lastCheckpoint, encodeFrame('hint', { version: 10 })),
    ],
    ['missing', (log: CommitLog, store: ObjectStore) => store.delete(log.paths.lastCheckpoint)],
    ['corrupt', (log: CommitLog, store: ObjectStore) => store.put(log.paths.lastCheckpoint, 'not a hint')],
    [
      'ahead of every checkpoint',
      (log: CommitLog, store: ObjectStore) => store.put(log.paths.lastCheckpoint, encodeFrame('hint', { version: 99 })),
    ],
    [
      'nonsense',
      (log: CommitLog, store: ObjectStore) => store.put(log.paths.lastCheckpoint, encodeFrame('hint', { version: -4 })),
    ],
  ])('still finds the newest checkpoint with a %s hint', async (_, spoil) => {
    const { store, log } = await withCheckpoints();
    await spoil(log, store);
    expect(await latest(log)).toEqual({ version: 30, manifest: 'manifest 30' });
    expect(await latest(log, 25)).toEqual({ version: 20, manifest: 'manifest 20' });
    // The next checkpoint repairs the hint.
    await log.writeCheckpoint(40, bytes('manifest 40'));
    const hint = decodeFrame('hint', (await store.get(log.paths.lastCheckpoint)).body, 'hint');
    expect(hint.header).toEqual({ version: 40 });
  });

  it('ignores a checkpoint whose manifest was never written', async () => {
    const { store, log } = await withCheckpoints();
    await store.put(log.checkpointKey(50, 'pages'), 'half-written checkpoint');
    expect((await log.latestCheckpoint())?.version).toBe(30);
  });

  it('reserves object names starting with "_" for the log', async () => {
    const log = await CommitLog.open(await backend.newStore());
    expect(() => log.checkpointKey(1, '_manifest')).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(() => log.checkpointKey(1, '')).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    await expect(log.writeCheckpoint(-1, bytes('x'))).rejects.toSatisfy((e) => isLogError(e, 'InvalidArgument'));
  });
});
