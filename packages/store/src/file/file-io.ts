import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';

/** Makes a directory's entries (a rename, link, unlink or mkdir inside it) durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The bytes [start, end) of an open file as a stream; closes the file when done or abandoned. */
export function streamFile(fh: FileHandle, start: number, end: number): AsyncIterable<Uint8Array> {
  if (end <= start) {
    void fh.close();
    return (async function* () {})();
  }
  return fh.createReadStream({ start, end: end - 1, highWaterMark: 1 << 20 });
}
