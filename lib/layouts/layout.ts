/**
 * The seam between what ecl counts and how the counts sit in Redis: one {@link Layout} per layout
 * (`python`, `periods`), each in its own module. Code above the store asks a group's layout and never
 * branches on its name; the store sends what the layout asks through {@link Commands}.
 * @module
 */
import type { GroupConfig, IntervalConfig } from "../config.ts";
import type { Slot } from "../keys.ts";
import { type FlushStatus, RELEASE_WRITER_SCRIPT } from "../scripts.ts";

/**
 * How long after its first send a writer may resend a batch of unknown outcome (ms). A resend
 * that reaches Redis later is refused (`FlushStatus.Expired`, judged by Redis's clock) and its
 * counts are given up with a warning: written once or not at all, never twice. Long enough to ride
 * out a Redis restart or a Sentinel failover; it bounds how long a writer's records outlive it.
 */
export const RESEND_WINDOW_MS = 300_000;

/** Allowance for a writer's clock running ahead of Redis's. */
export const CLOCK_SKEW_MS = 60_000;

/**
 * How long Redis keeps a writer's record of its last batch number after its last write (ms):
 * {@link RESEND_WINDOW_MS} + {@link CLOCK_SKEW_MS}, so that every resend Redis accepts finds the
 * record of its first send. Every layout gives its writer records this TTL.
 */
export const WRITER_RECORD_TTL_MS = RESEND_WINDOW_MS + CLOCK_SKEW_MS;

/**
 * The interval whose batches carry a `totals: true` group's totals: its shortest (interval lengths
 * of a group are distinct, so it is one). Every logged count is in exactly one batch of each
 * interval, so adding the batches of one interval to the totals adds every count once.
 */
export function totalsInterval(group: GroupConfig): IntervalConfig {
  return group.intervals.reduce((shortest, interval) =>
    interval.seconds < shortest.seconds ? interval : shortest
  );
}

/** Whether batches of (group, interval) add to the group's totals (see {@link totalsInterval}). */
export function carriesTotals(group: GroupConfig, interval: IntervalConfig): boolean {
  return group.totals && totalsInterval(group).seconds === interval.seconds;
}

/** One batch to write: counts of one period of one (group, interval). */
export interface FlushRequest {
  /** The group. */
  readonly group: GroupConfig;
  /** The interval. */
  readonly interval: IntervalConfig;
  /** Start of the period the counts were logged in (UNIX seconds). */
  readonly period: number;
  /** Event ID → count. */
  readonly counts: ReadonlyMap<string, number>;
  /** The writer's clock (UNIX seconds). */
  readonly nowSeconds: number;
  /** How long counts of a period the master has not opened yet wait for it (seconds). */
  readonly graceSeconds: number;
  /** ID of the writer (one per logger instance). */
  readonly writer: string;
  /** The writer's number for this batch; increases with every new batch. */
  readonly seq: number;
  /**
   * For a resend: the wall-clock time (UNIX ms) after which Redis refuses it as `Expired`, its
   * first send plus {@link RESEND_WINDOW_MS}. `undefined` for a first send.
   */
  readonly resendDeadlineMs?: number;
}

/** What writing a batch did. */
export interface FlushResult {
  /** Where the counts went, or why they did not. */
  readonly status: FlushStatus;
  /** Events whose counter holds a value that is not an integer (or would overflow): not added. */
  readonly rejected: readonly string[];
  /** Events whose total holds a value that is not an integer (or would overflow): not added. */
  readonly totalsRejected?: readonly string[];
  /**
   * Sum of the counts not written because Redis's clock put their period outside what the layout
   * accepts (`TooEarly`, `TooLate`); on a cluster possibly part of the batch. 0 otherwise.
   */
  readonly refused?: number;
}

/** Counts of one finished period, for a history read. */
export interface HistoryPeriod {
  /** Start of the period (UNIX seconds). */
  readonly start: number;
  /** End of the period (UNIX seconds): start + the interval. */
  readonly end: number;
  /** Event ID → count (predeclared events 0 when none happened). */
  readonly counts: ReadonlyMap<string, number>;
}

/** The raw values of one period as Redis holds them, and the span of time they cover. */
export interface PeriodValues {
  /** Event ID → stored value (`null`: no count). Not judged: the reader decides what is a count. */
  readonly values: ReadonlyMap<string, string | null>;
  /** Start of the span (UNIX seconds), when known. */
  readonly start: number | undefined;
  /** End of the span (UNIX seconds), when known. */
  readonly end: number | undefined;
}

/** What a layout may send; the store connects, caches scripts and words the errors. */
export interface Commands {
  /** Run a Lua script atomically (all `keys` in one hash slot on a cluster). */
  run(script: string, keys: string[], args: string[]): Promise<unknown>;
  /** Values of `keys` (`null` for a missing key). */
  getValues(keys: readonly string[]): Promise<(string | null)[]>;
  /** Every key matching a `SCAN MATCH` pattern (not on a cluster: see {@link Commands.run}). */
  scan(pattern: string): Promise<string[]>;
  /** `HGETALL key`: field → value (empty for a missing key). */
  hGetAll(key: string): Promise<Record<string, string>>;
  /** Whether Redis is a cluster (a script's keys must then share one hash slot). */
  readonly cluster: boolean;
}

/**
 * Release a writer's batch-number `keys` (one script each: on a cluster they may sit in different
 * hash slots), each only if it holds `lastSeq` or less. False when the ACL did not allow one
 * (that key then expires).
 */
export async function releaseWriterKeys(
  redis: Commands,
  keys: readonly string[],
  lastSeq: number,
): Promise<boolean> {
  const replies = await Promise.all(
    keys.map((key) => redis.run(RELEASE_WRITER_SCRIPT, [key], [String(lastSeq)])),
  );
  return replies.every((reply) => Number(reply) >= 0);
}

/** How a group's counts sit in Redis: its keys, its write script, its reads, its boundary. */
export interface Layout {
  /** Its name, as in the configuration (`layout:`), for messages. */
  readonly name: string;
  /** Whether a boundary needs a master to run {@link Layout.rotate}; `false`: it costs nothing. */
  readonly rotates: boolean;
  /** Whether Redis keeps finished periods before `last`, for {@link Layout.readHistory}. */
  readonly keepsHistory: boolean;
  /**
   * Add one batch, in one atomic step, exactly once per (writer, seq).
   * @throws whatever the command threw; the store words it
   */
  write(redis: Commands, request: FlushRequest): Promise<FlushResult>;
  /**
   * Release what the writer keeps in Redis for exactly-once resends (its records of its last batch
   * numbers in `group`), once it has nothing left to resend: every batch up to `lastSeq` settled
   * and no later one will come. Idempotent, and never removes the record of a batch after
   * `lastSeq`. Without it the records expire {@link WRITER_RECORD_TTL_MS} after the last write.
   * @returns whether every record is gone (`false`: the ACL refused the removal; they expire)
   * @throws whatever the command threw; the store words it
   */
  releaseWriter(
    redis: Commands,
    group: GroupConfig,
    writer: string,
    lastSeq: number,
  ): Promise<boolean>;
  /**
   * What a boundary of (group, interval) does, idempotently.
   * @returns the number of events moved, or -1 when that boundary was done already
   */
  rotate(
    redis: Commands,
    group: GroupConfig,
    interval: IntervalConfig,
    boundary: number,
  ): Promise<number>;
  /**
   * The totals of a `totals: true` group: event ID → stored value, every field of every hash that
   * holds them in this layout (summed where there are several). Not judged: the reader decides.
   */
  readTotals(redis: Commands, group: GroupConfig): Promise<Map<string, string>>;
  /**
   * Read one period of (group, interval): `last` (the last finished) or `cur` (the current one),
   * for `events` and, with `listAll`, every event that has a count.
   */
  readPeriod(
    redis: Commands,
    group: GroupConfig,
    interval: IntervalConfig,
    slot: Slot,
    events: ReadonlySet<string>,
    listAll: boolean,
  ): Promise<PeriodValues>;
  /**
   * The last `count` finished periods of (group, interval), oldest first, as Redis's clock has it.
   * @throws {RangeError} when the layout keeps no history, or fewer periods than `count`
   */
  readHistory(
    redis: Commands,
    group: GroupConfig,
    interval: IntervalConfig,
    count: number,
  ): Promise<HistoryPeriod[]>;
  /**
   * Whether (group, interval) has counts in this layout's keys (a cheap probe, no SCAN): at start,
   * a group configured with another layout is warned about them.
   */
  hasCounts(redis: Commands, group: GroupConfig, interval: IntervalConfig): Promise<boolean>;
}
