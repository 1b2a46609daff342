import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runCli, tempDir } from '@bucketdb/testkit';
import { expect, test } from 'vitest';

const sqlite3Cli = spawnSync('sqlite3', ['-version']).status === 0;

test.skipIf(!sqlite3Cli)(
  'export, import, restore, versions and gc from the command line (sqlite3 checks the exported file)',
  async () => {
    await using dir = await tempDir('bucketdb-sql-admin');
    const db = `file://${dir.path}/db`;
    const made = await runCli([
      'sql',
      db,
      '-e',
      "create table t(id integer primary key, v text); insert into t(v) values ('one'), ('two');",
    ]);
    expect(made.stderr).toBe('');
    const v1 = await runCli(['sql', db, '--json', '-e', "insert into t(v) values ('three'); select count(*) n from t"]);
    expect(v1.code).toBe(0);

    const out = join(dir.path, 'out.sqlite');
    const exported = await runCli(['sql', 'export', db, out]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^exported version \d+ \(\d+ pages of 4096 bytes\) to /);
    const check = spawnSync('sqlite3', [out, 'pragma integrity_check; select group_concat(v) from t'], {
      encoding: 'utf8',
    });
    expect(check.stdout).toBe('ok\none,two,three\n');

    // An older version, by number: before the third row.
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

    const versions = await runCli(['sql', 'versions', db]);
    expect(versions.stdout).toMatch(/^oldest retained version: 0; newest record: \d+/);
    const gc = await runCli(['sql', 'gc', db, '--dry-run']);
    expect(gc.code).toBe(0);
    expect(gc.stdout).toMatch(/^would delete: 0 records/);

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
  120_000,
);
