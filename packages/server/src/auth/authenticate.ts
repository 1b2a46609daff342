import { S3Error } from '../s3-error.js';
import { canonicalHeaders, canonicalPath, canonicalQuery, canonicalRequest } from './canonical.js';
import {
  ALGORITHM,
  parseAmzDate,
  parseAuthorizationHeader,
  parsePresignedQuery,
  type SignatureClaim,
} from './credentials.js';
import { hmacMatches, sha256Hex, signingKey } from './crypto.js';
import { payloadMode, UNSIGNED_PAYLOAD } from './payload-mode.js';
import { parseV2Header, parseV2Query, verifyV2 } from './sigv2.js';
import type { AuthInput, AuthResult, User, UserDirectory } from './types.js';

export interface AuthenticateOptions {
  /** The server's clock; injected so tests can replay AWS's dated examples. */
  now?: Date;
  /** When set, credentials scoped to another region are refused, as S3 does. Any region otherwise. */
  region?: string;
}

/** A request whose signature, if any, is not in its headers (a POST Object form and its file). */
export const UNSIGNED_ANONYMOUS: AuthResult = { kind: 'anonymous', payload: { kind: 'unsigned' } };

/** S3 refuses header-signed requests whose time is more than 15 minutes from its own. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

type Headers = AuthInput['headers'];

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * Checks a request's AWS Signature Version 4 (Authorization header or presigned URL) and says
 * who sent it and how its body is protected. Throws S3Error with S3's code for every refusal.
 * A request with neither is anonymous; whether that is allowed is the caller's decision.
 */
export function authenticate(input: AuthInput, users: UserDirectory, options: AuthenticateOptions = {}): AuthResult {
  const now = options.now ?? new Date();
  const authorization = first(input.headers.authorization);
  const query = input.rawQuery;
  const presigned = query !== '' && /(?:^|&)X-Amz-(?:Algorithm|Signature|Credential)=/.test(query);
  if (authorization !== undefined && presigned) {
    throw new S3Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
    );
  }
  if (presigned) return verifyPresigned(input, users, now, options.region);
  const contentSha256 = first(input.headers['x-amz-content-sha256']);
  // Signature Version 2, header or query (aws CLI v1 presigns with it by default).
  const presignedV2 = query !== '' && /(?:^|&)AWSAccessKeyId=/.test(query);
  if (authorization?.startsWith('AWS ') || (authorization === undefined && presignedV2)) {
    const claim = authorization ? parseV2Header(authorization) : parseV2Query(new URLSearchParams(input.rawQuery));
    const user = verifyV2(input, claim, users, now, MAX_SKEW_MS);
    return { kind: 'user', user, via: authorization ? 'header' : 'presigned', payload: payloadMode(contentSha256) };
  }
  if (authorization !== undefined) return verifyHeader(input, authorization, users, now, options.region);
  return { kind: 'anonymous', payload: payloadMode(contentSha256) };
}

function verifyHeader(
  input: AuthInput,
  authorization: string,
  users: UserDirectory,
  now: Date,
  region: string | undefined,
): AuthResult {
  const claim = parseAuthorizationHeader(authorization);
  const amzDate = requestAmzDate(input.headers);
  const time = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || time === undefined) {
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  if (claim.date !== amzDate.slice(0, 8)) {
    throw new S3Error('AuthorizationHeaderMalformed', 'Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  if (Math.abs(now.getTime() - time.getTime()) > MAX_SKEW_MS) {
    throw new S3Error(
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
      {
        RequestTime: amzDate,
        ServerTime: now.toISOString(),
        MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
      },
    );
  }
  const user = findUser(claim, users, region, 'AuthorizationHeaderMalformed');
  const contentSha256 = first(input.headers['x-amz-content-sha256']);
  if (contentSha256 === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  const key = verifySignature(input, claim, user, amzDate, contentSha256);
  const streaming = { seedSignature: claim.signature.toLowerCase(), signingKey: key, scope: claim.scope, amzDate };
  return { kind: 'user', user, via: 'header', payload: payloadMode(contentSha256, streaming) };
}

function verifyPresigned(input: AuthInput, users: UserDirectory, now: Date, region: string | undefined): AuthResult {
  const params = input.query ?? new URLSearchParams(input.rawQuery);
  const claim = parsePresignedQuery(params);
  const amzDate = claim.amzDate ?? '';
  const time = parseAmzDate(amzDate);
  if (time === undefined) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`,
    );
  }
  if (claim.date !== amzDate.slice(0, 8)) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'Invalid credential date. Date is not the same as X-Amz-Date.',
    );
  }
  if (time.getTime() - now.getTime() > MAX_SKEW_MS) throw new S3Error('AccessDenied', 'Request is not valid yet');
  const expires = new Date(time.getTime() + (claim.expiresSeconds ?? 0) * 1000);
  if (now > expires) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': String(claim.expiresSeconds),
      Expires: expires.toISOString(),
      ServerTime: now.toISOString(),
    });
  }
  const user = findUser(claim, users, region, 'AuthorizationQueryParametersError');
  const signedSha256 = claim.signedHeaders.includes('x-amz-content-sha256')
    ? first(input.headers['x-amz-content-sha256'])
    : undefined;
  const contentSha256 = queryContentSha256(params) ?? signedSha256 ?? UNSIGNED_PAYLOAD;
  verifySignature(input, claim, user, amzDate, contentSha256);
  const result: AuthResult = { kind: 'user', user, via: 'presigned', payload: payloadMode(contentSha256) };
  if (claim.hoistedHeaders && Object.keys(claim.hoistedHeaders).length > 0) result.queryHeaders = claim.hoistedHeaders;
  return result;
}

/** X-Amz-Content-Sha256 of a presigned URL, in whatever case the client spelled it. */
function queryContentSha256(params: URLSearchParams): string | undefined {
  for (const [name, value] of params) if (name.toLowerCase() === 'x-amz-content-sha256') return value;
  return undefined;
}

/** `x-amz-date`, or a `Date` header converted to SigV4's format (which is what clients sign then). */
function requestAmzDate(headers: Headers): string | undefined {
  const amzDate = first(headers['x-amz-date']);
  if (amzDate !== undefined) return amzDate;
  const date = first(headers.date);
  if (date === undefined) return undefined;
  const time = Date.parse(date);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

function findUser(
  claim: SignatureClaim,
  users: UserDirectory,
  region: string | undefined,
  malformed: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError',
): User {
  if (region !== undefined && claim.region !== region) {
    throw new S3Error(
      malformed,
      `The authorization header is malformed; the region '${claim.region}' is wrong; expecting '${region}'`,
      {
        Region: region,
      },
    );
  }
  if (!claim.signedHeaders.includes('host')) {
    throw new S3Error(malformed, 'The host header must be signed (SignedHeaders must include host).');
  }
  const user = users(claim.accessKeyId);
  if (!user) {
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: claim.accessKeyId,
    });
  }
  return user;
}

/** Verifies the signature; returns the signing key, from which chunk signatures are chained. */
function verifySignature(
  input: AuthInput,
  claim: SignatureClaim,
  user: User,
  amzDate: string,
  payloadHash: string,
): Uint8Array {
  const unsigned: string[] = [];
  for (const name in input.headers) {
    if (!name.startsWith('x-amz-') || claim.signedHeaders.includes(name)) continue;
    if (!(claim.presigned && name === 'x-amz-content-sha256')) unsigned.push(name);
  }
  if (unsigned.length > 0) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: unsigned.join(', '),
    });
  }
  const key = signingKey(user.secretAccessKey, claim.date, claim.region, claim.service);
  const parts = {
    method: input.method.toUpperCase(),
    path: canonicalPath(input.rawPath),
    query: canonicalQuery(input.rawQuery, claim.presigned ? 'X-Amz-Signature' : undefined),
    headers: canonicalHeaders(input.headers, claim.signedHeaders),
    signedHeaders: claim.signedHeaders.join(';'),
    payloadHash,
  };
  const canonical = canonicalRequest(parts);
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${claim.scope}\n${sha256Hex(canonical)}`;
  if (hmacMatches(key, stringToSign, claim.signature)) return key;
  // Some clients sign the path exactly as they sent it rather than in AWS's canonical spelling.
  if (parts.path !== input.rawPath && input.rawPath !== '') {
    const asSent = canonicalRequest({ ...parts, path: input.rawPath });
    const asSentToSign = `${ALGORITHM}\n${amzDate}\n${claim.scope}\n${sha256Hex(asSent)}`;
    if (hmacMatches(key, asSentToSign, claim.signature)) return key;
  }
  throw new S3Error(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    { AWSAccessKeyId: claim.accessKeyId, StringToSign: stringToSign, CanonicalRequest: canonical },
  );
}
