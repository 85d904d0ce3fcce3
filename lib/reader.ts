/**
 * Reading counts of one slot (`cur` or `last`) of (group, interval), with the span of time they
 * cover, for every output format; `lib/slot_health.ts` judges what was read.
 * @module
 */
import type { GroupConfig, IntervalConfig } from "./config.ts";
import { periodStart } from "./interval.ts";
import { counterKey, CUR, LAST, type Slot, timestampKey } from "./keys.ts";
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

function parseTimestamp(value: string | null): number | undefined {
  return value !== null && INTEGER_TEXT.test(value) ? Number(value) : undefined;
}

/**
 * Read the counts in `slot` of (group, interval): every predeclared event (0 when it has no key),
 * the events in `extraEvents`, and, when the group auto-declares, every event that has a key.
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
  if (group.autoDeclareEvents) {
    for (const event of await store.scanEvents(group.name, interval.name, slot)) events.add(event);
  }
  const sorted = [...events].sort();
  const keys = sorted.map((event) =>
    counterKey(group.name, interval.name, slot, event, store.layout)
  );
  keys.push(
    timestampKey(group.name, interval.name, LAST, store.layout),
    timestampKey(group.name, interval.name, CUR, store.layout),
  );
  const values = await store.getValues(keys);
  const counts = new Map<string, number>();
  const invalid = new Map<string, string>();
  sorted.forEach((event, index) => {
    const value = values[index];
    if (value === null) counts.set(event, 0);
    else if (INTEGER_TEXT.test(value)) counts.set(event, Number(value));
    else invalid.set(event, value);
  });
  const lastStart = parseTimestamp(values[sorted.length]);
  const curStart = parseTimestamp(values[sorted.length + 1]);
  const curPeriod = curStart === undefined ? undefined : periodStart(curStart, interval.seconds);
  return {
    group: group.name,
    interval: interval.name,
    slot,
    start: slot === LAST ? lastStart : curPeriod,
    end: slot === LAST
      ? curPeriod
      : curPeriod === undefined
      ? undefined
      : curPeriod + interval.seconds,
    counts,
    invalid,
  };
}

/** One counter value: a whole number, 0 when the key is missing. `undefined` for a malformed value. */
export async function readCount(store: Store, key: string): Promise<number | undefined> {
  const [value] = await store.getValues([key]);
  if (value === null) return 0;
  return INTEGER_TEXT.test(value) ? Number(value) : undefined;
}
