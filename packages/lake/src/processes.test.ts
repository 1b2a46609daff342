import { EventStore } from '@bucketdb/events';
import { openStore } from '@bucketdb/store';
import { collect, openTestBackend, runTs, spawnTs, TEST_CREDENTIALS, testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMA, Lake } from './index.js';

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
  }, 240_000);
});

describe.each(backends)('an event-store export killed mid-run on %s', (backendName) => {
  it('resumes from the position committed with the data: every event once', async () => {
    const backend = await openTestBackend(backendName);
    try {
      Object.assign(process.env, CHILD_ENV);
      const eventsUrl = await backend.newStoreUrl();
      const lakeUrl = await backend.newStoreUrl();
      {
        await using events = await EventStore.open(eventsUrl);
        for (let i = 0; i < 24; i++) {
          await events.append(`s-${i % 3}`, [
            { type: 'A', data: { i, k: 0 } },
            { type: 'B', data: { i, k: 1 } },
          ]);
        }
      }
      const store = await openStore(lakeUrl);
      const lake = await Lake.open({ store });
      await lake.createTable('ev', { schema: EVENT_SCHEMA });
      // Killed (SIGKILL) once two batches have been reported: the run stops between or inside commits.
      const child = spawnTs(new URL('./event-ingest.child.ts', import.meta.url), [lakeUrl, eventsUrl, '6'], CHILD_ENV);
      let batches = 0;
      child.stdout?.setEncoding('utf8').on('data', (s: string) => {
        batches += s.split('\n').filter((l) => l.startsWith('{"batch"')).length;
        if (batches >= 2) child.kill('SIGKILL');
      });
      const killed = await collect(child);
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      const loaded = Number((await lake.query('SELECT count(*) AS n FROM ev')).rows[0]?.['n']);
      expect(loaded).toBeGreaterThan(0);
      expect(loaded).toBeLessThan(48);
      const rerun = await runTs(
        new URL('./event-ingest.child.ts', import.meta.url),
        [lakeUrl, eventsUrl, '6'],
        CHILD_ENV,
      );
      expect(rerun.code, rerun.stderr).toBe(0);
      const { rows } = await lake.query(
        'SELECT count(*) AS n, count(DISTINCT id) AS d, max(position_record) AS r FROM ev',
      );
      expect(rows).toEqual([{ n: '48', d: '48', r: '24' }]);
      expect((await lake.table('ev').snapshot()).txns.get(`events:${eventsUrl}`)?.version).toBe(24);
      await lake.close();
      await store.close();
    } finally {
      await backend.close();
    }
  }, 240_000);
});
