/**
 * `EventGroup`: logging into one configured group (declared and auto-declared event IDs, the flush
 * policy of direct and cached mode) and reading its counters. `DummyEventGroup` stands in for a
 * group that is not configured.
 * @module
 */
import { clearInterval, clearTimeout, setImmediate, setInterval, setTimeout } from "node:timers";
import { Accumulator, type Batch, NOT_OPEN, REFUSED, splitBatch } from "./accumulator.ts";
import { checkEventId, type GroupConfig, type IntervalConfig } from "./config.ts";
import { RedisError } from "./errors.ts";
import { findInterval } from "./lookup.ts";
import { nextBoundary } from "./interval.ts";
import { counterKey, CUR, LAST } from "./keys.ts";
import { readCount, readSlot } from "./reader.ts";
import { FlushStatus } from "./scripts.ts";
import type { FlushResult, Store } from "./store.ts";
import { backoffMs, runAt, type Timer } from "./_timer.ts";

/** Longest wait for the master to open a new period before counts of it go to `cur` anyway. */
const MAX_DEFER_SECONDS = 2;
/** Most events in one script call (one batch). */
const MAX_EVENTS_PER_WRITE = 1000;
/** Pause before counts that waited for the master are offered again. */
const DEFER_RETRY_MS = 50;
/** First and largest pause before a failed flush is tried again. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;

/** Options of {@link EventGroup.getCounts}. */
export interface GetCountsOptions {
  /** Read the current, unfinished interval instead of the last finished one. @default false */
  current?: boolean;
}

/**
 * How long {@link EventGroup.flush} (and `EventCountLogger.flush()` / `ready()`) wait. Without
 * either option they wait as long as it takes: a logger keeps its counts while Redis is down and
 * writes them when it is back, and the wait ends then.
 */
export interface WaitOptions {
  /**
   * Stop waiting after this many milliseconds: the call rejects with a `RedisError` (its `cause` a
   * `TimeoutError` `DOMException`). Counts not confirmed stay pending and are still written, in
   * the background, once Redis is back.
   */
  timeoutMs?: number;
  /** Stop waiting when this signal aborts: the call rejects as with `timeoutMs`, `cause` its reason. */
  signal?: AbortSignal;
}

/**
 * `promise`, unless `options` ends the wait first: then a rejection with `onAbort(reason)`.
 * Nothing is cancelled; a later rejection of `promise` is ignored.
 */
export function bounded<T>(
  promise: Promise<T>,
  options: WaitOptions,
  onAbort: (reason: unknown) => Error,
): Promise<T> {
  const { signal, timeoutMs } = options;
  if (signal === undefined && timeoutMs === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onSignal = () => stop(signal!.reason);
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onSignal);
    };
    const stop = (reason: unknown) => {
      cleanup();
      promise.catch(() => {});
      reject(onAbort(reason));
    };
    if (signal?.aborted) return stop(signal.reason);
    signal?.addEventListener("abort", onSignal, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(
        () => stop(new DOMException(`No answer within ${timeoutMs} ms`, "TimeoutError")),
        timeoutMs,
      );
    }
    promise.then((value) => {
      cleanup();
      resolve(value);
    }, (error) => {
      cleanup();
      reject(error);
    });
  });
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

/** A batch with the number that makes its write idempotent. */
interface NumberedBatch extends Batch {
  readonly seq: number;
}

/**
 * One group of event counters. Get it from `EventCountLogger.getGroup()`.
 *
 * `log()` is synchronous and never waits for Redis: counts are kept in this process and written
 * in batches, at the end of the current event-loop turn (direct mode) or every `sync_interval`
 * seconds, when a count reaches `sync_limit`, and at every interval boundary (cached mode).
 */
export class EventGroup implements EventGroupLike {
  /** Group name. */
  readonly name: string;
  /** The group's validated configuration. */
  readonly config: GroupConfig;
  readonly #store: Store;
  readonly #warn: (message: string) => void;
  readonly #now: () => number;
  readonly #declared: Set<string>;
  readonly #cached: boolean;
  readonly #syncLimit: number;
  readonly #warned = new Set<string>();
  #accumulator: Accumulator | undefined;
  #flushScheduled = false;
  #inFlight: Promise<void> | undefined;
  #again = false;
  #failures = 0;
  #boundaryTimer: Timer | undefined;
  #syncTimer: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Set when the logger gave up on a flush at close: no more retries. */
  #stopped = false;
  #inFlightSize = 0;
  /** Counts refused since `max_pending_keys` was last reached, and in all. */
  #refusedNow = 0;
  #refusedTotal = 0;
  #rejectedTotal = 0;
  /** Batches sent whose outcome is unknown; resent first, with their numbers. */
  #unconfirmed: NumberedBatch[] = [];
  /** Number of the last batch handed out; the flush script skips numbers it has seen. */
  #seq = 0;
  readonly #writer: string;

  /** Create a group; `EventCountLogger` does this for every configured group. */
  constructor(config: GroupConfig, context: GroupContext) {
    this.name = config.name;
    this.config = config;
    this.#store = context.store;
    this.#warn = context.warn;
    this.#now = context.now ?? Date.now;
    this.#writer = context.writer ?? crypto.randomUUID();
    this.#declared = new Set(config.events);
    this.#cached = config.syncIntervalMs !== undefined || config.syncLimit !== undefined;
    this.#syncLimit = config.syncLimit ?? Infinity;
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

  #seconds(): number {
    return this.#now() / 1000;
  }

  /** Pending counts; created, with the group's timers, on first use. */
  #pending(): Accumulator {
    if (this.#accumulator === undefined) {
      this.#accumulator = new Accumulator(
        this.config.intervals.map((i) => i.seconds),
        this.#seconds(),
        this.config.maxPendingKeys,
      );
      this.#scheduleBoundary();
      if (this.config.syncIntervalMs !== undefined) {
        this.#syncTimer = setInterval(() => this.#flushInBackground(), this.config.syncIntervalMs);
        this.#syncTimer.unref();
      }
    }
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
    const validCount = Number.isSafeInteger(count) && count > 0;
    // Hot path: an event already counted in this window was accepted already; one lookup.
    let total = validCount ? pending.addToOpen(eventId, count) : NOT_OPEN;
    if (total === NOT_OPEN) {
      if (!this.#declared.has(eventId) && !this.#accepts(eventId)) return false;
      if (!validCount) {
        this.#warnOnce(
          `count:${count}`,
          `Cannot log count ${String(count)} of event ${JSON.stringify(eventId)} in group ${
            JSON.stringify(this.name)
          }: expected a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`,
        );
        return false;
      }
      total = pending.add(eventId, count);
      if (total === REFUSED) {
        this.#refuse(count);
        return false;
      }
    }
    if (!this.#cached) {
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => {
          this.#flushScheduled = false;
          this.#flushInBackground();
        });
      }
    } else if (total >= this.#syncLimit) {
      this.#flushInBackground();
    }
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

  #scheduleBoundary(): void {
    const now = this.#seconds();
    const next = Math.min(...this.config.intervals.map((i) => nextBoundary(now, i.seconds)));
    this.#boundaryTimer = runAt(next * 1000, () => {
      this.#accumulator?.seal(this.#seconds());
      if (this.#cached) this.#flushInBackground();
      this.#scheduleBoundary();
    }, this.#now);
  }

  #flushInBackground(): void {
    this.#runFlush().catch(() => {
      // Counts stay pending and a retry is scheduled; the store has warned about the outage.
    });
  }

  /** Run flush rounds until nothing new is pending; one run at a time. */
  #runFlush(): Promise<void> {
    if (this.#inFlight !== undefined) {
      this.#again = true;
      return this.#inFlight;
    }
    const run = async () => {
      try {
        do {
          this.#again = false;
          await this.#flushRound();
        } while (this.#again);
      } finally {
        this.#inFlight = undefined;
      }
    };
    this.#inFlight = run();
    return this.#inFlight;
  }

  /**
   * Write every pending batch, one atomic script call per (interval, period), all pipelined.
   * Batches whose outcome is unknown (the connection broke after sending) are resent first, as
   * they were and with their numbers, so Redis adds each at most once.
   * @returns whether another round is needed (counts wait for the master to open their period, or
   * this round only settled batches of unknown outcome)
   */
  async #flushRound(): Promise<boolean> {
    const accumulator = this.#accumulator;
    if (accumulator === undefined || this.#nothingPending()) return false;
    const now = this.#seconds();
    // Batches of unknown outcome go alone, in order: no later number may reach Redis before they
    // are settled, or the script would take one that never ran for a duplicate.
    const resending = this.#unconfirmed.length > 0;
    const batches = this.#unconfirmed;
    this.#unconfirmed = [];
    if (!resending) {
      for (const batch of accumulator.take(now)) {
        for (const part of splitBatch(batch, MAX_EVENTS_PER_WRITE)) {
          batches.push({ ...part, seq: ++this.#seq });
        }
      }
    }
    let size = 0;
    for (const batch of batches) size += batch.counts.size;
    this.#inFlightSize += size;
    const outcomes = await Promise.allSettled(batches.map((batch) => this.#write(batch, now)));
    this.#inFlightSize -= size;
    const retry: Batch[] = [];
    let failure: unknown;
    let deferred = false;
    outcomes.forEach((outcome, index) => {
      const batch = batches[index];
      if (outcome.status === "rejected") {
        failure ??= outcome.reason;
        // Still unknown whether it ran: a resent batch stays unknown whatever this attempt says
        // (its first attempt may have run); a new one whose send failed for sure is merged back.
        const unknown = resending ||
          (outcome.reason instanceof RedisError && outcome.reason.outcomeUnknown);
        if (unknown) this.#unconfirmed.push(batch);
        else retry.push(batch);
        return;
      }
      const { status, rejected } = outcome.value;
      if (status === FlushStatus.Deferred) {
        deferred = true;
        retry.push(batch);
      } else if (status === FlushStatus.Discarded) {
        this.#reportDiscarded(batch);
      }
      for (const event of rejected) this.#reportRejected(batch, event);
    });
    if (retry.length > 0) accumulator.restore(retry);
    if (failure !== undefined) {
      this.#failures++;
      this.#retryLater(backoffMs(this.#failures - 1, RETRY_MIN_MS, RETRY_MAX_MS));
      throw failure instanceof RedisError
        ? failure
        : new RedisError(String(failure), { cause: failure });
    }
    this.#failures = 0;
    this.#reportRefused();
    if (deferred) this.#retryLater(DEFER_RETRY_MS);
    if (resending) {
      // The batches of unknown outcome are settled; what was logged meanwhile goes next.
      this.#again = true;
      return true;
    }
    return deferred;
  }

  #nothingPending(): boolean {
    return (this.#accumulator?.isEmpty ?? true) && this.#unconfirmed.length === 0;
  }

  #write(batch: NumberedBatch, now: number): Promise<FlushResult> {
    const interval = this.config.intervals[batch.intervalIndex];
    return this.#store.flush({
      group: this.name,
      interval,
      period: batch.period,
      counts: batch.counts,
      nowSeconds: now,
      graceSeconds: Math.min(MAX_DEFER_SECONDS, interval.seconds),
      writer: this.#writer,
      seq: batch.seq,
    });
  }

  /** Count a `log()` refused because `max_pending_keys` counters are pending; warn once per episode. */
  #refuse(count: number): void {
    if (this.#refusedNow === 0) {
      this.#warn(
        `Cannot keep counts of new events of group ${
          JSON.stringify(this.name)
        }: max_pending_keys (${this.config.maxPendingKeys}) counters wait for Redis; dropping them until Redis confirms`,
      );
    }
    this.#refusedNow += count;
    this.#refusedTotal += count;
  }

  /** After a successful flush: say how much was dropped since the cap was reached. */
  #reportRefused(): void {
    if (this.#refusedNow === 0) return;
    this.#warn(
      `Dropped ${this.#refusedNow} counts of group ${
        JSON.stringify(this.name)
      } while max_pending_keys (${this.config.maxPendingKeys}) counters waited for Redis`,
    );
    this.#refusedNow = 0;
  }

  /** Counts dropped because `max_pending_keys` counters waited for Redis, since this group was created. */
  get droppedCounts(): number {
    return this.#refusedTotal;
  }

  /** Counts that Redis refused because their counter held something that is not a count. */
  get rejectedCounts(): number {
    return this.#rejectedTotal;
  }

  #reportRejected(batch: Batch, event: string): void {
    this.#rejectedTotal += batch.counts.get(event) ?? 0;
    const interval = this.config.intervals[batch.intervalIndex].name;
    this.#warn(
      `Cannot add ${batch.counts.get(event)} to event ${JSON.stringify(event)} of group ${
        JSON.stringify(this.name)
      }, interval ${interval}: its counter in Redis holds a value that is not a count, or would overflow; left unchanged`,
    );
  }

  #reportDiscarded(batch: Batch): void {
    let total = 0;
    for (const count of batch.counts.values()) total += count;
    const interval = this.config.intervals[batch.intervalIndex].name;
    this.#warn(
      `Discarded ${total} counts of group ${
        JSON.stringify(this.name)
      }, interval ${interval}, period starting ${
        new Date(batch.period * 1000).toISOString()
      }: that period was rotated out of "last" before they reached Redis`,
    );
  }

  #retryLater(delayMs: number): void {
    if (this.#retryTimer !== undefined || this.#stopped) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#flushInBackground();
    }, delayMs);
    this.#retryTimer.unref();
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
    return bounded(this.#flushAll(), options, (reason) =>
      new RedisError(
        `Cannot confirm the counts of group ${
          JSON.stringify(this.name)
        }: Redis at ${this.#store.address} did not confirm them ${
          options.timeoutMs !== undefined && (reason as Error)?.name === "TimeoutError"
            ? `within ${options.timeoutMs / 1000} s`
            : "before the wait was aborted"
        }; ${this.pendingSize} counts stay pending and are written when it is back`,
        { cause: reason, outcomeUnknown: true },
      ));
  }

  async #flushAll(): Promise<void> {
    while (await this.#flushUntilSettled()) {
      await new Promise((resolve) => setTimeout(resolve, DEFER_RETRY_MS));
    }
  }

  async #flushUntilSettled(): Promise<boolean> {
    while (this.#inFlight !== undefined) await this.#inFlight.catch(() => undefined);
    if (this.#nothingPending()) return false;
    let deferred = false;
    this.#inFlight = (async () => {
      try {
        deferred = await this.#flushRound();
      } finally {
        this.#inFlight = undefined;
      }
    })();
    await this.#inFlight;
    return deferred;
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
      this.#warn(
        `Skipping event ${
          JSON.stringify(event)
        } of ${this.name}:${interval}:${slot.slot}: its value ${
          JSON.stringify(value.slice(0, 40))
        } is not a count`,
      );
    }
    return Object.fromEntries(slot.counts);
  }

  /** Count of `eventId` in the last finished `interval` (0 when it has none). */
  async getLastCount(eventId: string, interval: string): Promise<number> {
    this.#interval(interval);
    return await readCount(
      this.#store,
      counterKey(this.name, interval, LAST, eventId, this.#store.layout),
    ) ?? 0;
  }

  /** Count of `eventId` in the current `interval` as Redis has it (0 when it has none). */
  async getCurrentCount(eventId: string, interval: string): Promise<number> {
    this.#interval(interval);
    return await readCount(
      this.#store,
      counterKey(this.name, interval, CUR, eventId, this.#store.layout),
    ) ?? 0;
  }

  /**
   * Count of `eventId` in the current period of every interval: what Redis has plus what this
   * process has not written yet.
   */
  async getCurrentCounts(eventId: string): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    const now = this.#seconds();
    for (const [index, interval] of this.config.intervals.entries()) {
      const stored = await readCount(
        this.#store,
        counterKey(this.name, interval.name, CUR, eventId, this.#store.layout),
      ) ?? 0;
      result[interval.name] = stored + (this.#accumulator?.pendingCount(eventId, index, now) ?? 0);
    }
    return result;
  }

  /** Number of (interval, period, event) counts not yet confirmed by Redis (including those sent). */
  get pendingSize(): number {
    let size = (this.#accumulator?.size ?? 0) + this.#inFlightSize;
    for (const batch of this.#unconfirmed) size += batch.counts.size;
    return size;
  }

  /** Stop the timers after a last flush; later `log()` calls are ignored with a warning. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#boundaryTimer?.cancel();
    clearInterval(this.#syncTimer);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    try {
      await this.flush();
    } finally {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
    }
  }

  /** Stop retrying (the logger gave up waiting for Redis at close). */
  abandon(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
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
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Always `{}`. */
  getCounts(_interval: string, _options?: GetCountsOptions): Promise<Record<string, number>> {
    return Promise.resolve({});
  }
}
