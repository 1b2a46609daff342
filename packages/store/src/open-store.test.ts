import { relative } from 'node:path';
import { runTs, tempDir } from '@bucketdb/testkit-base';
import { afterAll, describe, expect, it } from 'vitest';
import { bodyText } from './body.js';
import { isStoreError } from './errors.js';
import { FileStore } from './backends/file/file-store.js';
import { MemoryStore } from './backends/memory/memory-store.js';
import { openStore, s3Options } from './open-store.js';
import { ok, startScriptedS3 } from './backends/s3/fixtures/scripted-s3.js';
import { S3Store } from './backends/s3/s3-store.js';

const dir = await tempDir('bucketdb-open-store');
afterAll(() => dir.remove());

async function invalid(url: string): Promise<string> {
  const error = await openStore(url).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isStoreError(error, 'InvalidArgument')).toBe(true);
  return (error as Error).message;
}

describe('openStore', () => {
  it('opens a fresh MemoryStore for mem://name', async () => {
    const store = await openStore('mem://scratch');
    expect(store).toBeInstanceOf(MemoryStore);
    expect(store.url).toBe('mem://scratch');
    await store.put('k', 'v');
    expect(bodyText((await store.get('k')).body)).toBe('v');
    await expect((await openStore('mem://scratch')).head('k')).rejects.toThrow(/no object/);
  });

  it('opens a FileStore for file:///abs, an absolute path and a relative path, all the same directory', async () => {
    const a = await openStore(`file://${dir.path}/x`);
    expect(a).toBeInstanceOf(FileStore);
    await a.put('k', 'one');
    const b = await openStore(`${dir.path}/x`);
    expect(bodyText((await b.get('k')).body)).toBe('one');
    const c = await openStore(relative(process.cwd(), `${dir.path}/x`));
    expect(bodyText((await c.get('k')).body)).toBe('one');
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('reads bucket, prefix and options from s3:// URLs, path-style by default with an endpoint', () => {
    expect(s3Options('s3://my-bucket/tenants/a?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=eu-west-1')).toEqual({
      bucket: 'my-bucket',
      prefix: 'tenants/a/',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
    });
    expect(s3Options('s3://b?forcePathStyle=false&profile=dev')).toEqual({
      bucket: 'b',
      prefix: '',
      forcePathStyle: false,
      profile: 'dev',
    });
  });

  it('opens an S3Store that talks to the endpoint path-style, with credentials from the environment', async () => {
    const peer = await startScriptedS3(() => ok({ etag: '"00"' }));
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'from-env';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    try {
      const store = await openStore(`s3://bkt/pre?endpoint=${encodeURIComponent(peer.url)}`);
      expect(store).toBeInstanceOf(S3Store);
      expect(store.url).toBe(`s3://bkt/pre/?endpoint=${encodeURIComponent(peer.url)}`);
      await store.put('k', 'v');
      expect(peer.requests[0]?.path).toBe('/bkt/pre/k');
      expect(peer.requests[0]?.headers.authorization).toContain('Credential=from-env/');
      await store.close();
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      await peer.close();
    }
  });

  it('loads the AWS SDK only when an s3:// store is used, and undici only for its first GET', async () => {
    const child = await runTs(new URL('./open-store-lazy.child.ts', import.meta.url), [], {
      AWS_ACCESS_KEY_ID: 'k',
      AWS_SECRET_ACCESS_KEY: 's',
    });
    expect(child.code, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({
      afterMemory: { sdk: false, undici: false },
      afterHead: { sdk: true, undici: false },
      afterGet: { sdk: true, undici: true },
    });
  });

  it('names the problem in unknown schemes and malformed URLs', async () => {
    expect(await invalid('ftp://host/x')).toMatch(/unknown store URL scheme "ftp:"/);
    expect(await invalid('')).toMatch(/non-empty/);
    expect(await invalid('s3://')).toMatch(/expected s3:\/\/bucket/);
    expect(await invalid('s3://key:secret@bucket/p')).toMatch(/no credentials/);
    expect(await invalid('s3://b?bucket=x')).toMatch(/unknown S3 URL parameter "bucket"/);
    expect(await invalid('s3://b?forcePathStyle=yes')).toMatch(/true or false/);
    expect(await invalid('s3://b?endpoint=not%20a%20url')).toMatch(/malformed store URL/);
    expect(await invalid('file://relative/dir')).toMatch(/file:\/\/\/absolute/);
  });
});
