/**
 * Reading counts of one slot (`cur` or `last`) of (group, interval), with the span of time they
 * cover, for every output format: the store fetches the period as the group's layout holds it,
 * this module decides which values are counts; `lib/slot_health.ts` judges the span.
 * @module
 */
import type { GroupConfig, IntervalConfig } from "./config.ts";
import type { Slot } from "./keys.ts";
import type { Store } from "./store.ts";

/** Counts of one slot of (group, interval) and the time they cover. */
export interface SlotCounts {
  /** Group name. */
  readonly group: string;
  /** Interval as configured, e.g. `5m`. */
  readonly interval: string;
  /** `last` (the last finished interval) or `cur` (the current one, still counting). */
  readonly slot: Slot;
  /** Start of the span (UNIX seconds), when known. */
  readonly start: number | undefined;
  /**
   * End of the span (UNIX seconds): for `last` the start of the current period, for `cur` the
   * boundary at which the master will rotate it. `undefined` when not known.
   */
  readonly end: number | undefined;
  /** Event ID → count, sorted by event ID. */
  readonly counts: ReadonlyMap<string, number>;
  /** Event ID → raw value, for keys whose value is not a whole number (someone else wrote them). */
  readonly invalid: ReadonlyMap<string, string>;
}

const INTEGER_TEXT = /^-?\d+$/;

/**
 * Read the counts in `slot` of (group, interval): every predeclared event (0 when it has no
 * count), the events in `extraEvents`, and, when the group auto-declares, every event that has one.
 */
export async function readSlot(
  store: Store,
  group: GroupConfig,
  interval: IntervalConfig,
  slot: Slot,
  extraEvents: Iterable<string> = [],
): Promise<SlotCounts> {
  const events = new Set<string>(group.events);
  for (const event of extraEvents) events.add(event);
  const period = await store.readPeriod(group, interval, slot, events, group.autoDeclareEvents);
  const counts = new Map<string, number>();
  const invalid = new Map<string, string>();
  for (const event of [...period.values.keys()].sort()) {
    const value = period.values.get(event) ?? null;
    if (value === null) counts.set(event, 0);
    else if (INTEGER_TEXT.test(value)) counts.set(event, Number(value));
    else invalid.set(event, value);
  }
  return {
    group: group.name,
    interval: interval.name,
    slot,
    start: period.start,
    end: period.end,
    counts,
    invalid,
  };
}

/**
 * The count of one event in `slot` of (group, interval): a whole number, 0 when it has none,
 * `undefined` for a malformed value.
 */
export async function readCount(
  store: Store,
  group: GroupConfig,
  interval: IntervalConfig,
  slot: Slot,
  event: string,
): Promise<number | undefined> {
  const period = await store.readPeriod(group, interval, slot, new Set([event]), false);
  const value = period.values.get(event) ?? null;
  if (value === null) return 0;
  return INTEGER_TEXT.test(value) ? Number(value) : undefined;
}
