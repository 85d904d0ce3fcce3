/** Polling for tests: wait for a condition of real processes, and fail naming it when it never holds. */

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `ready` every `everyMs` until it returns true. Throws `no <what> after <timeoutMs> ms` when
 * it does not within `timeoutMs`, so a slow machine fails the test with the cause, not later with a
 * puzzling assertion.
 */
export async function waitFor(
  what: string,
  ready: () => Promise<boolean>,
  { timeoutMs = 30_000, everyMs = 25 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`no ${what} after ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}
