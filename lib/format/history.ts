/**
 * Output of `ecl read --history N` (pure): text (one block per period, a sparkline per event on a
 * terminal), JSON (`"periods"` oldest first) and CSV (`period_start,period_end,event,count`).
 * @module
 */
import type { HistoryPeriod } from "../layouts/layout.ts";
import { isoTime } from "../_message.ts";
import { sparklineSuffix } from "./sparkline.ts";
import { compareCodePoints } from "./text.ts";

/** Header row of the CSV output. */
export const CSV_HEADER = "period_start,period_end,event,count";

/** First characters that make a spreadsheet take a cell for a formula (OWASP). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180): quoted when it holds `,`, `"`, CR or LF (quotes doubled). A value
 * that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a
 * leading `'`, so it shows as text: CSV is for spreadsheets; `-f json` has the exact IDs.
 */
export function csvField(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function sortedEvents(counts: ReadonlyMap<string, number>): string[] {
  return [...counts.keys()].sort(compareCodePoints);
}

/**
 * One block per period, oldest first: a `<start> to <end>:` heading (ISO 8601, UTC), then its
 * `event:count` lines. On a `terminal`, each line of the newest period ends in the sparkline of
 * that event over every period read.
 */
export function formatHistoryText(periods: readonly HistoryPeriod[], terminal: boolean): string {
  let text = "";
  periods.forEach((period, index) => {
    text += `${isoTime(period.start)} to ${isoTime(period.end)}:\n`;
    const newest = index === periods.length - 1;
    for (const event of sortedEvents(period.counts)) {
      const series = newest ? periods.map((p) => p.counts.get(event) ?? 0) : [];
      text += `${event}:${period.counts.get(event)}${sparklineSuffix(series, terminal)}\n`;
    }
  });
  return text;
}

/** One JSON line: `{"group", "interval", "periods": [{"start", "end", "counts"}]}`, oldest first. */
export function formatHistoryJson(
  group: string,
  interval: string,
  periods: readonly HistoryPeriod[],
): string {
  return JSON.stringify({
    group,
    interval,
    periods: periods.map((period) => ({
      start: period.start,
      end: period.end,
      counts: Object.fromEntries(
        sortedEvents(period.counts).map((event) => [event, period.counts.get(event)!]),
      ),
    })),
  }) + "\n";
}

/** A period for CSV: its bounds may be unknown (a python-layout `last` no ecl master wrote). */
export interface CsvPeriod {
  /** Start (UNIX seconds), when known. */
  readonly start: number | undefined;
  /** End (UNIX seconds), when known. */
  readonly end: number | undefined;
  /** Event ID → count. */
  readonly counts: ReadonlyMap<string, number>;
}

/**
 * The header and `period_start,period_end,event,count` rows (UNIX seconds; empty when unknown),
 * periods in the order given, events sorted; lines end in LF.
 */
export function formatHistoryCsv(periods: readonly CsvPeriod[]): string {
  let text = CSV_HEADER + "\n";
  for (const period of periods) {
    const bounds = `${period.start ?? ""},${period.end ?? ""}`;
    for (const event of sortedEvents(period.counts)) {
      text += `${bounds},${csvField(event)},${period.counts.get(event)}\n`;
    }
  }
  return text;
}
