import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import busboy from 'busboy';
import { S3Error } from '../s3-error.js';

/** A POST Object form, read up to its file. */
export interface PostForm {
  /** The fields before the file, by lower-case name (S3 ignores the fields after it). */
  fields: Map<string, string>;
  /** The file part's file name ('' when it has none), for `${filename}` in the key. */
  filename: string;
  /**
   * The file's bytes, streamed. Read once. Its last step waits for the rest of the form, so an
   * upload whose form turns out malformed fails before it ends and a store write consuming it
   * stores nothing.
   */
  file: AsyncIterable<Uint8Array>;
  /** Stops reading the request (the file is not wanted after all). Idempotent. */
  discard(): void;
}

/** S3's limit on the form fields before the file. */
export const MAX_PRE_DATA_BYTES = 20 * 1024;

const malformed = () =>
  new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
const preDataTooLarge = () =>
  new S3Error(
    'MaxPostPreDataLengthExceededError',
    'Your POST request fields preceding the upload file were too large.',
  );
const noFile = () =>
  new S3Error('IncorrectNumberOfFilesInPostRequest', 'POST requires exactly one file upload per request.');

const asBuffer = (chunk: Uint8Array) =>
  Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);

/**
 * Reads a multipart/form-data body with busboy until its `file` part, and hands the file on as a
 * stream: memory stays bounded by one incoming chunk and busboy's buffer, whatever the file's size.
 * The request is pulled by hand rather than piped, so that giving up on it (a refused upload)
 * leaves the connection to carry the error response instead of destroying it.
 */
export function readPostForm(source: AsyncIterable<Uint8Array>, contentType: string): Promise<PostForm> {
  let parser: busboy.Busboy;
  try {
    // 1 MiB values: a `file` sent as a plain field (no file name) arrives whole, as busboy buffers fields.
    parser = busboy({ headers: { 'content-type': contentType }, limits: { fieldNameSize: 1024 } });
  } catch {
    return Promise.reject(malformed());
  }
  const stop = new AbortController();
  let sourceError: unknown;
  const discard = () => {
    if (stop.signal.aborted) return;
    stop.abort();
    parser.destroy();
  };
  // Errors reach whoever waits on the form or the file; this keeps an unobserved one quiet.
  parser.on('error', () => {});
  const done = feed(source, parser, stop.signal).catch((error: unknown) => {
    if (stop.signal.aborted) return;
    if (error !== sourceError && !(error instanceof S3Error)) error = malformed();
    parser.destroy(error as Error);
    throw error;
  });
  async function feed(input: AsyncIterable<Uint8Array>, into: busboy.Busboy, signal: AbortSignal) {
    const chunks = input[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await chunks.next();
      } catch (error) {
        sourceError = error;
        throw error;
      }
      if (signal.aborted) return;
      // busboy refused what it was given (its error reaches us here or as a rejected 'drain').
      if (into.destroyed) throw into.errored ?? malformed();
      if (next.done) break;
      if (!into.write(asBuffer(next.value))) await once(into, 'drain', { signal });
    }
    into.end();
    await finished(into);
  }

  return new Promise<PostForm>((resolve, reject) => {
    const fields = new Map<string, string>();
    let preData = 0;
    let settled = false;
    const fail = (error: S3Error) => {
      if (settled) return;
      settled = true;
      discard();
      reject(error);
    };
    const found = (filename: string, file: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) => {
      settled = true;
      resolve({ fields, filename, file: fileBody(file), discard });
    };
    async function* fileBody(file: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
      let complete = false;
      try {
        for await (const chunk of file) yield chunk;
        await done;
        complete = true;
      } catch (error) {
        throw error === sourceError || error instanceof S3Error ? error : malformed();
      } finally {
        if (!complete) discard();
      }
    }

    parser.on('field', (name, value, info) => {
      if (settled) return;
      const lower = name.toLowerCase();
      if (info.nameTruncated || info.valueTruncated) return fail(preDataTooLarge());
      if (lower === 'file') return found('', [Buffer.from(value)]);
      preData += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (preData > MAX_PRE_DATA_BYTES) return fail(preDataTooLarge());
      if (fields.has(lower)) {
        return fail(
          new S3Error('InvalidArgument', `The form field '${name}' appears more than once.`, { ArgumentName: name }),
        );
      }
      fields.set(lower, value);
    });
    parser.on('file', (name, stream: Readable, info) => {
      // A reader of the file sees its error; a discarded form's file has none and must not crash.
      stream.on('error', () => {});
      if (settled || name.toLowerCase() !== 'file') {
        stream.resume();
        return;
      }
      found(info.filename ?? '', stream);
    });
    done.then(
      () => fail(noFile()),
      (error: unknown) => fail(error instanceof S3Error ? error : malformed()),
    );
  });
}
