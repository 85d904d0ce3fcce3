/** JSON output of `ecl read`: counts with the span of time they cover. */
import type { SlotCounts } from "../reader.ts";
import { compareCodePoints } from "./text.ts";

/** One slot in JSON. */
export interface JsonSlot {
  /** Start of the span (UNIX seconds), `null` when unknown. */
  start: number | null;
  /** End of the span (UNIX seconds), `null` when unknown. */
  end: number | null;
  /** Event ID → count, sorted by event ID. */
  counts: Record<string, number>;
}

/** The JSON document of `ecl read --format json`. */
export interface JsonOutput {
  /** Group name. */
  group: string;
  /** Interval name. */
  interval: string;
  /** The last finished interval, when read. */
  last?: JsonSlot;
  /** The current interval, when read. */
  current?: JsonSlot;
}

function slot(counts: SlotCounts): JsonSlot {
  const sorted: Record<string, number> = {};
  for (const event of [...counts.counts.keys()].sort(compareCodePoints)) {
    sorted[event] = counts.counts.get(event)!;
  }
  return { start: counts.start ?? null, end: counts.end ?? null, counts: sorted };
}

/** The JSON text (one line plus newline) of the slots read. */
export function formatJson(
  group: string,
  interval: string,
  sections: { last?: SlotCounts; current?: SlotCounts },
): string {
  const output: JsonOutput = { group, interval };
  if (sections.last !== undefined) output.last = slot(sections.last);
  if (sections.current !== undefined) output.current = slot(sections.current);
  return JSON.stringify(output) + "\n";
}
