import type { ServerResponse } from 'node:http';
import type { S3Error } from '../s3-error.js';
import type { S3Response } from './context.js';
import { xmlDocument } from './xml.js';

/** Writes a handler's response; resolves with the number of body bytes sent. */
export async function writeResponse(res: ServerResponse, response: S3Response, head: boolean): Promise<number> {
  res.statusCode = response.status;
  const headers = response.headers;
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) res.setHeader(name, value);
  }
  const { body } = response;
  if (body === undefined || head) {
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      await body[Symbol.asyncIterator]().return?.();
    }
    res.end();
    return 0;
  }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    if (!res.hasHeader('content-length')) res.setHeader('content-length', bytes.length);
    res.end(bytes);
    return bytes.length;
  }
  return writeStream(res, body);
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
