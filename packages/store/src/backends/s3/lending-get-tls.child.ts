// Reads one object with lent chunks from the HTTPS endpoint in argv[2] (its certificate trusted
// through NODE_EXTRA_CA_CERTS) and reports the bytes' SHA-256 and how many buffers the chunks
// were views of.
import { createHash } from 'node:crypto';
import { S3Store } from './s3-store.js';

const store = new S3Store({
  bucket: 'b',
  endpoint: process.argv[2]!,
  credentials: { accessKeyId: 'k', secretAccessKey: 's' },
});
const hash = createHash('sha256');
const buffers = new Set<ArrayBufferLike>();
for await (const chunk of (await store.getStream('k', { lendChunks: true })).body) {
  buffers.add(chunk.buffer);
  hash.update(chunk);
}
await store.close();
process.stdout.write(JSON.stringify({ sha256: hash.digest('hex'), buffers: buffers.size }));
