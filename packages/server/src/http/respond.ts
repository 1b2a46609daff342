import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Error } from '../s3-error.js';
import type { S3Response } from './context.js';
import { xmlDocument } from './xml.js';

/** Writes a handler's response; resolves with the number of body bytes sent. */
export async function writeResponse(res: ServerResponse, response: S3Response, head: boolean): Promise<number> {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers ?? {})) {
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
  let sent = 0;
  async function* counted() {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      sent += chunk.length;
      yield chunk;
    }
  }
  await pipeline(Readable.from(counted(), { objectMode: false }), res);
  return sent;
}

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
