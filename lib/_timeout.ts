/** A promise raced against a deadline (pure apart from its one timer). */

/**
 * `promise`'s value, or `fallback` when it takes longer than `ms`. The timer is cleared either way;
 * `promise` itself keeps running (the caller decides what to do with a late result).
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => timer = setTimeout(() => resolve(fallback), ms));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
