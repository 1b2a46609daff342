import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError, ThrottledError } from '../errors.js';
import { CodedError } from './coded-error.js';
import { retry } from './retry.js';

const noWait = { random: () => 0 };

describe('retry', () => {
  it('retries retryable errors until the attempt succeeds', async () => {
    const seen: number[] = [];
    const value = await retry(async (n) => {
      seen.push(n);
      if (n < 2) throw new ThrottledError();
      return 'done';
    }, noWait);
    expect(value).toBe('done');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('throws a non-retryable error at once, as it is', async () => {
    let calls = 0;
    const error = new NotFoundError('k');
    await expect(
      retry(async () => {
        calls++;
        throw error;
      }, noWait),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts with the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          throw new ThrottledError(`try ${++calls}`);
        },
        { ...noWait, maxAttempts: 3 },
      ),
    ).rejects.toThrow('try 3');
    expect(calls).toBe(3);
  });

  it("retries what the caller's predicate says, including other error families", async () => {
    class Busy extends CodedError<'Busy'> {
      override get retryable(): boolean {
        return true;
      }
    }
    let calls = 0;
    await retry(async () => {
      if (++calls === 1) throw new Busy('Busy', 'busy');
    }, noWait);
    expect(calls).toBe(2);
    const plain = await retry(
      async () => {
        if (++calls === 3) throw new Error('flaky');
        return calls;
      },
      { ...noWait, isRetryable: (e) => e instanceof Error && e.message === 'flaky' },
    );
    expect(plain).toBe(4);
  });

  it('draws its backoff from the injected random', async () => {
    const draws: number[] = [];
    await retry(
      async (n) => {
        if (n < 3) throw new ThrottledError();
      },
      {
        random: () => {
          draws.push(draws.length);
          return 0;
        },
      },
    );
    expect(draws).toHaveLength(3);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          controller.abort(reason);
          throw new ThrottledError();
        },
        { ...noWait, signal: controller.signal },
      ),
    ).rejects.toBeInstanceOf(ThrottledError);
    expect(calls).toBe(1);
    await expect(retry(async () => 1, { signal: controller.signal })).rejects.toBe(reason);
  });

  it('rejects a bad maxAttempts', async () => {
    await expect(retry(async () => 1, { maxAttempts: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
