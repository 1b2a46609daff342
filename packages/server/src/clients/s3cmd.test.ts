import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_USER, startTestServer } from './fixtures/test-server.js';
import { childEnv, missingTool, runTool } from './fixtures/tools.js';

// s3cmd (Debian's; Python, its own SigV4 signer and multipart code) with a config file that
// points it at the server, path style, plain HTTP.

const missing = missingTool('s3cmd', ['--version']);
if (missing) console.warn(`s3cmd tests did not run: ${missing}`);

describe.skipIf(missing !== undefined)('s3cmd', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let config: string;
  let local: string;
  const env = childEnv({});
  const ok = async (...args: string[]) => {
    const result = await runTool('s3cmd', ['-c', config, '--no-progress', ...args], env);
    expect(result.code, `s3cmd ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result.stdout;
  };

  beforeAll(async () => {
    server = await startTestServer();
    const host = new URL(server.url).host;
    config = join(server.dir, 's3cfg');
    await writeFile(
      config,
      [
        '[default]',
        `access_key = ${CLIENT_USER.accessKeyId}`,
        `secret_key = ${CLIENT_USER.secretAccessKey}`,
        `host_base = ${host}`,
        `host_bucket = ${host}`,
        'use_https = False',
        'signature_v2 = False',
        'bucket_location = us-east-1',
        '',
      ].join('\n'),
    );
    local = join(server.dir, 'local');
    await mkdir(join(local, 'tree', 'sub'), { recursive: true });
    await writeFile(join(local, 'tree', 'one.txt'), 'one\n');
    await writeFile(join(local, 'tree', 'sub', 'two.txt'), 'two\n');
    await writeFile(join(local, 'big.bin'), randomBytes(11 * 1024 * 1024));
  });

  afterAll(async () => {
    await server?.close();
  });

  it('mb, put (multipart), get, ls, la, info, sync both ways, del, rb', async () => {
    await ok('mb', 's3://s3cmd-bucket');
    await ok('put', '--multipart-chunk-size-mb=5', join(local, 'big.bin'), 's3://s3cmd-bucket/big.bin');
    await ok('put', join(local, 'tree', 'one.txt'), 's3://s3cmd-bucket/one.txt');
    await ok('get', 's3://s3cmd-bucket/big.bin', join(local, 'big.out'));
    expect((await readFile(join(local, 'big.out'))).equals(await readFile(join(local, 'big.bin')))).toBe(true);
    expect(await ok('ls', 's3://s3cmd-bucket')).toMatch(/\s11534336\s+s3:\/\/s3cmd-bucket\/big\.bin$/m);
    expect(await ok('la')).toMatch(/s3:\/\/s3cmd-bucket\/one\.txt$/m);
    // s3cmd keeps the MD5 in its own metadata and shows it for multipart objects.
    expect(await ok('info', 's3://s3cmd-bucket/big.bin')).toMatch(/File size: 11534336/);
    expect(await ok('info', 's3://s3cmd-bucket')).toMatch(/Location:\s+us-east-1/);
    await ok('sync', `${join(local, 'tree')}/`, 's3://s3cmd-bucket/tree/');
    const back = join(local, 'back');
    await ok('sync', 's3://s3cmd-bucket/tree/', `${back}/`);
    expect(await readFile(join(back, 'sub', 'two.txt'), 'utf8')).toBe('two\n');
    // setacl reads an ACL and writes it back with the AllUsers READ grant added or removed. As in
    // S3, the bucket's opens its listing only; --recursive sets each object's, which opens reads.
    const anonymous = (path: string) => fetch(`${server.url}/s3cmd-bucket${path}`).then((r) => r.status);
    expect(await anonymous('/one.txt')).toBe(403);
    await ok('setacl', '--acl-public', 's3://s3cmd-bucket');
    expect(await anonymous('?list-type=2')).toBe(200);
    expect(await anonymous('/one.txt')).toBe(403);
    await ok('setacl', '--acl-public', '--recursive', 's3://s3cmd-bucket');
    expect(await anonymous('/one.txt')).toBe(200);
    expect(await ok('info', 's3://s3cmd-bucket/one.txt')).toMatch(/ACL:\s+\*anon\*: READ/);
    await ok('setacl', '--acl-private', '--recursive', 's3://s3cmd-bucket');
    expect(await anonymous('/one.txt')).toBe(403);
    await ok('setacl', '--acl-private', 's3://s3cmd-bucket');
    expect(await anonymous('?list-type=2')).toBe(403);
    await ok('del', 's3://s3cmd-bucket/one.txt');
    await ok('del', '--recursive', '--force', 's3://s3cmd-bucket');
    expect(await ok('ls', 's3://s3cmd-bucket')).toBe('');
    await ok('rb', 's3://s3cmd-bucket');
    // Several client processes one after another: seconds each on a loaded machine.
  }, 180_000);
});
