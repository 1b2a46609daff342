import { createRequire } from 'node:module';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { InvalidArgumentError } from '../../errors.js';

type Sdk = typeof import('@aws-sdk/client-s3');

export interface S3StoreOptions {
  bucket: string;
  /** Prepended to every key and stripped from listings, e.g. `tenant-1/`. */
  prefix?: string;
  /** For MinIO, R2, our own server... Path-style addressing is usual with an endpoint. */
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Explicit credentials; otherwise the SDK's default chain (environment, profile, ...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A profile of ~/.aws/config to take credentials and region from. */
  profile?: string;
  /** Attempts per request, the first included (default 3). */
  maxAttempts?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** A request fails when its socket sees no traffic for this long (default 30 s). */
  requestTimeoutMs?: number;
  /**
   * Streams of known length up to this size go in one PUT (default 100 MiB, where AWS starts to
   * recommend multipart); longer ones, and streams of unknown length, as a multipart upload.
   */
  multipartThreshold?: number;
  /** Part size of multipart uploads of streamed bodies (default 8 MiB, at least 5 MiB). */
  partSize?: number;
  /** Parts uploaded (and held in memory) at once (default 4). */
  queueSize?: number;
  /** A client to use instead of one built from these options; it must not retry (maxAttempts 1). */
  client?: S3Client;
  /** Randomness for backoff jitter, injectable so runs replay. */
  random?: () => number;
}

export interface Connection {
  client: S3Client;
  sdk: Sdk;
}

export async function connect(options: S3StoreOptions): Promise<Connection> {
  // require, not import(): importing a CommonJS package first scans its source for export names,
  // 0.04 s of a CLI's start for the SDK's 270 KB.
  const sdk = createRequire(import.meta.url)('@aws-sdk/client-s3') as Sdk;
  if (options.client) {
    if ((await options.client.config.maxAttempts()) > 1) {
      throw new InvalidArgumentError('S3Store retries by itself: give it a client with maxAttempts: 1');
    }
    return { client: options.client, sdk };
  }
  // Loaded here, not at import, like the SDK: importing @bucketdb/store loads neither.
  const { GetTransport } = await import('./get-transport.js');
  const config: S3ClientConfig = {
    maxAttempts: 1,
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    requestHandler: new GetTransport({ connectionTimeout: 5_000, socketTimeout: options.requestTimeoutMs ?? 30_000 }),
  };
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  if (options.profile !== undefined) config.profile = options.profile;
  // S3-compatible services mostly ignore the region but SigV4 needs one; AWS itself takes the
  // SDK's chain (AWS_REGION, the profile) and follows redirects to the bucket's region.
  if (options.region !== undefined) config.region = options.region;
  else if (options.endpoint !== undefined) config.region = 'us-east-1';
  else config.followRegionRedirects = true;
  // The SDK warns on Node 20 that its releases after January 2027 will need Node 22. Our lock file
  // pins it, so the nine-line notice is noise for our users; this is the SDK's own switch, and a
  // user who set it either way keeps their choice.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return { client: new sdk.S3Client(config), sdk };
}

/** `s3://bucket/prefix?endpoint=…&region=…`: where the data lives, never the credentials. */
export function describeUrl(options: S3StoreOptions): string {
  const query = new URLSearchParams();
  if (options.endpoint !== undefined) query.set('endpoint', options.endpoint);
  if (options.region !== undefined) query.set('region', options.region);
  if (options.profile !== undefined) query.set('profile', options.profile);
  const search = query.size > 0 ? `?${query}` : '';
  return `s3://${options.bucket}/${options.prefix ?? ''}${search}`;
}
