import { describe, expect, it } from 'vitest';
import { S3Error } from '../s3-error.js';
import { authenticate } from './authenticate.js';
import { EMPTY_SHA256 } from './crypto.js';
import type { AuthInput, User } from './types.js';

// The example credentials and requests of AWS's S3 SigV4 documentation ("Signature
// Calculations for the Authorization Header: Transferring Payload in a Single Chunk" and
// "Authenticating Requests: Using Query Parameters"), signed at 2013-05-24T00:00:00Z.
const example: User = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const users = (id: string) => (id === example.accessKeyId ? example : undefined);
const now = new Date('2013-05-24T00:00:00Z');
const host = 'examplebucket.s3.amazonaws.com';
const scope = 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request';

function headerAuth(signedHeaders: string, signature: string) {
  return `AWS4-HMAC-SHA256 Credential=${scope},SignedHeaders=${signedHeaders},Signature=${signature}`;
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
  return 'no error';
}

describe('AWS published SigV4 examples', () => {
  it('GET Object with a Range header', () => {
    const input: AuthInput = {
      method: 'GET',
      rawPath: '/test.txt',
      rawQuery: '',
      headers: {
        host,
        range: 'bytes=0-9',
        'x-amz-content-sha256': EMPTY_SHA256,
        'x-amz-date': '20130524T000000Z',
        authorization: headerAuth(
          'host;range;x-amz-content-sha256;x-amz-date',
          'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
        ),
      },
    };
    const result = authenticate(input, users, { now });
    expect(result).toMatchObject({ kind: 'user', user: example, payload: { kind: 'sha256', sha256: EMPTY_SHA256 } });
    // One changed byte in a signed header breaks it.
    const tampered = { ...input, headers: { ...input.headers, range: 'bytes=0-19' } };
    expect(code(() => authenticate(tampered, users, { now }))).toBe('SignatureDoesNotMatch');
  });

  it('PUT Object with a $ in the key and a signed payload hash', () => {
    const input: AuthInput = {
      method: 'PUT',
      rawPath: '/test%24file.text',
      rawQuery: '',
      headers: {
        host,
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
        authorization: headerAuth(
          'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
          '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
        ),
      },
    };
    expect(authenticate(input, users, { now })).toMatchObject({ kind: 'user', payload: { kind: 'sha256' } });
    // The same key spelled with a literal `$` has the same canonical URI.
    expect(authenticate({ ...input, rawPath: '/test$file.text' }, users, { now }).kind).toBe('user');
  });

  it('GET Bucket lifecycle (a sub-resource without a value)', () => {
    const input: AuthInput = {
      method: 'GET',
      rawPath: '/',
      rawQuery: 'lifecycle',
      headers: {
        host,
        'x-amz-date': '20130524T000000Z',
        'x-amz-content-sha256': EMPTY_SHA256,
        authorization: headerAuth(
          'host;x-amz-content-sha256;x-amz-date',
          'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
        ),
      },
    };
    expect(authenticate(input, users, { now }).kind).toBe('user');
  });

  it('GET Bucket (list objects) with parameters out of order', () => {
    const input: AuthInput = {
      method: 'GET',
      rawPath: '/',
      rawQuery: 'prefix=J&max-keys=2',
      headers: {
        host,
        'x-amz-date': '20130524T000000Z',
        'x-amz-content-sha256': EMPTY_SHA256,
        authorization: headerAuth(
          'host;x-amz-content-sha256;x-amz-date',
          '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
        ),
      },
    };
    expect(authenticate(input, users, { now }).kind).toBe('user');
  });

  it('presigned GET valid for 86400 seconds', () => {
    const input: AuthInput = {
      method: 'GET',
      rawPath: '/test.txt',
      rawQuery:
        'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
      headers: { host },
    };
    const later = (s: number) => ({ now: new Date(now.getTime() + s * 1000) });
    expect(authenticate(input, users, later(86_400))).toMatchObject({
      kind: 'user',
      via: 'presigned',
      payload: { kind: 'unsigned' },
    });
    expect(code(() => authenticate(input, users, later(86_401)))).toBe('AccessDenied');
    expect(code(() => authenticate(input, users, later(-3600)))).toBe('AccessDenied');
  });
});
