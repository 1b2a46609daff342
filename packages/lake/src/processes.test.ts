import { openStore } from '@bucketdb/store';
import { openTestBackend, runTs, TEST_CREDENTIALS, testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { Lake } from './index.js';

const WRITERS = 2;
const APPENDS = 2;
/** s3:// URLs carry no credentials: children take the test server's from the environment. */
const CHILD_ENV = {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
};

// Processes share a store through a URL, which the memory backend cannot give.
const backends = testBackendNames().filter((name) => name !== 'memory');
if (backends.length === 0) it.skip('needs the file or s3 backend (BUCKETDB_TEST_BACKENDS leaves only memory)');

describe.each(backends)('writers in several processes on %s', (backendName) => {
  it('all appends land once and every delete applies, after conflicts and retries', async () => {
    const backend = await openTestBackend(backendName);
    try {
      const url = await backend.newStoreUrl();
      Object.assign(process.env, CHILD_ENV);
      const store = await openStore(url);
      const lake = await Lake.open({ store });
      const t = await lake.createTable('t', { schema: { id: 'long', w: 'integer' } });
      await t.append(
        Array.from({ length: 60 }, (_, id) => ({ id, w: -1 })),
        { rowsPerFile: 20 },
      );
      const children = await Promise.all(
        Array.from({ length: WRITERS }, (_, w) =>
          runTs(
            new URL('./writer.child.ts', import.meta.url),
            [url, String(w), String(APPENDS), String(WRITERS)],
            CHILD_ENV,
          ),
        ),
      );
      for (const child of children) expect(child.code, child.stderr).toBe(0);
      if (process.env.LAKE_DEBUG) console.log(children.map((c) => c.stdout.trim()).join(' '));
      const { rows } = await lake.query('SELECT id, w FROM t ORDER BY id');
      const expected = Array.from({ length: WRITERS }, (_, w) =>
        Array.from({ length: APPENDS * 3 }, (_, i) => ({ id: String(1000 + w * 100 + i), w })),
      ).flat();
      expect(rows).toEqual(expected);
      const history = await t.history();
      expect(history.map((h) => h.version)).toEqual(
        Array.from({ length: 2 + WRITERS * (APPENDS + 1) }, (_, i) => 1 + WRITERS * (APPENDS + 1) - i),
      );
      await lake.close();
      await store.close();
    } finally {
      await backend.close();
    }
  });
});
