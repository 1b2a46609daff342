import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@bucketdb/testkit';
import { runCli } from '../fixtures/run-cli.js';
import { describe, expect, test } from 'vitest';

const sqlite3Cli = spawnSync('sqlite3', ['-version']).status === 0;
const TIMEOUT = 240_000;

/** A database with rows one, two (version n-1) and three (version n). */
async function makeDb(dir: string): Promise<string> {
  const db = `file://${dir}/db`;
  const made = await runCli([
    'sql',
    db,
    '-e',
    "create table t(id integer primary key, v text); insert into t(v) values ('one'), ('two');",
  ]);
  expect(made.stderr).toBe('');
  expect((await runCli(['sql', db, '-e', "insert into t(v) values ('three')"])).code).toBe(0);
  return db;
}

describe('bucketdb sql admin commands', () => {
  test.skipIf(!sqlite3Cli)(
    'export (sqlite3 checks the file), export --at, import, restore --to --into',
    async () => {
      await using dir = await tempDir('bucketdb-sql-admin');
      const db = await makeDb(dir.path);
      const out = join(dir.path, 'out.sqlite');
      const exported = await runCli(['sql', 'export', db, out]);
      expect(exported.code).toBe(0);
      expect(exported.stdout).toMatch(/^exported version \d+ \(\d+ pages of 4096 bytes\) to /);
      const check = spawnSync('sqlite3', [out, 'pragma integrity_check; select group_concat(v) from t'], {
        encoding: 'utf8',
      });
      expect(check.stdout).toBe('ok\none,two,three\n');

      const older = join(dir.path, 'older.sqlite');
      const version = Number(/version (\d+)/.exec(exported.stdout)?.[1]);
      expect((await runCli(['sql', 'export', db, older, '--at', String(version - 1)])).code).toBe(0);
      expect(spawnSync('sqlite3', [older, 'select group_concat(v) from t'], { encoding: 'utf8' }).stdout).toBe(
        'one,two\n',
      );

      const copy = `file://${dir.path}/copy`;
      expect((await runCli(['sql', 'import', out, copy])).code).toBe(0);
      const copied = await runCli(['sql', copy, '--json', '-e', 'select group_concat(v) s from t']);
      expect(JSON.parse(copied.stdout)).toEqual([{ s: 'one,two,three' }]);

      const restored = `file://${dir.path}/restored`;
      const r = await runCli(['sql', 'restore', db, '--to', String(version - 1), '--into', restored]);
      expect(r.code).toBe(0);
      const rows = await runCli(['sql', restored, '--json', '-e', 'select group_concat(v) s from t']);
      expect(JSON.parse(rows.stdout)).toEqual([{ s: 'one,two' }]);
    },
    TIMEOUT,
  );

  test(
    'migrate applies a directory of migrations once and refuses misnamed files',
    async () => {
      await using dir = await tempDir('bucketdb-sql-migrate');
      const db = await makeDb(dir.path);
      const migrations = join(dir.path, 'migrations');
      await mkdir(migrations);
      await writeFile(join(migrations, '0001_users.sql'), 'create table users(id integer primary key, name text);');
      const migrated = await runCli(['sql', 'migrate', db, migrations]);
      expect(migrated.stdout).toBe('applied 1; the database is at migration 1\n');
      await writeFile(join(migrations, '0002_add_email.sql'), 'alter table users add column email text;');
      await writeFile(join(migrations, 'notes.txt'), '');
      const misnamed = await runCli(['sql', 'migrate', db, migrations]);
      expect(misnamed.code).toBe(2);
      expect(misnamed.stderr).toMatch(/notes\.txt is not named <version>_<name>\.sql/);
    },
    TIMEOUT,
  );

  test(
    'versions, gc --dry-run, and usage errors exit 2',
    async () => {
      await using dir = await tempDir('bucketdb-sql-gc');
      const db = await makeDb(dir.path);
      const versions = await runCli(['sql', 'versions', db]);
      expect(versions.stdout).toMatch(/^oldest retained version: 0; newest record: \d+/);
      const gc = await runCli(['sql', 'gc', db, '--dry-run']);
      expect(gc.code).toBe(0);
      expect(gc.stdout).toMatch(/^would delete: 0 records/);
      const out = join(dir.path, 'x.sqlite');
      const bad = await runCli(['sql', 'export', db, out, '--at', 'not-a-time']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--at takes a version number or an ISO 8601 time/);
      const future = await runCli(['sql', 'export', db, out, '--at', '999']);
      expect(future.code).toBe(2);
      expect(future.stderr).toMatch(/version 999 .*cannot be read/);
      const badGc = await runCli(['sql', 'gc', db, '--grace', '5s']);
      expect(badGc.code).toBe(2);
      expect(badGc.stderr).toMatch(/--grace must be at least 1m/);
    },
    TIMEOUT,
  );
});
