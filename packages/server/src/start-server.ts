import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { emulate, type ObjectStore } from '@bucketdb/store';
import { type Logger, pino } from 'pino';
import type { User } from './auth/index.js';
import { Buckets } from './engine/buckets.js';
import { ObjectEngine } from './engine/objects.js';
import { Uploads } from './engine/uploads.js';
import type { ServerState } from './http/context.js';
import { createRequestHandler } from './http/handle-request.js';
import { xmlDocument } from './http/xml.js';
import { Metrics } from './observability/metrics.js';
import { paths } from './paths.js';

/** The credentials used when none are given: for local development only, printed on start. */
export const DEFAULT_CREDENTIALS: User = {
  name: 'bucketdb',
  accessKeyId: 'bucketdb',
  secretAccessKey: 'bucketdb-dev-secret',
};

export interface ServerOptions {
  /** Where buckets and objects live (layout in paths.ts). The caller keeps ownership: close() leaves it open. */
  store: ObjectStore;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Users and their keys; DEFAULT_CREDENTIALS when absent or empty. */
  users?: User[];
  /** No request log lines. */
  quiet?: boolean;
  logger?: Logger;
  /**
   * Behave like S3: its latency profile on every store request, 503 SlowDown above its request
   * rates, and for `s3-express` directory-bucket semantics on object listings and ETags (the
   * store's `emulate`).
   */
  emulate?: 's3-standard' | 's3-express';
  region?: string;
  /** Host suffixes for virtual-host-style addressing (`bucket.<domain>`); default `localhost`. */
  domains?: string[];
  /** Serve Prometheus metrics at `GET /metrics` (unauthenticated, so off unless asked for). */
  metrics?: boolean;
  /** Limits on slow or stalled clients; DEFAULT_TIMEOUTS for what is not given; 0 turns one off. */
  timeouts?: Partial<ServerTimeouts>;
}

export interface ServerTimeouts {
  /** The longest wait for more bytes of a request body before RequestTimeout (S3 closes idle sockets after about 20 s). */
  idleMs: number;
  /** The longest a whole request (headers and body) may take to arrive; 5 GiB at about 6 MB/s fits. */
  requestMs: number;
  /** The longest the request line and headers may take to arrive. */
  headersMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = { idleMs: 20_000, requestMs: 15 * 60_000, headersMs: 60_000 };

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting connections, lets in-flight requests finish, then closes every connection. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Node's default limit; S3 allows 8 KB of headers, so anything above is refused cleanly. */
const MAX_HEADER_BYTES = 16 * 1024;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const store = options.emulate
    ? emulate(options.store, options.emulate, { throttle: true, directoryScope: paths.objectsRoot })
    : options.store;
  const users = options.users && options.users.length > 0 ? options.users : [DEFAULT_CREDENTIALS];
  const state: ServerState = {
    buckets: new Buckets(store),
    objects: new ObjectEngine(store),
    uploads: new Uploads(store),
    region: options.region ?? 'us-east-1',
    users: new Map(users.map((u) => [u.accessKeyId, u])),
  };
  const logger = options.logger ?? pino({ level: options.quiet ? 'silent' : 'info' });
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const handle = createRequestHandler({
    state,
    domains: options.domains ?? ['localhost'],
    logger,
    metrics: new Metrics(),
    metricsEndpoint: options.metrics === true,
    idleTimeoutMs: timeouts.idleMs,
  });

  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    if (closing) res.setHeader('connection', 'close');
    handle(req, res).finally(() => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
  };
  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      requestTimeout: timeouts.requestMs,
      // Node requires the headers' limit within the whole request's.
      headersTimeout: timeouts.requestMs > 0 ? Math.min(timeouts.headersMs, timeouts.requestMs) : timeouts.headersMs,
    },
    onRequest,
  );
  // The handler decides whether to send `100 Continue` (only once it reads the body).
  server.on('checkContinue', onRequest);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9000, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0)
        await new Promise<void>((resolve) => {
          drained = resolve;
        });
      server.closeAllConnections();
      await stopped;
    })();
    return closed;
  };
  return { url: `http://${host}:${address.port}`, port: address.port, close, [Symbol.asyncDispose]: close };
}

/** Requests Node cannot parse (oversized headers, garbage) get an S3 error document, not a bare reset. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const code = tooLarge ? 'RequestHeaderSectionTooLarge' : 'InvalidRequest';
  const message = tooLarge
    ? 'Your request header section exceeds the maximum allowed size.'
    : 'The request could not be parsed.';
  const body = xmlDocument('Error', { Code: code, Message: message }, false);
  socket.end(
    `HTTP/1.1 400 Bad Request\r\ncontent-type: application/xml\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
