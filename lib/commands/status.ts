/** `ecl status` (to be implemented). */

/** Options of {@link runStatus}. */
export interface StatusOptions {
  /** Config file. */
  config: string;
  /** Output format. */
  format: "text" | "json";
}

/** Check and print; returns a Nagios exit code. */
export function runStatus(_options: StatusOptions): Promise<number> {
  return Promise.reject(new Error("ecl status is not implemented yet"));
}
