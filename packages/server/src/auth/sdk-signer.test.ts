import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { S3Error } from '../s3-error.js';
import { authenticate } from './authenticate.js';
import { uriEncode } from './canonical.js';
import { NodeSha256 } from './fixtures/node-sha256.js';
import type { AuthInput, User } from './types.js';

// Cross-checks against the AWS SDK's own signer (@smithy/signature-v4, configured as the S3
// client configures it): whatever it signs, authenticate must accept, and nothing else.

const alice: User = { accessKeyId: 'alice-key', secretAccessKey: 'alice/secret+with=odd chars' };
const bob: User = { accessKeyId: 'bob-key', secretAccessKey: 'bob-secret' };
const users = (id: string) => [alice, bob].find((u) => u.accessKeyId === id);
const signingDate = new Date('2026-03-01T12:00:00Z');
const now = signingDate;

function signer(user: User, region = 'us-east-1') {
  return new SignatureV4({ service: 's3', region, credentials: user, sha256: NodeSha256, uriEscapePath: false });
}

interface Req {
  method?: string;
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

const host = '127.0.0.1:9000';

function encodePath(key: string) {
  return `/bucket/${key
    .split('/')
    .map((s) => uriEncode(s, false))
    .join('/')}`;
}

/** Builds the request the way a client puts it on the wire, and what the server would see. */
function toInput(signed: {
  method: string;
  path: string;
  query?: Record<string, unknown>;
  headers: Record<string, string>;
}): AuthInput {
  const rawQuery = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  const headers: AuthInput['headers'] = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  return { method: signed.method, rawPath: signed.path, rawQuery, headers };
}

async function signHeaders(user: User, req: Req, region?: string): Promise<AuthInput> {
  const signed = await signer(user, region).sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 9000,
      path: encodePath(req.key ?? 'k'),
      query: req.query ?? {},
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...req.headers },
    },
    { signingDate },
  );
  return toInput(signed as never);
}

async function presign(user: User, req: Req, expiresIn = 3600): Promise<AuthInput> {
  const signed = await signer(user).presign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 9000,
      path: encodePath(req.key ?? 'k'),
      query: req.query ?? {},
      // As @aws-sdk/s3-request-presigner does: hoisted into the query as X-Amz-Content-Sha256.
      headers: { host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', ...req.headers },
    },
    { signingDate, expiresIn },
  );
  return toInput(signed as never);
}

function code(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
}

const awkwardKeys = [
  'plain.txt',
  'dir/sub dir/file name.txt',
  "sym!*'()bols",
  'plus+and=equals&amp;',
  'unicode/ünïcödé/日本語/😀',
  'tilde~dash-under_score.dot',
  'percent%25literal%',
  'a//double//slashes/',
];

describe('authenticate accepts what the SDK signs', () => {
  it.each(awkwardKeys)('header-signed GET of %j', async (key) => {
    const input = await signHeaders(alice, { key });
    expect(authenticate(input, users, { now })).toMatchObject({ kind: 'user', user: alice, via: 'header' });
  });

  it.each(awkwardKeys)('presigned PUT of %j', async (key) => {
    const input = await presign(alice, { method: 'PUT', key });
    expect(authenticate(input, users, { now })).toMatchObject({ kind: 'user', user: alice, via: 'presigned' });
  });

  it('query parameters in any order and spelling, with empty values', async () => {
    const query = {
      'list-type': '2',
      prefix: 'a b/ü',
      delimiter: '/',
      'continuation-token': 'x+y=z',
      'fetch-owner': '',
    };
    const input = await signHeaders(alice, { key: '', query });
    expect(code(() => authenticate(input, users, { now }))).toBe('accepted');
    const reordered = { ...input, rawQuery: input.rawQuery.split('&').reverse().join('&') };
    expect(code(() => authenticate(reordered, users, { now }))).toBe('accepted');
    const spaces = { ...input, rawQuery: input.rawQuery.replace('a%20b', 'a%20b') };
    expect(code(() => authenticate(spaces, users, { now }))).toBe('accepted');
  });

  it('headers with runs of spaces, metadata and a signed body hash', async () => {
    const body = 'hello';
    const sha = createHash('sha256').update(body).digest('hex');
    const input = await signHeaders(bob, {
      method: 'PUT',
      headers: { 'x-amz-meta-note': '  two   spaces  ', 'content-type': 'text/plain', 'x-amz-content-sha256': sha },
    });
    expect(authenticate(input, users, { now })).toMatchObject({ user: bob, payload: { kind: 'sha256', sha256: sha } });
  });

  it('the streaming payload modes, with what the body decoder needs', async () => {
    const signed = await signHeaders(alice, {
      method: 'PUT',
      headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' },
    });
    const result = authenticate(signed, users, { now });
    expect(result.payload).toMatchObject({ kind: 'streaming-signed', trailer: true, amzDate: '20260301T120000Z' });
    const unsigned = await signHeaders(alice, {
      method: 'PUT',
      headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' },
    });
    expect(authenticate(unsigned, users, { now }).payload).toEqual({ kind: 'streaming-unsigned-trailer' });
  });

  it('a presigned URL with x-amz-* parameters hands them over as headers', async () => {
    const input = await presign(alice, { method: 'PUT', query: { 'x-amz-checksum-crc32': 'NSRBwg==' } });
    expect(authenticate(input, users, { now })).toMatchObject({ queryHeaders: { 'x-amz-checksum-crc32': 'NSRBwg==' } });
  });
});

describe('authenticate refuses', () => {
  it('a wrong secret, an unknown key, another user’s signature', async () => {
    const wrong = await signHeaders({ ...alice, secretAccessKey: 'guess' }, {});
    expect(code(() => authenticate(wrong, users, { now }))).toBe('SignatureDoesNotMatch');
    const unknown = await signHeaders({ accessKeyId: 'nobody', secretAccessKey: 'x' }, {});
    expect(code(() => authenticate(unknown, users, { now }))).toBe('InvalidAccessKeyId');
    const forged = await signHeaders({ ...bob, accessKeyId: alice.accessKeyId }, {});
    expect(code(() => authenticate(forged, users, { now }))).toBe('SignatureDoesNotMatch');
  });

  it('any change to what was signed', async () => {
    const input = await signHeaders(alice, { key: 'a/b', query: { versionId: '1' }, headers: { range: 'bytes=0-1' } });
    const changes: AuthInput[] = [
      { ...input, method: 'DELETE' },
      { ...input, rawPath: '/bucket/a/c' },
      { ...input, rawQuery: 'versionId=2' },
      { ...input, rawQuery: '' },
      { ...input, headers: { ...input.headers, range: 'bytes=0-2' } },
      { ...input, headers: { ...input.headers, host: 'evil:9000' } },
    ];
    for (const changed of changes)
      expect(code(() => authenticate(changed, users, { now }))).toBe('SignatureDoesNotMatch');
  });

  it('an x-amz-* header added after signing', async () => {
    const input = await signHeaders(alice, {});
    const added = { ...input, headers: { ...input.headers, 'x-amz-meta-late': 'x' } };
    expect(code(() => authenticate(added, users, { now }))).toBe('AccessDenied');
  });

  it('a request time more than 15 minutes away', async () => {
    const input = await signHeaders(alice, {});
    const at = (minutes: number) => ({ now: new Date(signingDate.getTime() + minutes * 60_000) });
    expect(code(() => authenticate(input, users, at(15)))).toBe('accepted');
    expect(code(() => authenticate(input, users, at(-15)))).toBe('accepted');
    expect(code(() => authenticate(input, users, at(16)))).toBe('RequestTimeTooSkewed');
    expect(code(() => authenticate(input, users, at(-16)))).toBe('RequestTimeTooSkewed');
  });

  it('an expired presigned URL, and one valid for more than seven days', async () => {
    const input = await presign(alice, {}, 60);
    const at = (seconds: number) => ({ now: new Date(signingDate.getTime() + seconds * 1000) });
    expect(code(() => authenticate(input, users, at(60)))).toBe('accepted');
    expect(code(() => authenticate(input, users, at(61)))).toBe('AccessDenied');
    const week = await presign(alice, {}, 7 * 86400);
    expect(code(() => authenticate(week, users, at(7 * 86400)))).toBe('accepted');
    const tooLong = { ...week, rawQuery: week.rawQuery.replace('X-Amz-Expires=604800', 'X-Amz-Expires=604801') };
    // S3 answers 403 AccessDenied for an X-Amz-Expires beyond a week or of 0 (observed; documented as malformed).
    expect(code(() => authenticate(tooLong, users, { now }))).toBe('AccessDenied');
    const zero = { ...input, rawQuery: input.rawQuery.replace('X-Amz-Expires=60', 'X-Amz-Expires=0') };
    expect(code(() => authenticate(zero, users, { now }))).toBe('AccessDenied');
    const extended = { ...input, rawQuery: input.rawQuery.replace('X-Amz-Expires=60', 'X-Amz-Expires=600') };
    expect(code(() => authenticate(extended, users, at(120)))).toBe('SignatureDoesNotMatch');
  });

  it('malformed Authorization headers and mixed mechanisms', async () => {
    const input = await signHeaders(alice, {});
    const auth = String(input.headers.authorization);
    const withAuth = (authorization: string) => ({ ...input, headers: { ...input.headers, authorization } });
    // Signature Version 2 needs an RFC 1123 date; this request has only SigV4's x-amz-date.
    expect(code(() => authenticate(withAuth('AWS alice-key:c2lnbmF0dXJl'), users, { now }))).toBe('AccessDenied');
    expect(code(() => authenticate(withAuth('Bearer token'), users, { now }))).toBe('InvalidRequest');
    expect(code(() => authenticate(withAuth('AWS4-HMAC-SHA256 garbage'), users, { now }))).toBe(
      'AuthorizationHeaderMalformed',
    );
    expect(code(() => authenticate(withAuth(auth.replace('/s3/', '/ec2/')), users, { now }))).toBe(
      'AuthorizationHeaderMalformed',
    );
    expect(code(() => authenticate(withAuth(auth.replace('/aws4_request', '')), users, { now }))).toBe(
      'AuthorizationHeaderMalformed',
    );
    expect(code(() => authenticate(withAuth(auth.replace('20260301', '20260302')), users, { now }))).toBe(
      'AuthorizationHeaderMalformed',
    );
    expect(code(() => authenticate(withAuth(auth.replace(/Signature=\w+/, 'Signature=zz')), users, { now }))).toBe(
      'SignatureDoesNotMatch',
    );
    const both = { ...(await presign(alice, {})), headers: input.headers };
    expect(code(() => authenticate(both, users, { now }))).toBe('InvalidArgument');
  });

  it('a credential scoped to another region when the server pins one', async () => {
    const input = await signHeaders(alice, {}, 'eu-west-1');
    expect(code(() => authenticate(input, users, { now }))).toBe('accepted');
    expect(code(() => authenticate(input, users, { now, region: 'us-east-1' }))).toBe('AuthorizationHeaderMalformed');
  });

  it('a missing or invalid x-amz-content-sha256', async () => {
    const input = await signHeaders(alice, { headers: { 'x-amz-content-sha256': 'not-a-hash' } });
    expect(code(() => authenticate(input, users, { now }))).toBe('InvalidArgument');
    const { 'x-amz-content-sha256': _, ...rest } = input.headers;
    expect(code(() => authenticate({ ...input, headers: rest }, users, { now }))).toBe('InvalidRequest');
  });
});

describe('anonymous requests', () => {
  it('are reported, not refused', () => {
    const input: AuthInput = { method: 'GET', rawPath: '/bucket/k', rawQuery: '', headers: { host } };
    expect(authenticate(input, users, { now })).toEqual({ kind: 'anonymous', payload: { kind: 'unsigned' } });
  });

  it('cannot claim a signed streaming body', () => {
    const headers = { host, 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' };
    const input: AuthInput = { method: 'PUT', rawPath: '/bucket/k', rawQuery: '', headers };
    expect(code(() => authenticate(input, users, { now }))).toBe('AccessDenied');
  });
});
