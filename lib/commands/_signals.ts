/** Waiting for the signals that stop a long-running command (`master`, `serve`, `read --watch`). */

/** Signals that stop a command cleanly. */
export const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM"];
/** A timer that keeps the process alive while it waits for a signal. */
const KEEPALIVE_MS = 1 << 30;

/** A pending stop: `signal` resolves with the first signal received; `dispose()` gives up waiting. */
export interface StopWait {
  /** The name of the first of the signals received. */
  readonly signal: Promise<Deno.Signal>;
  /** Remove the listeners (and the keep-alive timer) without waiting any longer. */
  dispose(): void;
}

/**
 * Wait for the first of `signals`. Until then the process stays alive, even with nothing else to
 * do; platforms without a signal (Windows has no SIGTERM) simply never send it.
 */
export function waitForStop(signals: readonly Deno.Signal[] = STOP_SIGNALS): StopWait {
  const keepalive = setInterval(() => {}, KEEPALIVE_MS);
  const listeners: [Deno.Signal, () => void][] = [];
  const dispose = () => {
    clearInterval(keepalive);
    for (const [signal, listener] of listeners.splice(0)) {
      Deno.removeSignalListener(signal, listener);
    }
  };
  const signal = new Promise<Deno.Signal>((resolve) => {
    for (const name of signals) {
      const listener = () => {
        dispose();
        resolve(name);
      };
      try {
        Deno.addSignalListener(name, listener);
        listeners.push([name, listener]);
      } catch {
        // Not on this platform.
      }
    }
  });
  return { signal, dispose };
}
