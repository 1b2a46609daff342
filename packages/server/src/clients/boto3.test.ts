import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_USER, startTestServer } from './fixtures/test-server.js';
import { childEnv, runTool } from './fixtures/tools.js';

// boto3 (Debian's python3-boto3, with botocore's defaults) through the common workflows in
// fixtures/boto3-workflows.py, which checks each result itself and prints `ok <step>`.

const SCRIPT = fileURLToPath(new URL('./fixtures/boto3-workflows.py', import.meta.url));
const STEPS = [
  'objects',
  'checksums',
  'listing',
  'multipart_crc32',
  'transfer_manager',
  'presigned',
  'versioning',
  'conformance',
];

/** A Python that can import boto3: Debian's first (another python3 may come first on PATH). */
function findPython(): { python?: string; reason?: string } {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(python, ['-c', 'import boto3'], { env: childEnv({}), encoding: 'utf8' });
    if (!probe.error && probe.status === 0) return { python };
  }
  return { reason: 'no python3 with boto3 (python3-boto3); .ci/install-system-deps installs it' };
}

const { python, reason } = findPython();
if (reason) console.warn(`boto3 tests did not run: ${reason}`);

describe.skipIf(python === undefined)('boto3', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('objects, checksums, listings, multipart with CRC32, transfer manager, presigned URLs, versioning, s3-tests conformance', async () => {
    const result = await runTool(
      python as string,
      [SCRIPT, server.url, CLIENT_USER.accessKeyId, CLIENT_USER.secretAccessKey],
      childEnv({}),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(STEPS.map((s) => `ok ${s}`));
  });
});
