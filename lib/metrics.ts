/**
 * Reading what ecl's health and metrics show — the lease holder, both slots of each selected
 * (group, interval) and the totals of each selected `totals: true` group — for `ecl serve`, `ecl read -f prometheus` (formatted by
 * `lib/format/prometheus.ts`) and `ecl status` (judged by `lib/format/status.ts`).
 * @module
 */
import type { EclConfig, GroupConfig, IntervalConfig } from "./config.ts";
import { NotFoundError, RedisError } from "./errors.ts";
import { findGroup } from "./lookup.ts";
import {
  formatPrometheus,
  type GroupTotals,
  type IntervalSnapshot,
  type MetricsSnapshot,
} from "./format/prometheus.ts";
import { CUR, LAST } from "./keys.ts";
import { readSlot } from "./reader.ts";
import type { Store } from "./store.ts";

/** Which counters {@link readMetrics} covers. */
export interface MetricsFilter {
  /** Only this group, when set. */
  group?: string | undefined;
  /** Only this interval, when set. */
  interval?: string | undefined;
}

/**
 * The (group, interval) pairs that `filter` selects, in configured order.
 * @throws {NotFoundError} when the filter names a group or an interval that is not configured
 */
export function selectIntervals(
  config: EclConfig,
  filter: MetricsFilter,
): [GroupConfig, IntervalConfig][] {
  const groups = filter.group === undefined
    ? [...config.groups.values()]
    : [findGroup(config, filter.group)];
  const pairs: [GroupConfig, IntervalConfig][] = [];
  for (const group of groups) {
    for (const interval of group.intervals) {
      if (filter.interval === undefined || interval.name === filter.interval) {
        pairs.push([group, interval]);
      }
    }
  }
  if (pairs.length === 0) {
    const where = filter.group === undefined
      ? "any group"
      : `group ${JSON.stringify(filter.group)}`;
    throw new NotFoundError(
      `Interval ${JSON.stringify(filter.interval)} not configured for ${where}`,
    );
  }
  return pairs;
}

/** Options of {@link readIntervals}. */
export interface ReadIntervalsOptions {
  /**
   * Read the counts too; without them each slot read is one MGET of its two timestamps (enough
   * to judge rotations). @default true
   */
  counts?: boolean;
}

/**
 * Read the lease holder and both slots of every (group, interval) of `pairs`, in one round of
 * concurrent reads (the client pipelines them on its one connection).
 * @throws what the store throws when Redis fails
 */
export async function readIntervals(
  store: Store,
  pairs: readonly [GroupConfig, IntervalConfig][],
  options: ReadIntervalsOptions = {},
): Promise<{ leaseHolder: string | undefined; intervals: IntervalSnapshot[] }> {
  const counts = options.counts ?? true;
  const [leaseHolder, intervals] = await Promise.all([
    store.leaseHolder(),
    Promise.all(pairs.map(async ([config, interval]): Promise<IntervalSnapshot> => {
      const group = counts ? config : { ...config, events: [], autoDeclareEvents: false };
      const [last, current] = await Promise.all([
        readSlot(store, group, interval, LAST),
        readSlot(store, group, interval, CUR),
      ]);
      return { seconds: interval.seconds, last, current };
    })),
  ]);
  return { leaseHolder, intervals };
}

const INTEGER_TEXT = /^-?\d+$/;

/**
 * The totals of a `totals: true` group: every event with a total in Redis, and its predeclared
 * events (0 until first counted). A stored value that is not an integer is left out.
 * @throws what the store throws when Redis fails
 */
export async function readTotals(store: Store, group: GroupConfig): Promise<GroupTotals> {
  const totals = new Map<string, number>();
  for (const event of group.events) totals.set(event, 0);
  for (const [event, value] of await store.readTotals(group)) {
    if (INTEGER_TEXT.test(value)) totals.set(event, Number(value));
  }
  return { group: group.name, totals };
}

/**
 * Read what one exposition shows: the lease holder, both slots of every selected
 * (group, interval), and the totals of every selected group that keeps them (`totals: true`; a
 * group is selected when one of its intervals is). Redis failures give `{ redisUp: false }`
 * instead of an error.
 * @throws {NotFoundError} when the filter names a group or an interval that is not configured
 */
export async function readSnapshot(
  store: Store,
  config: EclConfig,
  filter: MetricsFilter,
): Promise<MetricsSnapshot> {
  const pairs = selectIntervals(config, filter);
  const withTotals = [...new Set(pairs.map(([group]) => group))].filter((group) => group.totals);
  try {
    const [read, totals] = await Promise.all([
      readIntervals(store, pairs),
      Promise.all(withTotals.map((group) => readTotals(store, group))),
    ]);
    return { redisUp: true, ...read, totals };
  } catch (error) {
    if (error instanceof RedisError) return { redisUp: false };
    throw error;
  }
}

/**
 * The Prometheus text exposition (format 0.0.4) of the counters that `filter` selects, and of
 * ecl's health, judged at `nowSeconds` (UNIX seconds). When Redis does not answer it is
 * `ecl_redis_up 0` alone, not an error.
 * @throws {NotFoundError} when the filter names a group or an interval that is not configured
 */
export async function readMetrics(
  store: Store,
  config: EclConfig,
  filter: MetricsFilter,
  nowSeconds: number,
): Promise<string> {
  return formatPrometheus(await readSnapshot(store, config, filter), nowSeconds);
}
