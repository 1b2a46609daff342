import { S3Error } from '../s3-error.js';
import type { ChunkSignatureChain } from './chunk-signature-chain.js';

/** Longest chunk header or trailer line we buffer; real ones are under 200 bytes. */
const MAX_LINE = 4096;
/** Most trailing headers we accept, and their total size. */
const MAX_TRAILERS = 16;
/** S3's largest single PUT; no chunk can be bigger. */
const MAX_CHUNK = 5 * 1024 ** 3;

const CHUNK_SIZE = /^[0-9a-fA-F]{1,10}$/;

const incomplete = (message: string) => new S3Error('IncompleteBody', message);

export interface AwsChunkedOptions {
  /** Present for signed streaming bodies: every chunk signature (and the trailer's) is checked. */
  chain?: ChunkSignatureChain;
  /** Whether trailing headers may follow the last chunk. */
  trailers: boolean;
  /** Receives the trailing headers (lower-case names) once the body is complete. */
  onTrailers(trailers: Map<string, string>): void;
}

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

/**
 * Strips `aws-chunked` framing (`<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`, a last
 * zero-size chunk, then optional trailing headers and an empty line) and yields the data.
 * Data is yielded as views of the incoming buffers, without copying; a chunk's signature is
 * checked when its last byte has arrived, so a tampered body fails before the stream ends and
 * nothing built on it can be committed. Memory stays bounded by one header line.
 */
export async function* readAwsChunked(
  source: AsyncIterable<Uint8Array>,
  options: AwsChunkedOptions,
): AsyncGenerator<Uint8Array> {
  const { chain } = options;
  let state = 'size' as State; // widened: the closures below change it
  let remaining = 0;
  let line: Buffer[] = [];
  let lineLength = 0;
  const trailers = new Map<string, string>();
  let canonicalTrailers = '';
  let trailerSignature: string | undefined;

  const finish = () => {
    if (chain && options.trailers) chain.verifyTrailer(canonicalTrailers, trailerSignature);
    state = 'done';
    options.onTrailers(trailers);
  };

  const onLine = (text: string) => {
    if (state === 'size') {
      const semi = text.indexOf(';');
      const sizeText = semi < 0 ? text : text.slice(0, semi);
      if (!CHUNK_SIZE.test(sizeText)) throw incomplete(`Malformed aws-chunked chunk header '${text.slice(0, 80)}'.`);
      const size = Number.parseInt(sizeText, 16);
      if (size > MAX_CHUNK) throw new S3Error('EntityTooLarge', 'An aws-chunked chunk is larger than 5 GiB.');
      if (chain) {
        const ext = semi < 0 ? '' : text.slice(semi + 1);
        chain.begin(ext.startsWith('chunk-signature=') ? ext.slice('chunk-signature='.length) : undefined);
      }
      if (size === 0) {
        chain?.end();
        state = 'trailer';
      } else {
        remaining = size;
        state = 'data';
      }
    } else if (state === 'data-end') {
      if (text !== '') throw incomplete('An aws-chunked chunk is longer than its declared size.');
      state = 'size';
    } else if (state === 'trailer') {
      if (text === '') return finish();
      const colon = text.indexOf(':');
      if (!options.trailers || colon <= 0 || trailers.size >= MAX_TRAILERS) {
        throw incomplete(`Unexpected data after the last aws-chunked chunk: '${text.slice(0, 80)}'.`);
      }
      const name = text.slice(0, colon).trim().toLowerCase();
      const value = text.slice(colon + 1).trim();
      if (name === 'x-amz-trailer-signature') {
        trailerSignature = value;
      } else {
        trailers.set(name, value);
        canonicalTrailers += `${name}:${value}\n`;
      }
    }
  };

  for await (const piece of source) {
    const buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    let pos = 0;
    while (pos < buf.length) {
      if (state === 'data') {
        const end = Math.min(buf.length, pos + remaining);
        const data = buf.subarray(pos, end);
        remaining -= end - pos;
        pos = end;
        chain?.update(data);
        if (remaining === 0) {
          chain?.end();
          state = 'data-end';
        }
        yield data;
        continue;
      }
      // Bytes after the final empty line are drained and ignored; returning early would make
      // for-await destroy the request stream, and with it the connection the answer goes on.
      if (state === 'done') break;
      const newline = buf.indexOf(10, pos);
      const stop = newline < 0 ? buf.length : newline + 1;
      lineLength += stop - pos;
      if (lineLength > MAX_LINE) throw incomplete('An aws-chunked header or trailer line is too long.');
      line.push(buf.subarray(pos, stop));
      pos = stop;
      if (newline < 0) break;
      const text = (line.length === 1 ? line[0]! : Buffer.concat(line)).toString('latin1');
      line = [];
      lineLength = 0;
      if (!text.endsWith('\r\n')) throw incomplete('aws-chunked lines must end with CRLF.');
      onLine(text.slice(0, -2));
    }
  }
  // Some clients end the body right after the trailers, without the final empty line.
  if (state === 'trailer' && lineLength === 0 && (trailers.size > 0 || trailerSignature !== undefined)) finish();
  if (state !== 'done') throw incomplete('The aws-chunked body ended before its last chunk.');
}
