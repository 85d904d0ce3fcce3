/**
 * The master: rotates every (group, interval) whose layout rotates (`python`; `periods` groups
 * need no master and are skipped) at every epoch-aligned boundary. Rotation is
 * idempotent (guarded by `cur:@ts` in the script), so several masters, or a restarted one, never
 * rotate a boundary twice.
 * @module
 */
import type { EclConfig, GroupConfig, IntervalConfig } from "./config.ts";
import { nextBoundary, periodStart } from "./interval.ts";
import { RedisError } from "./errors.ts";
import type { Store } from "./store.ts";
import { backoffMs, runAt, type Timer } from "./_timer.ts";
import type { Leadership } from "./leadership.ts";

/** First and largest pause before a failed rotation is tried again. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1000;

/** What one rotation did, for logs. */
export interface RotationReport {
  /** Group name. */
  readonly group: string;
  /** Interval name. */
  readonly interval: string;
  /** Boundary rotated at (UNIX seconds). */
  readonly boundary: number;
  /** Events rotated, or -1 when that boundary was rotated already (by another master). */
  readonly events: number;
  /** Time the rotation took, in milliseconds. */
  readonly durationMs: number;
  /** Whether this master held the lease (a standby rotates only what the leader missed). */
  readonly leader: boolean;
}

/** Options of {@link Master}. */
export interface MasterOptions {
  /** Called after every rotation. */
  onRotation?: (report: RotationReport) => void;
  /** Called when a rotation fails (it is retried). */
  onError?: (message: string) => void;
  /** Clock in milliseconds. @default Date.now */
  now?: () => number;
  /**
   * The lease this master competes for. Without one, it rotates every boundary on time, as a
   * leader would.
   */
  leadership?: Leadership;
}

/**
 * How long a standby waits after a boundary before it rotates what the leader did not: short
 * enough that loggers are still holding the new period's counts for the rotation (they wait up to
 * min(2 s, interval)), long enough for a live leader to be first.
 */
export function standbyDelayMs(intervalSeconds: number): number {
  return Math.min(intervalSeconds * 250, 500);
}

/** Rotates the counters of every configured (group, interval) on time. */
export class Master {
  readonly #config: EclConfig;
  readonly #store: Store;
  readonly #options: MasterOptions;
  readonly #now: () => number;
  /** One timer per instant (ms), shared by every rotation due then: one wake-up per boundary. */
  readonly #timers = new Map<number, { timer: Timer; callbacks: (() => void)[] }>();
  readonly #running = new Set<Promise<void>>();
  #stopped = false;

  /** Create a master; {@link Master.start} starts it. */
  constructor(config: EclConfig, store: Store, options: MasterOptions = {}) {
    this.#config = config;
    this.#store = store;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The groups whose layout needs a master at a boundary (`python`); others are skipped. */
  get rotatedGroups(): GroupConfig[] {
    return [...this.#config.groups.values()].filter((group) => this.#store.layoutOf(group).rotates);
  }

  /**
   * Rotate every (group, interval) whose current period started after its `cur:@ts` (a master was
   * down over a boundary, or none ever ran), then keep rotating at every boundary.
   */
  async start(): Promise<void> {
    const now = this.#now() / 1000;
    const catchUp: Promise<void>[] = [];
    for (const group of this.rotatedGroups) {
      for (const interval of group.intervals) {
        catchUp.push(this.#rotate(group, interval, periodStart(now, interval.seconds), 0, true));
      }
    }
    try {
      await Promise.all(catchUp);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  #isLeader(): boolean {
    return this.#options.leadership?.isLeader ?? true;
  }

  #schedule(group: GroupConfig, interval: IntervalConfig, boundary: number): void {
    this.#at(boundary * 1000, () => {
      if (this.#isLeader()) {
        this.#track(this.#rotate(group, interval, boundary, 0));
        return;
      }
      this.#at(boundary * 1000 + standbyDelayMs(interval.seconds), () => {
        this.#track(this.#rotate(group, interval, boundary, 0));
      });
    });
  }

  /**
   * Run `callback` at `atMs` unless the master stops first. Callbacks due at the same instant
   * (the groups sharing an interval length, say) share one timer, so their rotations are sent
   * in one turn and an idle master wakes once per boundary.
   */
  #at(atMs: number, callback: () => void): void {
    if (this.#stopped) return;
    const due = this.#timers.get(atMs);
    if (due) {
      due.callbacks.push(callback);
      return;
    }
    const callbacks = [callback];
    const timer = runAt(atMs, () => {
      this.#timers.delete(atMs);
      for (const run of callbacks) run();
    }, this.#now);
    this.#timers.set(atMs, { timer, callbacks });
  }

  #track(rotation: Promise<void>): void {
    this.#running.add(rotation);
    rotation.finally(() => this.#running.delete(rotation));
  }

  async #rotate(
    group: GroupConfig,
    interval: IntervalConfig,
    boundary: number,
    failures: number,
    starting = false,
  ): Promise<void> {
    if (this.#stopped) return;
    const started = performance.now();
    try {
      const events = await this.#store.rotate(group, interval, boundary);
      this.#options.onRotation?.({
        group: group.name,
        interval: interval.name,
        boundary,
        events,
        durationMs: performance.now() - started,
        leader: this.#isLeader(),
      });
    } catch (error) {
      if (this.#stopped) return;
      // At start, a refusal (NOPERM, a script error) is a setup problem: fail instead of retrying.
      if (starting && error instanceof RedisError && error.refused) throw error;
      this.#options.onError?.((error as Error).message);
      // Retry; if boundaries passed meanwhile, rotate once, to the latest one.
      const delay = backoffMs(failures, RETRY_MIN_MS, RETRY_MAX_MS);
      this.#at(this.#now() + delay, () => {
        const latest = Math.max(boundary, periodStart(this.#now() / 1000, interval.seconds));
        this.#track(this.#rotate(group, interval, latest, failures + 1));
      });
      return;
    }
    // After an outage several boundaries may have passed: rotate once, to the latest of them.
    const latest = periodStart(this.#now() / 1000, interval.seconds);
    this.#schedule(
      group,
      interval,
      latest > boundary ? latest : nextBoundary(boundary, interval.seconds),
    );
  }

  /** Stop rotating; waits for rotations under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const { timer } of this.#timers.values()) timer.cancel();
    this.#timers.clear();
    await Promise.allSettled([...this.#running]);
  }
}
