/**
 * Counts logged in this process and not yet confirmed by Redis, per (interval, period, event).
 * Pure: time comes in as `nowSeconds` arguments.
 *
 * `add()` is the hot path: one `Map` update, whatever the number of intervals. Counts go to an
 * open window; `seal()` (at every period boundary and before every flush) moves the window into
 * per-(interval, period) batches, stamped with the periods in which the window was opened.
 * Memory is bounded by the number of distinct (interval, period, event) keys, not by the number
 * of events.
 * @module
 */
import { periodStart } from "./interval.ts";

/** Counts of one period of one interval, ready to be written. */
export interface Batch {
  /** Index of the interval in the group's interval list. */
  readonly intervalIndex: number;
  /** Start of the period (UNIX seconds). */
  readonly period: number;
  /** Event ID → count. */
  readonly counts: Map<string, number>;
}

/** Add `source` into `target`; returns how many events were new to `target`. */
function addTo(target: Map<string, number>, source: ReadonlyMap<string, number>): number {
  let added = 0;
  for (const [event, count] of source) {
    const before = target.get(event);
    if (before === undefined) added++;
    target.set(event, (before ?? 0) + count);
  }
  return added;
}

/**
 * Split a batch into batches of at most `maxEvents` events each (one server-side script call per
 * batch: bounded arguments, and Redis is never blocked long by one write).
 */
export function splitBatch(batch: Batch, maxEvents: number): Batch[] {
  if (batch.counts.size <= maxEvents) return [batch];
  const parts: Batch[] = [];
  let counts = new Map<string, number>();
  for (const [event, count] of batch.counts) {
    counts.set(event, count);
    if (counts.size === maxEvents) {
      parts.push({ intervalIndex: batch.intervalIndex, period: batch.period, counts });
      counts = new Map();
    }
  }
  if (counts.size > 0) {
    parts.push({ intervalIndex: batch.intervalIndex, period: batch.period, counts });
  }
  return parts;
}

/** What {@link Accumulator.addToOpen} returns when the event is not in the open window. */
export const NOT_OPEN = -2;

/** What {@link Accumulator.add} returns when a new event would exceed `maxKeys`. */
export const REFUSED = -1;

/** Pending counts of one group. */
export class Accumulator {
  readonly #lengths: readonly number[];
  /** The open window: event → its count box (a box, so that adding is one lookup). */
  readonly #open = new Map<string, { n: number }>();
  #openPeriods: number[];
  readonly #batches = new Map<string, Batch>();
  readonly #maxKeys: number;
  /** Number of (interval, period, event) counters in the sealed batches. */
  #sealedKeys = 0;

  /**
   * @param lengthsSeconds length of each interval of the group
   * @param nowSeconds current time
   * @param maxKeys most (interval, period, event) counters kept; a new event beyond is refused
   */
  constructor(lengthsSeconds: readonly number[], nowSeconds: number, maxKeys = Infinity) {
    this.#lengths = lengthsSeconds;
    this.#openPeriods = this.#periodsAt(nowSeconds);
    this.#maxKeys = maxKeys;
  }

  #periodsAt(nowSeconds: number): number[] {
    return this.#lengths.map((length) => periodStart(nowSeconds, length));
  }

  /**
   * Add `count` to `event` in the open window; returns the event's count in that window, or
   * {@link REFUSED} when the event is new and keeping it would exceed `maxKeys` counters (counted
   * as if the open window's events were new to every interval: a bound, not an exact size).
   */
  add(event: string, count: number): number {
    const box = this.#open.get(event);
    if (box !== undefined) return box.n += count;
    if ((this.#open.size + 1) * this.#lengths.length + this.#sealedKeys > this.#maxKeys) {
      return REFUSED;
    }
    this.#open.set(event, { n: count });
    return count;
  }

  /**
   * Add `count` to `event` if it is in the open window already (the hot path: one lookup);
   * returns its count there, or {@link NOT_OPEN} (then nothing was added: use {@link add}).
   */
  addToOpen(event: string, count: number): number {
    const box = this.#open.get(event);
    return box === undefined ? NOT_OPEN : box.n += count;
  }

  /** Whether nothing is pending. */
  get isEmpty(): boolean {
    return this.#open.size === 0 && this.#batches.size === 0;
  }

  /** Number of pending (interval, period, event) counters. */
  get size(): number {
    let size = 0;
    for (const batch of this.#batches.values()) size += batch.counts.size;
    // An event both in the open window and in a sealed batch of the same period counts once.
    this.#openPeriods.forEach((period, index) => {
      const sealed = this.#batches.get(`${index}|${period}`)?.counts;
      if (sealed === undefined) size += this.#open.size;
      else for (const event of this.#open.keys()) if (!sealed.has(event)) size++;
    });
    return size;
  }

  #batchFor(intervalIndex: number, period: number): Batch {
    const key = `${intervalIndex}|${period}`;
    let batch = this.#batches.get(key);
    if (batch === undefined) {
      batch = { intervalIndex, period, counts: new Map() };
      this.#batches.set(key, batch);
    }
    return batch;
  }

  /**
   * Close the open window: its counts join the batches of the periods in which it was opened, and
   * a new window opens in the periods of `nowSeconds`.
   */
  seal(nowSeconds: number): void {
    if (this.#open.size > 0) {
      const open = this.#open;
      this.#openPeriods.forEach((period, index) => {
        const batch = this.#batchFor(index, period);
        if (batch.counts.size === 0) {
          // Common case: one window per batch; copy instead of merging entry by entry.
          for (const [event, box] of open) batch.counts.set(event, box.n);
          this.#sealedKeys += open.size;
        } else {
          for (const [event, box] of open) {
            const before = batch.counts.get(event);
            if (before === undefined) this.#sealedKeys++;
            batch.counts.set(event, (before ?? 0) + box.n);
          }
        }
      });
      // Cleared, not replaced: `add()` keeps seeing the same map, and stays optimised.
      open.clear();
    }
    this.#openPeriods = this.#periodsAt(nowSeconds);
  }

  /** Seal, then hand out every pending batch (they are no longer pending). */
  take(nowSeconds: number): Batch[] {
    this.seal(nowSeconds);
    const batches = [...this.#batches.values()];
    this.#batches.clear();
    this.#sealedKeys = 0;
    return batches;
  }

  /** Put batches back (a flush failed or was deferred); they merge with what is pending. */
  restore(batches: readonly Batch[]): void {
    for (const batch of batches) {
      this.#sealedKeys += addTo(
        this.#batchFor(batch.intervalIndex, batch.period).counts,
        batch.counts,
      );
    }
  }

  /** Pending count of `event` in the period of interval `intervalIndex` that contains `nowSeconds`. */
  pendingCount(event: string, intervalIndex: number, nowSeconds: number): number {
    const period = periodStart(nowSeconds, this.#lengths[intervalIndex]);
    let count = this.#openPeriods[intervalIndex] === period ? this.#open.get(event)?.n ?? 0 : 0;
    count += this.#batches.get(`${intervalIndex}|${period}`)?.counts.get(event) ?? 0;
    return count;
  }
}
