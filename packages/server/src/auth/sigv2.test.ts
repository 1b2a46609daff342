import { describe, expect, it } from 'vitest';
import { S3Error } from '../s3-error.js';
import { authenticate } from './authenticate.js';
import type { AuthInput, User } from './types.js';

// The examples of AWS's "Signing and Authenticating REST Requests" (Signature Version 2), on the
// virtual-host bucket `johnsmith`.

const example: User = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const users = (id: string) => (id === example.accessKeyId ? example : undefined);
const host = 'johnsmith.s3.amazonaws.com';

function request(method: string, rawPath: string, rawQuery: string, date: string, signature: string, extra = {}) {
  const input: AuthInput = {
    method,
    rawPath,
    rawQuery,
    virtualHostBucket: 'johnsmith',
    headers: { host, date, authorization: `AWS ${example.accessKeyId}:${signature}`, ...extra },
  };
  return { input, now: new Date(date) };
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

describe('Signature Version 2 (AWS examples)', () => {
  it.each([
    ['GET', '/photos/puppy.jpg', '', 'Tue, 27 Mar 2007 19:36:42 +0000', 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=', {}],
    [
      'PUT',
      '/photos/puppy.jpg',
      '',
      'Tue, 27 Mar 2007 21:15:45 +0000',
      'MyyxeRY7whkBe+bq8fHCL/2kKUg=',
      { 'content-type': 'image/jpeg' },
    ],
    [
      'GET',
      '/',
      'prefix=photos&max-keys=50&marker=puppy',
      'Tue, 27 Mar 2007 19:42:41 +0000',
      'htDYFYduRNen8P9ZfE/s9SuKy0U=',
      {},
    ],
    ['GET', '/', 'acl', 'Tue, 27 Mar 2007 19:44:46 +0000', 'c2WLPFtWHVgbEmeEG93a4cG37dM=', {}],
  ])('%s %s?%s', (method, path, query, date, signature, extra) => {
    const { input, now } = request(method, path, query, date, signature, extra);
    expect(authenticate(input, users, { now })).toMatchObject({ kind: 'user', user: example, via: 'header' });
    // Same request, one byte different in a signed part.
    expect(code(() => authenticate({ ...input, method: 'DELETE' }, users, { now }))).toBe('SignatureDoesNotMatch');
    expect(code(() => authenticate(input, users, { now: new Date(now.getTime() + 16 * 60_000) }))).toBe(
      'RequestTimeTooSkewed',
    );
  });

  it('a query-string (presigned) GET until it expires', () => {
    const input: AuthInput = {
      method: 'GET',
      rawPath: '/photos/puppy.jpg',
      rawQuery: 'AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620',
      virtualHostBucket: 'johnsmith',
      headers: { host },
    };
    expect(authenticate(input, users, { now: new Date(1175139620_000) })).toMatchObject({ via: 'presigned' });
    expect(code(() => authenticate(input, users, { now: new Date(1175139621_000) }))).toBe('AccessDenied');
    const later = { ...input, rawQuery: input.rawQuery.replace('1175139620', '1175139999') };
    expect(code(() => authenticate(later, users, { now: new Date(1175139620_000) }))).toBe('SignatureDoesNotMatch');
    const stranger = { ...input, rawQuery: input.rawQuery.replace('AKIAIOSFODNN7EXAMPLE', 'NOBODY') };
    expect(code(() => authenticate(stranger, users, { now: new Date(1175139620_000) }))).toBe('InvalidAccessKeyId');
  });

  it('path-style requests sign the path as sent', () => {
    const { input, now } = request(
      'GET',
      '/johnsmith/photos/puppy.jpg',
      '',
      'Tue, 27 Mar 2007 19:36:42 +0000',
      'bWq2s1WEIj+Ydj0vQ697zp+IXMU=',
    );
    const { virtualHostBucket: _, ...pathStyle } = input;
    expect(authenticate(pathStyle, users, { now }).kind).toBe('user');
  });
});
