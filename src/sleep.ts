/** Blocks the thread for `ms` milliseconds (a lock retry, a full pipe); nothing else runs meanwhile. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
