/**
 * The `python` layout: the keys of the original `event_count_logger` (one string key per event,
 * `cur` and `last`, `@ts`; see `keys.ts`) written and rotated by the scripts of `scripts.ts`. A
 * boundary is a rotation (SCAN + RENAME per dynamic event). Not on a Redis Cluster (the config
 * refuses it): a rotation needs every key of a (group, interval) on one node.
 * @module
 */
import type { GroupConfig, IntervalConfig } from "../config.ts";
import { periodStart } from "../interval.ts";
import {
  counterKey,
  CUR,
  eventScanPattern,
  LAST,
  type Slot,
  slotPrefix,
  timestampKey,
  totalsKey,
  writerKey,
} from "../keys.ts";
import {
  FLUSH_SCRIPT,
  type FlushStatus,
  HSCAN_SCRIPT,
  ROTATE_SCRIPT,
  TOTALS_MARKER,
} from "../scripts.ts";
import {
  carriesTotals,
  type Commands,
  type FlushRequest,
  type FlushResult,
  type HistoryPeriod,
  type Layout,
  type PeriodValues,
  releaseWriterKeys,
  WRITER_RECORD_TTL_MS,
} from "./layout.ts";

/** Fields per `HSCAN` page of the totals hash. */
const HSCAN_COUNT = 1000;

const INTEGER_TEXT = /^-?\d+$/;

function parseTimestamp(value: string | null): number | undefined {
  return value !== null && INTEGER_TEXT.test(value) ? Number(value) : undefined;
}

const SPAN_TEXT = /^(-?\d+)\/(-?\d+)$/;

/**
 * Start of the span in `last`, from the value of `last:@ts`, when it is known: the ecl master
 * writes `<start>/<end>` (`ROTATE_SCRIPT`), `end` being the `cur:@ts` of the same rotation. When
 * the current period is not `end`'s, another master (the Python one never writes `last:@ts`)
 * rotated since, and the start is unknown. A bare `<start>` (an older ecl's) is taken as it is.
 * `FLUSH_SCRIPT` reads the value by the same rule.
 */
function lastSpanStart(
  value: string | null,
  curPeriod: number | undefined,
  seconds: number,
): number | undefined {
  const span = value === null ? null : SPAN_TEXT.exec(value);
  if (span === null) return parseTimestamp(value);
  const end = periodStart(Number(span[2]), seconds);
  return end === curPeriod ? Number(span[1]) : undefined;
}

/** The `python` layout: the original's keys, rotated by a master. */
export class PythonLayout implements Layout {
  readonly name = "python";
  readonly rotates = true;
  readonly keepsHistory = false;

  async write(redis: Commands, request: FlushRequest): Promise<FlushResult> {
    const group = request.group.name;
    const interval = request.interval;
    const args = [
      String(interval.seconds),
      String(request.period),
      String(request.nowSeconds),
      String(request.graceSeconds),
      slotPrefix(group, interval.name, CUR),
      slotPrefix(group, interval.name, LAST),
      String(request.seq),
      String(WRITER_RECORD_TTL_MS),
      String(request.resendDeadlineMs ?? 0),
    ];
    for (const [event, count] of request.counts) args.push(event, String(count));
    const keys = [
      timestampKey(group, interval.name, CUR),
      timestampKey(group, interval.name, LAST),
      writerKey(group, interval.name, request.writer),
    ];
    if (carriesTotals(request.group, interval)) {
      keys.push(totalsKey(group));
    }
    const [status, ...listed] = await redis.run(FLUSH_SCRIPT, keys, args) as [
      number,
      ...string[],
    ];
    const marker = listed.indexOf(TOTALS_MARKER);
    return marker < 0 ? { status: Number(status) as FlushStatus, rejected: listed } : {
      status: Number(status) as FlushStatus,
      rejected: listed.slice(0, marker),
      totalsRejected: listed.slice(marker + 1),
    };
  }

  /**
   * The totals hash, read page by page (`HSCAN`): a group with millions of event IDs never blocks
   * Redis for one big `HGETALL`.
   */
  async readTotals(redis: Commands, group: GroupConfig): Promise<Map<string, string>> {
    const key = totalsKey(group.name);
    const totals = new Map<string, string>();
    let cursor = "0";
    do {
      const [next, fields] = await redis.run(HSCAN_SCRIPT, [key], [
        cursor,
        String(HSCAN_COUNT),
      ]) as [string, string[]];
      cursor = String(next);
      for (let i = 0; i < fields.length; i += 2) totals.set(fields[i], fields[i + 1]);
    } while (cursor !== "0");
    return totals;
  }

  /** One script per interval: the writer's keys of a group are in as many hash slots. */
  async releaseWriter(
    redis: Commands,
    group: GroupConfig,
    writer: string,
    lastSeq: number,
  ): Promise<boolean> {
    return await releaseWriterKeys(
      redis,
      group.intervals.map((interval) => writerKey(group.name, interval.name, writer)),
      lastSeq,
    );
  }

  async rotate(
    redis: Commands,
    group: GroupConfig,
    interval: IntervalConfig,
    boundary: number,
  ): Promise<number> {
    const name = interval.name;
    const args = [
      String(boundary),
      String(interval.seconds),
      slotPrefix(group.name, name, CUR),
      slotPrefix(group.name, name, LAST),
      eventScanPattern(group.name, name, CUR),
      eventScanPattern(group.name, name, LAST),
      group.autoDeclareEvents ? "1" : "0",
      ...group.events,
    ];
    const keys = [
      timestampKey(group.name, name, CUR),
      timestampKey(group.name, name, LAST),
    ];
    return Number(await redis.run(ROTATE_SCRIPT, keys, args));
  }

  async readPeriod(
    redis: Commands,
    group: GroupConfig,
    interval: IntervalConfig,
    slot: Slot,
    events: ReadonlySet<string>,
    listAll: boolean,
  ): Promise<PeriodValues> {
    const ids = new Set(events);
    if (listAll) {
      for (const event of await this.#listEvents(redis, group.name, interval.name, slot)) {
        ids.add(event);
      }
    }
    const list = [...ids];
    const keys = list.map((event) => counterKey(group.name, interval.name, slot, event));
    keys.push(
      timestampKey(group.name, interval.name, LAST),
      timestampKey(group.name, interval.name, CUR),
    );
    const stored = await redis.getValues(keys);
    const values = new Map<string, string | null>();
    list.forEach((event, index) => values.set(event, stored[index]));
    // `last:@ts` is written by ecl masters only; `cur:@ts` by Python masters too, a little late.
    const curStart = parseTimestamp(stored[list.length + 1]);
    const curPeriod = curStart === undefined ? undefined : periodStart(curStart, interval.seconds);
    const lastStart = lastSpanStart(stored[list.length], curPeriod, interval.seconds);
    return slot === LAST ? { values, start: lastStart, end: curPeriod } : {
      values,
      start: curPeriod,
      end: curPeriod === undefined ? undefined : curPeriod + interval.seconds,
    };
  }

  /** Event IDs (not reserved ones) that have a key in `slot` of (group, interval). */
  async #listEvents(
    redis: Commands,
    group: string,
    interval: string,
    slot: Slot,
  ): Promise<string[]> {
    const prefixLength = slotPrefix(group, interval, slot).length;
    const pattern = eventScanPattern(group, interval, slot);
    const keys = await redis.scan(pattern);
    return [...new Set(keys.map((key) => key.slice(prefixLength)))];
  }

  readHistory(
    _redis: Commands,
    group: GroupConfig,
    _interval: IntervalConfig,
    _count: number,
  ): Promise<HistoryPeriod[]> {
    return Promise.reject(
      new RangeError(
        `Cannot read the history of group ${
          JSON.stringify(group.name)
        }: it uses layout "python", which keeps only the last finished period; set layout: periods and history: N`,
      ),
    );
  }

  /** `cur:@ts` exists: a master rotated the group, or Python loggers wrote it. */
  async hasCounts(
    redis: Commands,
    group: GroupConfig,
    interval: IntervalConfig,
  ): Promise<boolean> {
    const [ts] = await redis.getValues([timestampKey(group.name, interval.name, CUR)]);
    return ts !== null;
  }
}
