/** One line of `ecl log --stdin`: `EVENT` or `EVENT COUNT` (pure). */
import { countError, parseCount } from "../count.ts";

const NUMBER_LIKE = /^[+-]?[\d.eE]+$/;

/** A parsed line, or why it was rejected. */
export type StdinLine = { event: string; count: number } | { error: string };

/**
 * Parse one line (without its newline). The last field, after a space or tab, is the count when
 * it looks like a number; otherwise the whole line is the event ID (which may contain spaces).
 * A count must be a whole number from 1 to 2^53 - 1. Returns `undefined` for a blank line.
 */
export function parseStdinLine(line: string): StdinLine | undefined {
  if (line.endsWith("\r")) line = line.slice(0, -1);
  if (line.trim() === "") return undefined;
  const cut = Math.max(line.lastIndexOf(" "), line.lastIndexOf("\t"));
  const last = cut < 0 ? "" : line.slice(cut + 1);
  if (cut < 0 || !NUMBER_LIKE.test(last)) return { event: line, count: 1 };
  const event = line.slice(0, cut).replace(/[ \t]+$/, "");
  const count = parseCount(last);
  if (count === undefined) return { error: countError(last) };
  if (event === "") return { error: "Event ID must not be empty" };
  return { event, count };
}
