/** Runs tasks one at a time, in call order; a task's failure does not stop the ones after it. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  /** Waits for the mutex; call the returned function to release it. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ready = this.#tail.then(() => release);
    this.#tail = held;
    return ready;
  }

  async run<T>(task: () => Promise<T> | T): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }
}
