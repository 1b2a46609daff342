import {
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketWebsiteCommand,
  GetBucketAccelerateConfigurationCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketReplicationCommand,
  GetBucketRequestPaymentCommand,
  GetBucketWebsiteCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetPublicAccessBlockCommand,
  PutBucketAccelerateConfigurationCommand,
  PutBucketLoggingCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketRequestPaymentCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOB, failure, startWithBuckets, type TestServer } from './fixtures/harness.js';

const Bucket = 'plain-bucket';
let t: TestServer;
let s3: S3Client;

beforeAll(async () => {
  ({ t, s3 } = await startWithBuckets([Bucket]));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
});
afterAll(() => t.close());

describe('bucket configurations a plain bucket does not have', () => {
  it('answer 404 with the code S3 uses for each', async () => {
    const cases = [
      [new GetBucketPolicyCommand({ Bucket }), 'NoSuchBucketPolicy'],
      [new GetBucketLifecycleConfigurationCommand({ Bucket }), 'NoSuchLifecycleConfiguration'],
      [new GetBucketEncryptionCommand({ Bucket }), 'ServerSideEncryptionConfigurationNotFoundError'],
      [new GetBucketWebsiteCommand({ Bucket }), 'NoSuchWebsiteConfiguration'],
      [new GetBucketReplicationCommand({ Bucket }), 'ReplicationConfigurationNotFoundError'],
      [new GetObjectLockConfigurationCommand({ Bucket }), 'ObjectLockConfigurationNotFoundError'],
      [new GetBucketOwnershipControlsCommand({ Bucket }), 'OwnershipControlsNotFoundError'],
      [new GetPublicAccessBlockCommand({ Bucket }), 'NoSuchPublicAccessBlockConfiguration'],
    ] as const;
    for (const [command, code] of cases) {
      expect(await failure(s3.send(command as never)), command.constructor.name).toEqual([code, 404]);
    }
  });

  it('answer 200 with the default where S3 reports one', async () => {
    const logging = await s3.send(new GetBucketLoggingCommand({ Bucket }));
    expect([logging.$metadata.httpStatusCode, logging.LoggingEnabled]).toEqual([200, undefined]);
    expect((await s3.send(new GetBucketRequestPaymentCommand({ Bucket }))).Payer).toBe('BucketOwner');
    const accelerate = await s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket }));
    expect([accelerate.$metadata.httpStatusCode, accelerate.Status]).toEqual([200, undefined]);
    const notification = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket }));
    expect([notification.$metadata.httpStatusCode, notification.TopicConfigurations]).toEqual([200, undefined]);
  });

  it('take writes of the default state and deletes; other writes are NotImplemented and change nothing', async () => {
    await s3.send(new PutBucketLoggingCommand({ Bucket, BucketLoggingStatus: {} }));
    await s3.send(
      new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'BucketOwner' } }),
    );
    await s3.send(
      new PutBucketAccelerateConfigurationCommand({ Bucket, AccelerateConfiguration: { Status: 'Suspended' } }),
    );
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket, NotificationConfiguration: {} }));
    for (const command of [
      new DeleteBucketPolicyCommand({ Bucket }),
      new DeleteBucketLifecycleCommand({ Bucket }),
      new DeleteBucketWebsiteCommand({ Bucket }),
    ]) {
      expect((await s3.send(command as never)).$metadata.httpStatusCode).toBe(204);
    }
    const refused = [
      new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'Requester' } }),
      new PutBucketAccelerateConfigurationCommand({ Bucket, AccelerateConfiguration: { Status: 'Enabled' } }),
      new PutBucketLoggingCommand({
        Bucket,
        BucketLoggingStatus: { LoggingEnabled: { TargetBucket: Bucket, TargetPrefix: 'log/' } },
      }),
      // A policy stored but not enforced would mislead: refused.
      new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) }),
    ];
    for (const command of refused) {
      expect(await failure(s3.send(command as never)), command.constructor.name).toEqual(['NotImplemented', 501]);
    }
    expect((await s3.send(new GetBucketRequestPaymentCommand({ Bucket }))).Payer).toBe('BucketOwner');
    expect(await failure(s3.send(new GetBucketPolicyCommand({ Bucket })))).toEqual(['NoSuchBucketPolicy', 404]);
  });

  it('are the owner’s to read; retention and legal holds need Object Lock, which no bucket has', async () => {
    expect(await failure(t.client(BOB).send(new GetBucketPolicyCommand({ Bucket })))).toEqual(['AccessDenied', 403]);
    expect(await failure(s3.send(new GetBucketPolicyCommand({ Bucket: 'no-such-bucket' })))).toEqual([
      'NoSuchBucket',
      404,
    ]);
    expect(await failure(s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' })))).toEqual([
      'InvalidRequest',
      400,
    ]);
    expect(await failure(s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'k' })))).toEqual([
      'InvalidRequest',
      400,
    ]);
  });
});
