import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChildResult, collect, openTestBackend, TEST_CREDENTIALS, tempDir } from '@bucketdb/testkit';
import { runCli } from '../fixtures/run-cli.js';
import { describe, expect, test } from 'vitest';

const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../../../node_modules/tsx/dist/loader.mjs', import.meta.url));
const nodeArgs = ['--conditions=source', '--import', tsx, cli];

/** Runs `bucketdb` from source in `cwd`, with `stdin` piped in. */
function bucketdb(
  args: string[],
  options: { cwd?: string; stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildResult> {
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(options.stdin ?? '');
  return collect(child);
}

async function dbUrl(): Promise<string> {
  const dir = await tempDir('bucketdb-sql-cli');
  return `file://${dir.path}/db`;
}

describe('bucketdb sql, one-shot', () => {
  test('-e runs statements; the default database lives in ./bucketdb-data across invocations', async () => {
    await using dir = await tempDir('bucketdb-sql-cwd');
    const version = await bucketdb(['sql', '-e', 'select sqlite_version() v'], { cwd: dir.path });
    expect(version.stderr).toBe('');
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^v\n-+\n3\.\d+\.\d+\n$/);
    const create = await bucketdb(['sql', '-e', "create table t(a, b); insert into t values (1, 'x'), (2, 'y,z');"], {
      cwd: dir.path,
    });
    expect(create.code).toBe(0);
    const json = await bucketdb(['sql', '--json', '-e', 'select * from t order by a'], { cwd: dir.path });
    expect(JSON.parse(json.stdout)).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: 'y,z' },
    ]);
    const csv = await bucketdb(['sql', '--mode', 'csv', '-e', 'select * from t order by a'], { cwd: dir.path });
    expect(csv.stdout).toBe('a,b\n1,x\n2,"y,z"\n');
  });

  test('a script on stdin: multi-line statements, dot-commands, and it stops at the first error', async () => {
    const url = await dbUrl();
    const script = [
      'create table item(id integer primary key,',
      '  name text);',
      'create index item_name on item(name);',
      "insert into item(name) values ('a;b'), ('c');",
      '.tables',
      '.indexes item',
      '.schema item',
      'select count(*) as n from item;',
      'select * from missing;',
      "insert into item(name) values ('never');",
    ].join('\n');
    const result = await runCli(['sql', url], { stdin: script });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no such table: missing \(SQLITE_ERROR\)/);
    expect(result.stdout).toContain('item\nitem_name\nCREATE TABLE item(id integer primary key,\n  name text);');
    expect(result.stdout).toContain('n\n-\n2\n');
    const after = await runCli(['sql', url, '--json', '-e', 'select name from item order by id']);
    expect(JSON.parse(after.stdout)).toEqual([{ name: 'a;b' }, { name: 'c' }]);
  });

  test('exit codes: 0 ok, 1 SQL error, 2 usage, 3 store error', async () => {
    const url = await dbUrl();
    expect((await runCli(['sql', url, '-e', 'select 1'])).code).toBe(0);
    expect((await runCli(['sql', url, '-e', 'selec 1'])).code).toBe(1);
    const usage = await runCli(['sql', url, '-e', '.nonsense']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('unknown command ".nonsense"');
    expect((await runCli(['sql', url, '--cache-mb', 'lots', '-e', 'select 1'])).code).toBe(2);
    const store = await runCli(['sql', 'ftp://nowhere/db', '-e', 'select 1']);
    expect(store.code).toBe(3);
    expect(store.stderr).toContain('cannot open ftp://nowhere/db');
  });

  test('--cache-dir: the second run opens warm from the cache directory', async () => {
    const url = await dbUrl();
    await using cache = await tempDir('bucketdb-sql-cache');
    const first = await runCli([
      'sql',
      url,
      '--cache-dir',
      cache.path,
      '-e',
      "create table t(v); insert into t values ('x');\n.stats",
    ]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('open:         cold');
    const second = await runCli(['sql', url, '--cache-dir', cache.path, '-e', 'select count(*) n from t;\n.stats']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('open:         warm, from --cache-dir');
    expect(second.stdout).toMatch(/n\n-+\n1\n/);
  });

  test('works against the S3-compatible server through an s3:// URL', async () => {
    const backend = await openTestBackend('s3');
    try {
      const url = await backend.newStoreUrl();
      const env = {
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
      };
      const write = await runCli(['sql', url, '-e', 'create table t(x); insert into t values (41);'], { env });
      expect(write.code).toBe(0);
      const read = await runCli(['sql', url, '--json', '-e', 'select x + 1 as y from t'], { env });
      expect(JSON.parse(read.stdout)).toEqual([{ y: 42 }]);
    } finally {
      await backend.close();
    }
  });
});

describe('bucketdb sql, interactive', () => {
  test('piped into -i: transactions, modes, timer, .read, .log, .stats, history, .quit', async () => {
    await using dir = await tempDir('bucketdb-sql-repl');
    const url = `file://${dir.path}/db`;
    const history = join(dir.path, 'history');
    await writeFile(join(dir.path, 'seed.sql'), 'create table t(v integer);\ninsert into t values (1), (2);\n');
    const input = [
      `.read ${join(dir.path, 'seed.sql')}`,
      'begin;',
      'insert into t values (3);',
      'select count(*) as n',
      '  from t;',
      'rollback;',
      '.mode json',
      'select count(*) as n from t;',
      'select nonsense from;',
      '.timer on',
      'select 7 as seven;',
      '.timer off',
      '.log 5',
      '.stats',
      '.quit',
      'select 99 as unreachable;',
    ].join('\n');
    const result = await runCli(['sql', url, '-i'], { stdin: input, env: { BUCKETDB_SQL_HISTORY: history } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('n\n-\n3\n');
    expect(result.stdout).toContain('[{"n":2}]');
    expect(result.stderr).toContain('Error: near ";": syntax error');
    expect(result.stdout).toMatch(/\[\{"seven":7\}\]\nRun Time: \d+\.\d{3} s/);
    expect(result.stdout).toMatch(/"commit_id":"\d+-[0-9a-f-]{36}"/);
    expect(result.stdout).toMatch(/requests: +get \d+/);
    expect(result.stdout).not.toContain('unreachable');
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(history, 'utf8')).toContain('select count(*) as n from t;');
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  test.skipIf(!hasScript)('in a pseudo-terminal: prompts, continuation lines, results', async () => {
    await using dir = await tempDir('bucketdb-sql-pty');
    const command = [process.execPath, ...nodeArgs, 'sql', `file://${dir.path}/db`].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, BUCKETDB_SQL_HISTORY: join(dir.path, 'history') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin?.end('select 40 + 2 as answer;\nselect\n  1 as x;\n.quit\n');
    const result = await collect(child);
    expect(result.code).toBe(0);
    const screen = result.stdout.replaceAll('\r', '');
    expect(screen).toContain('sql> ');
    expect(screen).toContain('   ...> ');
    expect(screen).toMatch(/answer\n------\n +42\n/);
  });
});
