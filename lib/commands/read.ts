/** `ecl read`: print the counts of the last finished (or current) interval of a group. */
import { type IntervalConfig, loadConfig } from "../config.ts";
import { formatJson } from "../format/json.ts";
import { formatText } from "../format/text.ts";
import { CUR, LAST } from "../keys.ts";
import { readSlot, type SlotCounts, slotHealth } from "../reader.ts";
import { Store } from "../store.ts";
import { ExitCode } from "./_exit.ts";
import { printWarning, writeStdout } from "./_io.ts";
import { findGroup, findInterval } from "./_lookup.ts";

/** Which interval(s) to print. */
export type ReadWhich = "last" | "current" | "both";
/** Output formats of `ecl read`. */
export const READ_FORMATS = ["text", "json"] as const;
/** One of {@link READ_FORMATS}. */
export type ReadFormat = typeof READ_FORMATS[number];

/** Options of {@link runRead}. */
export interface ReadOptions {
  /** Config file. */
  config: string;
  /** Group name. */
  group: string;
  /** Interval name; may be left out when the group has one. */
  interval: string | undefined;
  /** Which interval(s) to print. */
  which: ReadWhich;
  /** Output format. */
  format: ReadFormat;
}

function reportInvalid(slot: SlotCounts): void {
  for (const [event, value] of slot.invalid) {
    printWarning(
      `Skipping event ${
        JSON.stringify(event)
      } of ${slot.group}:${slot.interval}:${slot.slot}: its value ${
        JSON.stringify(value.length > 40 ? value.slice(0, 37) + "..." : value)
      } is not a count`,
    );
  }
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** Warn when `last` holds more than one interval, or when no master seems to rotate. */
function reportSpan(slot: SlotCounts, interval: IntervalConfig, nowSeconds: number): void {
  const health = slotHealth(slot, interval.seconds, nowSeconds);
  const name = `${slot.group}:${slot.interval}`;
  if (health.complete === false && slot.slot === LAST) {
    printWarning(
      `${name}: "last" spans ${health.spanIntervals} intervals (${isoTime(slot.start!)} to ${
        isoTime(slot.end!)
      }), not one: the master missed boundaries`,
    );
  }
  if (health.stale) {
    const since = slot.slot === LAST ? slot.end! : slot.start!;
    printWarning(
      `${name}: not rotated since ${isoTime(since)}: is an ecl master running for this Redis?`,
    );
  }
}

/** Read and print; returns the exit code. */
export async function runRead(options: ReadOptions): Promise<number> {
  const config = await loadConfig(options.config);
  const group = findGroup(config, options.group);
  const interval = findInterval(group, options.interval);
  const store = new Store(config.redis, { reconnect: false });
  try {
    await store.ready();
    const sections: { last?: SlotCounts; current?: SlotCounts } = {};
    if (options.which !== "current") sections.last = await readSlot(store, group, interval, LAST);
    if (options.which !== "last") sections.current = await readSlot(store, group, interval, CUR);
    for (const slot of [sections.last, sections.current]) if (slot) reportInvalid(slot);
    const now = Date.now() / 1000;
    if (options.format === "json") {
      await writeStdout(formatJson(interval, sections, now));
    } else {
      reportSpan((sections.last ?? sections.current)!, interval, now);
      await writeStdout(formatText(sections));
    }
  } finally {
    await store.close();
  }
  return ExitCode.Ok;
}
