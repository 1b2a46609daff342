import { createHash } from 'node:crypto';
import { readdir, readlink } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ConflictInFlightError } from '../../errors.js';
import { type EntryCalls, threadPoolEntryCalls } from './fast-fs.js';
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
  /** Generations past 0 seen here: only keys whose holder once died inside the lock have one. */
  readonly #generations = new Map<string, number>();
  readonly #timeoutMs: number;
  readonly #fs: EntryCalls;

  /**
   * `timeoutMs`: how long to wait for a live holder before ConflictInFlight. `calls`: blocking ones
   * for a store that does not fsync (see fast-fs.ts), the thread pool's otherwise.
   */
  constructor(dir: string, options: { timeoutMs?: number; calls?: EntryCalls } = {}) {
    this.#dir = dir;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fs = options.calls ?? threadPoolEntryCalls;
  }

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(key);
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  /**
   * Takes the key's lock; resolves with its release. Callers that have more to do after the
   * critical section (FileStore's directory fsync) run the release beside it.
   */
  async acquire(key: string): Promise<() => Promise<void>> {
    const name = createHash('sha256').update(key).digest('hex').slice(0, 40);
    const previous = this.#queues.get(name);
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = previous ? previous.then(() => mine) : mine;
    this.#queues.set(name, tail);
    const finish = () => {
      done();
      if (this.#queues.get(name) === tail) this.#queues.delete(name);
    };
    if (previous) await previous;
    let unlock: () => Promise<void>;
    try {
      unlock = await this.#acquire(name, key);
    } catch (error) {
      finish();
      throw error;
    }
    let released: Promise<void> | undefined;
    return () => {
      released ??= unlock().finally(finish);
      return released;
    };
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
    // The last generation seen (usually 0) without looking for markers: the check after taking
    // it finds any newer one.
    let gen = this.#generations.get(name) ?? 0;
    for (let attempt = 0; ; attempt++) {
      const path = `${this.#dir}/${name}.${gen}`;
      try {
        await this.#fs.symlink(OWNER, path);
        if (!(await this.#fs.exists(`${this.#dir}/${name}.g${gen + 1}`))) {
          if (gen > 0) this.#generations.set(name, gen);
          return () => this.#fs.unlink(path).catch(() => {});
        }
        await this.#fs.unlink(path).catch(() => {});
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
      await this.#fs.symlink(OWNER, `${this.#dir}/${name}.g${gen + 1}`);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
    await this.#fs.unlink(`${this.#dir}/${name}.${gen}`).catch(() => {});
    return this.#currentGen(name, gen + 1);
  }

  async #currentGen(name: string, from: number): Promise<number> {
    let gen = from;
    while (await this.#fs.exists(`${this.#dir}/${name}.g${gen + 1}`)) gen++;
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
}
