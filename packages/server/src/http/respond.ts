import type { ServerResponse } from 'node:http';
import type { S3Error } from '../s3-error.js';
import type { S3Response } from './context.js';
import { isHeaderName, isHeaderValue } from './header-values.js';
import { xmlDocument } from './xml.js';

/**
 * Writes a handler's response, after `common` headers (the request id); resolves with the number
 * of body bytes sent. The headers go to `writeHead` as one object (lower-case names, as every
 * handler writes them): Node then skips the per-header bookkeeping of `setHeader`.
 */
export async function writeResponse(
  res: ServerResponse,
  response: S3Response,
  head: boolean,
  common?: Readonly<Record<string, string>>,
): Promise<number> {
  const { body } = response;
  const stream = body === undefined || typeof body === 'string' || body instanceof Uint8Array ? undefined : body;
  const bytes = typeof body === 'string' ? Buffer.from(body) : body instanceof Uint8Array ? body : undefined;
  const headers: Record<string, string | number> = {};
  for (const name in common) headers[name] = common[name] as string;
  for (const name in response.headers) {
    const value = response.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  if (bytes && !head && headers['content-length'] === undefined && !res.hasHeader('content-length')) {
    headers['content-length'] = bytes.length;
  }
  writeHeadSafely(res, response.status, headers);
  if (body === undefined || head) {
    await stream?.[Symbol.asyncIterator]().return?.();
    res.end();
    return 0;
  }
  if (stream) return writeStream(res, stream);
  res.end(bytes);
  return bytes?.length ?? 0;
}

/**
 * `writeHead`, except that a header HTTP cannot carry (a value stored before such values were
 * refused at upload) is left out rather than failing the whole response: the object stays readable.
 * Node checks the headers before it writes any, so the second attempt starts clean.
 */
function writeHeadSafely(res: ServerResponse, status: number, headers: Record<string, string | number>): void {
  try {
    res.writeHead(status, headers);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_INVALID_CHAR' && code !== 'ERR_INVALID_HTTP_TOKEN') throw error;
    const sendable: Record<string, string | number> = {};
    for (const name in headers) {
      const value = headers[name] as string | number;
      if (isHeaderName(name) && isHeaderValue(String(value))) sendable[name] = value;
    }
    res.writeHead(status, sendable);
  }
}

/**
 * Streams a body with plain writes that wait for 'drain' (a stream pipeline costs an abort
 * controller and end-of-stream watchers per response). One chunk is held back so that the last
 * one goes out with `end()`: a small body leaves in one socket write with the headers. The body
 * is closed (its iterator returned) however the response ends.
 */
async function writeStream(res: ServerResponse, body: AsyncIterable<Uint8Array>): Promise<number> {
  const chunks = body[Symbol.asyncIterator]();
  let sent = 0;
  let held: Uint8Array | undefined;
  let ended = false;
  try {
    for (;;) {
      const next = await chunks.next();
      if (res.destroyed) throw prematureClose();
      if (next.done) break;
      if (held && !res.write(held)) await drained(res);
      held = next.value;
      sent += held.length;
    }
    ended = true;
    if (held) res.end(held);
    else res.end();
  } finally {
    if (!ended) await chunks.return?.();
  }
  if (!res.writableFinished) await drained(res, 'finish');
  return sent;
}

/** Resolves on `event` ('drain' by default); rejects if the connection closes first. */
function drained(res: ServerResponse, event: 'drain' | 'finish' = 'drain'): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      res.off('close', closed);
      resolve();
    };
    const closed = () => {
      res.off(event, done);
      if (event === 'finish' && res.writableFinished) resolve();
      else reject(prematureClose());
    };
    res.once(event, done);
    res.once('close', closed);
  });
}

const prematureClose = () =>
  Object.assign(new Error('the connection closed before the response was sent'), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });

/** S3's XML error document; HEAD responses carry the status only. */
export function errorResponse(error: S3Error, resource: string, requestId: string): S3Response {
  const body = xmlDocument(
    'Error',
    { Code: error.code, Message: error.message, ...error.details, Resource: resource, RequestId: requestId },
    false,
  );
  return {
    status: error.status,
    headers: { 'content-type': 'application/xml', ...error.headers },
    body: error.status === 304 ? undefined : body,
  };
}

export function xmlResponse(root: string, content: Record<string, unknown>, status = 200): S3Response {
  return { status, headers: { 'content-type': 'application/xml' }, body: xmlDocument(root, content) };
}
