/** JSON output of `ecl read`: counts with the span of time they cover. */
import type { IntervalConfig } from "../config.ts";
import type { SlotCounts } from "../reader.ts";
import { type SlotHealth, slotHealth } from "../slot_health.ts";
import { compareCodePoints } from "./text.ts";

/** One slot in JSON. */
export interface JsonSlot {
  /** Start of the span (UNIX seconds), `null` when unknown. */
  start: number | null;
  /** End of the span (UNIX seconds), `null` when unknown. */
  end: number | null;
  /**
   * `last` only: whether it covers exactly one interval (`false`: the master missed boundaries),
   * `null` when its start is not known.
   */
  complete?: boolean | null;
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
  /** Whether the current period should have been rotated a while ago (no master running). */
  stale: boolean;
}

function slot(counts: SlotCounts, health: SlotHealth): JsonSlot {
  const sorted: Record<string, number> = {};
  for (const event of [...counts.counts.keys()].sort(compareCodePoints)) {
    sorted[event] = counts.counts.get(event)!;
  }
  const json: JsonSlot = { start: counts.start ?? null, end: counts.end ?? null, counts: sorted };
  if (counts.slot === "last") json.complete = health.complete ?? null;
  return json;
}

/**
 * The JSON text (one line plus newline) of the slots read, judged at `nowSeconds`; `rotated`:
 * whether the group's layout needs a master (without one, `stale` is always `false`).
 */
export function formatJson(
  interval: IntervalConfig,
  sections: { last?: SlotCounts; current?: SlotCounts },
  nowSeconds: number,
  rotated = true,
): string {
  const first = (sections.last ?? sections.current)!;
  const health = (counts: SlotCounts) => slotHealth(counts, interval.seconds, nowSeconds);
  const output: JsonOutput = {
    group: first.group,
    interval: interval.name,
    stale: rotated && health(first).stale,
  };
  if (sections.last !== undefined) output.last = slot(sections.last, health(sections.last));
  if (sections.current !== undefined) {
    output.current = slot(sections.current, health(sections.current));
  }
  return JSON.stringify(output) + "\n";
}
