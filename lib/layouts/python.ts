/**
 * The `python` layout: the keys of the original `event_count_logger` (one string key per event,
 * `cur` and `last`, `@ts`; see `keys.ts`) written and rotated by the scripts of `scripts.ts`. A
 * boundary is a rotation (SCAN + RENAME per dynamic event). On a Redis Cluster the same keys are
 * hash-tagged per (group, interval), which the Python implementation does not read.
 * @module
 */
import type { GroupConfig, IntervalConfig } from "../config.ts";
import { periodStart } from "../interval.ts";
import {
  counterKey,
  CUR,
  eventScanPattern,
  type KeyLayout,
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
  RELEASE_WRITER_SCRIPT,
  ROTATE_SCRIPT,
  SCAN_SCRIPT,
  TOTALS_MARKER,
} from "../scripts.ts";
import {
  carriesTotals,
  type Commands,
  type FlushRequest,
  type FlushResult,
  type Layout,
  type PeriodValues,
  WRITER_RECORD_TTL_MS,
} from "./layout.ts";
/** Keys per `SCAN` round trip of the cluster's listing script. */
const SCAN_COUNT = 1000;

const INTEGER_TEXT = /^-?\d+$/;

/**
 * Sum of two stored totals as text; a value that is not an integer wins, so the reader sees it
 * (and warns) instead of a wrong sum.
 */
function addTotals(a: string | undefined, b: string): string {
  if (a === undefined) return b;
  if (!INTEGER_TEXT.test(a)) return a;
  if (!INTEGER_TEXT.test(b)) return b;
  return String(BigInt(a) + BigInt(b));
}

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

/** The `python` layout with plain keys, or hash-tagged ones (`keys: "cluster"`) for a cluster. */
export class PythonLayout implements Layout {
  readonly name = "python";
  readonly #keys: KeyLayout;

  /** The layout with `keys` shaped for a single server (`plain`) or a cluster. */
  constructor(keys: KeyLayout) {
    this.#keys = keys;
  }

  async write(redis: Commands, request: FlushRequest): Promise<FlushResult> {
    const group = request.group.name;
    const interval = request.interval;
    const args = [
      String(interval.seconds),
      String(request.period),
      String(request.nowSeconds),
      String(request.graceSeconds),
      slotPrefix(group, interval.name, CUR, this.#keys),
      slotPrefix(group, interval.name, LAST, this.#keys),
      String(request.seq),
      String(WRITER_RECORD_TTL_MS),
      String(request.resendDeadlineMs ?? 0),
    ];
    for (const [event, count] of request.counts) args.push(event, String(count));
    const keys = [
      timestampKey(group, interval.name, CUR, this.#keys),
      timestampKey(group, interval.name, LAST, this.#keys),
      writerKey(group, interval.name, request.writer, this.#keys),
    ];
    if (carriesTotals(request.group, interval)) {
      keys.push(totalsKey(group, interval.name, this.#keys));
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
   * The totals hash, read page by page (`HSCAN` in a script, so on a cluster it goes to the node
   * of its slot): a group with millions of event IDs never blocks Redis for one big `HGETALL`. On a
   * cluster each interval has its own totals hash (only the shortest interval's grows; the others
   * hold what grew there while it was the shortest), summed here.
   */
  async readTotals(redis: Commands, group: GroupConfig): Promise<Map<string, string>> {
    const keys = this.#keys === "cluster"
      ? group.intervals.map((interval) => totalsKey(group.name, interval.name, this.#keys))
      : [totalsKey(group.name, "", this.#keys)];
    const totals = new Map<string, string>();
    for (const key of keys) {
      let cursor = "0";
      do {
        const [next, fields] = await redis.run(HSCAN_SCRIPT, [key], [
          cursor,
          String(SCAN_COUNT),
        ]) as [
          string,
          string[],
        ];
        cursor = String(next);
        for (let i = 0; i < fields.length; i += 2) {
          totals.set(fields[i], addTotals(totals.get(fields[i]), fields[i + 1]));
        }
      } while (cursor !== "0");
    }
    return totals;
  }

  /** One script per interval: the writer's keys of a group are in as many hash slots. */
  async releaseWriter(
    redis: Commands,
    group: GroupConfig,
    writer: string,
    lastSeq: number,
  ): Promise<boolean> {
    const replies = await Promise.all(group.intervals.map((interval) =>
      redis.run(
        RELEASE_WRITER_SCRIPT,
        [writerKey(group.name, interval.name, writer, this.#keys)],
        [String(lastSeq)],
      )
    ));
    return replies.every((reply) => Number(reply) >= 0);
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
      slotPrefix(group.name, name, CUR, this.#keys),
      slotPrefix(group.name, name, LAST, this.#keys),
      eventScanPattern(group.name, name, CUR, this.#keys),
      eventScanPattern(group.name, name, LAST, this.#keys),
      group.autoDeclareEvents ? "1" : "0",
      ...group.events,
    ];
    const keys = [
      timestampKey(group.name, name, CUR, this.#keys),
      timestampKey(group.name, name, LAST, this.#keys),
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
    const keys = list.map((event) =>
      counterKey(group.name, interval.name, slot, event, this.#keys)
    );
    keys.push(
      timestampKey(group.name, interval.name, LAST, this.#keys),
      timestampKey(group.name, interval.name, CUR, this.#keys),
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
    const prefixLength = slotPrefix(group, interval, slot, this.#keys).length;
    const pattern = eventScanPattern(group, interval, slot, this.#keys);
    // On a cluster, the keys of one (group, interval) are all on the node of its hash slot: scan
    // there, in a script sent to that slot.
    const keys = this.#keys === "cluster"
      ? await redis.run(
        SCAN_SCRIPT,
        [timestampKey(group, interval, CUR, this.#keys)],
        [pattern, String(SCAN_COUNT)],
      ) as string[]
      : await redis.scan(pattern);
    return [...new Set(keys.map((key) => key.slice(prefixLength)))];
  }
}
