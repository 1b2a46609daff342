import { InvalidArgumentError } from '../../errors.js';
import type { ObjectStore, PutBody } from '../../object-store.js';
import type { PriceTable } from './prices.js';
import { knownSize, STORE_OPS, type StoreCall, type StoreOp, WrappedStore } from '../wrapped-store.js';

/** S3 Express One Zone's 2023 pricing left the first 512 KiB of each request out of its per-GB charges. */
const FREE_BYTES = 512 * 1024;
/** S3's DeleteObjects takes at most 1000 keys: a batch of more is several requests. */
const DELETE_BATCH = 1000;
const GB = 2 ** 30;

export interface MeterSnapshot {
  /** Requests by operation, failed ones included (providers bill those too). */
  requests: Record<StoreOp, number>;
  /** Body bytes sent to the store (puts) and received from it (gets). */
  bytesIn: number;
  bytesOut: number;
  /** The part of each request's body beyond its first 512 KiB, summed. */
  bytesInOver512KiB: number;
  bytesOutOver512KiB: number;
}

/** Counts of requests and bytes, shared by any number of metered stores. */
export class Meter {
  #counts = emptySnapshot();

  snapshot(): MeterSnapshot {
    return { ...this.#counts, requests: { ...this.#counts.requests } };
  }

  reset(): void {
    this.#counts = emptySnapshot();
  }

  request(op: StoreOp, n = 1): void {
    this.#counts.requests[op] += n;
  }

  /** Adds `bytes` more of one request's body, of which `before` had already passed. */
  bytes(direction: 'in' | 'out', before: number, bytes: number): void {
    const over = Math.max(0, before + bytes - FREE_BYTES) - Math.max(0, before - FREE_BYTES);
    if (direction === 'in') {
      this.#counts.bytesIn += bytes;
      this.#counts.bytesInOver512KiB += over;
    } else {
      this.#counts.bytesOut += bytes;
      this.#counts.bytesOutOver512KiB += over;
    }
  }
}

/**
 * Counts what a store is asked to do. It sees the requests of the `ObjectStore` interface: a
 * streamed put that S3Store splits into a multipart upload counts as one PUT here.
 */
export class MeteredStore extends WrappedStore {
  readonly meter: Meter;

  constructor(inner: ObjectStore, meter = new Meter()) {
    super(inner);
    this.meter = meter;
  }

  protected around<T>(call: StoreCall, run: () => Promise<T>): Promise<T> {
    const n = call.op === 'deleteMany' ? Math.ceil((call.count ?? 0) / DELETE_BATCH) : 1;
    this.meter.request(call.op, n);
    return run();
  }

  protected override requestBody(_call: StoreCall, body: PutBody): PutBody {
    const size = knownSize(body);
    if (size !== undefined) {
      this.meter.bytes('in', 0, size);
      return body;
    }
    return this.#count('in', body as AsyncIterable<Uint8Array>);
  }

  protected override responseBody(_call: StoreCall, body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    return this.#count('out', body);
  }

  async *#count(direction: 'in' | 'out', body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    let seen = 0;
    for await (const chunk of body) {
      this.meter.bytes(direction, seen, chunk.length);
      seen += chunk.length;
      yield chunk;
    }
  }
}

export function metered(store: ObjectStore, meter?: Meter): MeteredStore {
  return new MeteredStore(store, meter);
}

export interface CostOptions {
  /** Average GB stored over the period, times months (GB-months). */
  storageGBMonths?: number;
  /** Whether the bytes read left the provider's region for the internet (default: no). */
  internetEgress?: boolean;
}

export interface CostBreakdown {
  requests: number;
  /** Per-GB upload and retrieval charges, and internet egress. */
  transfer: number;
  storage: number;
  total: number;
}

/** What the metered requests (and optional storage) cost under a price table, in USD. */
export function cost(usage: MeterSnapshot | Meter, prices: PriceTable, options: CostOptions = {}): CostBreakdown {
  const snap = usage instanceof Meter ? usage.snapshot() : usage;
  let requests = 0;
  for (const op of STORE_OPS) {
    const cls = prices.classOf[op];
    if (cls === 'A') requests += (snap.requests[op] * prices.classAPer1000) / 1000;
    else if (cls === 'B') requests += (snap.requests[op] * prices.classBPer1000) / 1000;
  }
  if (prices.freeBytesPerRequest !== 0 && prices.freeBytesPerRequest !== FREE_BYTES) {
    throw new InvalidArgumentError(
      `the meter tracks a 512 KiB allowance only, not ${prices.freeBytesPerRequest} bytes`,
    );
  }
  const free = prices.freeBytesPerRequest === FREE_BYTES;
  const uploaded = free ? snap.bytesInOver512KiB : snap.bytesIn;
  const retrieved = free ? snap.bytesOutOver512KiB : snap.bytesOut;
  let transfer = (uploaded * prices.uploadPerGB + retrieved * prices.retrievalPerGB) / GB;
  if (options.internetEgress) transfer += (snap.bytesOut * prices.internetEgressPerGB) / GB;
  const storage = (options.storageGBMonths ?? 0) * prices.storagePerGBMonth;
  return { requests, transfer, storage, total: requests + transfer + storage };
}

function emptySnapshot(): MeterSnapshot {
  const requests = Object.fromEntries(STORE_OPS.map((op) => [op, 0])) as Record<StoreOp, number>;
  return { requests, bytesIn: 0, bytesOut: 0, bytesInOver512KiB: 0, bytesOutOver512KiB: 0 };
}
