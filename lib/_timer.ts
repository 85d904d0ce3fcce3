/**
 * Time for the write and reconnect loops: timers that fire at a wall-clock time, however far away,
 * and never keep a process alive, and the backoff between retries.
 * @module
 */
import { unrefTimer } from "./_runtime.ts";

/** Longest single wait; `setTimeout` overflows past 2^31 ms (24.8 days). */
const MAX_WAIT_MS = 3_600_000;

/** A cancellable timer. */
export interface Timer {
  /** Cancel it (safe to call more than once). */
  cancel(): void;
}

/**
 * Call `callback` once the clock `now()` (milliseconds) reaches `atMs`. The timer does not keep
 * the process alive (`unref`).
 */
export function runAt(atMs: number, callback: () => void, now: () => number = Date.now): Timer {
  let handle: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    const wait = atMs - now();
    if (wait <= 0) {
      handle = undefined;
      callback();
      return;
    }
    // Whole milliseconds, rounded up: a timer never fires early and then again for the rest.
    handle = setTimeout(arm, Math.min(Math.ceil(wait), MAX_WAIT_MS));
    unrefTimer(handle);
  };
  // Always asynchronous, even when already due.
  handle = setTimeout(arm, Math.max(0, Math.min(Math.ceil(atMs - now()), MAX_WAIT_MS)));
  unrefTimer(handle);
  return {
    cancel() {
      // Never `clearTimeout(undefined)`: in Deno 2.9 even that loads Node's timers.
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    },
  };
}

/** Capped exponential backoff: `minMs` doubled per earlier failure, at most `maxMs`. */
export function backoffMs(failures: number, minMs: number, maxMs: number): number {
  return Math.min(minMs * 2 ** failures, maxMs);
}
