/**
 * Sparklines for the terminal (pure): one block character per period, `▁` for 0 and `▂`…`█` for
 * counts from the smallest to the largest, so that any count above 0 stands out from none.
 * `ecl read --history N` prints one after each event's counts, and only when stdout is a terminal
 * ({@link sparklineSuffix}): scripts and Munin read the same lines as before.
 * @module
 */

/** The eight levels, lowest first. */
export const SPARK_LEVELS = "▁▂▃▄▅▆▇█";
/** What a period without a count (not recorded) shows. */
export const SPARK_GAP = " ";

/**
 * One character per value, scaled from 0 to the largest value: 0 (and negative values) is `▁`,
 * values above 0 fall in seven equal steps up to the largest, `▂` for the lowest step and `█`
 * for the highest; `undefined`, `null` and
 * non-finite values are a gap ({@link SPARK_GAP}).
 *
 * @example
 * ```ts
 * sparkline([0, 1, 5, 10]); // "▁▂▅█"
 * ```
 */
export function sparkline(values: readonly (number | null | undefined)[]): string {
  const levels = [...SPARK_LEVELS];
  let max = 0;
  for (const value of values) {
    if (typeof value === "number" && Number.isFinite(value) && value > max) max = value;
  }
  return values.map((value) => {
    if (typeof value !== "number" || !Number.isFinite(value)) return SPARK_GAP;
    if (value <= 0) return levels[0];
    // ceil(7 * v / max): (0, max/7] is the second level, (6/7 max, max] the top one.
    return levels[Math.max(1, Math.ceil((value / max) * (levels.length - 1)))];
  }).join("");
}

/**
 * What follows a text line of counts: a space and the sparkline of `values` on a terminal, nothing
 * otherwise (`terminal` is e.g. `Deno.stdout.isTerminal()`), so piped output does not change.
 */
export function sparklineSuffix(
  values: readonly (number | null | undefined)[],
  terminal: boolean,
): string {
  return terminal && values.length > 0 ? ` ${sparkline(values)}` : "";
}
