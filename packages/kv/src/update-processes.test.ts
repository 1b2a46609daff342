import { runTs, TEST_CREDENTIALS, testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { useBackend } from './fixtures/backend.js';
import { open } from './index.js';

const PROCESSES = 4;
/** s3:// URLs carry no credentials: children take the test server's from the environment. */
const CHILD_ENV = {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
};
const INCREMENTS = 25;

// Processes share a store through a URL, which the memory backend cannot give.
const backends = testBackendNames().filter((name) => name !== 'memory');
if (backends.length === 0) it.skip('needs the file or s3 backend (BUCKETDB_TEST_BACKENDS leaves only memory)');

describe.each(backends)('update() from several processes on %s', (backendName) => {
  const backend = useBackend(backendName);

  it('ends exact: every increment lands once', async () => {
    const url = await backend.newStoreUrl();
    const children = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        runTs(new URL('./increment.child.ts', import.meta.url), [url, 'counter', String(INCREMENTS)], CHILD_ENV),
      ),
    );
    for (const child of children) {
      expect(child.code, child.stderr).toBe(0);
      expect(JSON.parse(child.stdout)).toEqual({ done: INCREMENTS });
    }
    Object.assign(process.env, CHILD_ENV);
    await using kv = await open(url);
    expect((await kv.get('counter'))?.value).toBe(PROCESSES * INCREMENTS);
  });
});
