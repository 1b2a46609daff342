import { InvalidArgumentError } from '../errors.js';

/** Maps `items` with at most `concurrency` calls in flight; results keep the input order. */
export async function mapConcurrent<I, O>(
  items: readonly I[],
  concurrency: number,
  fn: (item: I, index: number) => Promise<O>,
): Promise<O[]> {
  checkConcurrency(concurrency);
  const results = new Array<O>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as I, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/**
 * Like `mapConcurrent`, but lazy and streaming: yields the results in input order as they are
 * ready, keeping up to `concurrency` calls in flight, and starts new calls only while the consumer
 * keeps reading. A consumer that stops early leaves the calls already started to finish; their
 * failures are not reported (nobody waits for them).
 */
export async function* streamConcurrent<I, O>(
  items: readonly I[],
  concurrency: number,
  fn: (item: I, index: number) => Promise<O>,
): AsyncIterable<O> {
  checkConcurrency(concurrency);
  const inFlight: Promise<O>[] = [];
  let next = 0;
  const fill = () => {
    while (inFlight.length < concurrency && next < items.length) {
      const i = next++;
      const call = fn(items[i] as I, i);
      call.catch(() => {});
      inFlight.push(call);
    }
  };
  fill();
  while (inFlight.length > 0) {
    yield await (inFlight.shift() as Promise<O>);
    // Refill only once the consumer asks for more: one that stops starts nothing new.
    fill();
  }
}

function checkConcurrency(concurrency: number): void {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError(`concurrency must be a positive integer, got ${String(concurrency)}`);
  }
}
