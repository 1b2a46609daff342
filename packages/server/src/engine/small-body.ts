import { collectBody, type PutBody } from '@bucketdb/store';

/**
 * Bodies with a declared length up to this size are read into memory before the store write, so
 * a FileStore writes header and content with one write instead of streaming them. Larger bodies
 * stay streamed and are never held whole.
 */
export const SMALL_BODY_BYTES = 1024 * 1024;

/**
 * The body to hand to the store. Called only once the write's conditions have been checked, so a
 * refused request still never reads its body (`Expect: 100-continue` gets the error instead).
 * Reading it whole runs every check of the decoded body (length, checksums, signatures) first;
 * a failing body throws here and nothing is stored.
 */
export async function storeBody(body: PutBody, contentLength: number | undefined): Promise<PutBody> {
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (contentLength === undefined || contentLength > SMALL_BODY_BYTES) return body;
  return collectBody(body);
}
