import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_USER, startTestServer } from './fixtures/test-server.js';
import { childEnv, missingTool, runTool } from './fixtures/tools.js';

// rclone (Debian's, built on the AWS SDK for Go) against the server, configured only through
// environment variables as remote `x:`.

const missing = missingTool('rclone', ['version']);
if (missing) console.warn(`rclone tests did not run: ${missing}`);

describe.skipIf(missing !== undefined)('rclone', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let env: NodeJS.ProcessEnv;
  let local: string;
  const rclone = (...args: string[]) => runTool('rclone', ['--retries', '1', '--low-level-retries', '1', ...args], env);
  const ok = async (...args: string[]) => {
    const result = await rclone(...args);
    expect(result.code, `rclone ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result.stdout;
  };

  beforeAll(async () => {
    server = await startTestServer();
    const config = join(server.dir, 'rclone.conf');
    await writeFile(config, '');
    env = childEnv({
      RCLONE_CONFIG: config,
      RCLONE_CONFIG_X_TYPE: 's3',
      RCLONE_CONFIG_X_PROVIDER: 'Other',
      RCLONE_CONFIG_X_ENDPOINT: server.url,
      RCLONE_CONFIG_X_ACCESS_KEY_ID: CLIENT_USER.accessKeyId,
      RCLONE_CONFIG_X_SECRET_ACCESS_KEY: CLIENT_USER.secretAccessKey,
      RCLONE_CONFIG_X_REGION: 'us-east-1',
      RCLONE_CONFIG_X_FORCE_PATH_STYLE: 'true',
    });
    local = join(server.dir, 'local');
    await mkdir(join(local, 'sub dir'), { recursive: true });
    await writeFile(join(local, 'a.txt'), 'alpha\n');
    await writeFile(join(local, 'sub dir', 'b ü.txt'), 'beta\n');
    // Above the multipart cutoff set below, so rclone uploads it in 5 MiB parts.
    await writeFile(join(local, 'big.bin'), randomBytes(12 * 1024 * 1024));
    await ok('mkdir', 'x:rclone-bucket');
  });

  afterAll(async () => {
    await server?.close();
  });

  it('copy, ls, lsf, cat and check a tree, with a multipart upload', async () => {
    await ok('copy', local, 'x:rclone-bucket/tree', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M');
    const listing = await ok('ls', 'x:rclone-bucket/tree');
    expect(listing).toMatch(/^\s*6 a\.txt$/m);
    expect(listing).toMatch(/^\s*5 sub dir\/b ü\.txt$/m);
    expect(listing).toMatch(/^\s*12582912 big\.bin$/m);
    expect((await ok('lsf', 'x:rclone-bucket/tree')).split('\n').sort()).toEqual(['', 'a.txt', 'big.bin', 'sub dir/']);
    expect(await ok('cat', 'x:rclone-bucket/tree/sub dir/b ü.txt')).toBe('beta\n');
    await ok('check', local, 'x:rclone-bucket/tree');
    const back = join(server.dir, 'back');
    await ok('copy', 'x:rclone-bucket/tree', back);
    expect((await readFile(join(back, 'big.bin'))).equals(await readFile(join(local, 'big.bin')))).toBe(true);
  });

  it('sync removes what the source no longer has; delete removes files', async () => {
    await ok('sync', local, 'x:rclone-bucket/mirror', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M');
    await rm(join(local, 'a.txt'));
    await writeFile(join(local, 'c.txt'), 'gamma\n');
    await ok('sync', local, 'x:rclone-bucket/mirror');
    expect((await ok('lsf', '-R', 'x:rclone-bucket/mirror')).split('\n').sort()).toEqual([
      '',
      'big.bin',
      'c.txt',
      'sub dir/',
      'sub dir/b ü.txt',
    ]);
    await ok('check', local, 'x:rclone-bucket/mirror');
    await ok('delete', 'x:rclone-bucket/mirror', '--include', '*.txt');
    expect((await ok('lsf', '-R', 'x:rclone-bucket/mirror')).split('\n').sort()).toEqual(['', 'big.bin']);
  });

  it('is refused with a wrong secret', async () => {
    const result = await runTool('rclone', ['--retries', '1', '--low-level-retries', '1', 'lsf', 'x:rclone-bucket'], {
      ...env,
      RCLONE_CONFIG_X_SECRET_ACCESS_KEY: 'wrong',
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/SignatureDoesNotMatch|403/);
  });
});
