/**
 * A promise raced against a deadline (pure apart from its one timer). The deadline is an
 * `AbortSignal.timeout`, not `setTimeout`: in Deno that loads no Node timers, and its timer stops
 * counting for the event loop as soon as the race is decided (in Node it never counts).
 */

/**
 * `promise`'s value, or `fallback` when it takes longer than `ms`. The deadline is let go either
 * way; `promise` itself keeps running (the caller decides what to do with a late result).
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  const deadline = AbortSignal.timeout(ms);
  let onDeadline = () => {};
  const timeout = new Promise<T>((resolve) => {
    onDeadline = () => resolve(fallback);
    deadline.addEventListener("abort", onDeadline);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    // In Deno, a listener keeps the process alive until the timer fires.
    deadline.removeEventListener("abort", onDeadline);
  }
}
