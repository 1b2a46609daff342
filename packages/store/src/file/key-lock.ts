import { createHash } from 'node:crypto';
import { lstat, readdir, readlink, symlink, unlink } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ConflictInFlightError } from '../errors.js';
import { errnoCode } from './fs-errors.js';
import { isOwnerDead, OWNER } from './process-owner.js';

/**
 * Per-key mutual exclusion across the async callers of a process and across processes, that
 * survives crashes. Files in the locks directory, for a key hashed to `h`:
 *
 *   `h.N`   held lock of generation N: a symlink whose target names the holder (`<pid>.<token>`);
 *           created with symlink(2), which fails with EEXIST if it exists, so creation is atomic.
 *   `h.gN`  generation N has begun (create-only marker; generation 0 needs none).
 *
 * A holder is valid only while `h.g(N+1)` does not exist. A lock whose holder died is broken by
 * creating `h.g(N+1)` (create-only, so one breaker wins) instead of deleting `h.N`: deleting it
 * would race with a live process that just took it. A process that took `h.N` after the
 * generation moved on sees `h.g(N+1)` when it validates and retries at N+1. Old `h.N` files can
 * then be deleted by anyone; the `h.gN` markers stay (one tiny file per crash inside a lock).
 */
export class KeyLocks {
  readonly #dir: string;
  /** Same-process callers queue here instead of polling the file system. */
  readonly #queues = new Map<string, Promise<void>>();
  readonly #timeoutMs: number;

  constructor(dir: string, timeoutMs = 30_000) {
    this.#dir = dir;
    this.#timeoutMs = timeoutMs;
  }

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const name = createHash('sha256').update(key).digest('hex').slice(0, 40);
    const previous = this.#queues.get(name) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = previous.then(() => mine);
    this.#queues.set(name, tail);
    await previous;
    try {
      const release = await this.#acquire(name, key);
      try {
        return await fn();
      } finally {
        await release();
      }
    } finally {
      done();
      if (this.#queues.get(name) === tail) this.#queues.delete(name);
    }
  }

  /** Breaks every lock whose holder has died (at open; acquiring does the same lazily). */
  async breakStale(): Promise<void> {
    for (const entry of await readdir(this.#dir)) {
      const match = /^([0-9a-f]{40})\.(\d+)$/.exec(entry);
      if (!match) continue;
      const [, name, gen] = match as unknown as [string, string, string];
      const holder = await this.#holder(`${this.#dir}/${entry}`);
      if (holder !== undefined && isOwnerDead(holder)) await this.#advance(name, Number(gen));
    }
  }

  async #acquire(name: string, key: string): Promise<() => Promise<void>> {
    const deadline = Date.now() + this.#timeoutMs;
    let gen = await this.#currentGen(name, 0);
    for (let attempt = 0; ; attempt++) {
      const path = `${this.#dir}/${name}.${gen}`;
      try {
        await symlink(OWNER, path);
        if (!(await this.#exists(`${this.#dir}/${name}.g${gen + 1}`))) {
          return () => unlink(path).catch(() => {});
        }
        await unlink(path).catch(() => {});
        gen = await this.#currentGen(name, gen + 1);
        continue;
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error;
      }
      const holder = await this.#holder(path);
      if (holder !== undefined && isOwnerDead(holder)) {
        gen = await this.#advance(name, gen);
        continue;
      }
      if (Date.now() > deadline) throw new ConflictInFlightError(key);
      // Another process holds the key; its critical section is a few system calls.
      await delay(Math.min(50, 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
      gen = await this.#currentGen(name, gen);
    }
  }

  /** Ends generation `gen` (its holder is dead) and returns the next one. */
  async #advance(name: string, gen: number): Promise<number> {
    try {
      await symlink(OWNER, `${this.#dir}/${name}.g${gen + 1}`);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
    await unlink(`${this.#dir}/${name}.${gen}`).catch(() => {});
    return this.#currentGen(name, gen + 1);
  }

  async #currentGen(name: string, from: number): Promise<number> {
    let gen = from;
    while (await this.#exists(`${this.#dir}/${name}.g${gen + 1}`)) gen++;
    return gen;
  }

  async #holder(path: string): Promise<string | undefined> {
    try {
      return await readlink(path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await lstat(path);
      return true;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw error;
    }
  }
}
