/** Option values shared by cli.ts and the commands (kept small: cli.ts loads it at start). */

/** Which interval(s) `ecl read` prints. */
export type ReadWhich = "last" | "current" | "both";
/** Output formats of `ecl read`. */
export const READ_FORMATS = [
  "text",
  "json",
  "csv",
  "munin",
  "munin-config",
  "munin-suggest",
  "prometheus",
] as const;
/** One of {@link READ_FORMATS}. */
export type ReadFormat = typeof READ_FORMATS[number];
