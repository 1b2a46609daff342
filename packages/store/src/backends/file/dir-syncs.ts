import { syncDir } from './file-io.js';

interface DirState {
  /** The fsync under way; it may have started before the caller's change. */
  running: Promise<void> | undefined;
  /** The fsync that starts once `running` ends: it covers every change made before it starts. */
  next: Promise<void> | undefined;
}

/**
 * Directory fsyncs shared by concurrent writers (group commit). A caller's rename or unlink is
 * durable once an fsync of its directory that *started after* the change has completed. So a
 * caller joins the fsync that will start next, never the one already running, and every caller
 * that arrives while one runs shares that next one: at concurrency n a directory gets about two
 * fsyncs in flight instead of n.
 */
export class DirSyncs {
  readonly #dirs = new Map<string, DirState>();

  sync(dir: string): Promise<void> {
    let state = this.#dirs.get(dir);
    if (!state) {
      state = { running: undefined, next: undefined };
      this.#dirs.set(dir, state);
    }
    if (!state.running) return this.#start(dir, state);
    const running = state.running;
    state.next ??= running.then(
      () => this.#start(dir, state),
      () => this.#start(dir, state),
    );
    return state.next;
  }

  #start(dir: string, state: DirState): Promise<void> {
    state.next = undefined;
    const running = syncDir(dir);
    state.running = running;
    const settle = () => {
      if (state.running !== running) return;
      state.running = undefined;
      if (!state.next) this.#dirs.delete(dir);
    };
    running.then(settle, settle);
    return running;
  }
}
