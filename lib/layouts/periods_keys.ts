/**
 * Keys and time rules of the `periods` layout (pure). Counts of one (group, interval, period) live
 * in hashes, event ID → count, split into shards by a stable hash of the event ID:
 *
 * - `{<group>:<interval>:<shard>}:p:<start>`  counts of the period starting at `<start>` (UNIX s)
 * - `{<group>:<interval>:<shard>}:w:<writer>` highest batch number `<writer>` wrote to that shard
 *   (Redis Cluster), or `{<group>:<interval>}:w:<writer>` to the whole (group, interval) (one Redis)
 * - `{<group>:<interval>:<shard>}:t`           event ID → total of the events of that shard
 *   (`totals: true`; only the shortest interval's shards grow; readers sum every interval's)
 *
 * The Redis Cluster hash tag is `{<group>:<interval>:<shard>}`: every key of one shard (all its
 * periods and its writers' numbers) is in one hash slot, so the write script can check and record
 * a batch number atomically with the counts, and a history read of one shard is one script call;
 * different shards of one hot group hash to different slots, so the group spreads over every
 * master. Event IDs (hostile user data) only ever become hash fields, never part of a key name.
 * No field is reserved: a hash holds events and nothing else.
 *
 * Keys never collide with the `python` layout (`<group>:<interval>:cur:<event>`, which never starts
 * with `{`: group names are checked by the config).
 * @module
 */
import { periodStart } from "../interval.ts";
import { WRITER_RECORD_TTL_MS } from "./layout.ts";

/** Largest number of shards of one (group, interval). */
export const MAX_SHARDS = 1024;

/**
 * Fields per shard hash that the shard count rule aims at: expiring (without
 * `lazyfree-lazy-expire`) or reading a shard of this size blocks Redis for a few milliseconds
 * (measured in bench/periods.ts; see docs/layouts.md).
 */
export const FIELDS_PER_SHARD = 8192;

/**
 * Seconds kept beyond a period's retention before its keys expire, plus one second per shard (mod
 * {@link EXPIRY_SPREAD_SECONDS}), so that the shards of one period do not all expire in the same
 * instant. Readers never ask for a period after its retention, so the margin only absorbs clock
 * differences between Redis and late readers.
 */
export const EXPIRY_MARGIN_SECONDS = 60;
/** Expiries of the shards of one period are spread over this many seconds. */
export const EXPIRY_SPREAD_SECONDS = 60;

/**
 * How long Redis remembers a writer's last batch number per shard after its last write (ms): the
 * resend window plus the clock-skew margin, as in every layout.
 */
export const WRITER_TTL_MS = WRITER_RECORD_TTL_MS;

/** The hash tag (with braces) shared by every key of one shard of (group, interval). */
export function shardTag(group: string, interval: string, shard: number): string {
  return `{${group}:${interval}:${shard}}`;
}

/** Key of the hash holding the counts of `shard` of the period starting at `start` (UNIX s). */
export function periodKey(group: string, interval: string, start: number, shard: number): string {
  return `${shardTag(group, interval, shard)}:p:${start}`;
}

/** Key of `writer`'s highest batch number written to `shard` of (group, interval). */
export function writerKey(group: string, interval: string, shard: number, writer: string): string {
  return `${shardTag(group, interval, shard)}:w:${writer}`;
}

/**
 * Key of the hash event ID → total of the events of `shard` (`totals: true`): in the shard's slot,
 * so the write script adds to it atomically with the counts. Never expires.
 */
export function totalsKey(group: string, interval: string, shard: number): string {
  return `${shardTag(group, interval, shard)}:t`;
}

/**
 * Key of `writer`'s highest batch number written to (group, interval) on one Redis (not a
 * cluster), where a batch's shards are written in one atomic call: one key instead of one per shard.
 */
export function batchWriterKey(group: string, interval: string, writer: string): string {
  return `{${group}:${interval}}:w:${writer}`;
}

/**
 * 32-bit FNV-1a of the UTF-8 bytes of `text` (stable across runtimes, versions and machines). The
 * bytes are those `TextEncoder` gives (a lone surrogate is U+FFFD), computed without allocating:
 * this runs once per event of every write.
 */
export function fnv1a32(text: string): number {
  // No helper closure: a captured `hash` would live in a heap context, not a register.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      hash = Math.imul(hash ^ code, FNV_PRIME);
      continue;
    }
    if (code < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (code >> 6)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), FNV_PRIME);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
        hash = Math.imul(hash ^ (0xf0 | (code >> 18)), FNV_PRIME);
        hash = Math.imul(hash ^ (0x80 | ((code >> 12) & 0x3f)), FNV_PRIME);
        hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), FNV_PRIME);
        hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), FNV_PRIME);
        continue;
      }
      code = 0xfffd;
    }
    hash = Math.imul(hash ^ (0xe0 | (code >> 12)), FNV_PRIME);
    hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), FNV_PRIME);
    hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), FNV_PRIME);
  }
  return hash >>> 0;
}

const FNV_PRIME = 0x01000193;

/**
 * Shard (0 ≤ shard < `shards`) of an event ID: FNV-1a of its UTF-8 bytes, folded so that the high
 * bits count too, modulo the shard count.
 */
export function shardOf(event: string, shards: number): number {
  if (shards === 1) return 0;
  const hash = fnv1a32(event);
  return ((hash ^ (hash >>> 16)) >>> 0) % shards;
}

/**
 * The shard count for a group that expects up to `events` distinct events per period: the smallest
 * power of two with at most {@link FIELDS_PER_SHARD} fields per shard on average, at most
 * {@link MAX_SHARDS}. Powers of two, so that raising the count later keeps every old shard index
 * valid (readers read shards 0 … count−1 and add up what they find).
 *
 * @throws {RangeError} when `events` is not a whole number ≥ 0
 */
export function shardCount(events: number): number {
  if (!Number.isInteger(events) || events < 0) {
    throw new RangeError(`Cannot size shards for ${events} events: expected a whole number ≥ 0`);
  }
  let shards = 1;
  while (shards < MAX_SHARDS && shards * FIELDS_PER_SHARD < events) shards *= 2;
  return shards;
}

/**
 * Event ID → value (a batch's counts, or anything per event) split into shards, keyed by shard
 * (only shards with events; each part in the order of `counts`).
 */
export function splitByShard<T>(
  counts: ReadonlyMap<string, T>,
  shards: number,
): Map<number, Map<string, T>> {
  const parts = new Map<number, Map<string, T>>();
  for (const [event, count] of counts) {
    const shard = shardOf(event, shards);
    let part = parts.get(shard);
    if (part === undefined) parts.set(shard, part = new Map());
    part.set(event, count);
  }
  return parts;
}

/**
 * The current time of Redis in seconds from a `TIME` reply (`[seconds, microseconds]`, as strings
 * or numbers): the one clock every reader and writer of the periods layout decides periods on.
 */
export function redisSeconds(time: readonly (string | number)[]): number {
  return Number(time[0]) + Number(time[1]) / 1e6;
}

/** Start of the current period of (interval) on Redis's clock, from a `TIME` reply. */
export function currentPeriod(time: readonly (string | number)[], intervalSeconds: number): number {
  return periodStart(redisSeconds(time), intervalSeconds);
}

/**
 * Starts of the periods a read asks for, oldest first: the `count` finished periods before the
 * current one (`count` = 1: the last finished period), then the current one when `current` is set.
 */
export function periodStarts(
  currentStart: number,
  intervalSeconds: number,
  count: number,
  current = false,
): number[] {
  const starts: number[] = [];
  for (let k = count; k >= 1; k--) starts.push(currentStart - k * intervalSeconds);
  if (current) starts.push(currentStart);
  return starts;
}

/**
 * The moment (UNIX s) a period leaves the kept history: then `history` finished periods are newer
 * than it. A write of counts for a period whose retention has passed is refused.
 */
export function keptUntil(start: number, intervalSeconds: number, history: number): number {
  return start + (history + 1) * intervalSeconds;
}

/**
 * When (UNIX s, for `EXPIREAT`) the keys of `shard` of the period starting at `start` expire: at
 * the end of its retention plus {@link EXPIRY_MARGIN_SECONDS}, plus one second per shard (mod
 * {@link EXPIRY_SPREAD_SECONDS}) so that a large period's shards are freed one by one.
 */
export function expireAt(
  start: number,
  intervalSeconds: number,
  history: number,
  shard: number,
): number {
  return keptUntil(start, intervalSeconds, history) + EXPIRY_MARGIN_SECONDS +
    (shard % EXPIRY_SPREAD_SECONDS);
}
