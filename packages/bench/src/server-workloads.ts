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

/** What a measurement gives: its rate, and how many operations it sent in all (warm-up included). */
export interface Measured {
  rate: number;
  ops: number;
}

/** Runs `task` for about `seconds`: a short warm-up measures the rate, which sizes the real run. */
async function opsPerSecond(
  concurrency: number,
  seconds: number,
  task: (i: number) => Promise<unknown>,
): Promise<Measured> {
  const warmup = concurrency * 10;
  const warm = await runConcurrent(warmup, concurrency, task);
  const rate = warmup / (warm.elapsedMs / 1000);
  const count = Math.max(concurrency * 20, Math.min(100_000, Math.round(rate * seconds)));
  const run = await runConcurrent(count, concurrency, (i) => task(i + warmup));
  return { rate: count / (run.elapsedMs / 1000), ops: warmup + count };
}

const smallKey = (concurrency: number, round: number, i: number) => `/${BUCKET}/small/c${concurrency}/r${round}/${i}`;

/** New keys every time (`round` keeps repeated runs apart). */
export function smallPuts(client: RawS3Client, concurrency: number, seconds: number, body: Uint8Array, round = 0) {
  return opsPerSecond(concurrency, seconds, (i) =>
    client.send('PUT', smallKey(concurrency, round, i), { data: body, length: body.length }),
  );
}

/**
 * PUTs that replace the objects the first `smallPuts` wrote at the same concurrency (at least its
 * warm-up's): the path of an unconditional write to an existing key (FileStore takes the key's lock).
 */
export function smallOverwrites(client: RawS3Client, concurrency: number, seconds: number, body: Uint8Array) {
  const written = concurrency * 10;
  return opsPerSecond(concurrency, seconds, (i) =>
    client.send('PUT', smallKey(concurrency, 0, i % written), { data: body, length: body.length }),
  );
}

/** GETs of the objects the first `smallPuts` wrote at the same concurrency (at least its warm-up's). */
export function smallGets(client: RawS3Client, concurrency: number, seconds: number) {
  const written = concurrency * 10;
  return opsPerSecond(concurrency, seconds, async (i) => {
    const { bytes } = await client.send('GET', smallKey(concurrency, 0, (i * 7919) % written));
    if (bytes !== 4096) throw new Error(`GET returned ${bytes} bytes`);
  });
}

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
