/**
 * Fetches `items` with up to `window` requests in flight and yields the results in order. Stops at
 * the first `undefined` result (a missing object). Requests already started when the consumer
 * stops are left to finish; their failures are not reported (nobody is waiting for them).
 */
export async function* orderedFetch<T, R>(
  items: readonly T[],
  fetch: (item: T) => Promise<R | undefined>,
  window = 8,
): AsyncIterable<R> {
  const inFlight: Promise<R | undefined>[] = [];
  let next = 0;
  const fill = () => {
    while (inFlight.length < window && next < items.length) {
      const p = fetch(items[next++] as T);
      p.catch(() => {});
      inFlight.push(p);
    }
  };
  fill();
  while (inFlight.length > 0) {
    const result = await (inFlight.shift() as Promise<R | undefined>);
    if (result === undefined) return;
    fill();
    yield result;
  }
}
