import { seededRandom } from '@bucketdb/store';
import { describe, expect, it } from 'vitest';
import { signingKey } from '../auth/crypto.js';
import type { AuthResult } from '../auth/types.js';
import { checksumOf } from '../checksums/index.js';
import { S3Error } from '../s3-error.js';
import { decodeRequestBody } from './decode-request-body.js';
import { signChunks } from './fixtures/sign-chunks.js';

// Random damage to valid aws-chunked bodies: every outcome is either the original data or an
// S3Error (never another exception, never different data accepted). Seeded, so a failure replays.

const rng = (seed: number) => seededRandom(seed).next;

const noise = (random: () => number, n: number) =>
  Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));

async function* pieces(body: Uint8Array, size: number) {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

const context = {
  seedSignature: 'b'.repeat(64),
  signingKey: signingKey('secret', '20260301', 'us-east-1', 's3'),
  scope: '20260301/us-east-1/s3/aws4_request',
  amzDate: '20260301T000000Z',
};

describe('damaged aws-chunked bodies', () => {
  it('are decoded exactly or refused with an S3Error', async () => {
    const data = noise(rng(7), 20_000);
    const crc = await checksumOf('crc32', data);
    const cases: { auth: AuthResult; wire: Buffer }[] = [
      {
        auth: { kind: 'anonymous', payload: { kind: 'streaming-unsigned-trailer' } },
        wire: Buffer.concat([
          ...[0, 4096, 8192, 12288, 16384].flatMap((at) => {
            const chunk = data.subarray(at, at + 4096);
            return [Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')];
          }),
          Buffer.from(`0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`),
        ]),
      },
      {
        auth: { kind: 'anonymous', payload: { kind: 'streaming-signed', trailer: true, ...context } },
        wire: signChunks(context, [data.subarray(0, 8192), data.subarray(8192)], { 'x-amz-checksum-crc32': crc }),
      },
    ];
    const headers = { 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-decoded-content-length': String(data.length) };
    const random = rng(42);
    let refused = 0;
    for (let round = 0; round < 300; round++) {
      const { auth, wire } = cases[round % cases.length]!;
      const damaged = Buffer.from(wire);
      const kind = Math.floor(random() * 3);
      if (kind === 0) {
        for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
          damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
        }
      }
      const body =
        kind === 1
          ? damaged.subarray(0, Math.floor(random() * damaged.length))
          : kind === 2
            ? Buffer.concat([damaged.subarray(0, 100), noise(random, 50), damaged.subarray(100)])
            : damaged;
      try {
        const decoded = decodeRequestBody(pieces(body, 1 + Math.floor(random() * 5000)), headers, auth);
        const parts: Uint8Array[] = [];
        for await (const part of decoded.body) parts.push(part);
        expect(Buffer.concat(parts).equals(data)).toBe(true);
      } catch (error) {
        if (!(error instanceof S3Error)) throw error;
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(200);
  });
});
