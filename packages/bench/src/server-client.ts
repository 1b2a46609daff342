import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SignatureV4 } from '@smithy/signature-v4';

/** node:crypto in the shape the SDK's signer wants. */
class Sha256 {
  readonly #secret: Uint8Array | string | undefined;
  #hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : secret instanceof ArrayBuffer
          ? new Uint8Array(secret)
          : new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
    this.#hash = this.#fresh();
  }
  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: Uint8Array | string): void {
    this.#hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
}

/**
 * A lean S3 client for the benchmark: node:http over a keep-alive agent, each request signed
 * with the AWS SDK's SigV4 signer (UNSIGNED-PAYLOAD). The full SDK client spends a few
 * milliseconds of CPU per request, which on a small machine caps every server at the client's
 * rate; this one spends tens of microseconds, so the servers are what is measured.
 */
export class RawS3Client {
  readonly #url: URL;
  readonly #signer: SignatureV4;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });

  constructor(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }) {
    this.#url = new URL(endpoint);
    this.#signer = new SignatureV4({
      service: 's3',
      region: 'us-east-1',
      credentials,
      sha256: Sha256,
      uriEscapePath: false,
    });
  }

  /**
   * Sends one request; resolves with the status and the number of body bytes received. A request
   * on a reused keep-alive socket that the server closed meanwhile (ECONNRESET) is sent again
   * once, as Node's documentation advises; a streamed body is therefore given as a factory.
   */
  async send(
    method: string,
    path: string,
    body?: { data: Uint8Array | (() => Readable); length: number },
  ): Promise<{ status: number; bytes: number }> {
    try {
      return await this.#sendOnce(method, path, body);
    } catch (error) {
      if ((error as { retryable?: boolean }).retryable) return this.#sendOnce(method, path, body);
      throw error;
    }
  }

  async #sendOnce(
    method: string,
    path: string,
    body?: { data: Uint8Array | (() => Readable); length: number },
  ): Promise<{ status: number; bytes: number }> {
    const signed = await this.#signer.sign(
      this.#request(method, path, body ? { 'content-length': String(body.length) } : {}),
    );
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.#url.hostname, port: this.#url.port, method, path, headers: signed.headers, agent: this.#agent },
        (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 300) reject(new Error(`${method} ${path} answered ${status}`));
            else resolve({ status, bytes });
          });
          res.on('error', reject);
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        reject(Object.assign(error, { retryable: req.reusedSocket && error.code === 'ECONNRESET' }));
      });
      if (!body) req.end();
      else if (body.data instanceof Uint8Array) req.end(body.data);
      else pipeline(body.data(), req).catch(() => {}); // a failure surfaces as the request's error
    });
  }

  /**
   * A presigned path (`/bucket/key?X-Amz-…`) for load generators that cannot sign: SigV4 query
   * auth with UNSIGNED-PAYLOAD, so any body goes with it. The payload hash has to be given as a
   * header and declared unsignable for the signer to put it in the query instead of signing it.
   */
  async presign(method: string, path: string, expiresInSeconds: number): Promise<string> {
    const signed = await this.#signer.presign(this.#request(method, path), {
      expiresIn: expiresInSeconds,
      unsignableHeaders: new Set(['x-amz-content-sha256']),
    });
    const query = Object.entries(signed.query ?? {})
      .map(([name, value]) => `${escapeQuery(name)}=${escapeQuery(String(value))}`)
      .join('&');
    return `${signed.path}?${query}`;
  }

  /** A request to sign: UNSIGNED-PAYLOAD, the Host header, and `headers`. */
  #request(method: string, path: string, headers: Record<string, string> = {}) {
    return {
      method,
      protocol: 'http:',
      hostname: this.#url.hostname,
      port: Number(this.#url.port),
      path,
      query: {},
      headers: { host: this.#url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers },
    };
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** RFC 3986 escaping, as SigV4 canonicalizes the query (encodeURIComponent leaves !'()* alone). */
const escapeQuery = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
