import sqlite3InitModule from '@sqlite.org/sqlite-wasm';

export type Sqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;
export type OoDatabase = InstanceType<Sqlite3['oo1']['DB']>;

let loading: Promise<Sqlite3> | undefined;

/**
 * The SQLite WebAssembly module, loaded once per process: every Database shares it (and the one
 * VFS registered on it), since each instance of the module costs several MiB of heap.
 */
export function loadSqlite(): Promise<Sqlite3> {
  if (!loading) {
    // The binding logs every failed step to the console; errors reach callers as exceptions.
    const quiet = () => {};
    (globalThis as { sqlite3ApiConfig?: unknown }).sqlite3ApiConfig = {
      debug: quiet,
      warn: quiet,
      error: quiet,
      log: quiet,
    };
    loading = sqlite3InitModule({ print: quiet, printErr: quiet });
  }
  return loading;
}
