import type { ChildProcess } from 'node:child_process';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_CREDENTIALS } from '@bucketdb/server';
import { collect, spawnTs, tempDir } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';

const cli = new URL('../cli.ts', import.meta.url);

/** Resolves with the endpoint the server prints once it listens. */
function endpointOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${out}`)));
  });
}

function client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: DEFAULT_CREDENTIALS });
}

describe('bucketdb server', () => {
  it('starts on a data directory, prints how to connect, serves the SDK, and exits cleanly on SIGTERM', async () => {
    await using dir = await tempDir('bucketdb-server-cli');
    const first = spawnTs(cli, ['server', '--data', dir.path, '--port', '0', '--quiet']);
    const done = collect(first);
    const endpoint = await endpointOf(first);
    const s3 = client(endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: 'cli-smoke' }));
    await s3.send(new PutObjectCommand({ Bucket: 'cli-smoke', Key: 'k', Body: 'kept on disk' }));
    s3.destroy();
    first.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`--endpoint-url ${endpoint}`);
    expect(result.stdout).toContain(`AWS_ACCESS_KEY_ID=${DEFAULT_CREDENTIALS.accessKeyId}`);
    expect(result.stdout).toContain(DEFAULT_CREDENTIALS.secretAccessKey);

    // The data directory outlives the process (and can be served without fsync).
    const second = spawnTs(cli, ['server', '--data', dir.path, '--port', '0', '--quiet', '--no-fsync']);
    const secondDone = collect(second);
    const again = client(await endpointOf(second));
    const got = await again.send(new GetObjectCommand({ Bucket: 'cli-smoke', Key: 'k' }));
    expect(await got.Body?.transformToString()).toBe('kept on disk');
    await again.send(new PutObjectCommand({ Bucket: 'cli-smoke', Key: 'k2', Body: 'written without fsync' }));
    again.destroy();
    second.kill('SIGINT');
    const secondResult = await secondDone;
    expect(secondResult.code).toBe(0);
    expect(secondResult.stdout).toContain('--no-fsync: writes survive the server being killed');
  });

  it('serves a data directory from one server at a time, and takes over from one killed -9', async () => {
    await using dir = await tempDir('bucketdb-server-claim');
    const args = ['server', '--data', dir.path, '--port', '0', '--quiet'];
    const first = spawnTs(cli, args);
    const firstDone = collect(first);
    await endpointOf(first);
    const refused = await collect(spawnTs(cli, args));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`another bucketdb server is serving ${dir.path}`);
    first.kill('SIGKILL');
    await firstDone;
    const third = spawnTs(cli, args);
    const thirdDone = collect(third);
    await endpointOf(third);
    third.kill('SIGTERM');
    expect((await thirdDone).code).toBe(0);
  });

  it('refuses --no-fsync without a data directory', async () => {
    const result = await collect(spawnTs(cli, ['server', '--memory', '--port', '0', '--no-fsync']));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--no-fsync applies to a data directory only');
  });

  it('refuses half a credential pair', async () => {
    const child = spawnTs(cli, ['server', '--memory', '--port', '0', '--access-key', 'only-this']);
    const result = await collect(child);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--access-key and --secret-key go together');
  });
});
