import {
  ConflictInFlightError,
  CorruptError,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidRangeError,
  NotFoundError,
  PreconditionFailedError,
  StoreError,
  ThrottledError,
  TransientError,
} from '../../errors.js';

/** The fields of an AWS SDK error (or a Node network error) that the mapping looks at. */
interface SdkErrorLike {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Network failures where the request never reached the server, so a write cannot have landed. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Network failures after a connection existed: the server may have seen (and applied) the request. */
const NETWORK = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ESOCKETTIMEDOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  // undici's, under GETs (get-transport.ts)
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  // lending-get.ts's, for a response it can't parse
  'ERR_BAD_RESPONSE',
]);

/** Failures of the connection or of the response's HTTP, after the request was sent. */
const NETWORK_NAMES = new Set(['TimeoutError', 'HTTPParserError' /* undici's */]);

/** S3 error codes whose meaning does not depend on the status (a HEAD has no body, so only its status). */
const BY_CODE: Record<string, (key: string, message: string, cause: unknown) => StoreError> = {
  NoSuchKey: (key, _m, cause) => new NotFoundError(key, { cause }),
  NoSuchBucket: (_k, message, cause) => new InvalidArgumentError(`the bucket does not exist: ${message}`, { cause }),
  NoSuchUpload: (key, message, cause) => new TransientError(`multipart upload vanished: ${message}`, { key, cause }),
  PreconditionFailed: (key, message, cause) => new PreconditionFailedError(key, message, { cause }),
  ConditionalRequestConflict: (key, _m, cause) => new ConflictInFlightError(key, { cause }),
  OperationAborted: (key, _m, cause) => new ConflictInFlightError(key, { cause }),
  SlowDown: (key, message, cause) => new ThrottledError(`S3 SlowDown: ${message}`, { key, cause }),
  TooManyRequests: (key, message, cause) => new ThrottledError(`S3 TooManyRequests: ${message}`, { key, cause }),
  InvalidRange: (key, message) => new InvalidRangeError(key, message),
  KeyTooLongError: (key, message) => new InvalidKeyError(key, `S3 refused it: ${message}`),
  RequestTimeout: (key, message, cause) => new TransientError(`S3 RequestTimeout: ${message}`, { key, cause }),
};

export function httpStatusOf(error: unknown): number | undefined {
  return (error as SdkErrorLike | undefined)?.$metadata?.httpStatusCode;
}

/**
 * Translates whatever the AWS SDK threw into a store error. The one place S3's statuses and codes
 * are interpreted; `key` is the caller's key (without the store prefix).
 */
export function toStoreError(error: unknown, key: string): StoreError {
  if (error instanceof StoreError) return error;
  const e = (error ?? {}) as SdkErrorLike;
  const status = httpStatusOf(error);
  const name = e.name ?? '';
  const message = e.message || name || 'unknown error';
  const byCode = BY_CODE[name];
  if (byCode) return byCode(key, message, error);
  if (status !== undefined) return fromStatus(status, name, message, key, error);
  if (NETWORK_NAMES.has(name) || NETWORK.has(e.code ?? '') || NOT_SENT.has(e.code ?? '')) {
    return new TransientError(`network error talking to S3: ${message}`, { key, cause: error });
  }
  // Failures before anything was sent: bad configuration, a header Node refuses to send, ...
  const hint =
    name === 'CredentialsProviderError'
      ? ' (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE; `bucketdb server` prints its keys)'
      : '';
  return new InvalidArgumentError(`the S3 request could not be made: ${message}${hint}`, { key, cause: error });
}

function fromStatus(status: number, name: string, message: string, key: string, cause: unknown): StoreError {
  if (status === 404) return new NotFoundError(key, { cause });
  if (status === 412) return new PreconditionFailedError(key, message, { cause });
  if (status === 409) return new ConflictInFlightError(key, { cause });
  if (status === 416) return new InvalidRangeError(key, message);
  if (status === 429) return new ThrottledError(`S3 answered 429: ${message}`, { key, cause });
  // A 503 without a code is a HEAD's SlowDown (HEAD responses have no body to name the code).
  if (status === 503 && (name === '' || name === 'Unknown'))
    return new ThrottledError('S3 answered 503', { key, cause });
  if (status === 501)
    return new InvalidArgumentError(`this S3 endpoint does not implement the request: ${message}`, { key, cause });
  if (status >= 500) return new TransientError(`S3 answered ${status} ${name}: ${message}`, { key, cause });
  if (status >= 200 && status < 300)
    return new CorruptError(`could not read S3's response: ${message}`, { key, cause });
  return new InvalidArgumentError(`S3 rejected the request with ${status} ${name}: ${message}`, { key, cause });
}

/**
 * Whether the request behind a retryable failure may have taken effect. Throttling and conflicts
 * are answered before anything is applied; a refused connection never delivered the request.
 * Everything else (5xx, reset, timeout) may have landed.
 */
export function mayHaveLanded(error: StoreError): boolean {
  if (error.code !== 'Transient') return false;
  const cause = error.cause as SdkErrorLike | undefined;
  return !NOT_SENT.has(cause?.code ?? '');
}
