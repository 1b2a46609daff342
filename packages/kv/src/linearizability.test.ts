import { chaos, seededRandom } from '@bucketdb/store';
import { testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { useBackend } from './fixtures/backend.js';
import { type HistoryOp, isLinearizable } from './fixtures/register-checker.js';
import { isKvError, open } from './index.js';

const CLIENTS = 4;
const OPS = 12;

describe('the register checker', () => {
  it('accepts a linearizable history and rejects a stale read and a lost write', () => {
    const w = (value: string, invokedAt: number, returnedAt: number | undefined): HistoryOp => ({
      op: { kind: 'write', value },
      invokedAt,
      returnedAt,
    });
    const r = (value: string | undefined, invokedAt: number, returnedAt: number): HistoryOp => ({
      op: { kind: 'read', value },
      invokedAt,
      returnedAt,
    });
    expect(isLinearizable([w('a', 0, 2), r('a', 1, 3), w('b', 4, 5), r('b', 6, 7)])).toBe(true);
    // Concurrent with the write: either value may be read.
    expect(isLinearizable([w('a', 0, 10), r(undefined, 1, 2), r('a', 3, 4)])).toBe(true);
    // Once a read saw the new value, a later read may not see the old one.
    expect(isLinearizable([w('a', 0, 10), r('a', 1, 2), r(undefined, 3, 4)])).toBe(false);
    expect(isLinearizable([w('a', 0, 1), r(undefined, 2, 3)])).toBe(false);
    // An unknown outcome may have happened, or not.
    expect(isLinearizable([w('a', 0, undefined), r(undefined, 1, 2), r('a', 3, 4)])).toBe(true);
    expect(isLinearizable([w('a', 0, undefined), r('a', 1, 2), r(undefined, 3, 4)])).toBe(false);
    const cas = (expected: string | undefined, value: string, invokedAt: number, returnedAt: number): HistoryOp => ({
      op: { kind: 'cas', expected, value },
      invokedAt,
      returnedAt,
    });
    // Two successful CAS from the same version: impossible.
    expect(isLinearizable([w('a', 0, 1), cas('a', 'b', 2, 5), cas('a', 'c', 3, 6)])).toBe(false);
  });
});

describe.each(testBackendNames())('single-key operations are linearizable under faults on %s', (backendName) => {
  const backend = useBackend(backendName);

  it.each([1, 2, 3])('seed %i', async (seed) => {
    const faulty = chaos(await backend.newStore(), {
      seed,
      ops: {
        put: { after: 0.1, before: 0.05, reorder: 0.2 },
        get: { before: 0.05, reorder: 0.2 },
        head: { before: 0.05 },
      },
    });
    const kv = await open(faulty, { random: () => 0 });
    await kv.put('warm-up', 0); // the layout file, out of the history
    let time = 0;
    const history: HistoryOp[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const random = seededRandom(`${seed}/${c}`);
        let known: { value: string | undefined; version: string } | undefined;
        for (let i = 0; i < OPS; i++) {
          const value = `c${c}-${i}`;
          const choice = random.int(3);
          const invokedAt = time++;
          try {
            if (choice === 0) {
              const entry = await kv.get('k');
              known = entry === undefined ? undefined : { value: entry.value as string, version: entry.version };
              history.push({ op: { kind: 'read', value: known?.value }, invokedAt, returnedAt: time++ });
            } else if (choice === 1 || known === undefined) {
              await kv.put('k', value);
              history.push({ op: { kind: 'write', value }, invokedAt, returnedAt: time++ });
            } else {
              const expected = known.value;
              try {
                await kv.put('k', value, { ifVersion: known.version });
                history.push({ op: { kind: 'cas', expected, value }, invokedAt, returnedAt: time++ });
              } catch (error) {
                if (!isKvError(error, 'VersionMismatch')) throw error;
                history.push({ op: { kind: 'cas-failed', expected }, invokedAt, returnedAt: time++ });
              }
            }
          } catch (error) {
            // A write that may have landed is an operation that never returns; anything else
            // (a failed read, a store that failed before writing) had no effect.
            if (isKvError(error, 'Ambiguous')) {
              history.push({
                op:
                  choice === 1 || known === undefined
                    ? { kind: 'write', value }
                    : { kind: 'cas', expected: known.value, value },
                invokedAt,
                returnedAt: undefined,
              });
            } else if (!(typeof (error as { code?: unknown }).code === 'string')) throw error;
          }
        }
      }),
    );
    expect(faulty.counts.after + faulty.counts.before).toBeGreaterThan(0);
    expect(history.filter((o) => o.returnedAt !== undefined).length).toBeGreaterThan(CLIENTS * OPS * 0.5);
    expect(isLinearizable(history)).toBe(true);
  });
});
