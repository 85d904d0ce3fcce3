/**
 * Single-flight reads for `ecl serve`: at most one run of the work for a key at a time; a request
 * for a key whose work is under way shares that run's result instead of starting another, so a
 * burst of identical requests costs Redis one read. Each request waits at most its timeout (then
 * gets its fallback); the run goes on in the background until it settles, and requests arriving
 * meanwhile still share it.
 *
 * Keys made from query parameters are unbounded in number (hostile clients can make up as many as
 * they like), so those are `capped`: at most `maxCapped` distinct ones run at once, and a new one
 * beyond that is turned away. Keys of fixed paths (`/metrics`, `/healthz`) are never
 * turned away: a normal scrape is answered whatever else is asked.
 * @module
 */
import { withTimeout } from "./_timeout.ts";

/** Shares work per key (see the module). */
export class SingleFlight {
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #timeoutMs: number;
  readonly #maxCapped: number;
  #capped = 0;

  /** Requests wait at most `timeoutMs`; at most `maxCapped` capped keys run at once. */
  constructor(timeoutMs: number, maxCapped: number) {
    this.#timeoutMs = timeoutMs;
    this.#maxCapped = maxCapped;
  }

  /**
   * The result of the run of `key`'s work under way, or of `work` started now; `fallback` when
   * it takes longer than the timeout. For keys of fixed paths: never turned away.
   */
  run<T>(key: string, work: () => Promise<T>, fallback: T): Promise<T> {
    return this.#share(key, work, fallback, false)!;
  }

  /**
   * As {@link run}, for a key made from query parameters: `undefined` when `key` is not under way
   * and the most distinct capped keys allowed at once are.
   */
  runCapped<T>(key: string, work: () => Promise<T>, fallback: T): Promise<T> | undefined {
    return this.#share(key, work, fallback, true);
  }

  #share<T>(
    key: string,
    work: () => Promise<T>,
    fallback: T,
    capped: boolean,
  ): Promise<T> | undefined {
    let running = this.#running.get(key) as Promise<T> | undefined;
    if (running === undefined) {
      if (capped && this.#capped >= this.#maxCapped) return undefined;
      // An async wrapper: a `work` that throws at once rejects like one that fails later.
      running = (async () => await work())();
      this.#running.set(key, running);
      if (capped) this.#capped++;
      const done = () => {
        this.#running.delete(key);
        if (capped) this.#capped--;
      };
      running.then(done, done);
    }
    return withTimeout(running, this.#timeoutMs, () => fallback);
  }

  /** Keys whose work is under way. */
  get running(): number {
    return this.#running.size;
  }
}
