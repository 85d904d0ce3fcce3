/**
 * Server-side Lua scripts of the `python` layout and of the master lease. Each runs atomically in
 * Redis, so a flush or a rotation is one step that no other client can observe half-done. The
 * `python` layout (`layouts/python.ts`) sends the flush, rotation, listing and totals (`HSCAN`)
 * scripts, both layouts the writer-key release, the store the lease scripts. The `periods`
 * layout's scripts are in `layouts/periods_scripts.ts`.
 * @module
 */

/** What the flush script did with a batch. */
export const FlushStatus = {
  /** Added to `cur`: the batch's period is the current one (or no master has run yet). */
  Current: 0,
  /** Added to `last`: the batch's period has just been rotated into `last`. */
  Last: 1,
  /** Nothing written: the batch's period has not been opened by the master yet; retry soon. */
  Deferred: 2,
  /** Nothing written: the batch's period was rotated out of `last` already; the counts are too late. */
  Discarded: 3,
  /** Nothing written: this batch was written before (a retry after a lost reply). */
  Duplicate: 4,
  /**
   * Nothing written: a resend that reached Redis after its writer's resend window, when Redis may
   * have forgotten whether it ran. Its counts were written once or not at all, never twice.
   */
  Expired: 5,
  /**
   * Nothing written (`periods` layout): the period starts later than Redis's clock allows (the
   * writer's clock runs ahead by more than the grace).
   */
  TooEarly: 6,
  /** Nothing written (`periods` layout): the period has left the kept history by Redis's clock. */
  TooLate: 7,
} as const;
/** One of {@link FlushStatus}. */
export type FlushStatus = typeof FlushStatus[keyof typeof FlushStatus];

/**
 * Lua: `allowed(command, ...)` asks Redis's ACL (7.0+) whether this user may run a command, so that
 * a script refuses up front instead of stopping half-way with some writes done. On older Redis
 * every command counts as allowed.
 */
const ACL_CHECK = `
local function allowed(...)
  if redis.acl_check_cmd then return redis.acl_check_cmd(...) end
  return true
end
`;

/** Keys asked for per `SCAN` inside the rotation script. */
const SCAN_COUNT = 2000;
/** Keys per `DEL` inside the rotation script (well below Lua's limit on `unpack`). */
const DEL_CHUNK = 1000;

/** In a flush reply, the events listed after it were not added to the totals. */
export const TOTALS_MARKER = "@total";

/** The error a script returns when the ACL forbids one of its commands. */
export const NOPERM_REPLY = "NOPERM this user may not run every command ecl needs here";

/**
 * Add counts of one period to (group, interval), exactly once.
 *
 * KEYS: cur:@ts, last:@ts, the writer's sequence key.
 * ARGV: interval seconds, period start, client's now (s), grace (s), cur prefix, last prefix,
 * batch sequence number, sequence key TTL (ms), resend deadline (UNIX ms; `0` for a first send),
 * then event, count pairs.
 *
 * Returns `{status, event...}`: the events listed were not added because their counter holds
 * something that is not an integer, or would overflow (`INCRBY` errors are caught, so one bad
 * counter never leaves a batch half-written).
 *
 * Exactly once: each writer numbers its batches; the highest number written is kept in the
 * writer's sequence key, so a batch resent after a lost reply is recognised and skipped. That key
 * lives for its TTL after the writer's last write (the writer's resend window plus a margin for
 * clock skew), so a resend is taken only before its deadline by Redis's clock (`TIME`): one that
 * waited longer (in a client's offline queue, say) might find the key expired and count twice, and
 * is answered `Expired` instead.
 *
 * Periods are compared as `floor(ts / len) * len`, because the Python master writes `cur:@ts`
 * as the time its timer fired, a little after the boundary.
 *
 * Totals (`totals: true`, batches of the group's shortest interval only): with a 4th key, the
 * totals hash, every count is also added to its event's field there, after the batch-number and
 * deadline checks (so a Duplicate or Expired resend adds nothing), whether the period went to
 * `cur`, to `last` or was Discarded (the events happened; a Deferred batch comes again). Events
 * whose field is not an integer (or would overflow) or a totals key that is not a hash are left
 * unchanged and listed after a `@total` marker (event IDs never start with `@`).
 */
export const FLUSH_SCRIPT = ACL_CHECK + `
if not (allowed('SET', KEYS[3], '0') and allowed('GET', KEYS[1]) and allowed('GET', KEYS[2])
    and allowed('INCRBY', ARGV[5] .. 'x', '1') and allowed('INCRBY', ARGV[6] .. 'x', '1')
    and (KEYS[4] == nil or allowed('HINCRBY', KEYS[4], 'x', '1'))) then
  return redis.error_reply('${NOPERM_REPLY}')
end
-- INCRBY or HINCRBY refused for a value that is not a count: skipped and listed; else an error.
local function skippable(err)
  return string.find(err, 'not an integer', 1, true) or string.find(err, 'overflow', 1, true)
    or string.find(err, 'WRONGTYPE', 1, true)
end
local len = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local grace = tonumber(ARGV[4])
local prefix = ARGV[5]
local seq = tonumber(ARGV[7])
local written = tonumber(redis.call('GET', KEYS[3]))
if written and seq <= written then return {${FlushStatus.Duplicate}} end
local deadline = tonumber(ARGV[9])
-- Without TIME in the user's ACL (docs/acl.md) the deadline goes unchecked, as before there was one.
if deadline > 0 and allowed('TIME') then
  -- Redis before 5 replicates scripts verbatim, and refuses writes after TIME unless told not to.
  if redis.replicate_commands then redis.replicate_commands() end
  local time = redis.call('TIME')
  if tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) > deadline then
    return {${FlushStatus.Expired}}
  end
end
local status = ${FlushStatus.Current}
local ts = tonumber(redis.call('GET', KEYS[1]))
if ts then
  local current = math.floor(ts / len) * len
  if period < current then
    -- last:@ts is "<start>/<end>"; a start recorded for another end (another master rotated since)
    -- or none at all means "last" covers one interval. A bare "<start>" is an older ecl's.
    local lastTs = redis.call('GET', KEYS[2])
    local lastStart = current - len
    local start, to = string.match(lastTs or '', '^(-?%d+)/(-?%d+)$')
    if start then
      if math.floor(tonumber(to) / len) * len == current then lastStart = tonumber(start) end
    elseif tonumber(lastTs) then
      lastStart = math.floor(tonumber(lastTs) / len) * len
    end
    if period < lastStart then status = ${FlushStatus.Discarded} end
    if status ~= ${FlushStatus.Discarded} then
      prefix = ARGV[6]
      status = ${FlushStatus.Last}
    end
  elseif period == current + len and now - period < grace then
    return {${FlushStatus.Deferred}}
  end
end
redis.call('SET', KEYS[3], ARGV[7], 'PX', ARGV[8])
local result = {status}
if status ~= ${FlushStatus.Discarded} then
  for i = 10, #ARGV, 2 do
    local reply = redis.pcall('INCRBY', prefix .. ARGV[i], ARGV[i + 1])
    if type(reply) == 'table' and reply.err then
      if not skippable(reply.err) then return redis.error_reply(reply.err) end
      result[#result + 1] = ARGV[i]
    end
  end
end
if KEYS[4] then
  local marked = false
  for i = 10, #ARGV, 2 do
    local reply = redis.pcall('HINCRBY', KEYS[4], ARGV[i], ARGV[i + 1])
    if type(reply) == 'table' and reply.err then
      if not skippable(reply.err) then return redis.error_reply(reply.err) end
      if not marked then result[#result + 1] = '${TOTALS_MARKER}' end
      marked = true
      result[#result + 1] = ARGV[i]
    end
  end
end
return result
`;

/**
 * Release a writer's record of its last batch number once it has nothing left to resend.
 * KEYS: the writer's sequence key. ARGV: the number of the last batch the writer handed out.
 *
 * Deletes the key only when it holds that number or a lower one, so a removal that arrives late
 * never deletes the record of a newer batch. Returns 1 when deleted, 0 when there was nothing to
 * delete, -1 when the ACL does not allow `DEL` (the key then expires with its TTL).
 */
export const RELEASE_WRITER_SCRIPT = ACL_CHECK + `
if not allowed('DEL', KEYS[1]) then return -1 end
local written = tonumber(redis.call('GET', KEYS[1]))
if written and written <= tonumber(ARGV[1]) then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Rotate (group, interval) at boundary B, unless a rotation to B (or later) happened already.
 *
 * KEYS: cur:@ts, last:@ts.
 * ARGV: B, interval seconds, cur prefix, last prefix, cur scan pattern, last scan pattern,
 * "1" when the group auto-declares events, then the predeclared event IDs.
 *
 * Returns the number of events rotated, or -1 when the boundary was rotated already.
 * Dynamic events: their `last` keys are deleted and their `cur` keys renamed to `last`, so an
 * event that saw nothing in a period disappears after the next rotation (as in the original).
 * Predeclared events: `last` gets the value of `cur` (0 when absent), `cur` is set to 0.
 * `last:@ts` becomes `<start of the old period>/<B>` (read by `layouts/python.ts`).
 */
export const ROTATE_SCRIPT = ACL_CHECK + `
local boundary = tonumber(ARGV[1])
local len = tonumber(ARGV[2])
local curPrefix = ARGV[3]
local lastPrefix = ARGV[4]
-- Refuse before writing anything: a rotation stopped half-way and retried would lose counts.
local ok = allowed('GET', KEYS[1]) and allowed('SET', KEYS[1], '0') and allowed('SET', KEYS[2], '0')
  and allowed('DEL', KEYS[2]) and allowed('GET', curPrefix .. 'x')
  and allowed('SET', curPrefix .. 'x', '0') and allowed('SET', lastPrefix .. 'x', '0')
if ARGV[7] == '1' then
  ok = ok and allowed('SCAN', '0') and allowed('DEL', lastPrefix .. 'x')
    and allowed('RENAME', curPrefix .. 'x', lastPrefix .. 'x')
end
if not ok then return redis.error_reply('${NOPERM_REPLY}') end
local ts = tonumber(redis.call('GET', KEYS[1]))
if ts and math.floor(ts / len) * len >= boundary then return -1 end
local declared = {}
for i = 8, #ARGV do declared[ARGV[i]] = true end
local rotated = 0
if ARGV[7] == '1' then
  local hasDeclared = #ARGV >= 8
  -- Dynamic last keys of the previous rotation: deleted in bulk, SCAN batch by batch.
  local cursor = '0'
  repeat
    local reply = redis.call('SCAN', cursor, 'MATCH', ARGV[6], 'COUNT', ${SCAN_COUNT})
    cursor = reply[1]
    local keys = {}
    for _, key in ipairs(reply[2]) do
      if not (hasDeclared and declared[string.sub(key, #lastPrefix + 1)]) then
        keys[#keys + 1] = key
        if #keys == ${DEL_CHUNK} then
          redis.call('DEL', unpack(keys))
          keys = {}
        end
      end
    end
    if #keys > 0 then redis.call('DEL', unpack(keys)) end
  until cursor == '0'
  -- Dynamic cur keys: renamed to last as they are found (a renamed key leaves the pattern).
  cursor = '0'
  repeat
    local reply = redis.call('SCAN', cursor, 'MATCH', ARGV[5], 'COUNT', ${SCAN_COUNT})
    cursor = reply[1]
    for _, key in ipairs(reply[2]) do
      local id = string.sub(key, #curPrefix + 1)
      -- SCAN may return a key twice: the second RENAME finds it gone and fails harmlessly.
      if not declared[id] and redis.pcall('RENAME', key, lastPrefix .. id).ok then
        rotated = rotated + 1
      end
    end
  until cursor == '0'
end
for id in pairs(declared) do
  local value = redis.call('GET', curPrefix .. id) or '0'
  redis.call('SET', lastPrefix .. id, value)
  redis.call('SET', curPrefix .. id, '0')
  rotated = rotated + 1
end
if ts then
  -- "<start>/<end>": the end tells readers which cur:@ts this start belongs to, so a start left
  -- here by an earlier rotation (the Python master never writes last:@ts) is known to be stale.
  redis.call('SET', KEYS[2], string.format('%d', math.floor(ts / len) * len) .. '/' .. ARGV[1])
else
  redis.call('DEL', KEYS[2])
end
redis.call('SET', KEYS[1], ARGV[1])
return rotated
`;

/**
 * Take or keep the master lease. KEYS: the lease key. ARGV: holder ID, TTL (ms).
 * Returns 1 when the caller holds the lease (now for TTL more), 0 when another holder has it.
 */
export const LEASE_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

/** Give the lease up if the caller holds it. KEYS: the lease key. ARGV: holder ID. */
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * One page of a hash, routed by its key (on a cluster, to the node of its slot).
 * KEYS: the hash. ARGV: cursor, fields per page. Returns `HSCAN`'s reply: `{next cursor, fields}`;
 * a key that is not a hash reads as an empty one.
 */
export const HSCAN_SCRIPT = `
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return {'0', {}} end
return redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
`;
