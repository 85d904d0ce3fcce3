/**
 * The `periods` layout: counts of one (group, interval, period) in hashes named by the period's
 * start, sharded by a stable hash of the event ID (keys and rules in `periods_keys.ts`, scripts in
 * `periods_scripts.ts`, figures in docs/layouts.md). A boundary costs nothing: "current" and "last"
 * are periods chosen on Redis's clock (`TIME`), old periods leave by expiry. No master needed;
 * works on Redis Cluster (one call per shard there).
 * @module
 */
import type { GroupConfig, IntervalConfig } from "../config.ts";
import { CUR, type Slot } from "../keys.ts";
import { FlushStatus } from "../scripts.ts";
import {
  carriesTotals,
  type Commands,
  type FlushRequest,
  type FlushResult,
  type HistoryPeriod,
  type Layout,
  type PeriodValues,
  releaseWriterKeys,
} from "./layout.ts";
import {
  batchWriterKey,
  currentPeriod,
  periodKey,
  periodStarts,
  splitByShard,
  writerKey,
} from "./periods_keys.ts";
import {
  EXISTS_SCRIPT,
  FIELDS_CHUNK,
  FIELDS_SCRIPT,
  type PeriodsRedis,
  PeriodsWriteStatus,
  readPeriods,
  readTotals,
  TIME_SCRIPT,
  writeBatch,
} from "./periods_scripts.ts";

/**
 * Longest write grace (s): how far ahead of Redis's clock a writer's period may start. A writer
 * whose clock runs a few seconds ahead would otherwise lose what it logs just before each boundary.
 */
export const MAX_GRACE_SECONDS = 60;

/** Write grace of an interval: `min(length, 60 s)`. */
export function graceSeconds(interval: IntervalConfig): number {
  return Math.min(interval.seconds, MAX_GRACE_SECONDS);
}

const STATUS: Record<PeriodsWriteStatus, FlushStatus> = {
  [PeriodsWriteStatus.Written]: FlushStatus.Current,
  [PeriodsWriteStatus.TooLate]: FlushStatus.TooLate,
  [PeriodsWriteStatus.Duplicate]: FlushStatus.Duplicate,
  [PeriodsWriteStatus.TooEarly]: FlushStatus.TooEarly,
  [PeriodsWriteStatus.Expired]: FlushStatus.Expired,
};

function adapt(redis: Commands): PeriodsRedis {
  return {
    evalScript: (script, keys, args) => redis.run(script.source, keys, args),
    hGetAll: (key) => redis.hGetAll(key),
  };
}

/** The `periods` layout. */
export class PeriodsLayout implements Layout {
  readonly name = "periods";
  readonly rotates = false;
  readonly keepsHistory = true;

  async write(redis: Commands, request: FlushRequest): Promise<FlushResult> {
    const { group, interval } = request;
    const result = await writeBatch(adapt(redis), {
      group: group.name,
      interval: interval.name,
      intervalSeconds: interval.seconds,
      start: request.period,
      counts: request.counts,
      history: group.history,
      shards: group.shards,
      graceSeconds: graceSeconds(interval),
      writer: request.writer,
      seq: request.seq,
      resendDeadlineMs: request.resendDeadlineMs,
      totals: carriesTotals(group, interval),
    }, redis.cluster);
    return {
      status: STATUS[result.status],
      rejected: result.rejected,
      refused: result.refused,
      ...(result.totalsRejected === undefined ? {} : { totalsRejected: result.totalsRejected }),
    };
  }

  /**
   * Every shard's totals hash of every configured interval, summed per event (only the shortest
   * interval's grow; another's hold what grew there while it was the shortest). Fields that are
   * not counts are left out.
   */
  async readTotals(redis: Commands, group: GroupConfig): Promise<Map<string, string>> {
    const totals = await readTotals(adapt(redis), {
      group: group.name,
      intervals: group.intervals.map((interval) => ({
        interval: interval.name,
        shards: group.shards,
      })),
    });
    return new Map([...totals].map(([event, total]) => [event, String(total)]));
  }

  /** One call per writer key: one per interval on one Redis, one per (interval, shard) on a cluster. */
  async releaseWriter(
    redis: Commands,
    group: GroupConfig,
    writer: string,
    lastSeq: number,
  ): Promise<boolean> {
    const keys: string[] = [];
    for (const interval of group.intervals) {
      if (!redis.cluster) keys.push(batchWriterKey(group.name, interval.name, writer));
      else {
        for (let shard = 0; shard < group.shards; shard++) {
          keys.push(writerKey(group.name, interval.name, shard, writer));
        }
      }
    }
    return await releaseWriterKeys(redis, keys, lastSeq);
  }

  /** Nothing: "current" and "last" follow Redis's clock, old periods expire. */
  rotate(): Promise<number> {
    return Promise.resolve(-1);
  }

  /** Start of the current period of (group, interval) on Redis's clock. */
  async #current(redis: Commands, group: GroupConfig, interval: IntervalConfig): Promise<number> {
    const time = await redis.run(TIME_SCRIPT.source, [periodKey(group.name, interval.name, 0, 0)], [
      "",
    ]) as string[];
    return currentPeriod(time, interval.seconds);
  }

  async readPeriod(
    redis: Commands,
    group: GroupConfig,
    interval: IntervalConfig,
    slot: Slot,
    events: ReadonlySet<string>,
    listAll: boolean,
  ): Promise<PeriodValues> {
    const current = await this.#current(redis, group, interval);
    const start = slot === CUR ? current : current - interval.seconds;
    const values = new Map<string, string | null>();
    if (!listAll) {
      // Only some events: their fields alone (one event, or none for a status check, costs one
      // small call instead of reading the whole period).
      await this.#readFields(redis, group, interval, start, [...events], values);
      return { values, start, end: start + interval.seconds };
    }
    const [period] = await readPeriods(adapt(redis), {
      group: group.name,
      interval: interval.name,
      starts: [start],
      shards: group.shards,
    }, redis.cluster);
    for (const event of events) values.set(event, null);
    for (const [event, count] of period.counts) values.set(event, String(count));
    return { values, start, end: start + interval.seconds };
  }

  /** `values` of `events` in the period starting at `start`: one `HMGET` per shard and chunk. */
  async #readFields(
    redis: Commands,
    group: GroupConfig,
    interval: IntervalConfig,
    start: number,
    events: string[],
    values: Map<string, string | null>,
  ): Promise<void> {
    const byShard = splitByShard(new Map(events.map((event) => [event, true])), group.shards);
    for (const [shard, part] of byShard) {
      const list = [...part.keys()];
      const key = periodKey(group.name, interval.name, start, shard);
      for (let i = 0; i < list.length; i += FIELDS_CHUNK) {
        const chunk = list.slice(i, i + FIELDS_CHUNK);
        const reply = await redis.run(FIELDS_SCRIPT.source, [key], chunk) as (string | null)[];
        chunk.forEach((event, j) => values.set(event, reply[j] ?? null));
      }
    }
  }

  async readHistory(
    redis: Commands,
    group: GroupConfig,
    interval: IntervalConfig,
    count: number,
  ): Promise<HistoryPeriod[]> {
    if (!Number.isInteger(count) || count < 1 || count > group.history) {
      throw new RangeError(
        `Cannot read ${count} periods of group ${
          JSON.stringify(group.name)
        }: it keeps ${group.history} finished periods (history: ${group.history}); expected 1 to ${group.history}`,
      );
    }
    const current = await this.#current(redis, group, interval);
    const periods = await readPeriods(adapt(redis), {
      group: group.name,
      interval: interval.name,
      starts: periodStarts(current, interval.seconds, count),
      shards: group.shards,
    }, redis.cluster);
    return periods.map(({ start, counts }) => {
      const all = new Map<string, number>();
      for (const event of group.events) all.set(event, 0);
      for (const [event, value] of counts) all.set(event, value);
      const sorted = new Map([...all].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
      return { start, end: start + interval.seconds, counts: sorted };
    });
  }

  /** Shard 0 of the current or the last period exists (the shard most small groups write). */
  async hasCounts(
    redis: Commands,
    group: GroupConfig,
    interval: IntervalConfig,
  ): Promise<boolean> {
    const current = await this.#current(redis, group, interval);
    const keys = [current, current - interval.seconds].map((start) =>
      periodKey(group.name, interval.name, start, 0)
    );
    return Number(await redis.run(EXISTS_SCRIPT.source, keys, [])) > 0;
  }
}
