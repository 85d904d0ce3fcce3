/**
 * The finished periods that `ecl serve` has read, kept in memory for the dashboard's charts and
 * `GET /api/history` (python layout: Redis holds only the last finished period). Bounded: at most
 * {@link HISTORY_PERIODS} periods per (group, interval) and, per period, the
 * {@link HISTORY_EVENTS} events with the highest counts (the others count in `total` only).
 *
 * The dashboard asks a {@link HistorySource} for a (group, interval)'s periods:
 * {@link historySource} reads them from Redis for groups whose layout keeps them (`periods`) and
 * takes them from a {@link HistoryRing} for the others.
 * @module
 */
import type { GroupConfig, IntervalConfig } from "../config.ts";
import { LAST } from "../keys.ts";
import { readSlot, type SlotCounts } from "../reader.ts";
import type { Store } from "../store.ts";
import { runAt, type Timer } from "../_timer.ts";

/** Most finished periods kept per (group, interval). */
export const HISTORY_PERIODS = 120;
/** Most events kept per period: those with the highest counts. */
export const HISTORY_EVENTS = 50;
/** How long after a boundary the recorder reads the period that just finished. */
export const RECORD_DELAY_MS = 300;

/** One event's count. */
export interface EventCount {
  /** Event ID. */
  readonly event: string;
  /** Its count in the period. */
  readonly count: number;
}

/** One finished period. */
export interface HistoryPeriod {
  /** Start (UNIX seconds). */
  readonly start: number;
  /** End (UNIX seconds): the start of the next period. */
  readonly end: number;
  /** Sum of every event's count, also of those not in `events`. */
  readonly total: number;
  /** Events with a count above 0. */
  readonly distinct: number;
  /** The events with the highest counts (at most {@link HISTORY_EVENTS}), highest first. */
  readonly events: readonly EventCount[];
}

/** Where a (group, interval)'s history comes from: `memory` (what `ecl serve` read) or `redis`. */
export type HistoryOrigin = "memory" | "redis";

/** The finished periods of (group, interval), oldest first. */
export type HistorySource = (
  group: GroupConfig,
  interval: IntervalConfig,
) => Promise<{ origin: HistoryOrigin; periods: readonly HistoryPeriod[] }>;

/**
 * Order strings by code point as `compareCodePoints` of lib/format/text.ts does, without
 * iterators (sorting a million event IDs takes seconds with them): UTF-16 units compare the same
 * way except that surrogates (U+D800–DFFF, astral characters) must come after U+E000–FFFF.
 */
export function compareIds(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** Highest count first, then by event ID (code points). */
export function byCount(a: EventCount, b: EventCount): number {
  return b.count - a.count || compareIds(a.event, b.event);
}

/**
 * The first `limit` of `counts` in {@link byCount} order, without sorting them all: a slot of an
 * auto-declared group may hold millions of events, of which a chart or a table shows a few.
 */
export function topCounts(counts: Iterable<EventCount>, limit: number): EventCount[] {
  const top: EventCount[] = [];
  for (const entry of counts) {
    if (top.length === limit && byCount(entry, top[limit - 1]) >= 0) continue;
    // Binary search for its place among the kept ones (sorted, at most `limit`).
    let low = 0;
    let high = top.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (byCount(entry, top[middle]) < 0) high = middle;
      else low = middle + 1;
    }
    top.splice(low, 0, entry);
    if (top.length > limit) top.pop();
  }
  return top;
}

/**
 * The period that a `last` slot holds, or `undefined` when it does not hold exactly one interval
 * (no master wrote its timestamps yet, or the master missed boundaries).
 */
export function periodOf(
  slot: SlotCounts,
  intervalSeconds: number,
  maxEvents = HISTORY_EVENTS,
): HistoryPeriod | undefined {
  if (slot.slot !== LAST || slot.start === undefined || slot.end === undefined) return undefined;
  if (slot.end - slot.start !== intervalSeconds) return undefined;
  return periodFromCounts(slot.start, slot.end, slot.counts, maxEvents);
}

/** The finished periods read so far, per (group, interval), bounded. */
export class HistoryRing {
  readonly #periods = new Map<string, HistoryPeriod[]>();
  readonly #maxPeriods: number;
  readonly #maxEvents: number;

  constructor(maxPeriods = HISTORY_PERIODS, maxEvents = HISTORY_EVENTS) {
    this.#maxPeriods = maxPeriods;
    this.#maxEvents = maxEvents;
  }

  /** Most periods kept per (group, interval). */
  get maxPeriods(): number {
    return this.#maxPeriods;
  }

  /** Most events kept per period. */
  get maxEvents(): number {
    return this.#maxEvents;
  }

  /** Keep the period in a `last` slot just read (once per period; ignored unless complete). */
  record(slot: SlotCounts, intervalSeconds: number): void {
    const period = periodOf(slot, intervalSeconds, this.#maxEvents);
    if (period === undefined) return;
    const key = JSON.stringify([slot.group, slot.interval]);
    let list = this.#periods.get(key);
    if (list === undefined) this.#periods.set(key, list = []);
    const index = list.findIndex((kept) => kept.start >= period.start);
    if (index !== -1 && list[index].start === period.start) {
      list[index] = period; // read again: the same period, maybe with late counts
      return;
    }
    list.splice(index === -1 ? list.length : index, 0, period);
    if (list.length > this.#maxPeriods) list.splice(0, list.length - this.#maxPeriods);
  }

  /** The periods kept for (group, interval), oldest first. */
  periods(group: string, interval: string): readonly HistoryPeriod[] {
    return [...(this.#periods.get(JSON.stringify([group, interval])) ?? [])];
  }

  /** This ring as a {@link HistorySource}. */
  readonly source: HistorySource = (group, interval) =>
    Promise.resolve({ origin: "memory", periods: this.periods(group.name, interval.name) });
}

/**
 * A finished period read from Redis as the dashboard shows it: the total, the events with a count
 * and the `maxEvents` highest.
 */
export function periodFromCounts(
  start: number,
  end: number,
  counts: ReadonlyMap<string, number>,
  maxEvents = HISTORY_EVENTS,
): HistoryPeriod {
  let total = 0;
  const nonZero: EventCount[] = [];
  for (const [event, count] of counts) {
    total += count;
    if (count !== 0) nonZero.push({ event, count });
  }
  return { start, end, total, distinct: nonZero.length, events: topCounts(nonZero, maxEvents) };
}

/**
 * The dashboard's history: for a group whose layout keeps finished periods in Redis (`periods`),
 * its last `min(history, ring.maxPeriods)` periods read from Redis (on Redis's clock, the same for
 * every `ecl serve`); for the others what `ring` kept.
 */
export function historySource(store: Store, ring: HistoryRing): HistorySource {
  return async (group, interval) => {
    if (!store.layoutOf(group).keepsHistory) return await ring.source(group, interval);
    const read = await store.readHistory(
      group,
      interval,
      Math.min(group.history, ring.maxPeriods),
    );
    return {
      origin: "redis",
      periods: read.map(({ start, end, counts }) =>
        periodFromCounts(start, end, counts, ring.maxEvents)
      ),
    };
  };
}

/**
 * Read the `last` slot of every (group, interval) of `pairs` shortly after each of its
 * boundaries, into `ring`, so that charts fill while `ecl serve` runs even when nobody looks
 * (not for groups whose layout keeps their history in Redis: {@link historySource} reads it). One
 * read per (group, interval) at a time; Redis errors are skipped (the next boundary tries
 * again). Returns a function that stops it.
 */
export function startRecorder(
  store: Store,
  pairs: readonly [GroupConfig, IntervalConfig][],
  ring: HistoryRing,
): () => void {
  const timers = new Map<string, Timer>();
  let stopped = false;
  for (const [group, interval] of pairs) {
    if (store.layoutOf(group).keepsHistory) continue;
    const key = JSON.stringify([group.name, interval.name]);
    let reading = false;
    const arm = () => {
      if (stopped) return;
      const ms = interval.seconds * 1000;
      const next = (Math.floor(Date.now() / ms) + 1) * ms + RECORD_DELAY_MS;
      timers.set(key, runAt(next, tick));
    };
    const tick = () => {
      arm();
      if (reading) return;
      reading = true;
      readSlot(store, group, interval, LAST)
        .then((slot) => ring.record(slot, interval.seconds), () => {})
        .finally(() => reading = false);
    };
    arm();
  }
  return () => {
    stopped = true;
    for (const timer of timers.values()) timer.cancel();
  };
}
