import { runCli, type TempDir, tempDir } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Each case runs the real `bucketdb` in a child process against a FileStore directory.
describe('bucketdb kv', () => {
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
    const put = await runCli(['kv', 'put', url, 'user/1', '{"name":"Ada"}']);
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    const { version } = json(put.stdout)[0] as { version: string };
    expect(version).toMatch(/\S/);
    expect((await runCli(['kv', 'put', url, 'user/2', '--text'], { stdin: 'plain text' })).code).toBe(0);
    expect((await runCli(['kv', 'put', url, 'blob', '-', '--bytes'], { stdin: '\u0000\u0001' })).code).toBe(0);

    const get = await runCli(['kv', 'get', url, 'user/1']);
    expect(json(get.stdout)).toEqual([
      { key: 'user/1', version, contentType: 'application/json', value: { name: 'Ada' } },
    ]);
    expect((await runCli(['kv', 'get', url, 'user/2', '--raw'])).stdout).toBe('plain text');
    expect(json((await runCli(['kv', 'get', url, 'blob'])).stdout)[0]).toMatchObject({
      value: 'AAE=',
      encoding: 'base64',
    });

    const scan = await runCli(['kv', 'scan', url, '--prefix', 'user/', '--values']);
    expect(json(scan.stdout).map((e) => [e.key, e.value])).toEqual([
      ['user/1', { name: 'Ada' }],
      ['user/2', 'plain text'],
    ]);
    expect(json((await runCli(['kv', 'count', url])).stdout)).toEqual([{ count: 3 }]);
    expect((await runCli(['kv', 'delete', url, 'user/1'])).code).toBe(0);
    expect(json((await runCli(['kv', 'count', url, 'user/'])).stdout)).toEqual([{ count: 1 }]);
  });

  it('exits 1 for a missing key and 3 for a failed condition, writing nothing', async () => {
    const url = freshStore();
    const missing = await runCli(['kv', 'get', url, 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('no key "nope"');

    await runCli(['kv', 'put', url, 'k', '1']);
    const exists = await runCli(['kv', 'put', url, 'k', '2', '--if-absent']);
    expect(exists.code).toBe(3);
    expect(exists.stderr).toContain('Exists');
    const stale = await runCli(['kv', 'put', url, 'k', '2', '--if-version', '"0123"']);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toContain('VersionMismatch');
    expect(json((await runCli(['kv', 'get', url, 'k'])).stdout)[0]).toMatchObject({ value: 1 });
  });

  it('rejects bad input with a clear message and exit 2', async () => {
    const url = freshStore();
    const notJson = await runCli(['kv', 'put', url, 'k', 'not json']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('use --text');
    const tooLong = await runCli(['kv', 'put', url, 'x'.repeat(2000), '1']);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('encoded');
    const badTtl = await runCli(['kv', 'put', url, 'k', '1', '--ttl', '-5']);
    expect(badTtl.code).not.toBe(0);
    expect(badTtl.stderr).toContain('positive number');
    expect(json((await runCli(['kv', 'count', url])).stdout)).toEqual([{ count: 0 }]);
  });

  it('documents every subcommand in --help', async () => {
    const help = await runCli(['kv', '--help']);
    expect(help.code).toBe(0);
    for (const sub of ['get', 'put', 'delete', 'scan', 'count', 'sweep']) expect(help.stdout).toContain(sub);
    expect(help.stdout).toContain('Exit codes');
    const putHelp = await runCli(['kv', 'put', '--help']);
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
  });
});
