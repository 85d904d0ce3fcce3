/**
 * Judging what a slot read shows, and the one wording of each finding that `ecl read`,
 * `ecl status`, Munin, Prometheus and `getCounts()` report (pure): whether `last` covers one
 * interval, whether a master still rotates, and a counter that holds something that is not a count.
 * @module
 */
import { LAST } from "./keys.ts";
import { isoTime, shorten } from "./_message.ts";
import type { SlotCounts } from "./reader.ts";

/** How long past its end a period may stay current before readers say no master rotates. */
export const STALE_GRACE_SECONDS = 5;
/** Longest counter value that a warning shows before cutting it short. */
const VALUE_MAX_CHARS = 40;
/** What a reader suggests when nothing rotates the counters. */
export const NO_MASTER_HINT = "is an ecl master running for this Redis?";

/** What a reader should know about the time a slot covers. */
export interface SlotHealth {
  /**
   * Whether `last` covers exactly one interval: `false` when the master missed boundaries and it
   * holds several intervals' worth, `undefined` when its start is not known (no ecl master wrote
   * `last:@ts` yet, or another master rotated since). Always `undefined` for `cur`.
   */
  readonly complete: boolean | undefined;
  /** Whether the current period should have been rotated a while ago: no master is running. */
  readonly stale: boolean;
  /** Length of the span in `last`, in intervals, when known. */
  readonly spanIntervals: number | undefined;
}

/** Start of the current period as `slot` shows it (UNIX seconds), when known. */
export function currentStartOf(slot: SlotCounts): number | undefined {
  return slot.slot === LAST ? slot.end : slot.start;
}

/** Judge the span of `slot` of an interval of `intervalSeconds`, at `nowSeconds`. */
export function slotHealth(
  slot: SlotCounts,
  intervalSeconds: number,
  nowSeconds: number,
): SlotHealth {
  const currentStart = currentStartOf(slot);
  const stale = currentStart !== undefined &&
    nowSeconds > currentStart + intervalSeconds + STALE_GRACE_SECONDS;
  if (slot.slot !== LAST || slot.start === undefined || slot.end === undefined) {
    return { complete: undefined, stale, spanIntervals: undefined };
  }
  const spanIntervals = (slot.end - slot.start) / intervalSeconds;
  return { complete: spanIntervals === 1, stale, spanIntervals };
}

/** `"last" spans 3 intervals (<start> to <end>): the master missed boundaries`, for an incomplete `last`. */
export function spanText(slot: SlotCounts, health: SlotHealth): string {
  return `"last" spans ${health.spanIntervals} intervals (${isoTime(slot.start!)} to ${
    isoTime(slot.end!)
  }): the master missed boundaries`;
}

/** `not rotated since <start of the current period>`, for a stale slot. */
export function staleText(slot: SlotCounts): string {
  return `not rotated since ${isoTime(currentStartOf(slot)!)}`;
}

/**
 * The warning for a counter that holds something that is not a count, e.g. `Skipping event "a"
 * of g:5m:last: its value "hello" is not a count`; `action` says what the reader does instead.
 */
export function notACountWarning(
  action: string,
  slot: Pick<SlotCounts, "group" | "interval" | "slot">,
  event: string,
  value: string,
): string {
  return `${action} event ${
    JSON.stringify(event)
  } of ${slot.group}:${slot.interval}:${slot.slot}: its value ${
    JSON.stringify(shorten(value, VALUE_MAX_CHARS))
  } is not a count`;
}
