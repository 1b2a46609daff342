import { isIP, connect as netConnect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { type ConnectionOptions, TLSSocket, connect as tlsConnect } from 'node:tls';

import { LENT_CHUNKS } from './lent-chunks.js';

export interface LendingRequest {
  protocol: string;
  hostname: string;
  port?: number;
  /** The path with its query string, encoded. */
  path: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

export interface LendingResponse {
  statusCode: number;
  /** Names in lower case; repeated headers joined with `,`. */
  headers: Record<string, string>;
  body: LendingBody;
}

export interface LendingTimeouts {
  connectionTimeout: number;
  /** A request fails when its connection sees no traffic for this long while it waits for bytes. */
  socketTimeout: number;
}

/** Each connection's socket reads into this one buffer: the most one chunk can hold. */
const READ_BUFFER_BYTES = 256 << 10;
/** A response head larger than this is refused. */
const MAX_HEAD_BYTES = 64 << 10;
const MAX_IDLE_PER_ORIGIN = 16;
const HEAD_END = Buffer.from('\r\n\r\n');

/** A response this client can't frame or parse: the transport's retry sees a network error. */
class BadResponseError extends Error {
  readonly code = 'ERR_BAD_RESPONSE';
  override name = 'BadResponseError';
}

function networkError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * GETs over HTTP/1.1 keep-alive connections whose sockets read into one buffer each (Node's
 * `onread`), not a fresh one per read. A response body is handed on as views of that buffer,
 * each valid until the reader asks for the next: the socket is paused in between. Under Node's
 * HTTP client and undici, every 64 KiB read allocates a buffer, and a GiB downloaded costs 30-odd
 * full garbage collections (docs/benchmarks/files.md). Bodies framed by Content-Length only:
 * for anything else `request` answers `undefined` and the caller sends the GET another way.
 */
export class LendingGetClient {
  readonly #timeouts: LendingTimeouts;
  readonly #idle = new Map<string, Connection[]>();
  #closed = false;

  constructor(timeouts: LendingTimeouts) {
    this.#timeouts = timeouts;
  }

  async request(request: LendingRequest): Promise<LendingResponse | undefined> {
    request.signal?.throwIfAborted();
    const head = requestHead(request);
    const origin = `${request.protocol}//${request.hostname}:${request.port ?? ''}`;
    const reused = this.#takeIdle(origin);
    if (reused) {
      try {
        return await reused.exchange(head, request.signal);
      } catch (error) {
        // The server may close a keep-alive connection just as it is reused: try a fresh one,
        // once, when nothing of a response had arrived.
        if (!(error instanceof NothingReceivedError)) throw error;
      }
    }
    return this.#open(request, origin).exchange(head, request.signal);
  }

  close(): void {
    this.#closed = true;
    for (const connections of this.#idle.values()) for (const connection of connections) connection.destroy();
    this.#idle.clear();
  }

  #takeIdle(origin: string): Connection | undefined {
    const idle = this.#idle.get(origin);
    const connection = idle?.pop();
    if (idle?.length === 0) this.#idle.delete(origin);
    return connection;
  }

  #release(connection: Connection): void {
    const idle = this.#idle.get(connection.origin) ?? [];
    if (this.#closed || idle.length >= MAX_IDLE_PER_ORIGIN) return connection.destroy();
    idle.push(connection);
    this.#idle.set(connection.origin, idle);
  }

  #forget(connection: Connection): void {
    const idle = this.#idle.get(connection.origin);
    const at = idle?.indexOf(connection) ?? -1;
    if (at >= 0) idle!.splice(at, 1);
    if (idle?.length === 0) this.#idle.delete(connection.origin);
  }

  #open(request: LendingRequest, origin: string): Connection {
    const tls = request.protocol === 'https:';
    const port = request.port ?? (tls ? 443 : 80);
    return new Connection(origin, this.#timeouts, {
      onIdle: (connection) => this.#release(connection),
      onClose: (connection) => this.#forget(connection),
      connect: (onread) =>
        tls
          ? tlsConnect({
              host: request.hostname,
              port,
              ...(isIP(request.hostname) ? {} : { servername: request.hostname }),
              ALPNProtocols: ['http/1.1'],
              // Node's TLS sockets take onread as its plain sockets do; its types leave it out.
              onread,
            } as ConnectionOptions)
          : netConnect({ host: request.hostname, port, onread }),
    });
  }
}

/** A reused connection failed before any byte of the response: safe to send again. */
class NothingReceivedError extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

interface OnRead {
  buffer: Uint8Array;
  callback: (bytes: number) => boolean;
}

interface ConnectionHooks {
  connect: (onread: OnRead) => Socket;
  onIdle: (connection: Connection) => void;
  onClose: (connection: Connection) => void;
}

/** One keep-alive connection and the response in progress on it. */
class Connection {
  readonly origin: string;
  readonly #socket: Socket;
  readonly #timeouts: LendingTimeouts;
  readonly #hooks: ConnectionHooks;
  #response: ResponseReader | undefined;
  #used = false;
  #closed = false;

  constructor(origin: string, timeouts: LendingTimeouts, hooks: ConnectionHooks) {
    this.origin = origin;
    this.#timeouts = timeouts;
    this.#hooks = hooks;
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    this.#socket = hooks.connect({ buffer, callback: (bytes) => this.#onBytes(buffer.subarray(0, bytes)) });
    this.#socket.setNoDelay(true);
    this.#socket.setTimeout(timeouts.connectionTimeout, () =>
      this.#socket.destroy(
        networkError(`no connection to ${origin} within ${timeouts.connectionTimeout} ms`, 'ETIMEDOUT'),
      ),
    );
    this.#socket.once(this.#socket instanceof TLSSocket ? 'secureConnect' : 'connect', () =>
      this.#socket.setTimeout(timeouts.socketTimeout),
    );
    this.#socket.on('timeout', () =>
      this.#socket.destroy(networkError(`no traffic from ${origin} for ${timeouts.socketTimeout} ms`, 'ETIMEDOUT')),
    );
    this.#socket.on('error', () => {}); // reported through 'close'
    this.#socket.on('end', () => this.#socket.destroy());
    this.#socket.on('close', () => {
      this.#closed = true;
      this.#hooks.onClose(this);
      const error = (this.#socket as { errored?: Error | null }).errored;
      this.#response?.fail(error ?? networkError(`${origin} closed the connection`, 'ECONNRESET'));
    });
  }

  /** Sends the GET and resolves with the response once its head has arrived. */
  exchange(head: string, signal: AbortSignal | undefined): Promise<LendingResponse | undefined> {
    const reused = this.#used;
    this.#used = true;
    this.#socket.ref();
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        const error = networkError(`${this.origin} closed the connection`, 'ECONNRESET');
        reject(reused ? new NothingReceivedError(error) : error);
        return;
      }
      this.#response = new ResponseReader(this, signal, {
        resolve,
        reject: (error) => reject(reused && !this.#response?.started ? new NothingReceivedError(error) : error),
      });
      this.#socket.write(head);
    });
  }

  /** The reader is done with the lent chunk: read on. */
  resume(): void {
    if (this.#closed) return;
    this.#socket.setTimeout(this.#timeouts.socketTimeout);
    this.#socket.resume();
  }

  /** The reader holds the chunk: read nothing into the buffer until it asks for the next. */
  pause(): void {
    this.#socket.setTimeout(0);
    this.#socket.pause();
  }

  /** The response is complete and the connection may carry another. */
  done(keepAlive: boolean): void {
    this.#response = undefined;
    if (!keepAlive || this.#closed) return this.destroy();
    this.#socket.unref();
    this.#hooks.onIdle(this);
    this.resume();
  }

  destroy(error?: Error): void {
    this.#socket.destroy(error);
  }

  #onBytes(bytes: Buffer): boolean {
    if (!this.#response) {
      this.destroy(new BadResponseError(`${this.origin} sent bytes with no request outstanding`));
      return false;
    }
    return this.#response.onBytes(bytes);
  }
}

interface Settle {
  resolve: (response: LendingResponse | undefined) => void;
  reject: (error: Error) => void;
}

/** Parses one response on a connection and hands its body out a chunk at a time. */
class ResponseReader {
  readonly #connection: Connection;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: () => void;
  #settle: Settle | undefined;
  #head: Buffer | undefined = Buffer.alloc(0);
  #keepAlive = true;
  #remaining = 0;
  /** A chunk received and not yet handed out. */
  #pending: Buffer | undefined;
  #waiter: { resolve: (chunk: Buffer | null) => void; reject: (error: Error) => void } | undefined;
  #error: Error | undefined;
  #finished = false;
  started = false;

  constructor(connection: Connection, signal: AbortSignal | undefined, settle: Settle) {
    this.#connection = connection;
    this.#signal = signal;
    this.#settle = settle;
    this.#onAbort = () => connection.destroy(signal?.reason as Error);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  onBytes(bytes: Buffer): boolean {
    this.started = true;
    if (this.#head) {
      const body = this.#readHead(bytes);
      if (body === undefined) return true;
      bytes = body;
    }
    if (bytes.length === 0) return true;
    if (bytes.length > this.#remaining) {
      this.#connection.destroy(new BadResponseError(`the response body ran past its Content-Length`));
      return false;
    }
    this.#remaining -= bytes.length;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) waiter.resolve(bytes);
    else this.#pending = bytes;
    this.#connection.pause();
    return false;
  }

  /** The next chunk of the body, or null at its end; the one before is no longer the reader's. */
  next(): Promise<Buffer | null> {
    if (this.#error) return Promise.reject(this.#error);
    const pending = this.#pending;
    if (pending) {
      this.#pending = undefined;
      return Promise.resolve(pending);
    }
    if (this.#remaining === 0) {
      this.#finish();
      return Promise.resolve(null);
    }
    this.#connection.resume();
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** The reader stopped before the end: the connection can't carry another response. */
  abandon(error?: Error): void {
    if (this.#end()) this.#connection.destroy(error);
  }

  fail(error: Error): void {
    if (!this.#end()) return;
    this.#error = this.#signal?.aborted
      ? (this.#signal.reason as Error)
      : this.#settle
        ? error
        : networkError(`the body broke off with ${this.#remaining} bytes to go: ${error.message}`, 'ECONNRESET');
    this.#settle?.reject(this.#error);
    this.#settle = undefined;
    this.#waiter?.reject(this.#error);
    this.#waiter = undefined;
  }

  #finish(): void {
    if (this.#end()) this.#connection.done(this.#keepAlive);
  }

  /** Marks the response over; false when it already was. */
  #end(): boolean {
    if (this.#finished) return false;
    this.#finished = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    return true;
  }

  /** Collects the head; once whole, settles the request and returns the body bytes after it. */
  #readHead(bytes: Buffer): Buffer | undefined {
    const head = Buffer.concat([this.#head!, bytes]);
    const end = head.indexOf(HEAD_END);
    if (end < 0) {
      if (head.length > MAX_HEAD_BYTES)
        this.#connection.destroy(new BadResponseError('the response head is too large'));
      this.#head = head;
      return undefined;
    }
    // The rest of this read is a view of the socket's buffer, like every later chunk.
    const rest = bytes.subarray(bytes.length - (head.length - end - HEAD_END.length));
    const parsed = parseHead(head.subarray(0, end).toString('latin1'));
    if (parsed instanceof Error) {
      this.#connection.destroy(parsed);
      return undefined;
    }
    if (parsed.statusCode < 200) {
      // An interim response (100 Continue): the real head follows.
      this.#head = Buffer.alloc(0);
      return rest.length > 0 ? this.#readHead(rest) : undefined;
    }
    this.#head = undefined;
    const framing = bodyLength(parsed.statusCode, parsed.headers);
    const settle = this.#settle!;
    this.#settle = undefined;
    if (framing === undefined) {
      // Chunked or close-delimited: not what this client reads. The caller sends it elsewhere.
      this.abandon();
      settle.resolve(undefined);
      return undefined;
    }
    this.#remaining = framing;
    this.#keepAlive = parsed.keepAlive;
    settle.resolve({ statusCode: parsed.statusCode, headers: parsed.headers, body: new LendingBody(this) });
    return rest;
  }
}

function requestHead(request: LendingRequest): string {
  const lines = [`GET ${request.path} HTTP/1.1`];
  let host = false;
  for (const [name, value] of Object.entries(request.headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value))
      throw new TypeError(`header ${JSON.stringify(name)} has a line break`);
    if (name.toLowerCase() === 'host') host = true;
    lines.push(`${name}: ${value}`);
  }
  if (!host) lines.push(`Host: ${request.hostname}${request.port === undefined ? '' : `:${request.port}`}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

interface Head {
  statusCode: number;
  headers: Record<string, string>;
  keepAlive: boolean;
}

function parseHead(text: string): Head | BadResponseError {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const status = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(statusLine);
  if (!status) return new BadResponseError(`not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) return new BadResponseError(`malformed response header: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const connection = (headers.connection ?? '').toLowerCase();
  const keepAlive = status[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  return { statusCode: Number(status[2]), headers, keepAlive };
}

/** The body's length from its head, or undefined when it is not framed by Content-Length. */
function bodyLength(statusCode: number, headers: Record<string, string>): number | undefined {
  if (headers['transfer-encoding'] !== undefined) return undefined;
  if (statusCode === 204 || statusCode === 304) return 0;
  const length = headers['content-length'];
  if (length === undefined || !/^\d+$/.test(length)) return undefined;
  return Number(length);
}

/**
 * A response body: a Readable (what the SDK expects) that copies each chunk out, or, through
 * `[LENT_CHUNKS]()`, the chunks themselves, lent until the next is asked for.
 */
export class LendingBody extends Readable {
  readonly #reader: ResponseReader;
  #lent = false;

  constructor(reader: ResponseReader) {
    super();
    this.#reader = reader;
  }

  [LENT_CHUNKS](): AsyncIterable<Uint8Array> {
    if (this.#lent || this.readableDidRead) throw new Error('the body is already being read');
    this.#lent = true;
    const reader = this.#reader;
    return {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<Uint8Array>> => {
          const chunk = await reader.next();
          return chunk === null ? { done: true, value: undefined } : { done: false, value: chunk };
        },
        return: async (): Promise<IteratorResult<Uint8Array>> => {
          reader.abandon();
          return { done: true, value: undefined };
        },
      }),
    };
  }

  override _read(): void {
    this.#reader.next().then(
      (chunk) => this.push(chunk === null ? null : Buffer.from(chunk)),
      (error: Error) => this.destroy(error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#lent) this.#reader.abandon(error ?? undefined);
    callback(error);
  }
}
