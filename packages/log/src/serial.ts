/** Runs tasks one at a time, in call order (a mutex for async code). */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    // The next task waits for this one to settle, whatever its outcome.
    this.#tail = result.catch(() => {});
    return result;
  }
}
