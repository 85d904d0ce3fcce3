/** `ecl serve` (to be implemented). */

/** Options of {@link runServe}. */
export interface ServeOptions {
  /** Config file. */
  config: string;
  /** `host:port` to listen on. */
  listen: string;
}

/** Serve until SIGINT or SIGTERM; returns the exit code. */
export function runServe(_options: ServeOptions): Promise<number> {
  return Promise.reject(new Error("ecl serve is not implemented yet"));
}
