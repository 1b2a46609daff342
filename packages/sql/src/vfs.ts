import type { Sqlite3 } from './sqlite.js';

/** What the VFS asks of a file: synchronous byte-level access. Methods return SQLite result codes. */
export interface VfsFile {
  read(dest: Uint8Array, offset: number): number;
  write(src: Uint8Array, offset: number): number;
  truncate(size: number): number;
  size(): number;
}

/** A plain growable in-memory file, for the temporary files SQLite may open besides the database. */
class MemoryFile implements VfsFile {
  #bytes = new Uint8Array(0);
  #size = 0;

  read(dest: Uint8Array, offset: number): number {
    const n = Math.max(0, Math.min(dest.length, this.#size - offset));
    dest.set(this.#bytes.subarray(offset, offset + n));
    if (n < dest.length) {
      dest.fill(0, n);
      return SHORT_READ;
    }
    return 0;
  }

  write(src: Uint8Array, offset: number): number {
    const end = offset + src.length;
    if (end > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(end, this.#bytes.length * 2));
      grown.set(this.#bytes.subarray(0, this.#size));
      this.#bytes = grown;
    }
    this.#bytes.set(src, offset);
    this.#size = Math.max(this.#size, end);
    return 0;
  }

  truncate(size: number): number {
    this.#size = Math.min(this.#size, size);
    return 0;
  }

  size(): number {
    return this.#size;
  }
}

/** The part of the binding's struct wrappers used here (its .d.ts omits the `$member` accessors). */
interface Struct {
  readonly pointer: number;
  dispose(): void;
  [member: `$${string}`]: number;
}
type StructClass = new (pointer?: number) => Struct;

const SHORT_READ = 522; // SQLITE_IOERR_SHORT_READ
export const VFS_NAME = 'bucketdb';

/**
 * The one VFS through which SQLite reaches bucketdb databases. A database file is opened by a name
 * registered with `register()`; SQLite never sees the network, only these synchronous callbacks.
 * Locking is a no-op: each file belongs to exactly one connection, serialized by its Database.
 */
export class BucketVfs {
  static #instances = new WeakMap<Sqlite3, BucketVfs>();
  readonly #files = new Map<string, VfsFile>();
  readonly #open = new Map<number, VfsFile>();
  #lastError: unknown;

  static for(sqlite3: Sqlite3): BucketVfs {
    let vfs = BucketVfs.#instances.get(sqlite3);
    if (!vfs) {
      vfs = new BucketVfs(sqlite3);
      BucketVfs.#instances.set(sqlite3, vfs);
    }
    return vfs;
  }

  /** Makes `name` open `file` (the database file of one connection). */
  register(name: string, file: VfsFile): void {
    this.#files.set(name, file);
  }

  unregister(name: string): void {
    this.#files.delete(name);
  }

  private constructor(sqlite3: Sqlite3) {
    const { capi, wasm } = sqlite3;
    const heap = () => wasm.heap8u();
    const fileOf = (p: number): VfsFile => {
      const f = this.#open.get(p);
      if (!f) throw new Error('unknown sqlite3_file');
      return f;
    };
    const guard = (fallback: number, f: () => number): number => {
      try {
        return f();
      } catch (error) {
        this.#lastError = error;
        return fallback;
      }
    };
    const struct = (name: 'sqlite3_io_methods' | 'sqlite3_vfs' | 'sqlite3_file') =>
      capi[name] as unknown as StructClass & { structInfo: { sizeof: number } };
    const io = new (struct('sqlite3_io_methods'))();
    io.$iVersion = 1;
    const ioMethods = {
      xClose: (pFile: number) => {
        this.#open.delete(pFile);
        return 0;
      },
      xRead: (pFile: number, pDest: number, n: number, offset: bigint) =>
        guard(capi.SQLITE_IOERR_READ, () => fileOf(pFile).read(heap().subarray(pDest, pDest + n), Number(offset))),
      xWrite: (pFile: number, pSrc: number, n: number, offset: bigint) =>
        guard(capi.SQLITE_IOERR_WRITE, () =>
          // A copy: the heap may move while the file keeps the bytes.
          fileOf(pFile).write(heap().slice(pSrc, pSrc + n), Number(offset)),
        ),
      xTruncate: (pFile: number, size: bigint) =>
        guard(capi.SQLITE_IOERR_TRUNCATE, () => fileOf(pFile).truncate(Number(size))),
      xSync: () => 0,
      xFileSize: (pFile: number, pSize: number) =>
        guard(capi.SQLITE_IOERR_FSTAT, () => {
          wasm.poke64(pSize, BigInt(fileOf(pFile).size()));
          return 0;
        }),
      xLock: () => 0,
      xUnlock: () => 0,
      xCheckReservedLock: (_pFile: number, pOut: number) => {
        wasm.poke32(pOut, 0);
        return 0;
      },
      xFileControl: () => capi.SQLITE_NOTFOUND,
      xSectorSize: () => 4096,
      xDeviceCharacteristics: () => capi.SQLITE_IOCAP_UNDELETABLE_WHEN_OPEN,
    };
    sqlite3.vfs.installVfs({ io: { struct: io as never, methods: ioMethods as never } });

    const defaultVfs = new (struct('sqlite3_vfs'))(capi.sqlite3_vfs_find(null as never));
    const vfs = new (struct('sqlite3_vfs'))();
    vfs.$iVersion = 2;
    vfs.$szOsFile = struct('sqlite3_file').structInfo.sizeof;
    vfs.$mxPathname = 1024;
    // Randomness, sleep and time come from SQLite's default VFS.
    for (const m of ['$xRandomness', '$xSleep', '$xCurrentTime', '$xCurrentTimeInt64'] as const) {
      vfs[m] = defaultVfs[m] as number;
    }
    defaultVfs.dispose();
    const vfsMethods = {
      xOpen: (_pVfs: number, zName: number, pFile: number, flags: number, pOutFlags: number) =>
        guard(capi.SQLITE_CANTOPEN, () => {
          const name = zName ? (wasm.cstrToJs(zName) ?? '') : '';
          const isMain = (flags & capi.SQLITE_OPEN_MAIN_DB) !== 0;
          const file = isMain ? this.#files.get(name) : new MemoryFile();
          if (!file) return capi.SQLITE_CANTOPEN;
          this.#open.set(pFile, file);
          const handle = new (struct('sqlite3_file'))(pFile);
          handle.$pMethods = io.pointer;
          handle.dispose();
          if (pOutFlags) wasm.poke32(pOutFlags, flags);
          return 0;
        }),
      xDelete: () => 0,
      xAccess: (_pVfs: number, _zName: number, _flags: number, pOut: number) => {
        // Only registered database files exist, and they are opened by name, never probed.
        wasm.poke32(pOut, 0);
        return 0;
      },
      xFullPathname: (_pVfs: number, zName: number, nOut: number, pOut: number) => {
        const i = wasm.cstrncpy(pOut, zName, nOut);
        return i < nOut ? 0 : capi.SQLITE_CANTOPEN;
      },
      xGetLastError: (_pVfs: number, nOut: number, pOut: number) => {
        const error = this.#lastError;
        this.#lastError = undefined;
        if (!error || nOut <= 0) return 0;
        const bytes = new TextEncoder().encode(String(error instanceof Error ? error.message : error));
        const n = Math.min(bytes.length, nOut - 1);
        heap().set(bytes.subarray(0, n), pOut);
        wasm.poke8(pOut + n, 0);
        return capi.SQLITE_IOERR;
      },
    };
    sqlite3.vfs.installVfs({ vfs: { struct: vfs as never, methods: vfsMethods as never, name: VFS_NAME } });
  }
}
