/**
 * Prometheus text exposition format 0.0.4 of the counters and of ecl's health (pure): what
 * `ecl read -f prometheus` prints and `ecl serve` answers on `GET /metrics`.
 *
 * Every metric is a gauge except `ecl_events_total`, a counter. Families come in name order, each
 * with one `# HELP` and one `# TYPE` line, and only when it has samples; samples are sorted by their label values (by code point),
 * so the same data always gives the same bytes.
 * @module
 */
import type { SlotCounts } from "../reader.ts";
import { slotHealth } from "../slot_health.ts";
import { compareCodePoints } from "./text.ts";

/** `Content-Type` of the text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Counts of one (group, interval) as read from Redis. */
export interface IntervalSnapshot {
  /** Length of the interval in seconds. */
  readonly seconds: number;
  /** The last finished interval (`last` slot). */
  readonly last: SlotCounts;
  /** The current, unfinished interval (`cur` slot). */
  readonly current: SlotCounts;
}

/** The totals of one `totals: true` group as read from Redis. */
export interface GroupTotals {
  /** Group name. */
  readonly group: string;
  /** Event ID → total (every count since the totals began). */
  readonly totals: ReadonlyMap<string, number>;
}

/** Everything one exposition shows. */
export interface MetricsSnapshot {
  /** Whether Redis answered every read; when `false` nothing else is shown. */
  readonly redisUp: boolean;
  /** ID of the master holding the lease (`host:pid:random`), `undefined` when none does. */
  readonly leaseHolder?: string | undefined;
  /** Every (group, interval) read, in any order. */
  readonly intervals?: readonly IntervalSnapshot[];
  /** Totals of every group read that keeps them, in any order. */
  readonly totals?: readonly GroupTotals[];
}

/** One metric family: its name, help text and samples (label values in label-name order). */
interface Family {
  readonly name: string;
  readonly type: "gauge" | "counter";
  readonly help: string;
  readonly labels: readonly string[];
  readonly samples: { values: string[]; value: number }[];
}

/** Escape a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : "\\" + c);
}

/** Escape a `# HELP` text: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** A sample value: integers as they are, other numbers rounded to milliseconds. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isInteger(value)) return String(value);
  return String(Math.round(value * 1000) / 1000);
}

function compareValues(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const diff = compareCodePoints(a[i], b[i]);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

function family(
  name: string,
  help: string,
  labels: readonly string[],
  type: Family["type"] = "gauge",
): Family {
  return { name, type, help, labels, samples: [] };
}

function render(families: readonly Family[]): string {
  let text = "";
  for (const f of [...families].sort((a, b) => compareCodePoints(a.name, b.name))) {
    if (f.samples.length === 0) continue;
    text += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const sample of [...f.samples].sort((a, b) => compareValues(a.values, b.values))) {
      const labels = f.labels.map((label, i) => `${label}="${escapeLabelValue(sample.values[i])}"`);
      text += `${f.name}${labels.length === 0 ? "" : `{${labels.join(",")}}`} ${
        formatValue(sample.value)
      }\n`;
    }
  }
  return text;
}

/**
 * The exposition of `snapshot`, judged at `nowSeconds` (UNIX seconds, for the time since the last
 * rotation). While Redis is down it holds `ecl_redis_up 0` only.
 */
export function formatPrometheus(snapshot: MetricsSnapshot, nowSeconds: number): string {
  const up = family(
    "ecl_redis_up",
    "Whether Redis answered the reads of this scrape in time (1) or not (0).",
    [],
  );
  up.samples.push({ values: [], value: snapshot.redisUp ? 1 : 0 });
  if (!snapshot.redisUp) return render([up]);

  const leaseHeld = family(
    "ecl_master_lease_held",
    "Whether an ecl master holds the master lease (1) or none does (0).",
    [],
  );
  const leaseInfo = family(
    "ecl_master_lease_info",
    "The ecl master holding the lease: holder is its ID, host:pid:random.",
    ["holder"],
  );
  const last = family(
    "ecl_events_last",
    "Count of the event in the last finished interval.",
    ["group", "interval", "event"],
  );
  const current = family(
    "ecl_events_current",
    "Count of the event so far in the current, unfinished interval.",
    ["group", "interval", "event"],
  );
  const length = family(
    "ecl_interval_length_seconds",
    "Length of the interval in seconds.",
    ["group", "interval"],
  );
  const start = family(
    "ecl_interval_start_seconds",
    'Start (UNIX seconds) of the span in "last" (slot="last") and of the current period (slot="current").',
    ["group", "interval", "slot"],
  );
  const sinceRotation = family(
    "ecl_seconds_since_rotation",
    "Seconds since the start of the current period, i.e. since the last rotation; more than the interval length plus a few seconds means no master rotates.",
    ["group", "interval"],
  );
  const complete = family(
    "ecl_last_interval_complete",
    'Whether "last" covers exactly one interval (1) or several because a master missed boundaries (0); absent when its start is unknown.',
    ["group", "interval"],
  );

  const total = family(
    "ecl_events_total",
    "Count of the event since its group's totals began (totals: true); only grows.",
    ["group", "event"],
    "counter",
  );
  for (const { group, totals } of snapshot.totals ?? []) {
    for (const [event, count] of totals) {
      total.samples.push({ values: [group, event], value: count });
    }
  }

  leaseHeld.samples.push({ values: [], value: snapshot.leaseHolder === undefined ? 0 : 1 });
  if (snapshot.leaseHolder !== undefined) {
    leaseInfo.samples.push({ values: [snapshot.leaseHolder], value: 1 });
  }
  for (const snap of snapshot.intervals ?? []) {
    const group = snap.last.group;
    const interval = snap.last.interval;
    for (const [event, count] of snap.last.counts) {
      last.samples.push({ values: [group, interval, event], value: count });
    }
    for (const [event, count] of snap.current.counts) {
      current.samples.push({ values: [group, interval, event], value: count });
    }
    length.samples.push({ values: [group, interval], value: snap.seconds });
    if (snap.last.start !== undefined) {
      start.samples.push({ values: [group, interval, "last"], value: snap.last.start });
    }
    if (snap.current.start !== undefined) {
      start.samples.push({ values: [group, interval, "current"], value: snap.current.start });
      sinceRotation.samples.push({
        values: [group, interval],
        value: nowSeconds - snap.current.start,
      });
    }
    const health = slotHealth(snap.last, snap.seconds, nowSeconds);
    if (health.complete !== undefined) {
      complete.samples.push({ values: [group, interval], value: health.complete ? 1 : 0 });
    }
  }
  return render([
    up,
    leaseHeld,
    leaseInfo,
    last,
    current,
    total,
    length,
    start,
    sinceRotation,
    complete,
  ]);
}
