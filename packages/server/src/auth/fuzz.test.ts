import { seededRandom } from '@bucketdb/store';
import { describe, expect, it } from 'vitest';
import { S3Error } from '../s3-error.js';
import { authenticate } from './authenticate.js';
import type { AuthInput } from './types.js';

// Garbage in every field authentication reads: the only outcomes are a result or an S3Error.

const user = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
const users = (id: string) => (id === user.accessKeyId ? user : undefined);

const rng = (seed: number) => seededRandom(seed).next;

const fragments = [
  'AWS4-HMAC-SHA256 ',
  'Credential=AKID/20260301/us-east-1/s3/aws4_request',
  'Credential=',
  'SignedHeaders=host;x-amz-date',
  'Signature=',
  'a'.repeat(64),
  ',',
  ', ',
  '/',
  '=',
  '%',
  '%zz',
  '%C3',
  '\u0000',
  '😀',
  '\ud800',
  'X-Amz-Algorithm=AWS4-HMAC-SHA256',
  'X-Amz-Credential=AKID%2F20260301%2Fus-east-1%2Fs3%2Faws4_request',
  'X-Amz-Date=20260301T000000Z',
  'X-Amz-Expires=',
  '604801',
  '-1',
  'X-Amz-SignedHeaders=host',
  'X-Amz-Signature=',
  '&',
  '20260301T000000Z',
  '99999999T999999Z',
];

describe('authenticate on garbage', () => {
  it('answers or throws S3Error, never anything else', () => {
    const random = rng(3);
    const junk = () => {
      let out = '';
      for (let n = Math.floor(random() * 8); n > 0; n--) out += fragments[Math.floor(random() * fragments.length)];
      return out;
    };
    const codes = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const headers: AuthInput['headers'] = { host: 'h' };
      if (random() < 0.7) headers.authorization = junk();
      if (random() < 0.5) headers['x-amz-date'] = random() < 0.5 ? '20260301T000000Z' : junk();
      if (random() < 0.5) headers['x-amz-content-sha256'] = random() < 0.5 ? 'UNSIGNED-PAYLOAD' : junk();
      if (random() < 0.2) headers[`x-amz-${junk().toLowerCase()}`] = junk();
      const input: AuthInput = {
        method: 'GET',
        rawPath: `/${junk()}`,
        rawQuery: random() < 0.5 ? junk() : '',
        headers,
      };
      try {
        authenticate(input, users, { now: new Date('2026-03-01T00:05:00Z') });
        codes.add('accepted');
      } catch (error) {
        if (!(error instanceof S3Error)) throw error;
        codes.add(error.code);
      }
    }
    // The inputs reach deep enough to meet most of the refusals.
    expect([...codes].sort()).toEqual(expect.arrayContaining(['AuthorizationHeaderMalformed', 'InvalidRequest']));
    expect(codes.size, [...codes].join()).toBeGreaterThanOrEqual(5);
  });
});
