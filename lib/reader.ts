/**
 * Reading counts of one slot (`cur` or `last`) of (group, interval), with the span of time they
 * cover, for every output format.
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

const SPAN_TEXT = /^(-?\d+)\/(-?\d+)$/;

/**
 * Start of the span in `last`, from the value of `last:@ts`, when it is known: the ecl master
 * writes `<start>/<end>`, `end` being the `cur:@ts` of the same rotation. When the current period
 * is not `end`'s, another master (the Python one never writes `last:@ts`) rotated since, and the
 * start is unknown. A bare `<start>` (an older ecl's) is taken as it is.
 */
function lastSpanStart(
  value: string | null,
  curPeriod: number | undefined,
  seconds: number,
): number | undefined {
  const span = value === null ? null : SPAN_TEXT.exec(value);
  if (span === null) return parseTimestamp(value);
  const end = periodStart(Number(span[2]), seconds);
  return end === curPeriod ? Number(span[1]) : undefined;
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
  const curStart = parseTimestamp(values[sorted.length + 1]);
  const curPeriod = curStart === undefined ? undefined : periodStart(curStart, interval.seconds);
  const lastStart = lastSpanStart(values[sorted.length], curPeriod, interval.seconds);
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

/** How long past its end a period may stay current before readers say no master rotates. */
export const STALE_GRACE_SECONDS = 5;

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

/** Judge the span of `slot` of an interval of `intervalSeconds`, at `nowSeconds`. Pure. */
export function slotHealth(
  slot: SlotCounts,
  intervalSeconds: number,
  nowSeconds: number,
): SlotHealth {
  const currentStart = slot.slot === LAST ? slot.end : slot.start;
  const stale = currentStart !== undefined &&
    nowSeconds > currentStart + intervalSeconds + STALE_GRACE_SECONDS;
  if (slot.slot !== LAST || slot.start === undefined || slot.end === undefined) {
    return { complete: undefined, stale, spanIntervals: undefined };
  }
  const spanIntervals = (slot.end - slot.start) / intervalSeconds;
  return { complete: spanIntervals === 1, stale, spanIntervals };
}
