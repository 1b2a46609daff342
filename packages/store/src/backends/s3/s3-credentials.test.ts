import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStoreError } from '../../errors.js';
import { S3Store } from './s3-store.js';

const CLEARED = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
];

describe('S3Store without credentials', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    for (const name of CLEARED) delete process.env[name];
    // No shared files, and never the instance metadata service: tests only talk to localhost.
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('says which settings would supply them', async () => {
    const store = new S3Store({
      bucket: 'b',
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      forcePathStyle: true,
    });
    const error = await store.head('k').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isStoreError(error, 'InvalidArgument')).toBe(true);
    expect((error as Error).message).toContain('AWS_ACCESS_KEY_ID');
    await store.close();
  });
});
