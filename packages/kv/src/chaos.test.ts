import { chaos } from '@bucketdb/store';
import { testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { useBackend } from './fixtures/backend.js';
import { isKvError, open } from './index.js';

const WORKERS = 8;
const UPDATES = 15;

describe.each(testBackendNames())('update() under injected faults on %s', (backendName) => {
  const backend = useBackend(backendName);

  it.each([
    [1, undefined],
    [2, undefined],
    [3, 3600],
  ])(
    'counts each increment at most once and every acknowledged one exactly (seed %i, ttl %s)',
    async (seed, ttlSeconds) => {
      const inner = await backend.newStore();
      // Writes that land and then report failure (ambiguous), requests that fail before reaching
      // the store, and shuffled completions.
      const faulty = chaos(inner, {
        seed,
        ops: { put: { after: 0.15, before: 0.1, reorder: 0.2 }, get: { before: 0.1 }, head: { before: 0.05 } },
      });
      const kv = await open(faulty, { random: () => 0 });
      const outcome = { acknowledged: 0, ambiguous: 0, unavailable: 0 };
      await Promise.all(
        Array.from({ length: WORKERS }, async () => {
          for (let i = 0; i < UPDATES; i++) {
            try {
              await kv.update('counter', (n) => ((n as number | undefined) ?? 0) + 1, {
                maxAttempts: 500,
                // With a TTL every update also writes a marker: its failures must not escape raw.
                ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
              });
              outcome.acknowledged++;
            } catch (error) {
              // Only KV errors surface (never a raw store error): an ambiguity the write ids could
              // not decide, or a store that kept failing before anything was written.
              if (isKvError(error, 'Ambiguous')) outcome.ambiguous++;
              else if (isKvError(error, 'Unavailable')) outcome.unavailable++;
              else throw error;
            }
          }
        }),
      );
      expect(faulty.counts.after).toBeGreaterThan(0);
      expect(faulty.counts.before).toBeGreaterThan(0);
      const final = (await (await open(inner)).get('counter'))?.value as number;
      // Acknowledged increments all landed; an ambiguous one may or may not have.
      expect(final).toBeGreaterThanOrEqual(outcome.acknowledged);
      expect(final).toBeLessThanOrEqual(outcome.acknowledged + outcome.ambiguous);
      expect(outcome.acknowledged).toBeGreaterThan(WORKERS * UPDATES * 0.8);
    },
    // Contended retries with backoff over HTTP: generous for a loaded 2-core CI machine.
    180_000,
  );
});
