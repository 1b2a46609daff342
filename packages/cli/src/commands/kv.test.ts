import { type TempDir, tempDir } from '@bucketdb/testkit';
import { runCli } from '../fixtures/run-cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Each case runs the real `bucketdb` in a child process against a FileStore directory.
describe.concurrent('bucketdb kv', () => {
  let dir: TempDir;
  let n = 0;
  beforeAll(async () => {
    dir = await tempDir('bucketdb-kv-cli');
  });
  afterAll(async () => {
    await dir.remove();
  });
  const freshStore = () => `file://${dir.path}/${n++}`;
  const json = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('puts, gets, scans, counts and deletes with JSON output', async () => {
    const url = freshStore();
    // Independent invocations run side by side: each is a process start of a second or more.
    const [put, text, blob] = await Promise.all([
      runCli(['kv', 'put', url, 'user/1', '{"name":"Ada"}']),
      runCli(['kv', 'put', url, 'user/2', '--text'], { stdin: 'plain text' }),
      runCli(['kv', 'put', url, 'blob', '-', '--bytes'], { stdin: '\u0000\u0001' }),
    ]);
    for (const result of [put, text, blob]) expect(result.code, result.stderr).toBe(0);
    const { version } = json(put.stdout)[0] as { version: string };
    expect(version).toMatch(/\S/);

    const [get, raw, bytes, scan, count] = await Promise.all([
      runCli(['kv', 'get', url, 'user/1']),
      runCli(['kv', 'get', url, 'user/2', '--raw']),
      runCli(['kv', 'get', url, 'blob']),
      runCli(['kv', 'scan', url, '--prefix', 'user/', '--values']),
      runCli(['kv', 'count', url]),
    ]);
    expect(json(get.stdout)).toEqual([
      { key: 'user/1', version, contentType: 'application/json', value: { name: 'Ada' } },
    ]);
    expect(raw.stdout).toBe('plain text');
    expect(json(bytes.stdout)[0]).toMatchObject({ value: 'AAE=', encoding: 'base64' });
    expect(json(scan.stdout).map((e) => [e.key, e.value])).toEqual([
      ['user/1', { name: 'Ada' }],
      ['user/2', 'plain text'],
    ]);
    expect(json(count.stdout)).toEqual([{ count: 3 }]);

    expect((await runCli(['kv', 'delete', url, 'user/1'])).code).toBe(0);
    expect(json((await runCli(['kv', 'count', url, 'user/'])).stdout)).toEqual([{ count: 1 }]);
  });

  it('exits 1 for a missing key and 3 for a failed condition, writing nothing', async () => {
    const url = freshStore();
    const [missing] = await Promise.all([runCli(['kv', 'get', url, 'nope']), runCli(['kv', 'put', url, 'k', '1'])]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('no key "nope"');

    const [exists, stale] = await Promise.all([
      runCli(['kv', 'put', url, 'k', '2', '--if-absent']),
      runCli(['kv', 'put', url, 'k', '2', '--if-version', '"0123"']),
    ]);
    expect(exists.code).toBe(3);
    expect(exists.stderr).toContain('Exists');
    expect(stale.code).toBe(3);
    expect(stale.stderr).toContain('VersionMismatch');
    expect(json((await runCli(['kv', 'get', url, 'k'])).stdout)[0]).toMatchObject({ value: 1 });
  });

  it('rejects bad input with a clear message and exit 2', async () => {
    const url = freshStore();
    const [notJson, tooLong, badTtl, missingArg, unknownOption, badContentType] = await Promise.all([
      runCli(['kv', 'put', url, 'k', 'not json']),
      runCli(['kv', 'put', url, 'x'.repeat(2000), '1']),
      runCli(['kv', 'put', url, 'k', '1', '--ttl', '-5']),
      runCli(['kv', 'get', url]),
      runCli(['kv', 'count', url, '--no-such-flag']),
      runCli(['kv', 'put', url, 'k', 'v', '--text', '--content-type', 'text/plain\r\nx: y']),
    ]);
    // Usage errors exit 2 like every other failure; 1 means "not found".
    for (const usage of [badTtl, missingArg, unknownOption]) expect(usage.code, usage.stderr).toBe(2);
    expect(missingArg.stderr).toContain('missing required argument');
    expect(badContentType.code).toBe(2);
    expect(badContentType.stderr).toContain('contentType');
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('use --text');
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('encoded');
    expect(badTtl.stderr).toContain('positive number');
    expect(json((await runCli(['kv', 'count', url])).stdout)).toEqual([{ count: 0 }]);
  });

  it('documents every subcommand in --help', async () => {
    const [help, putHelp] = await Promise.all([runCli(['kv', '--help']), runCli(['kv', 'put', '--help'])]);
    expect(help.code).toBe(0);
    for (const sub of ['get', 'put', 'delete', 'scan', 'count', 'sweep']) expect(help.stdout).toContain(sub);
    expect(help.stdout).toContain('Exit codes');
    for (const flag of ['--if-version', '--if-absent', '--ttl', '--text', '--bytes'])
      expect(putHelp.stdout).toContain(flag);
  });

  it('sweeps expired entries', async () => {
    const url = freshStore();
    expect((await runCli(['kv', 'put', url, 'k', '1', '--ttl', '3600'])).code).toBe(0);
    // Nothing is due yet, so nothing is deleted.
    expect(json((await runCli(['kv', 'sweep', url])).stdout)).toEqual([
      { deleted: 0, markersRemoved: 0, markersKept: 0 },
    ]);
    expect(json((await runCli(['kv', 'get', url, 'k'])).stdout)[0]?.expiresAt).toMatch(/^\d{4}-/);
    // As a job: one line per round.
    const job = await runCli(['kv', 'sweep', url, '--every', '0.05', '--count', '2']);
    expect(job.code, job.stderr).toBe(0);
    expect(json(job.stdout).map((round) => round.deleted)).toEqual([0, 0]);
  });
});
