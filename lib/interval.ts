/**
 * Interval strings (`"5s"`, `"5m"`, `"1h"`) and the UNIX-epoch aligned periods they cut time into.
 * Pure functions: every time is passed in as seconds since the epoch.
 * @module
 */

const INTERVAL_PATTERN = /^(\d*\.\d+|\d+)([hms])$/i;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/**
 * Length in seconds of an interval string such as `"5s"`, `"5m"`, `"1.5h"` (units `s`, `m`, `h`,
 * either case, as in the original Python implementation).
 *
 * @throws {SyntaxError} when the text is not a positive number followed by a unit, or does not
 * come to a whole number of seconds (periods start at whole UNIX seconds), or is longer than
 * `Number.MAX_SAFE_INTEGER` seconds.
 */
export function parseInterval(text: string): number {
  const match = INTERVAL_PATTERN.exec(text);
  if (match === null) {
    throw new SyntaxError(
      `Cannot parse interval ${
        JSON.stringify(text)
      }: expected a positive number followed by s, m or h, e.g. "5m"`,
    );
  }
  // Exact decimal arithmetic: a float tolerance would take "0.9999999s" for 1 s, and Number()
  // would round lengths past 2^53 s.
  const [whole, fraction = ""] = match[1].split(".");
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(whole + fraction) * BigInt(UNIT_SECONDS[match[2].toLowerCase()]);
  if (scaled === 0n || scaled % scale !== 0n) {
    throw new SyntaxError(
      `Cannot use interval ${
        JSON.stringify(text)
      }: it must be a whole number of seconds, at least 1`,
    );
  }
  const seconds = scaled / scale;
  if (seconds > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SyntaxError(
      `Cannot use interval ${
        JSON.stringify(text)
      }: it must be at most ${Number.MAX_SAFE_INTEGER} seconds`,
    );
  }
  return Number(seconds);
}

/** Start (seconds since the epoch) of the period of length `lengthSeconds` that contains `nowSeconds`. */
export function periodStart(nowSeconds: number, lengthSeconds: number): number {
  return Math.floor(nowSeconds / lengthSeconds) * lengthSeconds;
}

/** The first period boundary strictly after `nowSeconds`. */
export function nextBoundary(nowSeconds: number, lengthSeconds: number): number {
  return periodStart(nowSeconds, lengthSeconds) + lengthSeconds;
}
