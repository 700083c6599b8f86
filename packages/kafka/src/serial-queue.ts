/**
 * Runs tasks one at a time, in call order. Used where the client allows one operation at a time
 * (one open transaction per transactional producer; consumer restarts vs. stop).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    // The queue continues after a failure; the caller sees the failure through `result`.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
