import { describeStoreConformance } from '@bucketdb/store/conformance';
import { openTestBackend, type TestBackend } from './backends.js';
import { afterAll, describe, it } from 'vitest';

// The conformance suite through S3Store and the real AWS SDK, against the embedded S3-compatible
// server on 127.0.0.1. If the server cannot start, say why and skip loudly.
let backend: TestBackend | undefined;
let reason = '';
try {
  backend = await openTestBackend('s3');
} catch (error) {
  reason = error instanceof Error ? error.message : String(error);
  console.warn(`S3Store conformance skipped: the embedded S3 server did not start: ${reason}`);
}
afterAll(() => backend?.close());

if (backend) {
  const { newStore } = backend;
  // Each store lives under a `<uuid>/` prefix (37 bytes), in a server that takes keys of up to 1008
  // bytes (it answers KeyTooLongError with MaxSizeAllowed 1008).
  describeStoreConformance('S3Store (embedded server)', () => newStore());
} else {
  describe('S3Store (embedded server): ObjectStore conformance', () => {
    it.skip(`skipped: the embedded S3 server did not start: ${reason}`, () => {});
  });
}
