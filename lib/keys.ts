/**
 * The key shapes of the `python` layout (`layouts/python.ts`), built and parsed only here, and the
 * keys outside every group: the master lease and the `python` layout's totals hash. (The `periods`
 * layout's keys are built in `layouts/periods_keys.ts` alone.) The layout is the one of the
 * original Python `event_count_logger`, so that both implementations share counters:
 *
 * - `<group>:<interval>:cur:<event>`  count of the current, unfinished period
 * - `<group>:<interval>:last:<event>` final count of the last finished period
 * - `<group>:<interval>:cur:@ts`      start (UNIX seconds) of the current period
 * - `<group>:<interval>:last:@ts`     `<start>/<end>` of the span now in `last` (ecl only; `end` is
 *                                     the `cur:@ts` it belongs to: another value there means that
 *                                     another master rotated since, and the start is unknown)
 * - `<group>:<interval>:cur:@w:<writer>` highest batch number `<writer>` wrote (ecl only)
 * - `@ecl:total:<group>`              event ID → total (`totals: true`; ecl only)
 * - `@ecl:master`                     the master lease: ID of the leading master
 *
 * Event IDs that start with `@` are reserved for such metadata; group names never contain `:`.
 * @module
 */

/** Which of the two counter sets of an interval a key belongs to. */
export type Slot = "cur" | "last";

/** Slot of the counts of the current, unfinished period. */
export const CUR: Slot = "cur";
/** Slot of the counts of the last finished period. */
export const LAST: Slot = "last";
/** Event position of the timestamp keys. */
export const TIMESTAMP_ID = "@ts";
/** First character of event IDs that ecl (and the original) reserve for metadata. */
export const RESERVED_PREFIX = "@";
/** Separator between the parts of a key. */
export const SEPARATOR = ":";
/** Event position prefix of the keys that remember each writer's last batch number. */
export const WRITER_PREFIX = "@w:";
/** Key of the master lease; it lives outside every `<group>:` prefix. */
export const MASTER_LEASE_KEY = "@ecl:master";
/** Prefix of the totals hashes (`totals: true`); outside every `<group>:` prefix too. */
export const TOTALS_PREFIX = "@ecl:total:";

/**
 * Key of the hash event ID → total of a `totals: true` group: `@ecl:total:<group>`, which no SCAN
 * pattern of the Python implementation matches (they start with `<group>:`). One per group: the
 * `python` layout is not used on a Redis Cluster (the `periods` layout keeps its own totals, see
 * `layouts/periods_keys.ts`).
 */
export function totalsKey(group: string): string {
  return TOTALS_PREFIX + group;
}

/** The parts of a counter key. */
export interface KeyParts {
  /** Group name. */
  group: string;
  /** Interval string as configured, e.g. `5m`. */
  interval: string;
  /** `cur` or `last`. */
  slot: Slot;
  /** Event ID (may contain `:`). */
  event: string;
}

/** Prefix shared by every key of one slot of (group, interval): `<group>:<interval>:<slot>:`. */
export function slotPrefix(
  group: string,
  interval: string,
  slot: Slot,
): string {
  return group + SEPARATOR + interval + SEPARATOR + slot + SEPARATOR;
}

/** Key of the counter of `event` in `slot` of (group, interval). */
export function counterKey(
  group: string,
  interval: string,
  slot: Slot,
  event: string,
): string {
  return slotPrefix(group, interval, slot) + event;
}

/** Key holding the start time of the period in `slot` of (group, interval). */
export function timestampKey(
  group: string,
  interval: string,
  slot: Slot,
): string {
  return slotPrefix(group, interval, slot) + TIMESTAMP_ID;
}

/**
 * Key holding the number of the last batch that `writer` (one logger instance) wrote to
 * (group, interval); see the flush script. It sits among the `cur` keys under a reserved ID.
 */
export function writerKey(
  group: string,
  interval: string,
  writer: string,
): string {
  return slotPrefix(group, interval, CUR) + WRITER_PREFIX + writer;
}

/** Whether an event ID is reserved for metadata (starts with `@`). */
export function isReservedId(event: string): boolean {
  return event.startsWith(RESERVED_PREFIX);
}

/**
 * Split a key into its parts, or return `undefined` when it is not a counter or timestamp key.
 * Only the first three `:` separate parts, so event IDs may contain `:`.
 */
export function parseKey(key: string): KeyParts | undefined {
  const first = key.indexOf(SEPARATOR);
  const second = first < 0 ? -1 : key.indexOf(SEPARATOR, first + 1);
  const third = second < 0 ? -1 : key.indexOf(SEPARATOR, second + 1);
  if (third < 0) return undefined;
  const slot = key.slice(second + 1, third);
  if (slot !== CUR && slot !== LAST) return undefined;
  return {
    group: key.slice(0, first),
    interval: key.slice(first + 1, second),
    slot,
    event: key.slice(third + 1),
  };
}

/** Escape the glob metacharacters of Redis `SCAN MATCH` (`*`, `?`, `[`, `]`, `\`). */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/**
 * `SCAN MATCH` pattern of every non-reserved event key in `slot` of (group, interval). The group
 * and interval are escaped, so a group named `g?` never matches group `gx`.
 */
export function eventScanPattern(
  group: string,
  interval: string,
  slot: Slot,
): string {
  return escapeGlob(slotPrefix(group, interval, slot)) + "[^" + RESERVED_PREFIX + "]*";
}
