/**
 * The write pipeline of one group: owns its pending counts (the accumulator and its
 * `max_pending_keys` cap), cuts them into numbered batches, resends batches of unknown outcome,
 * lets counts wait for the master to open their period, backs off after failures, runs the
 * boundary and `sync_interval` timers, and closes or gives up. `EventGroup` decides what is
 * counted; this module decides when and how it reaches Redis.
 *
 * Timers only where they are needed: in Deno 2.9 the global `setTimeout`, `setInterval`,
 * `setImmediate` and even `clearTimeout(undefined)` are Node's timers, loaded at their first use
 * (~5 ms and ~4 MiB), which a one-shot writer (`ecl log`: log, write, close) does not need. In
 * direct mode the write is a microtask, and the boundary timer runs only while counts wait in the
 * open window (a write is under way or failed); retries and backoff set timers only after a
 * failure or a Deferred reply. Cached mode runs its boundary and `sync_interval` timers from the
 * start.
 *
 * Exactly once: a batch of unknown outcome is resent with its number for at most
 * {@link RESEND_WINDOW_MS} after its first send (Redis refuses it later, by its own clock), so
 * Redis needs to remember a writer's last number only that long after its last write (plus a
 * margin for clock skew: `WRITER_RECORD_TTL_MS`). A pipeline that closes with every batch settled
 * releases those records at once.
 * @module
 */
import { Accumulator, type Batch, REFUSED, splitBatch } from "./accumulator.ts";
import type { GroupConfig } from "./config.ts";
import { RedisError } from "./errors.ts";
import { isoTime } from "./_message.ts";
import { nextBoundary } from "./interval.ts";
import { FlushStatus } from "./scripts.ts";
import type { FlushResult, Store } from "./store.ts";
import { RESEND_WINDOW_MS } from "./layouts/layout.ts";
import { backoffMs, runAt, type Timer } from "./_timer.ts";
import { expiryText, type WaitOptions, withTimeout } from "./_timeout.ts";
import { unrefTimer } from "./_runtime.ts";

/** Longest wait for the master to open a new period before counts of it go to `cur` anyway. */
const MAX_DEFER_SECONDS = 2;
/** Most events in one script call (one batch). */
const MAX_EVENTS_PER_WRITE = 1000;
/** Pause before counts that waited for the master are offered again. */
const DEFER_RETRY_MS = 50;
/** First and largest pause before a failed flush is tried again. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;

/** A batch with the number that makes its write idempotent. */
interface NumberedBatch extends Batch {
  readonly seq: number;
  /** Wall-clock time of its first send (UNIX ms; compared with Redis's clock, not `now()`). */
  readonly firstSentMs: number;
}

/**
 * What one round of writes leaves to do: nothing now (`done`), another round at once (`again`: it
 * only settled batches of unknown outcome), or wait for the master to open a period (`deferred`).
 */
type Next = "done" | "again" | "deferred";

/** What a pipeline needs from its group and logger. */
export interface PipelineContext {
  /** The shared Redis connection. */
  readonly store: Store;
  /** Where warnings go. */
  readonly warn: (message: string) => void;
  /** Current time in milliseconds. */
  readonly now: () => number;
  /** ID of this writer in Redis (unique per logger instance). */
  readonly writer: string;
}

/** Pending counts of one group and everything that brings them to Redis, exactly once. */
export class WritePipeline {
  readonly #config: GroupConfig;
  readonly #store: Store;
  readonly #warn: (message: string) => void;
  readonly #now: () => number;
  readonly #writer: string;
  /**
   * Cached mode (`sync_interval` or `sync_limit` set): counts are written on those and at every
   * boundary. Direct mode: as soon as the code that logged them yields (a microtask), or, while a
   * write is under way, in the next one.
   */
  readonly cached: boolean;
  #accumulator: Accumulator | undefined;
  /** Direct mode: a write is due at the end of the current task (a microtask is queued). */
  #writeScheduled = false;
  /** Whether the accumulator's open window holds counts (set by `add()`, cleared by sealing). */
  #windowOpen = false;
  /** When (seconds) the open window was stamped with its periods. */
  #windowStampedAt = 0;
  /** Set by `close()`: no boundary timer is armed any more. */
  #closing = false;
  /** The one loop of write rounds under way, resolving to whether counts wait for the master. */
  #running: Promise<boolean> | undefined;
  /** Set by callers that joined the loop under way: it runs one more round for their counts. */
  #again = false;
  #failures = 0;
  #boundaryTimer: Timer | undefined;
  #syncTimer: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the logger gave up on a flush at close: no more retries. */
  #stopped = false;
  /** Ends the pause between two attempts of `close()` early (when it is abandoned). */
  #wakeClose: (() => void) | undefined;
  #inFlightSize = 0;
  /** Counts refused since `max_pending_keys` was last reached, and in all. */
  #refusedNow = 0;
  #refusedTotal = 0;
  #rejectedTotal = 0;
  /** Counts Redis refused for their period (too early, too late) in this episode, and in all. */
  #outOfWindowNow = 0;
  #outOfWindowTotal = 0;
  /** Batches sent whose outcome is unknown; resent first, with their numbers. */
  #unconfirmed: NumberedBatch[] = [];
  /** Number of the last batch handed out; the flush script skips numbers it has seen. */
  #seq = 0;

  /** Create the pipeline of a group; nothing runs until {@link WritePipeline.start}. */
  constructor(config: GroupConfig, context: PipelineContext) {
    this.#config = config;
    this.#store = context.store;
    this.#warn = context.warn;
    this.#now = context.now;
    this.#writer = context.writer;
    this.cached = config.syncIntervalMs !== undefined || config.syncLimit !== undefined;
  }

  #seconds(): number {
    return this.#now() / 1000;
  }

  /**
   * The pending counts; created on first use, in cached mode with the group's timers (direct mode
   * arms its boundary timer only while counts wait: see {@link WritePipeline.add}).
   */
  start(): Accumulator {
    if (this.#accumulator === undefined) {
      this.#windowStampedAt = this.#seconds();
      this.#accumulator = new Accumulator(
        this.#config.intervals.map((i) => i.seconds),
        this.#windowStampedAt,
        this.#config.maxPendingKeys,
      );
      if (this.cached) this.#scheduleBoundary();
      if (this.#config.syncIntervalMs !== undefined) {
        this.#syncTimer = setInterval(() => this.writeInBackground(), this.#config.syncIntervalMs);
        unrefTimer(this.#syncTimer);
      }
    }
    return this.#accumulator;
  }

  /**
   * Add `count` to an event that is not in the open window yet (`EventGroup.log()`'s slow path;
   * its hot path adds to the window directly); returns the event's count in the window, or
   * {@link REFUSED}. Without a boundary timer (direct mode, nothing waiting), nothing has kept an
   * empty window's periods current: its first count stamps it with the periods of now.
   */
  add(eventId: string, count: number): number {
    const accumulator = this.start();
    if (!this.#windowOpen && this.#boundaryTimer === undefined) {
      this.#sealed(accumulator, this.#seconds()); // empty: only stamps the window anew
    }
    const total = accumulator.add(eventId, count);
    if (total !== REFUSED) this.#windowOpen = true;
    return total;
  }

  /** Seal the open window at `now` (its counts go to their batches; a new window opens). */
  #sealed(accumulator: Accumulator, now: number): void {
    accumulator.seal(now);
    this.#windowOpen = false;
    this.#windowStampedAt = now;
  }

  /**
   * Direct mode: write what is pending once the code that logged it yields (a microtask, once per
   * task; no timer). While a write is under way, its counts join the loop's next round.
   */
  writeSoon(): void {
    if (this.#writeScheduled) return;
    this.#writeScheduled = true;
    queueMicrotask(() => {
      this.#writeScheduled = false;
      this.writeInBackground();
      this.#watchBoundary();
    });
  }

  /** Write what is pending without waiting; a failure leaves it pending and schedules a retry. */
  writeInBackground(): void {
    this.#write().catch(() => {
      // Counts stay pending and a retry is scheduled; the store has warned about the outage.
    });
  }

  /**
   * Arm the boundary timer for the first boundary after `fromSeconds`: it seals the open window
   * there, so counts stay in the periods they were logged in however late they are written.
   * Cached mode writes then and arms the next one; direct mode leaves the next window to
   * {@link WritePipeline.add} and {@link WritePipeline.#watchBoundary}.
   */
  #scheduleBoundary(fromSeconds = this.#seconds()): void {
    const next = Math.min(
      ...this.#config.intervals.map((i) => nextBoundary(fromSeconds, i.seconds)),
    );
    this.#boundaryTimer = runAt(next * 1000, () => {
      this.#boundaryTimer = undefined;
      if (this.#accumulator !== undefined) this.#sealed(this.#accumulator, this.#seconds());
      if (!this.cached) return;
      this.writeInBackground();
      this.#scheduleBoundary();
    }, this.#now);
  }

  /**
   * Direct mode: run the boundary timer exactly while counts wait in the open window (a write is
   * under way, or failed, and they wait for the next round): a boundary may pass before they are
   * taken. Once the window is empty, no timer runs: the next count stamps a new window
   * ({@link WritePipeline.add}). Called after a write starts and after a write loop ends.
   */
  #watchBoundary(): void {
    if (this.cached) return;
    if (this.#windowOpen && !this.#closing) {
      // From when the window was stamped: a boundary passed since then fires the timer at once.
      if (this.#boundaryTimer === undefined) this.#scheduleBoundary(this.#windowStampedAt);
    } else if (this.#boundaryTimer !== undefined) {
      this.#boundaryTimer.cancel();
      this.#boundaryTimer = undefined;
    }
  }

  /**
   * The one write loop: rounds until nothing more is to be written now, one loop at a time. A
   * caller that comes while it runs joins it, and it runs one more round for the caller's counts.
   * @returns whether counts wait for the master to open their period
   */
  #write(): Promise<boolean> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    const run = async () => {
      try {
        for (;;) {
          this.#again = false;
          const next = await this.#round();
          if (next !== "again" && !this.#again) return next === "deferred";
        }
      } finally {
        this.#running = undefined;
        this.#watchBoundary();
      }
    };
    this.#running = run();
    return this.#running;
  }

  /**
   * Write every pending batch, one atomic script call per (interval, period), all pipelined.
   * Batches whose outcome is unknown (the connection broke after sending) are resent first, as
   * they were and with their numbers, so Redis adds each at most once.
   */
  async #round(): Promise<Next> {
    const accumulator = this.#accumulator;
    if (accumulator === undefined || this.#nothingPending()) return "done";
    const now = this.#seconds();
    // Batches of unknown outcome go alone, in order: no later number may reach Redis before they
    // are settled, or the script would take one that never ran for a duplicate.
    const resending = this.#unconfirmed.length > 0;
    const batches = this.#unconfirmed;
    this.#unconfirmed = [];
    if (!resending) {
      const firstSentMs = Date.now();
      this.#windowOpen = false; // take() seals it
      this.#windowStampedAt = now;
      for (const batch of accumulator.take(now)) {
        for (const part of splitBatch(batch, MAX_EVENTS_PER_WRITE)) {
          batches.push({ ...part, seq: ++this.#seq, firstSentMs });
        }
      }
    }
    let size = 0;
    for (const batch of batches) size += batch.counts.size;
    this.#inFlightSize += size;
    const outcomes = await Promise.allSettled(
      batches.map((batch) => this.#send(batch, now, resending)),
    );
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
      } else if (status === FlushStatus.Expired) {
        this.#reportExpired(batch);
      } else if (status === FlushStatus.TooEarly || status === FlushStatus.TooLate) {
        this.#reportOutOfWindow(batch, status, outcome.value.refused ?? 0);
      }
      for (const event of rejected) this.#reportRejected(batch, event);
      for (const event of outcome.value.totalsRejected ?? []) {
        this.#warn(
          `Cannot add ${batch.counts.get(event)} to the total of event ${
            JSON.stringify(event)
          } of group ${
            JSON.stringify(this.#config.name)
          }: its total in Redis holds a value that is not a count, or would overflow; left unchanged`,
        );
      }
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
    if (!outcomes.some((o) => o.status === "fulfilled" && o.value.refused)) this.#endOutOfWindow();
    if (deferred) this.#retryLater(DEFER_RETRY_MS);
    // After settling the batches of unknown outcome, what was logged meanwhile goes next.
    return resending ? "again" : deferred ? "deferred" : "done";
  }

  #nothingPending(): boolean {
    return (this.#accumulator?.isEmpty ?? true) && this.#unconfirmed.length === 0;
  }

  #send(batch: NumberedBatch, now: number, resending: boolean): Promise<FlushResult> {
    const interval = this.#config.intervals[batch.intervalIndex];
    return this.#store.flush({
      group: this.#config,
      interval,
      period: batch.period,
      counts: batch.counts,
      nowSeconds: now,
      graceSeconds: Math.min(MAX_DEFER_SECONDS, interval.seconds),
      writer: this.#writer,
      seq: batch.seq,
      resendDeadlineMs: resending ? batch.firstSentMs + RESEND_WINDOW_MS : undefined,
    });
  }

  /** Count a `log()` refused because `max_pending_keys` counters are pending; warn once per episode. */
  refuse(count: number): void {
    if (this.#refusedNow === 0) {
      this.#warn(
        `Cannot keep counts of new events of group ${
          JSON.stringify(this.#config.name)
        }: max_pending_keys (${this.#config.maxPendingKeys}) counters wait for Redis; dropping them until Redis confirms`,
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
        JSON.stringify(this.#config.name)
      } while max_pending_keys (${this.#config.maxPendingKeys}) counters waited for Redis`,
    );
    this.#refusedNow = 0;
  }

  /** Counts dropped because `max_pending_keys` counters waited for Redis. */
  get droppedCounts(): number {
    return this.#refusedTotal;
  }

  /** Counts that Redis refused because their counter held something that is not a count. */
  get rejectedCounts(): number {
    return this.#rejectedTotal;
  }

  #reportRejected(batch: Batch, event: string): void {
    this.#rejectedTotal += batch.counts.get(event) ?? 0;
    const interval = this.#config.intervals[batch.intervalIndex].name;
    this.#warn(
      `Cannot add ${batch.counts.get(event)} to event ${JSON.stringify(event)} of group ${
        JSON.stringify(this.#config.name)
      }, interval ${interval}: its counter in Redis holds a value that is not a count, or would overflow; left unchanged`,
    );
  }

  /** Counts that Redis refused because their period was too early or too late by its clock. */
  get outOfWindowCounts(): number {
    return this.#outOfWindowTotal;
  }

  /** The first refusal of an episode warns; the episode's end says how many counts in all. */
  #reportOutOfWindow(batch: Batch, status: FlushStatus, refused: number): void {
    this.#outOfWindowTotal += refused;
    const first = this.#outOfWindowNow === 0;
    this.#outOfWindowNow += refused;
    if (!first) return;
    const interval = this.#config.intervals[batch.intervalIndex];
    const why = status === FlushStatus.TooEarly
      ? "it starts later than Redis's clock allows (this machine's clock runs ahead)"
      : `Redis's clock says it left the kept history (${this.#config.history} periods)`;
    this.#warn(
      `Cannot write ${refused} counts of group ${
        JSON.stringify(this.#config.name)
      }, interval ${interval.name}, period ${
        isoTime(batch.period)
      }: ${why}; dropped (further refusals are counted until a write succeeds)`,
    );
  }

  #endOutOfWindow(): void {
    if (this.#outOfWindowNow === 0) return;
    this.#warn(
      `Dropped ${this.#outOfWindowNow} counts of group ${
        JSON.stringify(this.#config.name)
      } whose period Redis's clock refused; writes succeed again`,
    );
    this.#outOfWindowNow = 0;
  }

  #reportDiscarded(batch: Batch): void {
    let total = 0;
    for (const count of batch.counts.values()) total += count;
    const interval = this.#config.intervals[batch.intervalIndex].name;
    this.#warn(
      `Discarded ${total} counts of group ${
        JSON.stringify(this.#config.name)
      }, interval ${interval}, period starting ${
        isoTime(batch.period)
      }: that period was rotated out of "last" before they reached Redis`,
    );
  }

  #reportExpired(batch: Batch): void {
    let total = 0;
    for (const count of batch.counts.values()) total += count;
    const interval = this.#config.intervals[batch.intervalIndex].name;
    this.#warn(
      `Gave up ${total} counts of group ${
        JSON.stringify(this.#config.name)
      }, interval ${interval}: Redis did not confirm them within ${
        RESEND_WINDOW_MS / 1000
      } s of their first write, so they were counted once or not at all (never twice)`,
    );
  }

  #cancelRetry(): void {
    if (this.#retryTimer === undefined) return; // clearTimeout(undefined) loads Node's timers
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #retryLater(delayMs: number): void {
    if (this.#retryTimer !== undefined || this.#stopped) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.writeInBackground();
    }, delayMs);
    unrefTimer(this.#retryTimer);
  }

  /**
   * Write every count pending now; resolves when Redis has confirmed them. Counts of a period
   * that the master has not opened yet wait for it (at most 2 s). While Redis cannot be reached,
   * waits for it, unless `bound` ends the wait first.
   *
   * @throws {RedisError} when Redis refused or lost the write, or when the wait ended (`cause`:
   * the `TimeoutError` or the signal's reason); the counts stay pending and are retried in the
   * background
   */
  flush(bound: WaitOptions = {}): Promise<void> {
    return withTimeout(this.#flushAll(), bound, (reason) => {
      throw new RedisError(
        `Cannot confirm the counts of group ${
          JSON.stringify(this.#config.name)
        }: Redis at ${this.#store.address} did not confirm them ${
          expiryText(bound, reason)
        }; ${this.pendingSize} counts stay pending and are written when it is back`,
        { cause: reason, outcomeUnknown: true },
      );
    });
  }

  /**
   * Write until nothing is pending, waiting for the master while counts are Deferred. Only once no
   * loop runs is "nothing pending" true: a running loop's batches are in flight, in neither the
   * accumulator nor the unconfirmed batches, and a Deferred reply brings them back.
   */
  async #flushAll(): Promise<void> {
    for (;;) {
      // A loop under way may have taken its batches before the caller's last counts, and its
      // failure is not the caller's: let it end, then write (or join what started meanwhile).
      // Checked where this resumes, not in a helper of its own: the caller's last log() may
      // have started a loop (a microtask) while such a helper's promise resolved.
      while (this.#running !== undefined) await this.#running.catch(() => undefined);
      if (this.#nothingPending()) return;
      if (!await this.#write()) return;
      // Deferred: this flush offers them again itself, after the same pause as the retry timer
      // (which would only add a round of its own meanwhile).
      this.#cancelRetry();
      await new Promise((resolve) => setTimeout(resolve, DEFER_RETRY_MS));
    }
  }

  /**
   * Count of `eventId` not yet written in the current period of the interval at `intervalIndex`.
   */
  pendingCount(eventId: string, intervalIndex: number): number {
    return this.#accumulator?.pendingCount(eventId, intervalIndex, this.#seconds()) ?? 0;
  }

  /** Number of (interval, period, event) counts not yet confirmed by Redis (including those sent). */
  get pendingSize(): number {
    let size = (this.#accumulator?.size ?? 0) + this.#inFlightSize;
    for (const batch of this.#unconfirmed) size += batch.counts.size;
    return size;
  }

  /**
   * Stop the timers, write what is pending and settle every batch of unknown outcome (retrying
   * with backoff until Redis answers, or {@link WritePipeline.abandon}), then release this
   * writer's records in Redis: nothing is left to resend, so nothing needs them.
   *
   * @throws {RedisError} when Redis refused the last counts, or the close was abandoned
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#boundaryTimer?.cancel();
    this.#boundaryTimer = undefined;
    if (this.#syncTimer !== undefined) clearInterval(this.#syncTimer);
    this.#syncTimer = undefined;
    this.#cancelRetry();
    try {
      for (let failures = 0;; failures++) {
        try {
          await this.#flushAll();
          break;
        } catch (error) {
          // A refusal will not change; a lost connection or reply may (a resend settles it).
          if (this.#stopped || (error instanceof RedisError && error.refused)) throw error;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, backoffMs(failures, RETRY_MIN_MS, RETRY_MAX_MS));
            this.#wakeClose = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.#wakeClose = undefined;
          if (this.#stopped) throw error;
        }
      }
    } finally {
      this.#cancelRetry();
    }
    await this.#release();
  }

  /**
   * Release this writer's records once every batch it numbered is settled. Only then: a record
   * released while a batch of unknown outcome could still be resent would let the resend count
   * twice. Hence not in the same step as the last write either, whose reply may be lost. Best
   * effort: a record not released expires with its TTL.
   */
  async #release(): Promise<void> {
    while (this.#running !== undefined) await this.#running.catch(() => undefined);
    if (this.#seq === 0 || !this.#nothingPending() || this.#stopped) return;
    try {
      await this.#store.releaseWriter(this.#config, this.#writer, this.#seq);
    } catch {
      // Redis is gone or refused (a lost reply is harmless: the release is idempotent). The
      // records expire with their TTL, which bounds them the same way.
    }
  }

  /** Stop retrying (the logger gave up waiting for Redis at close). */
  abandon(): void {
    this.#stopped = true;
    this.#cancelRetry();
    this.#wakeClose?.();
  }
}
