import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AuthResult, DecodedBody, User } from '../auth/index.js';
import type { BucketRecord, Buckets } from '../engine/buckets.js';
import type { ObjectEngine } from '../engine/objects.js';
import type { Uploads } from '../engine/uploads.js';
import type { Operation } from './operations.js';

/** What a handler answers; the server writes it (and counts its bytes). */
export interface S3Response {
  status: number;
  headers?: Record<string, string | number | undefined>;
  body?: string | Uint8Array | AsyncIterable<Uint8Array>;
}

/**
 * Long-lived parts of a running server, shared by every request. The store is reached only
 * through the engine (`buckets`, `objects`, `uploads`), the one owner of the key layout.
 */
export interface ServerState {
  buckets: Buckets;
  objects: ObjectEngine;
  uploads: Uploads;
  region: string;
  users: Map<string, User>;
}

export interface RequestContext {
  state: ServerState;
  requestId: string;
  req: IncomingMessage;
  method: string;
  operation: Operation;
  /** Request headers, with a presigned URL's hoisted `x-amz-*` query parameters merged in. */
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  bucketName: string | undefined;
  key: string | undefined;
  auth: AuthResult;
  /** The signed-in user, undefined for anonymous requests. */
  user: User | undefined;
  /** The bucket's record, loaded by the access check for bucket and object operations. */
  bucket: BucketRecord | undefined;
  /**
   * The request body decoded (aws-chunked framing removed) and verified while it streams. Read once.
   * `headers` replaces the request's for decoding (CompleteMultipartUpload: its `x-amz-checksum-*` describe the object).
   */
  body(headers?: RequestContext['headers']): DecodedBody;
}

/** A single header value (first of repeated ones). */
export function header(ctx: Pick<RequestContext, 'headers'>, name: string): string | undefined {
  const value = ctx.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function requireBucket(ctx: RequestContext): BucketRecord {
  if (!ctx.bucket) throw new Error(`operation ${ctx.operation} ran without a bucket`);
  return ctx.bucket;
}

export function requireKey(ctx: RequestContext): string {
  if (ctx.key === undefined) throw new Error(`operation ${ctx.operation} ran without a key`);
  return ctx.key;
}
