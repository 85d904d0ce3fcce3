/**
 * The JSON documents of `ecl serve`'s `/api/…` endpoints (pure): what the dashboard shows and what
 * scripts read. Field names are stable; the README lists them. Counts of events come as lists
 * sorted by count (highest first, then by event ID) so that a `top` limit keeps the largest.
 * @module
 */
import type { EclConfig } from "../config.ts";
import type { IntervalSnapshot } from "../format/prometheus.ts";
import { LAST } from "../keys.ts";
import type { SlotCounts } from "../reader.ts";
import { slotHealth } from "../slot_health.ts";
import {
  byCount,
  type EventCount,
  type HistoryOrigin,
  type HistoryPeriod,
  topCounts,
} from "./history.ts";

/** `GET /api/groups`: the configured groups and their intervals. */
export interface GroupsDocument {
  /** Groups in configured order. */
  groups: {
    /** Group name. */
    name: string;
    /** Predeclared event IDs, in configured order. */
    events: string[];
    /** Whether other event IDs are counted too. */
    autoDeclareEvents: boolean;
    /** Intervals in configured order. */
    intervals: { name: string; seconds: number }[];
  }[];
}

/** One slot in `GET /api/counts`. */
export interface CountsSlot {
  /** Start of the span (UNIX seconds), `null` when unknown. */
  start: number | null;
  /** End of the span (UNIX seconds), `null` when unknown. */
  end: number | null;
  /** `last` only: whether it covers exactly one interval, `null` when its start is unknown. */
  complete?: boolean | null;
  /** Sum of all counts (also of events left out by `top` or `filter`). */
  total: number;
  /** Events with a count above 0. */
  distinct: number;
  /** Events (predeclared ones and those with a count) that pass `filter`. */
  matched: number;
  /** The first `top` of the matching events, highest count first; predeclared events with 0 included. */
  events: EventCount[];
  /** Counters whose value is not a whole number (someone else wrote them), with that value. */
  invalid: { event: string; value: string }[];
}

/** One (group, interval) in `GET /api/counts`. */
export interface CountsInterval {
  /** Group name. */
  group: string;
  /** Interval name as configured, e.g. `5m`. */
  interval: string;
  /** Interval length in seconds. */
  seconds: number;
  /** Whether the current period should have been rotated a while ago (no master rotates). */
  stale: boolean;
  /** The last finished period. */
  last: CountsSlot;
  /** The current period, still counting. */
  current: CountsSlot;
}

/** `GET /api/counts`. */
export interface CountsDocument {
  /** When the counts were read (UNIX seconds, with milliseconds). */
  now: number;
  /** Whether Redis answered; when `false`, `intervals` is empty. */
  redisUp: boolean;
  /** ID of the master holding the lease (`host:pid:random`), `null` when no master runs. */
  leaseHolder: string | null;
  /** Every selected (group, interval), in configured order. */
  intervals: CountsInterval[];
}

/** `GET /api/history`. */
export interface HistoryDocument {
  /** Every selected (group, interval), in configured order. */
  intervals: {
    /** Group name. */
    group: string;
    /** Interval name. */
    interval: string;
    /** Interval length in seconds. */
    seconds: number;
    /** `memory`: what this `ecl serve` read since it started; `redis`: kept in Redis. */
    origin: HistoryOrigin;
    /** Finished periods, oldest first. */
    periods: readonly HistoryPeriod[];
  }[];
}

/** What `top` and `filter` leave of a slot's events. */
export interface EventSelection {
  /** Most events per slot; all when `undefined`. */
  top?: number | undefined;
  /** Only event IDs that contain this text (case-insensitive). */
  filter?: string | undefined;
}

/** The document of `GET /api/groups`. */
export function groupsDocument(config: EclConfig): GroupsDocument {
  return {
    groups: [...config.groups.values()].map((group) => ({
      name: group.name,
      events: [...group.events],
      autoDeclareEvents: group.autoDeclareEvents,
      intervals: group.intervals.map(({ name, seconds }) => ({ name, seconds })),
    })),
  };
}

function countsSlot(slot: SlotCounts, seconds: number, now: number, select: EventSelection) {
  const needle = select.filter?.toLowerCase() ?? "";
  let total = 0;
  let distinct = 0;
  const matching: EventCount[] = [];
  for (const [event, count] of slot.counts) {
    total += count;
    if (count !== 0) distinct++;
    if (needle === "" || event.toLowerCase().includes(needle)) matching.push({ event, count });
  }
  const events = select.top === undefined
    ? matching.sort(byCount)
    : topCounts(matching, select.top);
  const json: CountsSlot = {
    start: slot.start ?? null,
    end: slot.end ?? null,
    total,
    distinct,
    matched: matching.length,
    events,
    invalid: [...slot.invalid].map(([event, value]) => ({ event, value })),
  };
  if (slot.slot === LAST) json.complete = slotHealth(slot, seconds, now).complete ?? null;
  return json;
}

/** The document of `GET /api/counts` for what was read at `now` (UNIX seconds). */
export function countsDocument(
  read: {
    redisUp: boolean;
    leaseHolder?: string | undefined;
    intervals?: readonly IntervalSnapshot[];
  },
  now: number,
  select: EventSelection = {},
): CountsDocument {
  return {
    now,
    redisUp: read.redisUp,
    leaseHolder: read.leaseHolder ?? null,
    intervals: (read.intervals ?? []).map(({ seconds, last, current }) => ({
      group: last.group,
      interval: last.interval,
      seconds,
      stale: slotHealth(current, seconds, now).stale,
      last: countsSlot(last, seconds, now, select),
      current: countsSlot(current, seconds, now, select),
    })),
  };
}
