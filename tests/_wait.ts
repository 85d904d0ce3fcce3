/**
 * Deadlines for tests: wait for a condition of real processes or for a promise, and fail naming
 * what never happened, so that a hang becomes a failure with a reason instead of a stuck suite.
 */

/** Default deadline of every wait: well under a minute, long enough for a machine under load. */
export const WAIT_TIMEOUT_MS = 30_000;

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Thrown by a wait that ran out of time; its message names what it waited for. */
export class WaitTimeoutError extends Error {
  /** Create the error for `what` after `timeoutMs`. */
  constructor(what: string, timeoutMs: number, detail?: string) {
    super(`no ${what} after ${timeoutMs} ms${detail === undefined ? "" : ` (${detail})`}`);
    this.name = "WaitTimeoutError";
  }
}

/**
 * Thrown by a poll of {@link waitFor} when what it waits for can no longer happen (the process
 * exited): the wait fails at once with it. Any other error of a poll is retried until the deadline.
 */
export class WaitFailed extends Error {
  /** Create the error with `message`. */
  constructor(message: string) {
    super(message);
    this.name = "WaitFailed";
  }
}

/** Options of the waits. */
export interface WaitOptions {
  /** Deadline. @default WAIT_TIMEOUT_MS */
  timeoutMs?: number;
  /** Pause between polls. @default 25 */
  everyMs?: number;
}

/**
 * Polls `ready` every `everyMs` until it returns true. Throws `no <what> after <timeoutMs> ms` when
 * it does not within `timeoutMs`, so a slow machine fails the test with the cause, not later with a
 * puzzling assertion. A poll that itself hangs is cut off by the same deadline. A poll that throws
 * is tried again (a refused connection: the server is not up yet), and the last error is named at
 * the deadline; one that throws {@link WaitFailed} ends the wait at once.
 */
export async function waitFor(
  what: string,
  ready: () => Promise<boolean>,
  { timeoutMs = WAIT_TIMEOUT_MS, everyMs = 25 }: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (true) {
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new WaitTimeoutError(what, timeoutMs, last === undefined ? undefined : String(last));
    }
    try {
      if (await within(what, ready(), left)) return;
      last = undefined;
    } catch (error) {
      if (error instanceof WaitFailed) throw error;
      if (error instanceof WaitTimeoutError) throw new WaitTimeoutError(what, timeoutMs);
      // A poll may fail while the thing waited for is not there yet (a refused connection).
      last = error instanceof Error ? error.message : error;
    }
    await sleep(Math.min(everyMs, Math.max(0, deadline - Date.now())));
  }
}

/**
 * `promise`, or a {@link WaitTimeoutError} naming `what` when it does not settle within
 * `timeoutMs`. The promise itself is not cancelled: stop what it waits on in a `finally`.
 */
export function within<T>(
  what: string,
  promise: Promise<T>,
  timeoutMs: number = WAIT_TIMEOUT_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeoutError(what, timeoutMs)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Read the text of `stream` (a child's stderr) until `pattern` matches what was read so far, for
 * at most `timeoutMs`; fails naming `what` and showing the text when the stream ends first or the
 * deadline passes. The rest of the stream is read on in the background (so the child never blocks
 * on a full pipe): `text` resolves with all of it once the stream ends.
 */
export async function readUntil(
  stream: ReadableStream<Uint8Array>,
  pattern: RegExp,
  what: string,
  timeoutMs: number = WAIT_TIMEOUT_MS,
): Promise<{ match: RegExpExecArray; text: Promise<string> }> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + timeoutMs;
  let text = "";
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) === null) {
    const { value, done } = await within(what, reader.read(), deadline - Date.now())
      .catch((error: Error) => {
        throw new Error(`${error.message}; read so far: ${text}`);
      });
    if (done) throw new Error(`no ${what}: the stream ended; read: ${text}`);
    text += value;
  }
  const rest = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += value;
    }
  })();
  rest.catch(() => {});
  return { match, text: rest };
}
