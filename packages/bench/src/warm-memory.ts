import { open, rm } from 'node:fs/promises';

const CHUNK = 4 << 20;

/**
 * Writes and deletes a scratch file of `bytes` so that the page-cache pages the next copy takes
 * are ones the machine has just used. On a VM that hands freed memory back to its host (this
 * benchmark's: Firecracker with virtio-balloon free page reporting), a GiB written into memory
 * freed a few seconds earlier costs about 3 s of kernel time instead of 0.3 s, charged to
 * whichever process touches it first: without this, the order of the targets and how fast each
 * starts decided the large-file ratios (docs/benchmarks/files.md). Done before every timed copy,
 * for every target alike.
 */
export async function warmFreeMemory(path: string, bytes: number): Promise<void> {
  const handle = await open(path, 'w');
  const buffer = Buffer.alloc(CHUNK, 1);
  try {
    for (let at = 0; at < bytes; at += CHUNK) await handle.write(buffer, 0, Math.min(CHUNK, bytes - at), at);
  } finally {
    await handle.close();
    await rm(path, { force: true });
  }
}
