/**
 * `EventGroup`: what `log()` accepts into one configured group (declared and auto-declared event
 * IDs, counts, when direct and cached mode write) and reading its counters back. Writing belongs
 * to its {@link WritePipeline} (`pipeline.ts`). `DummyEventGroup` stands in for a group that is not
 * configured.
 * @module
 */
import { type Accumulator, NOT_OPEN, REFUSED } from "./accumulator.ts";
import type { GroupConfig, IntervalConfig } from "./config.ts";
import { COUNT_RULE, isCount } from "./count.ts";
import { checkEventId } from "./ids.ts";
import { notACountWarning } from "./slot_health.ts";
import { findInterval } from "./lookup.ts";
import { CUR, LAST } from "./keys.ts";
import { WritePipeline } from "./pipeline.ts";
import { readCount, readSlot } from "./reader.ts";
import type { Store } from "./store.ts";
import type { WaitOptions } from "./_timeout.ts";

/** Options of {@link EventGroup.getCounts}. */
export interface GetCountsOptions {
  /** Read the current, unfinished interval instead of the last finished one. @default false */
  current?: boolean;
}

/** Counts of one finished period, as {@link EventGroup.getHistory} returns them. */
export interface HistoryEntry {
  /** Start of the period (UNIX seconds). */
  readonly start: number;
  /** End of the period (UNIX seconds): `start` + the interval. */
  readonly end: number;
  /** Event ID → count, sorted by event ID; predeclared events are 0 when none happened. */
  readonly counts: Record<string, number>;
}

/** What an event group offers; {@link EventGroup} and {@link DummyEventGroup} both have it. */
export interface EventGroupLike {
  /** Group name. */
  readonly name: string;
  /** Count `count` occurrences of `eventId`; returns whether they were counted. */
  log(eventId: string, count?: number): boolean;
  /** Write every pending count to Redis. */
  flush(options?: WaitOptions): Promise<void>;
  /** Counts of the last finished (or the current) interval. */
  getCounts(interval: string, options?: GetCountsOptions): Promise<Record<string, number>>;
}

/** Services a group gets from its logger. */
export interface GroupContext {
  /** The shared Redis connection. */
  readonly store: Store;
  /** Where warnings go. */
  readonly warn: (message: string) => void;
  /** Current time in milliseconds. @default Date.now */
  readonly now?: () => number;
  /** ID of this writer in Redis (unique per logger instance). @default a random UUID */
  readonly writer?: string;
}

/**
 * One group of event counters. Get it from `EventCountLogger.getGroup()`.
 *
 * `log()` is synchronous and never waits for Redis: counts are kept in this process and written
 * in batches, as soon as the code that logged them yields (direct mode: one write per task, and
 * while a write is under way the next one takes everything logged meanwhile) or every
 * `sync_interval` seconds, when a count reaches `sync_limit`, and at every interval boundary
 * (cached mode).
 */
export class EventGroup implements EventGroupLike {
  /** Group name. */
  readonly name: string;
  /** The group's validated configuration. */
  readonly config: GroupConfig;
  readonly #store: Store;
  readonly #warn: (message: string) => void;
  readonly #declared: Set<string>;
  readonly #cached: boolean;
  readonly #syncLimit: number;
  readonly #warned = new Set<string>();
  readonly #pipeline: WritePipeline;
  /** The pipeline's pending counts, once created: `log()` adds to them without a call. */
  #accumulator: Accumulator | undefined;
  #closed = false;

  /**
   * Create a group; `EventCountLogger` does this for every configured group.
   * @ignore
   */
  constructor(config: GroupConfig, context: GroupContext) {
    this.name = config.name;
    this.config = config;
    this.#store = context.store;
    this.#warn = context.warn;
    this.#declared = new Set(config.events);
    this.#syncLimit = config.syncLimit ?? Infinity;
    this.#pipeline = new WritePipeline(config, {
      store: context.store,
      warn: context.warn,
      now: context.now ?? Date.now,
      writer: context.writer ?? crypto.randomUUID(),
    });
    this.#cached = this.#pipeline.cached;
  }

  /** Event IDs that `log()` accepts without auto-declaring: the configured and declared ones. */
  get eventIds(): readonly string[] {
    return [...this.#declared];
  }

  /** Whether counts are cached locally (`sync_interval` or `sync_limit` set). */
  get cached(): boolean {
    return this.#cached;
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#warn(message);
  }

  /** Pending counts; created, with the group's timers, on first use. */
  #pending(): Accumulator {
    this.#accumulator = this.#pipeline.start();
    return this.#accumulator;
  }

  /**
   * Count `count` occurrences of `eventId` in every interval of the group.
   *
   * Synchronous and O(1): never waits for Redis and never throws for a Redis fault. An event ID
   * that is not declared (in a group without `auto_declare_events`), a count that is not a
   * positive whole number, or a call after `close()` is not counted, with one warning per case.
   *
   * @param eventId the event's ID
   * @param count how many occurrences
   * @returns whether the count was accepted
   */
  log(eventId: string, count = 1): boolean {
    if (this.#closed) {
      this.#warnOnce(
        "closed",
        `Cannot log into group ${JSON.stringify(this.name)}: the logger is closed`,
      );
      return false;
    }
    const pending = this.#accumulator ?? this.#pending();
    const validCount = isCount(count);
    // Hot path: an event already counted in this window was accepted already; one lookup.
    let total = validCount ? pending.addToOpen(eventId, count) : NOT_OPEN;
    if (total === NOT_OPEN) {
      if (!this.#declared.has(eventId) && !this.#accepts(eventId)) return false;
      if (!validCount) {
        this.#warnOnce(
          `count:${count}`,
          `Cannot log count ${String(count)} of event ${JSON.stringify(eventId)} in group ${
            JSON.stringify(this.name)
          }: ${COUNT_RULE}`,
        );
        return false;
      }
      total = this.#pipeline.add(eventId, count);
      if (total === REFUSED) {
        this.#pipeline.refuse(count);
        return false;
      }
    }
    if (!this.#cached) this.#pipeline.writeSoon();
    else if (total >= this.#syncLimit) this.#pipeline.writeInBackground();
    return true;
  }

  /** Whether an undeclared ID is accepted: the group auto-declares and the ID is well-formed. */
  #accepts(eventId: string): boolean {
    if (!this.config.autoDeclareEvents) {
      this.#warnOnce(
        `id:${eventId}`,
        `Cannot log event ${JSON.stringify(eventId)} in group ${
          JSON.stringify(this.name)
        }: not declared, and the group does not auto-declare events`,
      );
      return false;
    }
    const checked = checkEventId(eventId);
    if ("error" in checked) {
      this.#warnOnce(
        `id:${eventId}`,
        `Cannot log into group ${JSON.stringify(this.name)}: ${checked.error}`,
      );
      return false;
    }
    return true;
  }

  /**
   * Accept `eventId` in `log()` from now on, in this process (the master treats it as a dynamic
   * event unless it is in the configuration).
   *
   * @throws {RangeError} when the ID is empty or starts with `@`
   */
  declareEventId(eventId: string): void {
    const checked = checkEventId(eventId);
    if ("error" in checked) throw new RangeError(checked.error);
    this.#declared.add(checked.id);
  }

  /** {@link EventGroup.declareEventId} for several IDs. */
  declareEventIds(eventIds: Iterable<string>): void {
    for (const eventId of eventIds) this.declareEventId(eventId);
  }

  /** Counts dropped because `max_pending_keys` counters waited for Redis, since this group was created. */
  get droppedCounts(): number {
    return this.#pipeline.droppedCounts;
  }

  /** Counts that Redis refused because their counter held something that is not a count. */
  get rejectedCounts(): number {
    return this.#pipeline.rejectedCounts;
  }

  /**
   * Counts that Redis refused (`layout: periods`) because, by its clock, their period started too
   * far ahead (this machine's clock runs ahead) or had left the kept history; each episode warns.
   */
  get outOfWindowCounts(): number {
    return this.#pipeline.outOfWindowCounts;
  }

  /**
   * Write every count logged so far to Redis; resolves when Redis has confirmed them. Counts of a
   * period that the master has not opened yet wait for it (at most 2 s).
   *
   * While Redis cannot be reached (down, or no master to write to), writes wait for it: without
   * `timeoutMs` or `signal`, so does this call, until Redis is back. With them, it stops waiting
   * at the deadline; the counts stay pending and are written in the background once Redis is back.
   *
   * @param options a deadline for the wait
   * @throws {RedisError} when Redis refused or lost the write, or when the wait ended (`cause`: the
   * `TimeoutError` or the signal's reason); the counts stay pending and are retried in the
   * background
   */
  flush(options: WaitOptions = {}): Promise<void> {
    return this.#pipeline.flush(options);
  }

  #interval(name: string): IntervalConfig {
    return findInterval(this.config, name);
  }

  /**
   * Counts of every event in the last finished interval (or, with `current`, the unfinished one):
   * predeclared events (0 when none happened) and, when the group auto-declares, every event seen.
   *
   * @throws {NotFoundError} when the group has no such interval
   * @throws {RedisError} when Redis cannot be read
   */
  async getCounts(
    interval: string,
    options: GetCountsOptions = {},
  ): Promise<Record<string, number>> {
    const slot = await readSlot(
      this.#store,
      this.config,
      this.#interval(interval),
      options.current ? CUR : LAST,
      this.#declared,
    );
    for (const [event, value] of slot.invalid) {
      this.#warn(notACountWarning("Skipping", slot, event, value));
    }
    return Object.fromEntries(slot.counts);
  }

  /**
   * Counts of the last `periods` finished periods of `interval`, oldest first, with their bounds
   * (`layout: periods` groups; which period is finished is decided on Redis's clock). A period in
   * which nothing was logged lists only the predeclared events, at 0.
   *
   * @example
   * ```ts
   * import { EventCountLogger } from "./mod.ts";
   * const ecl = new EventCountLogger({
   *   web: { layout: "periods", history: 12, events: ["hit"], intervals: ["5m"] },
   * });
   * for (const { start, counts } of await ecl.getGroup("web")!.getHistory("5m", 12)) {
   *   console.log(new Date(start * 1000).toISOString(), counts.hit);
   * }
   * await ecl.close();
   * ```
   *
   * @param interval the interval as configured, e.g. `5m`
   * @param periods how many finished periods, 1 to the group's `history`
   * @throws {NotFoundError} when the group has no such interval
   * @throws {RangeError} when the group uses layout `python` (it keeps only the last period), or
   * `periods` is not a whole number from 1 to the group's `history`
   * @throws {RedisError} when Redis cannot be read
   */
  async getHistory(interval: string, periods: number): Promise<HistoryEntry[]> {
    const history = await this.#store.readHistory(this.config, this.#interval(interval), periods);
    return history.map(({ start, end, counts }) => ({
      start,
      end,
      counts: Object.fromEntries(counts),
    }));
  }

  /** Count of `eventId` in the last finished `interval` (0 when it has none). */
  async getLastCount(eventId: string, interval: string): Promise<number> {
    return await readCount(this.#store, this.config, this.#interval(interval), LAST, eventId) ?? 0;
  }

  /** Count of `eventId` in the current `interval` as Redis has it (0 when it has none). */
  async getCurrentCount(eventId: string, interval: string): Promise<number> {
    return await readCount(this.#store, this.config, this.#interval(interval), CUR, eventId) ?? 0;
  }

  /**
   * Count of `eventId` in the current period of every interval: what Redis has plus what this
   * process has not written yet.
   */
  async getCurrentCounts(eventId: string): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const [index, interval] of this.config.intervals.entries()) {
      const stored = await readCount(this.#store, this.config, interval, CUR, eventId) ?? 0;
      result[interval.name] = stored + this.#pipeline.pendingCount(eventId, index);
    }
    return result;
  }

  /** Number of (interval, period, event) counts not yet confirmed by Redis (including those sent). */
  get pendingSize(): number {
    return this.#pipeline.pendingSize;
  }

  /** Stop the timers after a last flush; later `log()` calls are ignored with a warning. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#pipeline.close();
  }

  /**
   * Stop retrying (the logger gave up waiting for Redis at close).
   * @ignore
   */
  abandon(): void {
    this.#pipeline.abandon();
  }
}

/**
 * A group whose `log()` counts nothing, for a group name that is not configured: code can log
 * unconditionally and the configuration decides what is counted.
 */
export class DummyEventGroup implements EventGroupLike {
  /** Group name (not configured). */
  readonly name: string;

  /** Create a dummy group named `name`. */
  constructor(name: string) {
    this.name = name;
  }

  /** Does nothing; returns `false`. */
  log(_eventId: string, _count?: number): boolean {
    return false;
  }

  /** Does nothing. */
  flush(_options?: WaitOptions): Promise<void> {
    return Promise.resolve();
  }

  /** Always `{}`. */
  getCounts(_interval: string, _options?: GetCountsOptions): Promise<Record<string, number>> {
    return Promise.resolve({});
  }
}
