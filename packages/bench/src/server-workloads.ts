import { Agent } from 'node:http';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { runConcurrent } from './harness.js';
import { RawS3Client } from './server-client.js';
import type { Target } from './server-targets.js';

export const BUCKET = 'bench';
const MiB = 1024 * 1024;

export function rawClient(target: Target): RawS3Client {
  return new RawS3Client(target.url, target.credentials);
}

/** The AWS SDK with its default settings: streams go aws-chunked with a CRC32 trailer. */
export function sdkClient(target: Target): S3Client {
  return new S3Client({
    endpoint: target.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: target.credentials,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) },
  });
}

/** What a measurement gives: its rate, and how many operations the server answered during it. */
export interface Measured {
  rate: number;
  ops: number;
}

/** One measurement, ready to run: whatever had to come first (signing, warm-up) is done. */
export type Measure = () => Promise<Measured>;

export type SmallOp = 'put' | 'overwrite' | 'get';

/**
 * A load generator for the 4 KiB cells. `put` writes keys never written before, `overwrite`
 * replaces existing keys (the path of an unconditional write to an existing key: FileStore takes
 * the key's lock), `get` reads existing 4 KiB objects. `prepare` does the work that must not count
 * as the server's (signing, warm-up) and returns the measurement.
 */
export interface SmallLoad {
  prepare(op: SmallOp, concurrency: number, round: number): Promise<Measure>;
}

/**
 * The Node client as the small-object load (the fallback when wrk is missing): it spends about
 * as much CPU per request as the servers do, so on a small machine its rates partly measure the
 * client. Overwrites and GETs use the keys the round-0 warm-up of `put` wrote at the same
 * concurrency, so `put` at a concurrency comes first.
 */
export class NodeSmallLoad implements SmallLoad {
  readonly #client: RawS3Client;
  readonly #seconds: number;
  readonly #body: Uint8Array;

  constructor(client: RawS3Client, seconds: number, body: Uint8Array) {
    this.#client = client;
    this.#seconds = seconds;
    this.#body = body;
  }

  async prepare(op: SmallOp, concurrency: number, round: number): Promise<Measure> {
    const written = warmupCount(concurrency);
    const put = (key: string) => this.#client.send('PUT', key, { data: this.#body, length: this.#body.length });
    const task =
      op === 'put'
        ? (i: number) => put(smallKey(concurrency, round, i))
        : op === 'overwrite'
          ? (i: number) => put(smallKey(concurrency, 0, i % written))
          : async (i: number) => {
              const { bytes } = await this.#client.send('GET', smallKey(concurrency, 0, (i * 7919) % written));
              if (bytes !== 4096) throw new Error(`GET returned ${bytes} bytes`);
            };
    return warmThenMeasure(concurrency, this.#seconds, task);
  }
}

const warmupCount = (concurrency: number) => concurrency * 10;

/** A short warm-up measures the rate, which sizes a measurement of about `seconds`. */
async function warmThenMeasure(
  concurrency: number,
  seconds: number,
  task: (i: number) => Promise<unknown>,
): Promise<Measure> {
  const warmup = warmupCount(concurrency);
  const warm = await runConcurrent(warmup, concurrency, task);
  const rate = warmup / (warm.elapsedMs / 1000);
  const count = Math.max(concurrency * 20, Math.min(100_000, Math.round(rate * seconds)));
  return async () => {
    const run = await runConcurrent(count, concurrency, (i) => task(i + warmup));
    return { rate: count / (run.elapsedMs / 1000), ops: count };
  };
}

/** `round` keeps repeated runs of `put` apart. */
const smallKey = (concurrency: number, round: number, i: number) => `/${BUCKET}/small/c${concurrency}/r${round}/${i}`;

const pieces = (data: Buffer) =>
  Readable.from(
    (function* () {
      for (let at = 0; at < data.length; at += MiB) yield data.subarray(at, at + MiB);
    })(),
  );

/** MB/s (MiB) of one PUT of `data`, streamed in 1 MiB pieces. */
export async function largePut(client: RawS3Client, key: string, data: Buffer): Promise<Measured> {
  const started = performance.now();
  await client.send('PUT', `/${BUCKET}/${key}`, { data: () => pieces(data), length: data.length });
  return { rate: data.length / MiB / ((performance.now() - started) / 1000), ops: 1 };
}

/** The same through the SDK with default settings (aws-chunked, CRC32 computed and verified). */
export async function largeSdkPut(client: S3Client, key: string, data: Buffer): Promise<Measured> {
  const started = performance.now();
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: pieces(data), ContentLength: data.length }));
  return { rate: data.length / MiB / ((performance.now() - started) / 1000), ops: 1 };
}

/** MB/s (MiB) of one GET, reading the body to its end. */
export async function largeGet(client: RawS3Client, key: string, size: number): Promise<Measured> {
  const started = performance.now();
  const { bytes } = await client.send('GET', `/${BUCKET}/${key}`);
  if (bytes !== size) throw new Error(`GET ${key} returned ${bytes} bytes, expected ${size}`);
  return { rate: size / MiB / ((performance.now() - started) / 1000), ops: 1 };
}
