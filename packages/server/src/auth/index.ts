/**
 * Request authentication (AWS Signature Version 4) for the server.
 *
 * Use, per request:
 *
 * ```ts
 * const auth = authenticate(
 *   { method: req.method, rawPath, rawQuery, headers: req.headers }, // raw = as on the wire
 *   (accessKeyId) => usersByKey.get(accessKeyId),
 * ); // throws S3Error: InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied ("Request has
 *    // expired"), RequestTimeTooSkewed, AuthorizationHeaderMalformed, InvalidRequest, …
 * if (auth.kind === 'anonymous') …  // the server decides (public bucket or AccessDenied)
 *
 * // Only for requests with a body (PutObject, UploadPart, DeleteObjects, Put*Configuration…):
 * const decoded = decodeRequestBody(requestBodySource(req, res), req.headers, auth);
 * //   throws S3Error now for bad headers (InvalidDigest, InvalidRequest, …), and from
 * //   `decoded.body`'s iterator for bad bodies (SignatureDoesNotMatch, BadDigest,
 * //   XAmzContentSHA256Mismatch, IncompleteBody). Pass `decoded.body` to store.put(): the
 * //   last check runs before the iterator ends, so a failing body is never stored.
 * await store.put(key, decoded.body, …);
 * const sums = await decoded.checksums(); // { crc32: 'base64…', md5: … } after the body ended
 * // Store `sums[decoded.checksumAlgorithm]` to answer x-amz-checksum-* on GET/HEAD with
 * // x-amz-checksum-mode: ENABLED; `decodeRequestBody(…, { compute: ['md5'] })` adds more.
 * // Store Content-Encoding as `storedContentEncoding(req.headers['content-encoding'])`
 * // (aws-chunked removed); the object's size is the decoded length, not Content-Length.
 * ```
 *
 * `Expect: 100-continue`: `requestBodySource` writes `100 Continue` only when the body is first
 * read; register `server.on('checkContinue', (req, res) => server.emit('request', req, res))`
 * so that a request refused by `authenticate` or `decodeRequestBody` gets its error instead of
 * `100` and the client never sends the body.
 *
 * Signature Version 2 (header and `?AWSAccessKeyId=…&Signature=…&Expires=…`, which the aws CLI v1
 * uses for `aws s3 presign` by default) is accepted too; for virtual-host-style requests pass the
 * bucket from the Host header as `virtualHostBucket`, since V2 signs `/<bucket>/<key>`.
 *
 * Region: any region in the credential scope is accepted unless `options.region` is given.
 * Checksum helpers (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256, MD5, composite multipart
 * checksums) are in `../checksums/`.
 */

export {
  type BodyChecksums,
  type DecodedBody,
  type DecodeOptions,
  decodeRequestBody,
  requestBodySource,
  storedContentEncoding,
} from '../body/index.js';
export { type AuthenticateOptions, authenticate, MAX_SKEW_MS, UNSIGNED_ANONYMOUS } from './authenticate.js';
export { canonicalPath, canonicalQuery, uriEncode } from './canonical.js';
export { MAX_PRESIGNED_EXPIRES_SECONDS } from './credentials.js';
export { EMPTY_SHA256, signingKey } from './crypto.js';
export {
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  type StreamingContext,
  UNSIGNED_PAYLOAD,
} from './payload-mode.js';
export type { AuthInput, AuthResult, PayloadMode, User, UserDirectory } from './types.js';
