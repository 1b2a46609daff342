import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openTestBackend, TEST_CREDENTIALS, type TestBackend, tempDir } from '@bucketdb/testkit';
import { runCli } from '../fixtures/run-cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const env = {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
};

describe('bucketdb cp, sync, ls, rm, cat against the server', () => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend('s3');
  });
  afterAll(() => backend.close());

  // Each command is a child process compiling the CLI: generous timeouts for loaded machines.
  it('copies up and down, lists, cats and removes, with exit codes scripts rely on', { timeout: 240_000 }, async () => {
    await using dir = await tempDir('bucketdb-cli-files');
    const url = await backend.newStoreUrl(); // s3://bucket/<prefix>?endpoint=…
    const [base, query] = url.split('?') as [string, string];
    const at = (key: string) => `${base}/${encodeURIComponent(key).replace(/%2F/g, '/')}?${query}`;
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
    await writeFile(join(dir.path, 'résumé.bin'), bytes);

    const up = await runCli(['cp', join(dir.path, 'résumé.bin'), at('docs/')], { env });
    expect(up.stderr).toMatch(/copied 293\.0 KiB in .*; 1 requests \(put 1\), \$[0-9.]+ at S3 Standard/);
    expect(up.code).toBe(0);

    const lsr = await runCli(['ls', '-r', '--json', at('docs/')], { env });
    const [entry] = lsr.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; size: number });
    expect(entry).toMatchObject({ size: 300_000 });
    expect(entry?.key.endsWith('docs/résumé.bin')).toBe(true);

    const down = await runCli(['cp', at('docs/résumé.bin'), `${dir.path}/`], { env });
    expect(down.code).toBe(0);
    // Downloaded into the directory under the key's name: the same file, byte for byte.
    expect((await readFile(join(dir.path, 'résumé.bin'))).equals(bytes)).toBe(true);

    const missing = await runCli(['cat', at('docs/none')], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no object/);

    const bad = await runCli(['cp', 'a', 'b'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/store location/);

    const rm = await runCli(['rm', '-r', at('docs/')], { env });
    expect(rm.code).toBe(0);
    expect(rm.stdout).toMatch(/delete .*docs\/résumé\.bin/);
    const after = await runCli(['ls', at('')], { env });
    expect(after.stdout).toBe('');
  });

  it('syncs a tree with --dry-run and --delete, printing one line per action', { timeout: 240_000 }, async () => {
    await using dir = await tempDir('bucketdb-cli-sync');
    const url = await backend.newStoreUrl();
    const src = join(dir.path, 'src');
    await mkdir(join(src, 'nested/ünï'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'a');
    await writeFile(join(src, 'nested/ünï/b.txt'), 'bb');
    const dry = await runCli(['sync', src, url, '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim().split('\n').sort()).toEqual([
      '(dry run) copy a.txt (missing)',
      '(dry run) copy nested/ünï/b.txt (missing)',
    ]);
    expect((await runCli(['sync', src, url, '-q'], { env })).code).toBe(0);
    await writeFile(join(src, 'c.txt'), 'c');
    const again = await runCli(['sync', src, url, '--delete', '--include', 'c*'], { env });
    expect(again.stdout.trim()).toBe('copy c.txt (missing)');
  });
});
