import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { collect, spawnTs, tempDir } from '@bucketdb/testkit-base';
import { describe, expect, it } from 'vitest';
import { ALICE } from './fixtures/harness.js';

const child = new URL('./crash-server.child.ts', import.meta.url);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function start(dir: string, mode: 'sync' | 'nosync'): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawnTs(child, [dir, mode]);
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /READY (\S+)/.exec(out);
      if (match?.[1]) resolve({ proc, url: match[1] });
    });
    proc.once('exit', (code) => reject(new Error(`server exited (${code}) before it was ready: ${out}`)));
  });
}

const client = (url: string) =>
  new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: ALICE, maxAttempts: 1 });

// Without fsync a write is still in the page cache when the process dies: kill -9 loses nothing.
describe.each(['sync', 'nosync'] as const)('crash safety (%s)', (mode) => {
  it('every acknowledged write survives kill -9 during concurrent uploads; nothing torn is visible', async () => {
    await using dir = await tempDir('bucketdb-crash');
    const first = await start(`${dir.path}/data`, mode);
    const exited = collect(first.proc);
    const s3 = client(first.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }),
    );

    const attempted = new Map<string, string>(); // plain key → hash of what was sent
    const acknowledged = new Map<string, string>(); // plain key → hash
    const versions: { key: string; versionId: string; hash: string }[] = [];
    let killed = false;
    let reachedTarget: () => void = () => {};
    const target = new Promise<void>((resolve) => {
      reachedTarget = resolve;
    });
    const worker = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const body = randomBytes(1 + ((w * 7919 + i * 104729) % (768 * 1024)));
        try {
          if (i % 2 === 0) {
            const key = `w${w}/obj-${i}`;
            attempted.set(key, sha(body));
            await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: key, Body: body }));
            acknowledged.set(key, sha(body));
          } else {
            const key = `w${w}`;
            const out = await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: key, Body: body }));
            versions.push({ key, versionId: out.VersionId as string, hash: sha(body) });
          }
        } catch (error) {
          if (!killed) throw error;
          return;
        }
        if (acknowledged.size + versions.length >= 60) reachedTarget();
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    await target;
    killed = true;
    first.proc.kill('SIGKILL');
    await Promise.all(workers);
    expect((await exited).signal).toBe('SIGKILL');
    s3.destroy();

    const second = await start(`${dir.path}/data`, mode);
    const after = client(second.url);
    try {
      const read = async (Bucket: string, Key: string, VersionId?: string) =>
        sha(await (await after.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body!.transformToByteArray());
      for (const [key, hash] of acknowledged) expect(await read('plain', key)).toBe(hash);
      for (const v of versions) expect(await read('versioned', v.key, v.versionId)).toBe(v.hash);
      // Whatever is listed is complete: an acknowledged write, or an in-flight one that finished whole.
      const listed = await after.send(new ListObjectsV2Command({ Bucket: 'plain' }));
      for (const object of listed.Contents ?? []) {
        expect(attempted.has(object.Key as string)).toBe(true);
        expect(await read('plain', object.Key as string)).toBe(attempted.get(object.Key as string));
      }
      expect(acknowledged.size).toBeGreaterThan(0);
      expect(versions.length).toBeGreaterThan(0);
    } finally {
      after.destroy();
      second.proc.kill('SIGKILL');
      await collect(second.proc);
    }
  });
});
