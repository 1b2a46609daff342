import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from '../checksums/index.js';
import { CLIENT_USER, startTestServer } from './fixtures/test-server.js';
import { childEnv, missingTool, runTool } from './fixtures/tools.js';

// The aws CLI (Debian's awscli, botocore) against the server: its own signing, its multipart
// uploads above 8 MiB, conditional writes and presigned URLs.

const missing = missingTool('aws');
if (missing) console.warn(`aws CLI tests did not run: ${missing}`);

describe.skipIf(missing !== undefined)('aws CLI', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let env: NodeJS.ProcessEnv;
  const aws = (...args: string[]) => runTool('aws', ['--endpoint-url', server.url, ...args], env);
  const ok = async (...args: string[]) => {
    const result = await aws(...args);
    expect(result.code, `aws ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result.stdout;
  };

  beforeAll(async () => {
    server = await startTestServer();
    // aws CLI v1 presigns with Signature Version 2 unless told otherwise; the server speaks V4.
    const config = join(server.dir, 'aws-config');
    await writeFile(config, '[default]\ns3 =\n    signature_version = s3v4\n');
    env = childEnv({
      AWS_ACCESS_KEY_ID: CLIENT_USER.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CLIENT_USER.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(server.dir, 'no-such-credentials-file'),
      AWS_RETRY_MODE: 'standard',
      AWS_MAX_ATTEMPTS: '1',
    });
    await ok('s3', 'mb', 's3://cli-bucket');
  });

  afterAll(async () => {
    await server?.close();
  });

  it('cp, ls, cp back and rm a small file', async () => {
    const local = join(server.dir, 'small.txt');
    await writeFile(local, 'hello from the aws CLI\n');
    await ok('s3', 'cp', local, 's3://cli-bucket/dir/small file.txt');
    expect(await ok('s3', 'ls', 's3://cli-bucket/dir/')).toMatch(/ 23 small file\.txt/);
    expect(await ok('s3', 'ls', 's3://cli-bucket/')).toMatch(/PRE dir\//);
    const back = join(server.dir, 'small-back.txt');
    await ok('s3', 'cp', 's3://cli-bucket/dir/small file.txt', back);
    expect(await readFile(back, 'utf8')).toBe('hello from the aws CLI\n');
    await ok('s3', 'rm', 's3://cli-bucket/dir/small file.txt');
    expect((await aws('s3', 'ls', 's3://cli-bucket/dir/')).stdout).toBe('');
    // Several client processes one after another: seconds each on a loaded machine.
  }, 180_000);

  it('uploads a 9 MiB file in parts and reads it back intact', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 123);
    const local = join(server.dir, 'big.bin');
    await writeFile(local, data);
    await ok('s3', 'cp', local, 's3://cli-bucket/big.bin');
    const head = JSON.parse(await ok('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'big.bin'));
    expect(head.ContentLength).toBe(data.length);
    expect(head.ETag).toMatch(/-2"$/); // an 8 MiB part and the rest
    const back = join(server.dir, 'big-back.bin');
    await ok('s3', 'cp', 's3://cli-bucket/big.bin', back);
    expect((await readFile(back)).equals(data)).toBe(true);
  });

  // (CRC32C would need botocore[crt], which Debian's awscli lacks.)
  it('uploads with --checksum-algorithm SHA256 and reads the checksum back', async () => {
    const local = join(server.dir, 'crc.txt');
    await writeFile(local, 'checksummed by the CLI');
    await ok('s3', 'cp', local, 's3://cli-bucket/crc.txt', '--checksum-algorithm', 'SHA256');
    const head = JSON.parse(
      await ok('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'crc.txt', '--checksum-mode', 'ENABLED'),
    );
    expect(head.ChecksumSHA256).toBe(await checksumOf('sha256', Buffer.from('checksummed by the CLI')));
  });

  it('put-object --if-none-match "*" creates once, then answers PreconditionFailed', async () => {
    const local = join(server.dir, 'once.txt');
    await writeFile(local, 'first');
    const put = () =>
      aws('s3api', 'put-object', '--bucket', 'cli-bucket', '--key', 'once', '--body', local, '--if-none-match', '*');
    const first = await put();
    expect(first.code, first.stderr).toBe(0);
    const second = await put();
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/PreconditionFailed/);
  });

  it('presign gives a URL that plain fetch can GET', async () => {
    const local = join(server.dir, 'shared.txt');
    await writeFile(local, 'shared content');
    await ok('s3', 'cp', local, 's3://cli-bucket/shared.txt');
    const url = (await ok('s3', 'presign', 's3://cli-bucket/shared.txt', '--expires-in', '120')).trim();
    expect(url).toContain('X-Amz-Signature=');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('shared content');
  });

  it('presign with the CLI’s default Signature Version 2 works too', async () => {
    const local = join(server.dir, 'shared-v2.txt');
    await writeFile(local, 'shared content');
    await ok('s3', 'cp', local, 's3://cli-bucket/shared-v2.txt');
    const url = (
      await runTool('aws', ['--endpoint-url', server.url, 's3', 'presign', 's3://cli-bucket/shared-v2.txt'], {
        ...env,
        AWS_CONFIG_FILE: join(server.dir, 'no-such-aws-config'),
      })
    ).stdout.trim();
    expect(url).toContain('AWSAccessKeyId=');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('shared content');
    const forged = await fetch(url.replace(/Expires=(\d+)/, (_, e: string) => `Expires=${Number(e) + 1}`));
    expect(forged.status).toBe(403);
  });

  it('is refused with a wrong secret', async () => {
    const result = await runTool('aws', ['--endpoint-url', server.url, 's3', 'ls', 's3://cli-bucket/'], {
      ...env,
      AWS_SECRET_ACCESS_KEY: 'wrong',
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/SignatureDoesNotMatch/);
  });
});
