/**
 * A promise raced against a deadline or an abort signal. The deadline is an
 * `AbortSignal.timeout`, not `setTimeout`: in Deno that loads no Node timers, and its timer stops
 * counting for the event loop as soon as the race is decided (in Node it never counts).
 */

/**
 * How long `flush()` and `ready()` (of `EventCountLogger` and `EventGroup`) wait. Without either
 * option they wait as long as it takes: a logger keeps its counts while Redis is down and writes
 * them when it is back, and the wait ends then.
 */
export interface WaitOptions {
  /**
   * Stop waiting after this many milliseconds: the call rejects with a `RedisError` (its `cause` a
   * `TimeoutError` `DOMException`). Counts not confirmed stay pending and are still written, in
   * the background, once Redis is back.
   */
  timeoutMs?: number;
  /** Stop waiting when this signal aborts: the call rejects as with `timeoutMs`, `cause` its reason. */
  signal?: AbortSignal;
}

/**
 * `promise`'s value, or what `onExpire(reason)` returns (or throws) when the deadline comes first:
 * after `bound` milliseconds, or at `bound.timeoutMs` or when `bound.signal` aborts (the reason: a
 * `TimeoutError` `DOMException` or the signal's reason). Without a deadline, `promise` as it is.
 * The deadline and listeners are let go either way; `promise` itself keeps running (the caller
 * decides what to do with a late result; a late rejection is ignored).
 */
export function withTimeout<T>(
  promise: Promise<T>,
  bound: number | WaitOptions,
  onExpire: (reason: unknown) => T,
): Promise<T> {
  const { timeoutMs, signal } = typeof bound === "number" ? { timeoutMs: bound } : bound;
  if (timeoutMs === undefined && signal === undefined) return promise;
  const deadline = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
  return new Promise<T>((resolve, reject) => {
    const cleanup = () => {
      // In Deno, a listener keeps the process alive until the timer fires.
      deadline?.removeEventListener("abort", onDeadline);
      signal?.removeEventListener("abort", onAbort);
    };
    const expire = (reason: unknown) => {
      cleanup();
      promise.catch(() => {});
      try {
        resolve(onExpire(reason));
      } catch (error) {
        reject(error);
      }
    };
    const onAbort = () => expire(signal!.reason);
    const onDeadline = () =>
      expire(new DOMException(`No answer within ${timeoutMs} ms`, "TimeoutError"));
    if (signal?.aborted) return expire(signal.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    deadline?.addEventListener("abort", onDeadline, { once: true });
    promise.then((value) => {
      cleanup();
      resolve(value);
    }, (error) => {
      cleanup();
      reject(error);
    });
  });
}

/** How a bounded wait ended, for messages: `within 2 s` or `before the wait was aborted`. */
export function expiryText(bound: WaitOptions, reason: unknown): string {
  return bound.timeoutMs !== undefined && (reason as Error | undefined)?.name === "TimeoutError"
    ? `within ${bound.timeoutMs / 1000} s`
    : "before the wait was aborted";
}
