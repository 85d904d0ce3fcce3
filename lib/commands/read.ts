/**
 * `ecl read`: print the counts of the last finished (or current) interval of a group, or its last
 * N periods (`--history`), as text, JSON, CSV, Munin or Prometheus; `--watch` prints again.
 */
import { type EclConfig, type GroupConfig, type IntervalConfig, loadConfig } from "../config.ts";
import { formatJson } from "../format/json.ts";
import { formatText } from "../format/text.ts";
import { formatHistoryCsv, formatHistoryJson, formatHistoryText } from "../format/history.ts";
import { CUR, LAST } from "../keys.ts";
import { readSlot, type SlotCounts } from "../reader.ts";
import {
  NO_MASTER_HINT,
  notACountWarning,
  slotHealth,
  spanText,
  staleText,
} from "../slot_health.ts";
import { RedisError } from "../errors.ts";
import { Store } from "../store.ts";
import { withTimeout } from "../_timeout.ts";
import { readMetrics } from "../metrics.ts";
import { waitForStop } from "./_signals.ts";
import { ExitCode } from "./_exit.ts";
import type { ReadFormat, ReadWhich } from "./_options.ts";
import { printWarning, writeStdout } from "./_io.ts";
import { findGroup, findInterval } from "../lookup.ts";

/** Options of {@link runRead}. */
export interface ReadOptions {
  /** Config file. */
  config: string;
  /** Group name; required except for the Prometheus format (all groups). */
  group: string | undefined;
  /** Interval name; may be left out when the group has one. */
  interval: string | undefined;
  /** Which interval(s) to print. */
  which: ReadWhich;
  /** Output format. */
  format: ReadFormat;
  /** Munin formats: state file of every event ID seen. */
  state?: string | undefined;
  /** Print again every this many seconds (`true`: the interval's length). */
  watch?: string | true | undefined;
  /** `--history N`: the last N finished periods (layout periods), as given on the command line. */
  history?: string | undefined;
}

/** Formats that `--history` prints. */
const HISTORY_FORMATS: readonly ReadFormat[] = ["text", "json", "csv"];

/** The N of `--history N`: a whole number ≥ 1. */
function historyCount(text: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(
      `Cannot read --history ${JSON.stringify(text)}: expected a whole number of periods ≥ 1`,
    );
  }
  return count;
}

/** `--watch` without a number and without a group: every this many seconds. */
const DEFAULT_WATCH_SECONDS = 10;
/** Cursor home and erase screen. */
const CLEAR_SCREEN = "\x1b[H\x1b[2J";

function reportInvalid(slot: SlotCounts): void {
  for (const [event, value] of slot.invalid) {
    printWarning(notACountWarning("Skipping", slot, event, value));
  }
}

/** Warn when `last` holds more than one interval, or when no master seems to rotate. */
function reportSpan(
  slot: SlotCounts,
  interval: IntervalConfig,
  nowSeconds: number,
  rotated: boolean,
): void {
  const health = slotHealth(slot, interval.seconds, nowSeconds);
  const name = `${slot.group}:${slot.interval}`;
  if (health.complete === false) printWarning(`${name}: ${spanText(slot, health)}`);
  if (health.stale && rotated) printWarning(`${name}: ${staleText(slot)}: ${NO_MASTER_HINT}`);
}

/** Whether every count read is 0 (or there are none). */
function allZero(counts: Iterable<ReadonlyMap<string, number>>): boolean {
  for (const map of counts) for (const count of map.values()) if (count !== 0) return false;
  return true;
}

/**
 * What was read is empty: when the group was switched to `layout: periods`, its counts may sit in
 * the python layout's keys, unread; say so (once per run). Probed only then: a read that finds
 * counts costs no extra round trip.
 */
async function warnIfSwitched(
  store: Store,
  group: GroupConfig,
  interval: IntervalConfig,
  warned: { done: boolean },
): Promise<void> {
  if (warned.done) return;
  warned.done = true;
  const warnings = await store.masterlessLayoutWarnings([{ ...group, intervals: [interval] }])
    .catch(() => []); // a failed probe (an ACL without it) warns nothing
  for (const warning of warnings) printWarning(warning);
}

/** Read once and return the text to print (warnings go to stderr). */
async function render(
  store: Store,
  config: EclConfig,
  options: ReadOptions,
  warned: { done: boolean },
): Promise<string> {
  const now = Date.now() / 1000;
  if (options.format === "prometheus") {
    return await readMetrics(
      store,
      config,
      { group: options.group, interval: options.interval },
      now,
    );
  }
  if (options.format === "munin-suggest") {
    const { muninSuggest } = await import("./_munin.ts");
    return muninSuggest(config, options.group);
  }
  const group = findGroup(config, options.group!);
  const interval = findInterval(group, options.interval);
  if (options.format === "munin" || options.format === "munin-config") {
    const { muninOutput } = await import("./_munin.ts");
    return await muninOutput(store, group, interval, {
      config: options.format === "munin-config",
      stateFile: options.state,
    });
  }
  if (options.history !== undefined) {
    const periods = await store.readHistory(group, interval, historyCount(options.history));
    if (allZero(periods.map((period) => period.counts))) {
      await warnIfSwitched(store, group, interval, warned);
    }
    if (options.format === "json") return formatHistoryJson(group.name, interval.name, periods);
    if (options.format === "csv") return formatHistoryCsv(periods);
    return formatHistoryText(periods, Deno.stdout.isTerminal());
  }
  // A layout without rotation (periods) needs no master: its "last" is never stale.
  const rotated = store.layoutOf(group).rotates;
  const sections: { last?: SlotCounts; current?: SlotCounts } = {};
  if (options.which !== "current") sections.last = await readSlot(store, group, interval, LAST);
  if (options.which !== "last") sections.current = await readSlot(store, group, interval, CUR);
  const slots = [sections.last, sections.current].filter((slot) => slot !== undefined);
  for (const slot of slots) reportInvalid(slot);
  if (slots.every((slot) => slot.invalid.size === 0) && allZero(slots.map((slot) => slot.counts))) {
    await warnIfSwitched(store, group, interval, warned);
  }
  if (options.format === "json") return formatJson(interval, sections, now, rotated);
  if (options.format === "csv") {
    return formatHistoryCsv(slots);
  }
  reportSpan((sections.last ?? sections.current)!, interval, now, rotated);
  return formatText(sections);
}

/** Seconds between two prints of `--watch`. */
function watchSeconds(watch: string | true, config: EclConfig, options: ReadOptions): number {
  if (watch === true) {
    if (options.group === undefined) return DEFAULT_WATCH_SECONDS;
    const group = findGroup(config, options.group);
    if (options.interval === undefined && group.intervals.length > 1) {
      return Math.min(...group.intervals.map((interval) => interval.seconds));
    }
    return findInterval(group, options.interval).seconds;
  }
  const seconds = Number(watch);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new RangeError(
      `Cannot watch every ${JSON.stringify(watch)} seconds: expected a number > 0`,
    );
  }
  return seconds;
}

/**
 * How long one read (connecting included) waits for Redis before `ecl read` gives up with exit 3:
 * a frozen Redis would otherwise hold a Munin fetch or a cron job for ever.
 */
export const READ_TIMEOUT_MS = 10_000;

/** `work`, or a {@link RedisError} naming the wait when Redis does not answer in time. */
function withinReadTimeout<T>(store: Store, work: Promise<T>): Promise<T> {
  return withTimeout(work, READ_TIMEOUT_MS, () => {
    throw new RedisError(
      `Redis at ${store.address} did not answer within ${READ_TIMEOUT_MS / 1000} s`,
    );
  });
}

/** Read and print (again and again with `watch`, until SIGINT); returns the exit code. */
export async function runRead(options: ReadOptions): Promise<number> {
  const config = await loadConfig(options.config);
  if (
    options.group === undefined && options.format !== "prometheus" &&
    options.format !== "munin-suggest"
  ) {
    throw new RangeError("required option '-g, --group <GROUP>' not specified");
  }
  if (options.history !== undefined) {
    historyCount(options.history);
    if (!HISTORY_FORMATS.includes(options.format)) {
      throw new RangeError(
        `Cannot print --history as ${options.format}: use -f ${HISTORY_FORMATS.join(", -f ")}`,
      );
    }
  }
  // Unknown names fail before connecting (Prometheus output takes every interval of a group).
  if (options.group !== undefined) {
    const group = findGroup(config, options.group);
    if (options.format !== "prometheus" || options.interval !== undefined) {
      findInterval(group, options.interval);
    }
  }
  const store = new Store(config.redis, { reconnect: false });
  const warned = { done: false };
  try {
    await withinReadTimeout(store, store.ready());
    if (options.watch === undefined) {
      await writeStdout(await withinReadTimeout(store, render(store, config, options, warned)));
      return ExitCode.Ok;
    }
    const everyMs = watchSeconds(options.watch, config, options) * 1000;
    const terminal = Deno.stdout.isTerminal();
    const stop = waitForStop(["SIGINT"]);
    while (true) {
      const text = await withinReadTimeout(store, render(store, config, options, warned));
      // On a terminal: redraw in place; elsewhere: one block per refresh.
      await writeStdout(terminal ? CLEAR_SCREEN + text : text + "\n");
      const timer = new Promise<"tick">((resolve) => setTimeout(() => resolve("tick"), everyMs));
      if ((await Promise.race([timer, stop.signal])) !== "tick") break;
    }
    stop.dispose();
    return ExitCode.Ok;
  } finally {
    // Replies still awaited from a Redis that stopped answering are dropped, not waited for.
    await withTimeout(store.close(), 1000, () => store.close(true));
  }
}
