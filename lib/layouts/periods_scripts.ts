/**
 * Server-side scripts of the `periods` layout, the pure planning of their calls, and the two
 * operations built on them (write one batch, read N periods), given a way to run a script.
 *
 * Redis Cluster: a script may touch keys of one hash slot only, and every key of one shard of
 * (group, interval) shares its slot (see periods_keys.ts). So on a cluster a batch is split per
 * shard and each shard is one call, with the shard's own writer key; on a single Redis (or
 * Sentinel) the shards of a batch go in one call, atomically.
 * @module
 */
import {
  batchWriterKey,
  expireAt,
  FIELDS_PER_SHARD,
  keptUntil,
  periodKey,
  shardOf,
  totalsKey,
  WRITER_TTL_MS,
  writerKey,
} from "./periods_keys.ts";

/** What the write script did with (its part of) a batch. */
export const PeriodsWriteStatus = {
  /** Added to the period's hashes. */
  Written: 0,
  /** Nothing written: the period has left the kept history (Redis clock); the counts are too late. */
  TooLate: 3,
  /** Nothing written: this batch was written before (a retry after a lost reply). */
  Duplicate: 4,
  /** Nothing written: the period starts later than Redis's now plus the grace (writer's clock ahead). */
  TooEarly: 5,
  /**
   * Nothing written: a resend that reached Redis after its deadline (Redis's clock), when the
   * writer keys may have expired. Its counts were written once or not at all, never twice.
   */
  Expired: 6,
} as const;
/** One of {@link PeriodsWriteStatus}. */
export type PeriodsWriteStatus = typeof PeriodsWriteStatus[keyof typeof PeriodsWriteStatus];

/** In a write reply, the events listed after it were not added to the totals. */
export const PERIODS_TOTALS_MARKER = "@total";

/** The error a script returns when the ACL forbids one of its commands. */
export const PERIODS_NOPERM_REPLY = "NOPERM this user may not run every command ecl needs here";

/** A Lua script (the store runs it by SHA1, computed once per script). */
export interface PeriodsScript {
  /** Lua source. */
  readonly source: string;
}

function script(source: string): PeriodsScript {
  return { source };
}

/**
 * A shard of a period that left the history is UNLINKed (freed in the background) rather than left
 * to expire when it holds more fields than this: twice what `shardCount` sizes shards for.
 */
export const UNLINK_ABOVE_FIELDS = 2 * FIELDS_PER_SHARD;

const ACL_CHECK = `
local function allowed(...)
  if redis.acl_check_cmd then return redis.acl_check_cmd(...) end
  return true
end
`;

/**
 * Positions (1-based, as Lua's ARGV) of the fixed header of {@link WRITE_SCRIPT}'s arguments; the
 * per-shard arguments and the event, count pairs follow it. {@link planWrite} and the script both
 * use these, so the two cannot drift apart.
 */
export const WriteArg = {
  /** Period start (UNIX s). */
  start: 1,
  /** How far (s) the period may start after Redis's now. */
  graceSeconds: 2,
  /** When the period leaves the kept history (UNIX s, Redis's clock). */
  keptUntil: 3,
  /** The writer's batch number. */
  seq: 4,
  /** TTL of the writer keys (ms). */
  writerTtlMs: 5,
  /** Resend deadline (UNIX ms, Redis's clock); `0`: a first send, no deadline. */
  resendDeadlineMs: 6,
  /** `1`: add the counts to the totals hashes (the keys after the writer keys); `0`: not. */
  totals: 7,
  /** k, the number of shards in this call. */
  shards: 8,
} as const;

/** Arguments before the per-shard ones in {@link WRITE_SCRIPT}'s ARGV. */
export const WRITE_HEADER_ARGS = 8;

/**
 * Add the counts of one batch of one (group, interval, period) to k shards, exactly once per
 * (writer, shard, batch number), deciding on Redis's clock whether the period may be written.
 *
 * KEYS: the k shard hashes of the period, the k hashes of the same shards of the period that left
 * the kept history when this one began, then the writer's key of each shard (on a cluster), or one
 * writer key for all of them (on one Redis, where the k shards are written atomically), then with
 * totals the k totals hashes of the shards.
 * ARGV: a fixed header of {@link WRITE_HEADER_ARGS} arguments at the positions of
 * {@link WriteArg} (period start, grace (s), kept-until (s), batch number, writer key TTL (ms),
 * resend deadline (UNIX ms by Redis's clock; `0` for a first send: no deadline), totals flag (`1`:
 * add to the totals; `0`), k), then per shard its EXPIREAT time and its number of events n_j, then
 * per shard its n_j event, count pairs, and nothing after them. Event IDs and counts sit only in
 * the pairs, so no event ID can be taken for a flag or a deadline; a call whose ARGV does not end
 * exactly after its pairs, or whose KEYS do not fit k and the totals flag, is refused with an error
 * (`ERR ecl write script: …`) before anything is written.
 *
 * Returns `{status, event...}`: the events listed were not added because their field holds
 * something that is not an integer or would overflow, or the key is not a hash (skipped, so one
 * bad field never leaves a batch half-written). A shard whose writer key holds this batch's number
 * (or a higher one) is skipped; the status is Duplicate only when every shard was. A refused
 * period (TooEarly, TooLate) still records the batch number, so a resend is a Duplicate and the
 * caller warns once.
 *
 * The first write of a shard of a period sets its expiry and, when the period has begun and the
 * same shard of the period that left the history then is oversized (more than
 * {@link UNLINK_ABOVE_FIELDS} fields: the group has more events than its shard count was sized
 * for), UNLINKs it: freed in a background thread, not by an expiry that Redis 7.0 runs in the main
 * thread unless `lazyfree-lazy-expire` is set. Shards within the bound are left to their staggered
 * expiry (about 1 ms each, one second apart), which measured better than one background burst for
 * a whole period on a busy machine (bench P4, P11). Later writes of the shard add counts only.
 *
 * A resend (deadline > 0) that reaches Redis after its deadline by Redis's clock is refused as
 * Expired before anything is written (its writer key may have expired meanwhile, so Redis can no
 * longer tell whether it ran): its counts were written once or not at all, never twice.
 *
 * Totals (`totals: true`, batches of the group's shortest interval only): each fresh shard's counts
 * are also added to its totals hash, after the batch-number and deadline checks (a Duplicate or an
 * Expired resend adds nothing), whatever the period's status (a TooEarly or TooLate batch's events
 * happened too). Fields that are not integers (or would overflow) are left unchanged and listed
 * after a `@total` marker.
 */
export const WRITE_SCRIPT: PeriodsScript = script(
  ACL_CHECK + `
local k = tonumber(ARGV[${WriteArg.shards}])
local w = 2 * k
local totals = ARGV[${WriteArg.totals}] == '1'
-- The pairs of shard j start after the header and the k (EXPIREAT, n_j) pairs; they end ARGV.
local pairsStart = ${WRITE_HEADER_ARGS} + 2 * k + 1
local pairsEnd = pairsStart
for j = 1, k do pairsEnd = pairsEnd + 2 * tonumber(ARGV[${WRITE_HEADER_ARGS} + 2 * j]) end
if pairsEnd ~= #ARGV + 1 then
  return redis.error_reply('ERR ecl write script: ' .. #ARGV .. ' arguments, expected ' .. (pairsEnd - 1))
end
local m = #KEYS - w - (totals and k or 0)
if m ~= 1 and m ~= k then
  return redis.error_reply('ERR ecl write script: ' .. #KEYS .. ' keys for ' .. k .. ' shards')
end
if not (allowed('HINCRBY', KEYS[1], 'x', '1') and allowed('EXPIREAT', KEYS[1], '1')
    and allowed('UNLINK', KEYS[k + 1]) and allowed('HLEN', KEYS[k + 1]) and allowed('SET', KEYS[w + 1], '0', 'PX', '1')
    and allowed('GET', KEYS[w + 1])
    and (not totals or allowed('HINCRBY', KEYS[w + m + 1], 'x', '1'))) then
  return redis.error_reply('${PERIODS_NOPERM_REPLY}')
end
local function skippable(err)
  return string.find(err, 'not an integer', 1, true) or string.find(err, 'overflow', 1, true)
    or string.find(err, 'WRONGTYPE', 1, true)
end
local totalsRejected = {}
local seq = tonumber(ARGV[${WriteArg.seq}])
local fresh = {}
local any = false
for j = 1, m do
  local written = tonumber(redis.call('GET', KEYS[w + j]))
  fresh[j] = not (written and seq <= written)
  any = any or fresh[j]
end
if not any then return {${PeriodsWriteStatus.Duplicate}} end
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local deadline = tonumber(ARGV[${WriteArg.resendDeadlineMs}])
if deadline > 0 and tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) > deadline then
  return {${PeriodsWriteStatus.Expired}}
end
local start = tonumber(ARGV[${WriteArg.start}])
local status = ${PeriodsWriteStatus.Written}
if start > now + tonumber(ARGV[${WriteArg.graceSeconds}]) then
  status = ${PeriodsWriteStatus.TooEarly}
elseif now >= tonumber(ARGV[${WriteArg.keptUntil}]) then
  status = ${PeriodsWriteStatus.TooLate}
end
local result = {status}
for j = 1, m do
  if fresh[j] then
    redis.call('SET', KEYS[w + j], ARGV[${WriteArg.seq}], 'PX', ARGV[${WriteArg.writerTtlMs}])
  end
end
local pos = pairsStart
for j = 1, k do
  local n = tonumber(ARGV[${WRITE_HEADER_ARGS} + 2 * j])
  if fresh[m == 1 and 1 or j] and status == ${PeriodsWriteStatus.Written} then
    -- The first write of a shard of a period sets its expiry and retires an oversized shard that
    -- left the history; later writes find both done (EXPIREAT is absolute, the same for all).
    local new = redis.call('EXISTS', KEYS[j]) == 0
    if new and now >= start and redis.call('HLEN', KEYS[k + j]) > ${UNLINK_ABOVE_FIELDS} then
      redis.call('UNLINK', KEYS[k + j])
    end
    local added = false
    for i = pos, pos + 2 * n - 1, 2 do
      local reply = redis.pcall('HINCRBY', KEYS[j], ARGV[i], ARGV[i + 1])
      if type(reply) == 'table' and reply.err then
        if not skippable(reply.err) then return redis.error_reply(reply.err) end
        result[#result + 1] = ARGV[i]
      else
        added = true
      end
    end
    -- Only a hash this script wrote gets the expiry: never shorten a foreign key's life.
    if added and new then redis.call('EXPIREAT', KEYS[j], ARGV[${WRITE_HEADER_ARGS} + 2 * j - 1]) end
  end
  if totals and fresh[m == 1 and 1 or j] then
    for i = pos, pos + 2 * n - 1, 2 do
      local reply = redis.pcall('HINCRBY', KEYS[w + m + j], ARGV[i], ARGV[i + 1])
      if type(reply) == 'table' and reply.err then
        if not skippable(reply.err) then return redis.error_reply(reply.err) end
        totalsRejected[#totalsRejected + 1] = ARGV[i]
      end
    end
  end
  pos = pos + 2 * n
end
if #totalsRejected > 0 then
  result[#result + 1] = '${PERIODS_TOTALS_MARKER}'
  for _, event in ipairs(totalsRejected) do result[#result + 1] = event end
end
return result
`,
);

/**
 * Read small period hashes in one call, leaving big ones to plain `HGETALL`s: converting a reply
 * to Lua and back costs about a microsecond per field, so a call reads keys until the field budget
 * would be spent. KEYS are hashes (of one slot on a cluster), ARGV[1] the field budget. Returns
 * `{keys consumed, {indices of keys too big for the budget, not read}, fields of each read key…}`
 * (each an `HGETALL` reply; a missing key reads as empty). At least one key is always consumed.
 */
export const READ_SCRIPT: PeriodsScript = script(`
local budget = tonumber(ARGV[1])
local big = {}
local out = {0, big}
local total = 0
for i, key in ipairs(KEYS) do
  local n = redis.call('HLEN', key)
  if n > budget then
    big[#big + 1] = i
  else
    if total + n > budget then break end
    total = total + n
    out[#out + 1] = redis.call('HGETALL', key)
  end
  out[1] = i
end
return out
`);

/** What the periods layout needs of a Redis connection (the store's, or a test's client). */
export interface PeriodsRedis {
  /** Run a script: EVALSHA, falling back to EVAL on NOSCRIPT; routed by its first key on a cluster. */
  evalScript(script: PeriodsScript, keys: string[], args: string[]): Promise<unknown>;
  /** `HGETALL key`: field → value (an object without prototype, as node-redis returns it). */
  hGetAll(key: string): Promise<Record<string, string>>;
}

/** One script call: its keys and arguments. */
export interface ScriptCall {
  /** KEYS. */
  readonly keys: string[];
  /** ARGV. */
  readonly args: string[];
  /** Sum of the counts the call adds. */
  readonly total: number;
}

/** One batch of one (group, interval, period), numbered by its writer. */
export interface PeriodBatch {
  /** Group name. */
  readonly group: string;
  /** Interval as configured, e.g. `5m`. */
  readonly interval: string;
  /** Interval length in seconds. */
  readonly intervalSeconds: number;
  /** Start of the period the counts were logged in (UNIX s). */
  readonly start: number;
  /** Event ID → count. */
  readonly counts: ReadonlyMap<string, number>;
  /** Finished periods the group keeps (≥ 1). */
  readonly history: number;
  /** Shard count of (group, interval) (see `shardCount`). */
  readonly shards: number;
  /** How far (s) a period may start after Redis's now and still be written (writer clock ahead). */
  readonly graceSeconds: number;
  /** ID of the writer (one per logger instance). */
  readonly writer: string;
  /** The writer's number for this batch; increases with every new batch. */
  readonly seq: number;
  /**
   * Add the counts to the shards' totals hashes too: set for the batches of the group's shortest
   * interval when it keeps totals (`carriesTotals` in layout.ts). @default false
   */
  readonly totals?: boolean;
  /** A resend: refused (`Expired`) when it reaches Redis after this time (UNIX ms). */
  readonly resendDeadlineMs?: number;
}

/** What a write did. */
export interface PeriodsWriteResult {
  /** Where the counts went, or why they did not. */
  readonly status: PeriodsWriteStatus;
  /** Events not added: their field holds something that is not a count, or would overflow. */
  readonly rejected: readonly string[];
  /**
   * Sum of the counts not written because their period was refused (TooEarly, TooLate): all of the
   * batch on one Redis; on a cluster, where each shard's node decides on its own clock, possibly
   * only part of it when a batch straddles the edge of the window.
   */
  readonly refused: number;
  /** Events not added to the totals: their field holds something that is not a count. */
  readonly totalsRejected?: readonly string[];
}

/**
 * The script calls of one batch: one per shard with events when `perShard` (Redis Cluster: each
 * with the writer key of its shard), else one for every shard (with one writer key).
 */
export function planWrite(batch: PeriodBatch, perShard: boolean): ScriptCall[] {
  // Events grouped by shard (shards ascending, each in the order of `counts`) by a counting sort
  // over one shard index per event: no Map per shard, one hash per event.
  const size = batch.counts.size;
  const events = new Array<string>(size);
  const values = new Array<number>(size);
  const shardAt = new Uint16Array(size);
  const perShardSize = new Uint32Array(batch.shards);
  let i = 0;
  for (const [event, count] of batch.counts) {
    const shard = shardOf(event, batch.shards);
    events[i] = event;
    values[i] = count;
    shardAt[i++] = shard;
    perShardSize[shard]++;
  }
  const used: number[] = [];
  const next = new Uint32Array(batch.shards);
  let offset = 0;
  for (let shard = 0; shard < batch.shards; shard++) {
    if (perShardSize[shard] === 0) continue;
    used.push(shard);
    next[shard] = offset;
    offset += perShardSize[shard];
  }
  const order = new Uint32Array(size);
  for (let j = 0; j < size; j++) order[next[shardAt[j]]++] = j;
  const head: string[] = [];
  head[WriteArg.start - 1] = String(batch.start);
  head[WriteArg.graceSeconds - 1] = String(batch.graceSeconds);
  head[WriteArg.keptUntil - 1] = String(
    keptUntil(batch.start, batch.intervalSeconds, batch.history),
  );
  head[WriteArg.seq - 1] = String(batch.seq);
  head[WriteArg.writerTtlMs - 1] = String(WRITER_TTL_MS);
  head[WriteArg.resendDeadlineMs - 1] = String(batch.resendDeadlineMs ?? 0);
  head[WriteArg.totals - 1] = batch.totals === true ? "1" : "0";
  const retired = batch.start - keptUntil(0, batch.intervalSeconds, batch.history);
  // Now next[shard] ends the events of `shard` in `order`: they are its perShardSize[shard] before.
  const call = (shards: readonly number[]): ScriptCall => {
    const keys: string[] = [];
    for (const shard of shards) {
      keys.push(periodKey(batch.group, batch.interval, batch.start, shard));
    }
    for (const shard of shards) keys.push(periodKey(batch.group, batch.interval, retired, shard));
    if (perShard) {
      for (const shard of shards) {
        keys.push(writerKey(batch.group, batch.interval, shard, batch.writer));
      }
    } else {
      keys.push(batchWriterKey(batch.group, batch.interval, batch.writer));
    }
    if (batch.totals === true) {
      for (const shard of shards) keys.push(totalsKey(batch.group, batch.interval, shard));
    }
    const args = head.slice();
    args[WriteArg.shards - 1] = String(shards.length);
    for (const shard of shards) {
      args.push(
        String(expireAt(batch.start, batch.intervalSeconds, batch.history, shard)),
        String(perShardSize[shard]),
      );
    }
    let total = 0;
    for (const shard of shards) {
      for (let k = next[shard] - perShardSize[shard]; k < next[shard]; k++) {
        const j = order[k];
        args.push(events[j], String(values[j]));
        total += values[j];
      }
    }
    return { keys, args, total };
  };
  if (perShard) return used.map((shard) => call([shard]));
  return used.length > 0 ? [call(used)] : [];
}

function isRefused(status: PeriodsWriteStatus): boolean {
  return status === PeriodsWriteStatus.TooEarly || status === PeriodsWriteStatus.TooLate;
}

/** The result of one write script call that would add `total` counts. */
export function parseWriteReply(reply: unknown, total: number): PeriodsWriteResult {
  const [code, ...listed] = reply as [number, ...string[]];
  const status = Number(code) as PeriodsWriteStatus;
  const refused = isRefused(status) ? total : 0;
  const marker = listed.indexOf(PERIODS_TOTALS_MARKER);
  if (marker < 0) return { status, rejected: listed.map(String), refused };
  return {
    status,
    rejected: listed.slice(0, marker).map(String),
    refused,
    totalsRejected: listed.slice(marker + 1).map(String),
  };
}

/**
 * The result of a batch from the results of its calls: refused (TooEarly/TooLate) when any call
 * was (`refused` says how much), else Expired when any call was (a resend too late), else Written
 * when any shard was written, Duplicate when every call was.
 */
export function combineWriteResults(results: readonly PeriodsWriteResult[]): PeriodsWriteResult {
  const rejected = results.flatMap((result) => result.rejected);
  const totalsRejected = results.flatMap((result) => result.totalsRejected ?? []);
  const totals = totalsRejected.length === 0 ? {} : { totalsRejected };
  let refused = 0;
  for (const result of results) refused += result.refused;
  const first = results.find((result) => isRefused(result.status));
  if (first !== undefined) return { status: first.status, rejected, refused, ...totals };
  if (results.some((result) => result.status === PeriodsWriteStatus.Expired)) {
    return { status: PeriodsWriteStatus.Expired, rejected, refused, ...totals };
  }
  const written = results.some((result) => result.status === PeriodsWriteStatus.Written);
  return {
    status: written || results.length === 0
      ? PeriodsWriteStatus.Written
      : PeriodsWriteStatus.Duplicate,
    rejected,
    refused,
    ...totals,
  };
}

/**
 * Write one batch: split per shard, one call per shard on a cluster (`perShard`), one call
 * otherwise. The calls are sent together (pipelined by the client). A call that fails rejects the
 * whole write: resend the same batch with the same number, and shards already written are skipped.
 */
export async function writeBatch(
  redis: PeriodsRedis,
  batch: PeriodBatch,
  perShard: boolean,
): Promise<PeriodsWriteResult> {
  const calls = planWrite(batch, perShard);
  const replies = await Promise.all(
    calls.map((call) => redis.evalScript(WRITE_SCRIPT, call.keys, call.args)),
  );
  return combineWriteResults(replies.map((reply, i) => parseWriteReply(reply, calls[i].total)));
}

/**
 * Fields one read script call may return before it stops (about 4 ms of Redis's time, measured
 * in bench/periods.ts); a bigger hash is read alone with `HGETALL` (bounded by the shard size).
 */
export const READ_FIELD_BUDGET = 4096;

const INTEGER = /^-?\d+$/;

/** What to read: `starts` of (group, interval), each from `shards` shards. */
export interface PeriodsRead {
  /** Group name. */
  readonly group: string;
  /** Interval as configured. */
  readonly interval: string;
  /** Period starts (UNIX s), in the order the result lists them. */
  readonly starts: readonly number[];
  /** Shard count of (group, interval). */
  readonly shards: number;
}

/** Counts of one period: event → count (summed over its shards). */
export interface PeriodCounts {
  /** Start of the period (UNIX s). */
  readonly start: number;
  /** Event ID → count. Fields whose value is not an integer are left out. */
  readonly counts: Map<string, number>;
}

function addFields(counts: Map<string, number>, fields: Iterable<[string, string]>): void {
  for (const [event, text] of fields) {
    if (!INTEGER.test(text)) continue;
    counts.set(event, (counts.get(event) ?? 0) + Number(text));
  }
}

function* pairs(flat: readonly string[]): Generator<[string, string]> {
  for (let i = 0; i < flat.length; i += 2) yield [flat[i], flat[i + 1]];
}

/**
 * Read periods: small hashes through the read script, one call per shard on a cluster
 * (`perShard`: every period of a shard is in its slot) or one for everything otherwise, continued
 * while keys are left; hashes bigger than the budget with one `HGETALL` each. Calls go one at a
 * time, so another client of Redis never waits longer than one call. Returns one entry per
 * start, in the order asked, each shard's fields added up.
 */
export async function readPeriods(
  redis: PeriodsRedis,
  read: PeriodsRead,
  perShard: boolean,
  fieldBudget = READ_FIELD_BUDGET,
): Promise<PeriodCounts[]> {
  const result = read.starts.map((start) => ({ start, counts: new Map<string, number>() }));
  const targets: { key: string; index: number }[][] = [];
  for (let shard = 0; shard < read.shards; shard++) {
    const keys = read.starts.map((start, index) => ({
      key: periodKey(read.group, read.interval, start, shard),
      index,
    }));
    if (perShard || targets.length === 0) targets.push(keys);
    else targets[0].push(...keys);
  }
  // One call at a time: pipelined, Redis would run the calls back to back and keep every other
  // client waiting for all of them; one by one, each waits at most one call's time.
  const big: { key: string; index: number }[] = [];
  for (const keys of targets) {
    let rest = keys;
    while (rest.length > 0) {
      const reply = await redis.evalScript(READ_SCRIPT, rest.map((target) => target.key), [
        String(fieldBudget),
      ]) as unknown[];
      const consumed = Number(reply[0]);
      const skipped = new Set((reply[1] as number[]).map(Number));
      let next = 2;
      for (let i = 1; i <= consumed; i++) {
        if (skipped.has(i)) big.push(rest[i - 1]);
        else addFields(result[rest[i - 1].index].counts, pairs(reply[next++] as string[]));
      }
      rest = rest.slice(consumed);
    }
  }
  for (const { key, index } of big) {
    addFields(result[index].counts, Object.entries(await redis.hGetAll(key)));
  }
  return result;
}

/** Where a group's totals are: each interval of it with its shard count. */
export interface PeriodsTotalsRead {
  /** Group name. */
  readonly group: string;
  /** Every configured interval of the group and its shard count. */
  readonly intervals: readonly { readonly interval: string; readonly shards: number }[];
}

/**
 * Read a group's totals: every shard's totals hash of every configured interval, summed per event
 * (only the shortest interval's grow; another's hold what grew there while it was the shortest).
 * One `HGETALL` per hash, one at a time: a totals hash holds one field per event ID ever logged to
 * its shard, bounded like a period's shard for a group whose events recur.
 */
export async function readTotals(
  redis: PeriodsRedis,
  read: PeriodsTotalsRead,
): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  for (const { interval, shards } of read.intervals) {
    for (let shard = 0; shard < shards; shard++) {
      addFields(
        totals,
        Object.entries(await redis.hGetAll(totalsKey(read.group, interval, shard))),
      );
    }
  }
  return totals;
}

/**
 * Redis's clock, read by a script sent to the node of KEYS[1] (any key: on a cluster the node of
 * the group's shard 0), so that every reader decides "current" on the same clock as the writes.
 */
export const TIME_SCRIPT: PeriodsScript = script(`return redis.call('TIME')`);

/** Values of some fields of one hash: KEYS[1] the hash, ARGV the fields (`HMGET`, routed by key). */
export const FIELDS_SCRIPT: PeriodsScript = script(
  `return redis.call('HMGET', KEYS[1], unpack(ARGV))`,
);

/** Fields per {@link FIELDS_SCRIPT} call (well below Lua's limit on `unpack`). */
export const FIELDS_CHUNK = 1000;

/** How many of KEYS exist (`EXISTS`; on a cluster all in one slot). */
export const EXISTS_SCRIPT: PeriodsScript = script(`return redis.call('EXISTS', unpack(KEYS))`);
