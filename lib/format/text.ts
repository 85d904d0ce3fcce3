/** Text output of `ecl read`: `event:count` lines, as the original `ecl_reader` prints them. */
import type { SlotCounts } from "../reader.ts";

/** Heading of the last interval's section with `--both`. */
export const LAST_HEADING = "Last:";
/** Heading of the current interval's section with `--both`. */
export const CURRENT_HEADING = "Current:";

/** Order strings by Unicode code point, as Python's `sorted()` does (not by UTF-16 unit). */
export function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  while (true) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const diff = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (diff !== 0) return diff;
  }
}

/** `event:count` lines of one slot, sorted by event ID, each ending in a newline. */
export function formatCountLines(counts: ReadonlyMap<string, number>): string {
  return [...counts.keys()].sort(compareCodePoints).map((event) =>
    `${event}:${counts.get(event)}\n`
  )
    .join("");
}

/**
 * The whole text output: one slot's lines, or with both slots `Last:` and `Current:` headings
 * before each section (as the original does with `--both`).
 */
export function formatText(sections: { last?: SlotCounts; current?: SlotCounts }): string {
  const both = sections.last !== undefined && sections.current !== undefined;
  let text = "";
  if (sections.last !== undefined) {
    if (both) text += LAST_HEADING + "\n";
    text += formatCountLines(sections.last.counts);
  }
  if (sections.current !== undefined) {
    if (both) text += CURRENT_HEADING + "\n";
    text += formatCountLines(sections.current.counts);
  }
  return text;
}
