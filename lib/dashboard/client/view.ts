/**
 * What the dashboard shows, computed from the `/api/…` documents (pure; runs in the browser and in
 * the unit tests): refresh period, time and duration text, progress of the current period, the
 * chart's series and the alerts.
 * @module
 */
import type { CountsDocument, HistoryDocument } from "../api.ts";

/** Events drawn as their own line in a chart; the rest are summed into "others". */
export const CHART_SERIES = 8;
/** Events listed per slot; more are reachable through the filter box. */
export const TOP_EVENTS = 20;
/** Label of the series of every event not drawn on its own. */
export const OTHERS_LABEL = "(others)";
/** Most periods a chart spans when it fills gaps between recorded periods. */
const MAX_CHART_PERIODS = 1000;

/**
 * Milliseconds between refreshes: a tenth of the shortest interval, at least 1 s (never faster)
 * and at most 10 s (the current counts still move).
 */
export function refreshMs(shortestSeconds: number): number {
  return Math.min(10_000, Math.max(1000, Math.round(shortestSeconds * 100)));
}

const pad = (n: number) => String(n).padStart(2, "0");

/** `HH:MM:SS` (local time) of a UNIX time in seconds; with the date when not `sameDayAs`'s day. */
export function clock(seconds: number, sameDayAs?: number): string {
  const date = new Date(seconds * 1000);
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  if (sameDayAs === undefined) return time;
  const other = new Date(sameDayAs * 1000);
  if (other.toDateString() === date.toDateString()) return time;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}

/** A duration such as `45s`, `5m`, `1h 30m`, `2d 3h`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const units: [string, number][] = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];
  const parts: string[] = [];
  let rest = s;
  for (const [unit, size] of units) {
    if (rest >= size || (parts.length === 0 && size === 1)) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** How far into its period `now` is: elapsed seconds and a fraction from 0 to 1. */
export function progress(
  start: number,
  seconds: number,
  now: number,
): { elapsed: number; fraction: number } {
  const elapsed = Math.min(seconds, Math.max(0, now - start));
  return { elapsed, fraction: seconds > 0 ? elapsed / seconds : 0 };
}

/** A number with thousands separators (locale-independent: thin spaces would confuse copying). */
export function count(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The data of one chart: period starts and one row per series, `null` where nothing was recorded. */
export interface ChartData {
  /** Start of each period (UNIX seconds), oldest first. */
  starts: number[];
  /** Series labels: the top events, then {@link OTHERS_LABEL} when anything else counted. */
  labels: string[];
  /** One row per label, one value per period. */
  values: (number | null)[][];
}

/**
 * The chart of `periods` (oldest first): the `maxSeries` events with the highest counts over all
 * periods, each its own series, and the rest summed into {@link OTHERS_LABEL}. Periods missing
 * between the first and the last are `null` (a gap in the line).
 */
export function chartData(
  periods: HistoryDocument["intervals"][number]["periods"],
  seconds: number,
  maxSeries = CHART_SERIES,
): ChartData {
  const sums = new Map<string, number>();
  for (const period of periods) {
    for (const { event, count } of period.events) sums.set(event, (sums.get(event) ?? 0) + count);
  }
  const labels = [...sums].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxSeries).map(([event]) => event);
  const starts: number[] = [];
  const rows: (number | null)[][] = labels.map(() => []);
  const others: (number | null)[] = [];
  let anyOthers = false;
  const first = periods[0]?.start;
  const fill = first !== undefined &&
    (periods[periods.length - 1].start - first) / seconds <= MAX_CHART_PERIODS;
  for (const period of periods) {
    if (fill) {
      for (
        let at = (starts.at(-1) ?? period.start - seconds) + seconds;
        at < period.start;
        at += seconds
      ) {
        starts.push(at);
        rows.forEach((row) => row.push(null));
        others.push(null);
      }
    }
    starts.push(period.start);
    const counts = new Map(period.events.map(({ event, count }) => [event, count]));
    let shown = 0;
    labels.forEach((event, index) => {
      const value = counts.get(event) ?? 0;
      shown += value;
      rows[index].push(value);
    });
    const rest = period.total - shown;
    if (rest > 0) anyOthers = true;
    others.push(rest);
  }
  if (anyOthers) return { starts, labels: [...labels, OTHERS_LABEL], values: [...rows, others] };
  return { starts, labels, values: rows };
}

/** One message above the groups. */
export interface Alert {
  /** `bad`: nothing current can be shown; `warn`: counts are shown but may not move on. */
  level: "bad" | "warn";
  /** The text (shown as text). */
  text: string;
}

/** What is wrong, judged from the last counts read (`undefined` when serve itself did not answer). */
export function alerts(counts: CountsDocument | undefined, fetchError?: string): Alert[] {
  if (counts === undefined) {
    return [{
      level: "bad",
      text: `ecl serve does not answer${
        fetchError ? ` (${fetchError})` : ""
      }: showing the last counts read`,
    }];
  }
  if (!counts.redisUp) {
    return [{
      level: "bad",
      text: "Redis is down: ecl serve cannot read the counts (it keeps trying)",
    }];
  }
  const list: Alert[] = [];
  const stale = counts.intervals.filter((interval) => interval.stale);
  if (stale.length > 0) {
    const names = stale.map(({ group, interval, current }) =>
      `${group} ${interval}${
        current.start === null ? "" : ` since ${clock(current.start, counts.now)}`
      }`
    );
    list.push({
      level: "bad",
      text: `No master rotates the counters: not rotated: ${
        names.join(", ")
      } (is ecl master running for this Redis?)`,
    });
  } else if (counts.leaseHolder === null) {
    list.push({
      level: "warn",
      text: "No ecl master holds the lease: the counters will not rotate at the next boundary",
    });
  }
  return list;
}
