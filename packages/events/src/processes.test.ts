import { collect, openTestBackend, spawnTs, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, collectAll } from './fixtures/test-helpers.js';
import { EventStore } from './event-store.js';
import { type AckedAppend, checkHistory } from './fixtures/history-checker.js';
import { formatPosition } from './position.js';
import type { RecordedEvent } from './types.js';

async function child(args: string[]): Promise<unknown[]> {
  const result = await collect(spawnTs(new URL('./events.child.ts', import.meta.url), args, childEnv));
  expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
  return result.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}

// A memory store cannot be shared between processes.
describe.each(testBackendNames().filter((n) => n !== 'memory'))('several processes on %s', (backendName) => {
  let backend: TestBackend;
  beforeAll(async () => {
    // This process opens s3:// URLs too; the SDK reads the test server's keys from the environment.
    Object.assign(process.env, childEnv);
    backend = await openTestBackend(backendName);
  });
  afterAll(async () => {
    await backend.close();
  });

  it('lets exactly one of racing processes win each expected revision', async () => {
    const url = await backend.newStoreUrl();
    const rounds = 6;
    const outcomes = (await Promise.all([1, 2, 3].map(() => child([url, 'race', 'race', String(rounds)])))).flat() as {
      round: number;
      won: boolean;
      nextRevision?: number;
      actual?: number;
    }[];
    for (let k = 0; k < rounds; k++) {
      const round = outcomes.filter((o) => o.round === k);
      const winners = round.filter((o) => o.won);
      expect({ k, winners: winners.length }).toEqual({ k, winners: 1 });
      expect(winners[0]?.nextRevision).toBe(k);
      // A loser was told a revision the stream really had past its expectation.
      for (const loser of round.filter((o) => !o.won)) expect(loser.actual).toBeGreaterThanOrEqual(k);
    }
    const events = await EventStore.open(url, { prefix: 'ev' });
    const stored = await collectAll(events.readStream('race'));
    expect(stored.map((e) => (e.data as { k: number }).k)).toEqual(Array.from({ length: rounds }, (_, k) => k));
    await events.close();
  });

  it('gives a subscription started mid-stream every later event once, in the order every reader sees', async () => {
    const url = await backend.newStoreUrl();
    const events = await EventStore.open(url, { prefix: 'ev' });
    for (let i = 0; i < 4; i++) await events.append('early', [{ type: 'Early', data: { i } }]);
    const from = await events.headPosition();
    const perWriter = 12;
    const subscriber = child([url, 'subscribe', formatPosition(from), String(2 * perWriter)]);
    const writers = await Promise.all(['p', 'q'].map((label) => child([url, 'write', label, String(perWriter)])));
    const seen = (await subscriber) as { id: string; position: RecordedEvent['position'] }[];
    const all = await collectAll(events.readAll());
    const other = await EventStore.open(url, { prefix: 'ev' });
    const again = await collectAll(other.readAll());
    expect(again.map((e) => e.id)).toEqual(all.map((e) => e.id));
    const problems = checkHistory(all, writers.flat() as AckedAppend[], [
      { name: 'subscriber process', after: from, events: seen as RecordedEvent[] },
      { name: 'second reader', after: { record: 0, index: 0 }, events: again },
    ]);
    expect(problems).toEqual([]);
    expect(all).toHaveLength(4 + 2 * perWriter);
    await other.close();
    await events.close();
  });

  // One backend is enough for this claim: child processes are slow to start.
  it.skipIf(backendName !== 'file')(
    'lets a writer killed with SIGKILL mid-append be rerun with the same ids: nothing lost, nothing twice',
    async () => {
      const url = await backend.newStoreUrl();
      const script = new URL('./events.child.ts', import.meta.url);
      const killed = spawnTs(script, [url, 'write', 'k', '40'], childEnv);
      const first = collect(killed);
      // Kill it after its third acknowledged append, wherever its fourth is.
      await new Promise<void>((resolve) => {
        let lines = 0;
        killed.stdout?.on('data', (chunk: Buffer) => {
          lines += chunk.toString('utf8').split('\n').length - 1;
          if (lines >= 3) resolve();
        });
      });
      killed.kill('SIGKILL');
      const partial = (await first).stdout
        .split('\n')
        .filter((l) => l.trim().startsWith('{') && l.trim().endsWith('}'))
        .map((l) => JSON.parse(l) as AckedAppend);
      const rerun = (await child([url, 'write', 'k', '40'])) as AckedAppend[];
      const events = await EventStore.open(url, { prefix: 'ev' });
      const all = await collectAll(events.readAll());
      expect(all.map((e) => e.id)).toEqual(Array.from({ length: 40 }, (_, i) => `k-${i}`));
      // Both runs were told the same, true result for every append the first run finished.
      expect(checkHistory(all, [...partial, ...rerun])).toEqual([]);
      await events.close();
    },
  );
});
