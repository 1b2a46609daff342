import { createRequire } from 'node:module';
import { buildQueryString } from '@smithy/core/protocols';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions, HttpResponse } from '@smithy/types';
import type { Agent } from 'undici';
import { LendingGetClient } from './lending-get.js';

/** The SDK's request class (its handler takes no plainer shape). */
type HttpRequest = Parameters<NodeHttpHandler['handle']>[0];

/** What S3Store adds to a GET's handler options: its body may be read as lent chunks. */
export interface LendOption {
  lendChunks?: boolean;
}

export interface TransportTimeouts {
  /** Connecting gives up after this long. */
  connectionTimeout: number;
  /** A request fails when its connection sees no traffic for this long. */
  socketTimeout: number;
}

/**
 * The SDK's request handler, with GETs sent through undici. Node's HTTP client copies every body
 * chunk out of the socket's buffer into a new one, so a download allocates twice the bytes it
 * moves and spends a third of its CPU collecting them (docs/benchmarks/files.md). undici hands
 * the body on as views of the socket's buffers. Requests with a body stay on the SDK's handler,
 * which knows `Expect: 100-continue` and streaming uploads. A GET whose reader takes lent chunks
 * goes to the LendingGetClient, which reads every connection into one buffer of its own.
 */
export class GetTransport {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  readonly #fallback: NodeHttpHandler;
  readonly #timeouts: TransportTimeouts;
  #agent: Agent | undefined;
  #lending: LendingGetClient | undefined;

  constructor(timeouts: TransportTimeouts) {
    this.#fallback = new NodeHttpHandler(timeouts);
    this.#timeouts = timeouts;
  }

  /** undici on the first GET: a process that only uploads never loads it (0.1 s of a CLI's start). */
  #getAgent(): Agent {
    if (this.#agent === undefined) {
      const { Agent } = createRequire(import.meta.url)('undici') as typeof import('undici');
      this.#agent = new Agent({
        connect: { timeout: this.#timeouts.connectionTimeout },
        headersTimeout: this.#timeouts.socketTimeout,
        bodyTimeout: this.#timeouts.socketTimeout,
      });
    }
    return this.#agent;
  }

  async handle(
    request: HttpRequest,
    options: HttpHandlerOptions & LendOption = {},
  ): Promise<{ response: HttpResponse }> {
    if (request.method !== 'GET' || (request.body !== undefined && request.body !== null))
      return this.#fallback.handle(request, options);
    const query = buildQueryString(request.query ?? {});
    const path = query ? `${request.path}?${query}` : request.path;
    const signal = options.abortSignal as AbortSignal | undefined;
    if (options.lendChunks) {
      this.#lending ??= new LendingGetClient(this.#timeouts);
      const lent = await this.#lending.request({
        protocol: request.protocol,
        hostname: request.hostname,
        ...(request.port === undefined ? {} : { port: request.port }),
        path,
        headers: request.headers,
        ...(signal ? { signal } : {}),
      });
      if (lent) return { response: lent };
    }
    const port = request.port === undefined ? '' : `:${request.port}`;
    const out = await this.#getAgent().request({
      origin: `${request.protocol}//${request.hostname}${port}`,
      path,
      method: 'GET',
      headers: request.headers,
      ...(signal ? { signal } : {}),
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(out.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    return { response: { statusCode: out.statusCode, headers, body: out.body } };
  }

  updateHttpClientConfig(key: never, value: never): void {
    this.#fallback.updateHttpClientConfig(key, value);
  }

  httpHandlerConfigs(): Record<string, never> {
    return this.#fallback.httpHandlerConfigs() as Record<string, never>;
  }

  destroy(): void {
    this.#fallback.destroy();
    void this.#agent?.destroy();
    this.#lending?.close();
  }
}
