import type { RequestContext } from '../http/context.js';
import { readXml } from '../http/xml-reader.js';
import { S3Error } from '../s3-error.js';

/** The largest XML request body we read (DeleteObjects with 1000 long keys fits). */
const MAX_XML_BYTES = 2 * 1024 * 1024;

/** Reads a small XML request body (never more than the limit) and parses it; `headers` as for `ctx.body`. */
export async function readXmlBody(
  ctx: RequestContext,
  root: string,
  headers?: RequestContext['headers'],
): Promise<Record<string, unknown>> {
  const decoded = ctx.body(headers);
  if (decoded.declaredLength !== undefined && decoded.declaredLength > MAX_XML_BYTES) throw tooLong();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of decoded.body) {
    size += chunk.length;
    if (size > MAX_XML_BYTES) throw tooLong();
    chunks.push(chunk);
  }
  return readXml(Buffer.concat(chunks), root);
}

function tooLong(): S3Error {
  return new S3Error('MaxMessageLengthExceeded', 'Your request was too big.', {
    MaxMessageLengthBytes: String(MAX_XML_BYTES),
  });
}
