/**
 * Waiting for something in a child process's output, boundedly: what the test harness's rennet
 * (`./rennet.ts`) and bench/churn's do alike.
 *
 * No imports and erasable syntax only: bench/churn imports this file, and Node runs it there with
 * type stripping, without a build.
 */

export interface OutputWait<T> {
  /** Looks for it in the output read so far; undefined while it is not there. */
  readonly probe: () => T | undefined;
  readonly timeoutMs: number;
  /** The error to give up with once the process has exited (it will print nothing more), else undefined. */
  readonly exited: () => Error | undefined;
  readonly timedOut: () => Error;
}

/**
 * Resolves with what `wait.probe` finds, probing now and on every call of the listeners in
 * `listeners` (which the owner calls on new output and on exit); the probe is removed from them
 * when the wait ends either way.
 */
export function waitForOutput<T>(listeners: Set<() => void>, wait: OutputWait<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = wait.probe();
      if (found !== undefined) {
        finish();
        resolve(found);
        return;
      }
      const exited = wait.exited();
      if (exited !== undefined) {
        finish();
        reject(exited);
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(wait.timedOut());
    }, wait.timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      listeners.delete(check);
    };
    listeners.add(check);
    check();
  });
}
