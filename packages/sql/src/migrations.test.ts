import { openTestBackend, spawnTs, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Database } from './database.js';
import { applyMigrations, MIGRATIONS_TABLE } from './migrations.js';
import { testMigrations } from './migrations.fixture.js';
import { open } from './open.js';

const child = new URL('./migrate.child.ts', import.meta.url);

/** The invariant: every migration recorded once and its effect present exactly once. */
async function checkApplied(db: Database, count: number): Promise<void> {
  const recorded = await db.query<{ version: number }>(`select version from ${MIGRATIONS_TABLE} order by version`);
  expect(recorded.map((r) => r.version)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  const effects = await db.query<{ migration: number; n: number }>(
    'select migration, count(*) n from effects group by migration order by migration',
  );
  expect(effects).toEqual(Array.from({ length: count }, (_, i) => ({ migration: i + 1, n: 1 })));
}

describe.each(testBackendNames())('migrations on %s', (name) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  test('racing handles apply each migration exactly once; older code is refused', async () => {
    const store = await backend.newStore();
    const handles = await Promise.all([0, 1, 2, 3].map(() => Database.create(store, {})));
    const results = await Promise.all(handles.map((db) => applyMigrations(db, testMigrations(6))));
    const applied = results.flatMap((r) => r.applied).sort((a, b) => a - b);
    expect(applied).toEqual([1, 2, 3, 4, 5, 6]);
    for (const db of handles) await db.close();

    await using db = await Database.create(store, { migrations: testMigrations(6) });
    await checkApplied(db, 6);
    await expect(Database.create(store, { migrations: testMigrations(4) })).rejects.toMatchObject({
      code: 'DatabaseNewer',
    });
    const renamed = testMigrations(6).map((m) => (m.version === 3 ? { ...m, name: 'other' } : m));
    await expect(Database.create(store, { migrations: renamed })).rejects.toMatchObject({ code: 'MigrationMismatch' });
    await expect(
      Database.create(store, { migrations: [...testMigrations(2), ...testMigrations(2)] }),
    ).rejects.toMatchObject({
      code: 'InvalidMigrations',
    });
    // Newer code applies only what is new.
    await using newer = await Database.create(store, {});
    expect((await applyMigrations(newer, testMigrations(8))).applied).toEqual([7, 8]);
    await checkApplied(newer, 8);
  }, 240_000);

  test('the checker catches a migration applied twice (check outside the transaction)', async () => {
    const store = await backend.newStore();
    await using a = await Database.create(store, { migrations: testMigrations(1) });
    await using b = await Database.create(store, {});
    // The broken way: both look, both see it missing, both apply.
    const seen = await Promise.all([a, b].map((db) => db.query(`select 1 from ${MIGRATIONS_TABLE} where version = 2`)));
    expect(seen.every((rows) => rows.length === 0)).toBe(true);
    for (const db of [a, b]) {
      await db.transaction(async (tx) => {
        tx.run("insert into effects values (2, 'twice?')");
        tx.run(`insert or ignore into ${MIGRATIONS_TABLE} values (2, 'step 2', '')`);
      });
    }
    await expect(checkApplied(a, 2)).rejects.toThrow();
  });
});

// Processes on the file backend only (the s3 one is covered by processes.test.ts): it keeps CI time down.
describe.each(testBackendNames().filter((n) => n === 'file'))('migrations across processes on %s', (name) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  test('racing processes with store faults, one killed part way: each migration takes effect exactly once', async () => {
    const url = await backend.newStoreUrl();
    const run = (seed: string, kill: boolean) =>
      new Promise<number[] | 'killed'>((resolve, reject) => {
        const p = spawnTs(child, [url, '6', seed]);
        let out = '';
        let err = '';
        p.stdout?.setEncoding('utf8').on('data', (s: string) => {
          out += s;
        });
        p.stderr?.setEncoding('utf8').on('data', (s: string) => {
          err += s;
        });
        // A crash at some point of its work (before, during or after migrating): the others must finish the job.
        if (kill) setTimeout(() => p.kill('SIGKILL'), 1500);
        p.on('error', reject);
        p.on('close', (code, signal) => {
          if (signal === 'SIGKILL') resolve('killed');
          else if (code === 0) resolve((JSON.parse(out) as { applied: number[] }).applied);
          else reject(new Error(`migrating process failed (${code}): ${err}`));
        });
      });
    const outcomes = await Promise.all([run('m1', false), run('m2', false), run('m3', true), run('m4', false)]);
    const reported = outcomes.flatMap((o) => (o === 'killed' ? [] : o));
    // Each version reported at most once (a killed process may have applied some unreported).
    expect(new Set(reported).size).toBe(reported.length);
    await using db = await open(url);
    await checkApplied(db, 6);
  }, 180_000);
});
