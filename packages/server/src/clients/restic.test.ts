import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_USER, startTestServer } from './fixtures/test-server.js';
import { childEnv, missingTool, runTool } from './fixtures/tools.js';

// restic (Debian's; its S3 backend is minio-go, the common Go S3 SDK): a repository in a bucket,
// through the whole life of a backup.

const missing = missingTool('restic', ['version']);
if (missing) console.warn(`restic tests did not run: ${missing}`);

describe.skipIf(missing !== undefined)('restic', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let env: NodeJS.ProcessEnv;
  let source: string;
  const ok = async (...args: string[]) => {
    const result = await runTool('restic', ['--no-cache', '--json', ...args], env);
    expect(result.code, `restic ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result.stdout;
  };

  beforeAll(async () => {
    server = await startTestServer();
    env = childEnv({
      AWS_ACCESS_KEY_ID: CLIENT_USER.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CLIENT_USER.secretAccessKey,
      RESTIC_REPOSITORY: `s3:${server.url}/restic-repo`,
      RESTIC_PASSWORD: 'restic test password',
    });
    source = join(server.dir, 'source');
    await mkdir(join(source, 'sub'), { recursive: true });
    await writeFile(join(source, 'a.txt'), 'alpha\n');
    await writeFile(join(source, 'sub', 'big.bin'), randomBytes(3 * 1024 * 1024));
  });

  afterAll(async () => {
    await server?.close();
  });

  it('init, backup, check --read-data, restore, forget --prune', async () => {
    await ok('init');
    await ok('backup', source);
    await writeFile(join(source, 'b.txt'), 'beta\n');
    await ok('backup', source);
    const snapshots = JSON.parse(await ok('snapshots')) as { id: string }[];
    expect(snapshots).toHaveLength(2);
    await ok('check', '--read-data');
    const target = join(server.dir, 'restored');
    await ok('restore', 'latest', '--target', target);
    const restored = join(target, source);
    expect(await readFile(join(restored, 'sub', 'big.bin'))).toEqual(await readFile(join(source, 'sub', 'big.bin')));
    expect(await readFile(join(restored, 'b.txt'), 'utf8')).toBe('beta\n');
    await ok('forget', '--keep-last', '1', '--prune');
    expect(JSON.parse(await ok('snapshots'))).toHaveLength(1);
    await ok('check');
    // Several client processes one after another: seconds each on a loaded machine.
  }, 180_000);
});
