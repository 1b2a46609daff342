import { createHash, type Hash } from 'node:crypto';
import { EMPTY_SHA256, hmacHex, sha256Hex, signaturesEqual } from '../auth/crypto.js';
import type { StreamingContext } from '../auth/payload-mode.js';
import { S3Error } from '../s3-error.js';

const mismatch = () =>
  new S3Error(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  );

/**
 * Verifies the signatures of a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` body. Each chunk's
 * signature covers its data and the previous signature (the first chains from the request's
 * seed signature), so chunks cannot be changed, dropped or reordered; the trailer signature
 * chains from the final zero-length chunk.
 */
export class ChunkSignatureChain {
  readonly #context: StreamingContext;
  #previous: string;
  #hash: Hash | undefined;
  #expected = '';

  constructor(context: StreamingContext) {
    this.#context = context;
    this.#previous = context.seedSignature;
  }

  /** Starts a chunk whose header claimed `signature`. */
  begin(signature: string | undefined): void {
    if (signature === undefined) {
      throw new S3Error('SignatureDoesNotMatch', 'A chunk of a signed aws-chunked body has no chunk-signature.');
    }
    this.#expected = signature;
    this.#hash = createHash('sha256');
  }

  update(bytes: Uint8Array): void {
    this.#hash?.update(bytes);
  }

  /** Ends the current chunk; throws SignatureDoesNotMatch unless its signature verifies. */
  end(): void {
    const digest = this.#hash ? this.#hash.digest('hex') : EMPTY_SHA256;
    this.#hash = undefined;
    const { amzDate, scope, signingKey } = this.#context;
    const stringToSign = `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${this.#previous}\n${EMPTY_SHA256}\n${digest}`;
    const signature = hmacHex(signingKey, stringToSign);
    if (!signaturesEqual(signature, this.#expected)) throw mismatch();
    this.#previous = signature;
  }

  /** Verifies `x-amz-trailer-signature` over the trailing headers (`name:value\n` each, in order). */
  verifyTrailer(canonicalTrailers: string, signature: string | undefined): void {
    if (signature === undefined) {
      throw new S3Error('SignatureDoesNotMatch', 'The signed aws-chunked body ended without x-amz-trailer-signature.');
    }
    const { amzDate, scope, signingKey } = this.#context;
    const stringToSign = `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${this.#previous}\n${sha256Hex(canonicalTrailers)}`;
    if (!signaturesEqual(hmacHex(signingKey, stringToSign), signature)) throw mismatch();
  }
}
