import { randomBytes } from 'node:crypto';
import { AwsCrc32c } from '@aws-crypto/crc32c';
import { describe, expect, it } from 'vitest';
import {
  CHECKSUM_ALGORITHMS,
  checksumOf,
  compositeChecksum,
  crc32cIsNative,
  createHasher,
  fullObjectChecksum,
  isValidChecksumValue,
} from './index.js';

describe('checksums', () => {
  it('match known values (from the AWS SDK and AWS documentation)', async () => {
    // What the AWS SDK v3 sent for these bodies (see body/sdk-bodies.test.ts for live captures).
    expect(await checksumOf('crc32', Buffer.from('hello'))).toBe('NhCmhg==');
    expect(await checksumOf('crc64nvme', Buffer.alloc(100, 1))).toBe('qXHV3YMviLA=');
    // AWS's chunked-upload-with-trailer example: 66,560 bytes of 'a'.
    expect(await checksumOf('crc32c', Buffer.alloc(66_560, 'a'))).toBe('sOO8/Q==');
    expect(await checksumOf('sha256', Buffer.alloc(0))).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    expect(await checksumOf('md5', Buffer.from(''))).toBe('1B2M2Y8AsgTpgAmY7PhCfg==');
  });

  it.each(CHECKSUM_ALGORITHMS)('%s gives the same digest however the data is split', async (alg) => {
    const data = randomBytes(100_003);
    const hasher = createHasher(alg);
    for (let i = 0; i < data.length; i += 4099) hasher.update(data.subarray(i, i + 4099));
    const incremental = Buffer.from(await hasher.digest()).toString('base64');
    expect(incremental).toBe(await checksumOf(alg, data));
    expect(isValidChecksumValue(alg, incremental)).toBe(true);
    expect(isValidChecksumValue(alg, incremental.slice(1))).toBe(false);
  });

  it.each(['crc32', 'crc32c', 'crc64nvme'] as const)(
    '%s of a whole object combines from its parts without reading them',
    async (alg) => {
      const sizes = [5 * 1024 * 1024, 5 * 1024 * 1024, 12_345, 1];
      const parts = sizes.map((size) => randomBytes(size));
      const partChecksums = await Promise.all(
        parts.map(async (part) => ({ checksum: await checksumOf(alg, part), size: part.length })),
      );
      expect(fullObjectChecksum(alg, partChecksums)).toBe(await checksumOf(alg, Buffer.concat(parts)));
      expect(fullObjectChecksum(alg, partChecksums.slice(0, 1))).toBe(partChecksums[0]?.checksum);
    },
  );

  it('CRC32C is native where @node-rs/crc32 has a binary, and agrees with @aws-crypto/crc32c', async () => {
    if (!crc32cIsNative) console.warn('@node-rs/crc32 has no binary here: CRC32C uses @aws-crypto/crc32c');
    const data = randomBytes(1_000_003);
    const reference = new AwsCrc32c();
    reference.update(data);
    expect(await checksumOf('crc32c', data)).toBe(Buffer.from(await reference.digest()).toString('base64'));
    expect(crc32cIsNative).toBe(process.platform === 'linux' && process.arch === 'x64' ? true : crc32cIsNative);
  });

  it('composite checksums are the checksum of the part checksums, then -N', async () => {
    const parts = [Buffer.from('part one'), Buffer.from('part two')];
    const partSums = await Promise.all(parts.map((p) => checksumOf('sha256', p)));
    const concatenated = Buffer.concat(partSums.map((s) => Buffer.from(s, 'base64')));
    expect(await compositeChecksum('sha256', partSums)).toBe(`${await checksumOf('sha256', concatenated)}-2`);
  });
});
