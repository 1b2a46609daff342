import { tempDir } from '@bucketdb/testkit-base';
import { describeStoreConformance } from './conformance/index.js';
import { afterAll } from 'vitest';
import { FileStore } from './backends/file/file-store.js';
import { MemoryStore } from './backends/memory/memory-store.js';

describeStoreConformance('MemoryStore', async () => new MemoryStore());

const dir = await tempDir('bucketdb-file-conformance');
afterAll(() => dir.remove());
let n = 0;
describeStoreConformance('FileStore', () => FileStore.open(`${dir.path}/${n++}`));
describeStoreConformance('FileStore (sync: false)', () => FileStore.open(`${dir.path}/${n++}`, { sync: false }));
