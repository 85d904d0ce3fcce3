/**
 * Judging ecl's health for `ecl status` (pure): what was read from Redis goes in, a report in the
 * monitoring-plugin convention comes out — 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, and
 * `ECL <STATUS> - <summary>`, then one line per check. `lib/commands/status.ts` reads Redis.
 *
 * Checks: Redis answers (else CRITICAL); a master holds the lease (else WARNING), when a group
 * needs one; every (group, interval) of the `python` layout was rotated on time, i.e. `cur:@ts`
 * is in the current period give or take {@link STALE_GRACE_SECONDS} (1 or 2 boundaries missed:
 * WARNING, more: CRITICAL; never rotated: WARNING); `last` covers one interval (else WARNING).
 * Groups of the `periods` layout need no master: their current period is read on Redis's clock,
 * and this host's clock is compared with Redis's (more than {@link CLOCK_SKEW_WARNING_SECONDS}
 * apart: WARNING; ahead by more than a periods write may be: CRITICAL). A configuration that
 * cannot be loaded is UNKNOWN.
 * @module
 */
import { isoTime } from "../_message.ts";
import type { SlotCounts } from "../reader.ts";
import {
  NO_MASTER_HINT,
  slotHealth,
  spanText,
  STALE_GRACE_SECONDS,
  staleText,
} from "../slot_health.ts";

/**
 * How far this host's clock may be from Redis's before `ecl status` warns (configs with `periods`
 * groups, whose periods follow Redis's clock): as far as readers allow a master to be late.
 */
export const CLOCK_SKEW_WARNING_SECONDS = STALE_GRACE_SECONDS;

/** A status of the monitoring-plugin convention. */
export type StatusName = "OK" | "WARNING" | "CRITICAL" | "UNKNOWN";

/** Exit code of each status. */
export const STATUS_CODES: Readonly<Record<StatusName, number>> = {
  OK: 0,
  WARNING: 1,
  CRITICAL: 2,
  UNKNOWN: 3,
};

/** One check and its outcome. */
export interface StatusCheck {
  /**
   * What was checked: `config`, `redis`, `lease`, `clock` (configs with `periods` groups) or
   * `interval` (one per group and interval).
   */
  check: "config" | "redis" | "lease" | "clock" | "interval";
  /** Its outcome. */
  status: StatusName;
  /** One line saying what was found. */
  message: string;
  /** `interval` checks of a `periods` group: `"periods"` (absent: `python`, rotated by a master). */
  layout?: "periods";
  /** `clock` checks: this host's clock minus Redis's (seconds, > 0: this host runs ahead). */
  skewSeconds?: number;
  /** `interval` checks: the group. */
  group?: string;
  /** `interval` checks: the interval. */
  interval?: string;
  /** `interval` checks: start of the current period (UNIX seconds), `null` when never rotated. */
  currentStart?: number | null;
  /** `interval` checks: start of the span in `last`, `null` when unknown. */
  lastStart?: number | null;
  /** `interval` checks: boundaries passed (beyond the grace) without a rotation (`periods`: 0). */
  missedBoundaries?: number;
}

/** The outcome of `ecl status`; `-f json` prints it as one line. */
export interface StatusReport {
  /** The worst status of the checks. */
  status: StatusName;
  /** The exit code. */
  code: number;
  /** The first line, after `ECL <STATUS> - `. */
  summary: string;
  /**
   * Every check, in order: redis, lease, clock (with `periods` groups), then each (group, interval)
   * of the `python` layout, then each of the `periods` layout, as configured.
   */
  checks: StatusCheck[];
}

/** What {@link evaluateStatus} judges. */
export interface StatusInput {
  /** `undefined` when Redis answered; otherwise why not. */
  redisError?: string | undefined;
  /** Address of Redis (no password). */
  redisAddress: string;
  /** ID of the master holding the lease, `undefined` when none does. */
  leaseHolder?: string | undefined;
  /**
   * The `last` slot (its timestamps are enough) and length of every (group, interval) that a
   * master rotates (groups of a layout without rotation, `periods`, are always on time).
   */
  intervals?: readonly { slot: SlotCounts; seconds: number }[];
  /** Whether any group needs a master (`false`: every group uses `layout: periods`). @default true */
  masterNeeded?: boolean;
  /** Every (group, interval) of a layout without rotation (`periods`), as read. */
  periods?: readonly PeriodsInterval[];
  /**
   * Redis's clock and this host's at the same moment (UNIX seconds; this host's is the middle of
   * the round trip that read Redis's). Read when `periods` is not empty.
   */
  clock?: { redisSeconds: number; localSeconds: number } | undefined;
}

/** A (group, interval) of the `periods` layout, as `ecl status` read it. */
export interface PeriodsInterval {
  /** The group. */
  group: string;
  /** The interval, as configured. */
  interval: string;
  /** Its length (seconds). */
  seconds: number;
  /** Start of the current period on Redis's clock (UNIX seconds). */
  currentStart: number;
  /** How far ahead of Redis's clock a write's period may start (seconds). */
  graceSeconds: number;
}

function plural(count: number, word: string, words = `${word}s`): string {
  return `${count} ${count === 1 ? word : words}`;
}

function nameList(names: readonly string[]): string {
  return names.length <= 3
    ? names.join(", ")
    : `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
}

const SEVERITY: readonly StatusName[] = ["OK", "WARNING", "CRITICAL"];

function worst(statuses: readonly StatusName[]): StatusName {
  if (statuses.includes("UNKNOWN")) return "UNKNOWN";
  return SEVERITY[Math.max(0, ...statuses.map((s) => SEVERITY.indexOf(s)))];
}

/** A report of `status` with its exit code. */
export function statusReport(
  status: StatusName,
  summary: string,
  checks: StatusCheck[],
): StatusReport {
  return { status, code: STATUS_CODES[status], summary, checks };
}

/** Judge one (group, interval) from its `last` slot at `nowSeconds`. Pure. */
export function checkInterval(
  slot: SlotCounts,
  seconds: number,
  nowSeconds: number,
): StatusCheck & { late: boolean; incomplete: boolean } {
  const name = `${slot.group}:${slot.interval}`;
  const currentStart = slot.end;
  const health = slotHealth(slot, seconds, nowSeconds);
  const parts: string[] = [];
  const statuses: StatusName[] = [];
  let missed = 0;
  let late = false;
  if (currentStart === undefined) {
    late = true;
    statuses.push("WARNING");
    parts.push(`never rotated (no cur:@ts): ${NO_MASTER_HINT}`);
  } else if (health.stale) {
    late = true;
    missed = Math.max(
      1,
      Math.floor((nowSeconds - STALE_GRACE_SECONDS - currentStart) / seconds),
    );
    statuses.push(missed > 2 ? "CRITICAL" : "WARNING");
    parts.push(
      `${staleText(slot)}: ${plural(missed, "boundary", "boundaries")} missed`,
    );
  } else if (currentStart > nowSeconds + STALE_GRACE_SECONDS) {
    late = true;
    statuses.push("WARNING");
    parts.push(
      `current period starts at ${isoTime(currentStart)}, in the future: are the clocks in sync?`,
    );
  } else {
    parts.push(`rotated on time (current period since ${isoTime(currentStart)})`);
  }
  const incomplete = health.complete === false;
  if (incomplete) {
    statuses.push("WARNING");
    parts.push(spanText(slot, health));
  } else if (health.complete === undefined && currentStart !== undefined) {
    parts.push('start of "last" unknown (no last:@ts from its rotation)');
  } else if (health.complete) {
    parts.push('"last" covers one interval');
  }
  return {
    check: "interval",
    status: worst(statuses),
    message: `${name}: ${parts.join("; ")}`,
    group: slot.group,
    interval: slot.interval,
    currentStart: currentStart ?? null,
    lastStart: slot.start ?? null,
    missedBoundaries: missed,
    late,
    incomplete,
  };
}

/** Judge one (group, interval) of the `periods` layout: no master, nothing to be late. Pure. */
export function checkPeriodsInterval(period: PeriodsInterval): StatusCheck {
  return {
    check: "interval",
    status: "OK",
    message:
      `${period.group}:${period.interval}: layout periods, no master needed: current period since ${
        isoTime(period.currentStart)
      } on Redis's clock`,
    layout: "periods",
    group: period.group,
    interval: period.interval,
    currentStart: period.currentStart,
    lastStart: period.currentStart - period.seconds,
    missedBoundaries: 0,
  };
}

function secondsText(value: number): string {
  return `${Math.abs(value).toFixed(1)} s`;
}

/**
 * Judge this host's clock against Redis's, which decides the periods of `periods` groups: more
 * than {@link CLOCK_SKEW_WARNING_SECONDS} apart is a WARNING; ahead by more than the smallest
 * write grace of `periods` is CRITICAL (Redis refuses counts of loggers on this host). Pure.
 * @returns the check, and the summary's words for it
 */
export function checkClock(
  clock: { redisSeconds: number; localSeconds: number },
  periods: readonly PeriodsInterval[],
): { check: StatusCheck; summary: string } {
  const skew = clock.localSeconds - clock.redisSeconds;
  const skewSeconds = Math.round(skew * 1000) / 1000;
  const redisTime = isoTime(Math.floor(clock.redisSeconds));
  const direction = skew > 0 ? "ahead of" : "behind";
  const strictest = periods.reduce<PeriodsInterval | undefined>(
    (least, period) =>
      least === undefined || period.graceSeconds < least.graceSeconds ? period : least,
    undefined,
  );
  if (strictest !== undefined && skew > strictest.graceSeconds) {
    return {
      check: {
        check: "clock",
        status: "CRITICAL",
        message: `this host's clock is ${
          secondsText(skew)
        } ahead of Redis's (${redisTime}), more than the ${strictest.graceSeconds} s a write to ${strictest.group}:${strictest.interval} may be: Redis refuses counts of loggers on this host; are the clocks in sync?`,
        skewSeconds,
      },
      summary: `this host's clock ${secondsText(skew)} ahead of Redis's: periods counts refused`,
    };
  }
  if (Math.abs(skew) > CLOCK_SKEW_WARNING_SECONDS) {
    return {
      check: {
        check: "clock",
        status: "WARNING",
        message: `this host's clock is ${
          secondsText(skew)
        } ${direction} Redis's (${redisTime}), more than ${CLOCK_SKEW_WARNING_SECONDS} s: are the clocks in sync? (periods follow Redis's clock)`,
        skewSeconds,
      },
      summary: `this host's clock ${secondsText(skew)} ${direction} Redis's`,
    };
  }
  return {
    check: {
      check: "clock",
      status: "OK",
      message: `this host's clock is within ${
        secondsText(skew)
      } of Redis's (${redisTime}; periods follow Redis's clock)`,
      skewSeconds,
    },
    summary: `this host's clock within ${secondsText(skew)} of Redis's`,
  };
}

/** Judge what was read, at `nowSeconds`. Pure. */
export function evaluateStatus(input: StatusInput, nowSeconds: number): StatusReport {
  if (input.redisError !== undefined) {
    return statusReport("CRITICAL", `redis down: ${input.redisError}`, [
      { check: "redis", status: "CRITICAL", message: input.redisError },
    ]);
  }
  const checks: StatusCheck[] = [
    { check: "redis", status: "OK", message: `Redis at ${input.redisAddress} answers` },
  ];
  const summary = ["redis up"];
  const periods = input.periods ?? [];
  if (input.masterNeeded === false) {
    checks.push({
      check: "lease",
      status: "OK",
      message: "no master needed: every group uses layout periods (nothing to rotate)",
    });
    summary.push("no master needed");
  } else if (input.leaseHolder === undefined) {
    checks.push({ check: "lease", status: "WARNING", message: "no master holds the lease" });
    summary.push("no master holds the lease");
  } else {
    checks.push({
      check: "lease",
      status: "OK",
      message: `master lease held by ${input.leaseHolder}`,
    });
    summary.push(`master lease held by ${input.leaseHolder}`);
  }
  const clock = input.clock === undefined ? undefined : checkClock(input.clock, periods);
  if (clock !== undefined) checks.push(clock.check);
  const late: string[] = [];
  const incomplete: string[] = [];
  const intervals = input.intervals ?? [];
  for (const { slot, seconds } of intervals) {
    const { late: isLate, incomplete: isIncomplete, ...check } = checkInterval(
      slot,
      seconds,
      nowSeconds,
    );
    checks.push(check);
    if (isLate) late.push(`${slot.group}:${slot.interval}`);
    if (isIncomplete) incomplete.push(`${slot.group}:${slot.interval}`);
  }
  if (input.masterNeeded !== false) {
    summary.push(
      late.length === 0
        ? `${plural(intervals.length, "interval")} rotated on time`
        : `${late.length} of ${plural(intervals.length, "interval")} not rotated on time (${
          nameList(late)
        })`,
    );
  }
  if (incomplete.length > 0) {
    summary.push(`"last" spans several intervals for ${nameList(incomplete)}`);
  }
  for (const period of periods) checks.push(checkPeriodsInterval(period));
  if (periods.length > 0) {
    summary.push(
      `${plural(periods.length, "interval")} in layout periods${
        input.masterNeeded === false ? "" : " (no master needed)"
      }`,
    );
  }
  // The python groups' words come first, as in a config without periods groups.
  if (clock !== undefined) summary.push(clock.summary);
  return statusReport(worst(checks.map((c) => c.status)), summary.join(", "), checks);
}

/** The text output: the summary line, then one line per check (UNKNOWN: the summary alone). */
export function formatStatusText(status: StatusReport): string {
  if (status.status === "UNKNOWN") return `ECL UNKNOWN - ${status.summary}\n`;
  return [
    `ECL ${status.status} - ${status.summary}`,
    ...status.checks.map((check) => `${check.status}: ${check.message}`),
  ].join("\n") + "\n";
}
