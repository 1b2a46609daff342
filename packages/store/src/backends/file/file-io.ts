import { createReadStream } from 'node:fs';
import { fsClose, fsFsync, fsOpen } from './fast-fs.js';

/** Makes a directory's entries (a rename, link, unlink or mkdir inside it) durable. */
export async function syncDir(dir: string): Promise<void> {
  const fd = await fsOpen(dir, 'r');
  try {
    await fsFsync(fd);
  } finally {
    await fsClose(fd);
  }
}

/** The bytes [start, end) of an open file as a stream; closes the file when done or abandoned. */
export function streamFile(fd: number, start: number, end: number): AsyncIterable<Uint8Array> {
  if (end <= start) {
    fsClose(fd).catch(() => {});
    return bytesOnce(undefined);
  }
  return createReadStream('', { fd, start, end: end - 1, highWaterMark: 1 << 20 });
}

/** Bytes already in memory as a body of one chunk (none when empty). */
export function bytesOnce(bytes: Uint8Array | undefined): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      let done = bytes === undefined || bytes.length === 0;
      return {
        async next() {
          if (done) return { done: true, value: undefined };
          done = true;
          return { done: false, value: bytes as Uint8Array };
        },
        async return() {
          done = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
}
