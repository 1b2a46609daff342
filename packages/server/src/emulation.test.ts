import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  ConflictInFlightError,
  NotFoundError,
  PreconditionFailedError,
  ThrottledError,
  TransientError,
} from '@bucketdb/store';
import { describe, expect, it } from 'vitest';
import { startTestServer } from './fixtures/harness.js';
import { toS3Error } from './http/to-s3-error.js';

describe('S3 emulation', () => {
  it('serves through the store latency profile', async () => {
    const t = await startTestServer({ emulate: 's3-express' });
    try {
      const s3 = t.client();
      await s3.send(new CreateBucketCommand({ Bucket: 'slow' }));
      await s3.send(new PutObjectCommand({ Bucket: 'slow', Key: 'k', Body: 'through latency' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'slow', Key: 'k' }));
      expect(await got.Body?.transformToString()).toBe('through latency');
    } finally {
      await t.close();
    }
  });

  it('maps store errors to S3 errors in one place: throttling is 503 SlowDown', () => {
    expect(toS3Error(new ThrottledError()).error).toMatchObject({ code: 'SlowDown', status: 503 });
    expect(toS3Error(new ConflictInFlightError('k')).error).toMatchObject({
      code: 'ConditionalRequestConflict',
      status: 409,
    });
    expect(toS3Error(new PreconditionFailedError('k', 'x')).error).toMatchObject({ status: 412 });
    expect(toS3Error(new NotFoundError('k'), 'k').error).toMatchObject({ code: 'NoSuchKey', details: { Key: 'k' } });
    expect(toS3Error(new TransientError('disk hiccup')).error).toMatchObject({
      code: 'ServiceUnavailable',
      status: 503,
    });
    expect(toS3Error(new Error('bug'))).toMatchObject({ unexpected: true, error: { status: 500 } });
  });
});
