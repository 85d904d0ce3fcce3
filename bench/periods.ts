/**
 * Workloads of the `periods` layout's Redis side (lib/layouts/periods_*.ts), measured on the bench's
 * redis-server against the `python` layout's script in the same run:
 *
 * - expiry: how long another client (bench/_pinger.ts, PING every 5 ms, own process) waits while
 *   Redis frees an expiring period hash: one 1 M-field hash with and without
 *   `lazyfree-lazy-expire`, one shard of 1k / 8k / 64k fields, and 1 M fields in shards of
 *   `FIELDS_PER_SHARD` whose expiries are spread (as `expireAt()` spreads them) or not;
 * - the writes of a new period whose first ones UNLINK an oversized period that left the history,
 *   against the same writes with nothing to retire;
 * - reading a 1 M-field period in calls bounded by the field budget (longest PING wait);
 * - memory per counter at 100 and 100,000 events, periods hashes vs python string keys;
 * - write rate of 200,000 distinct events × 2 intervals in batches of 1,000, periods vs python;
 * - reading 288 periods of a 10-event group.
 *
 * Run alone: `deno run -A bench/periods.ts [--runs N] [--quick] [--only NAME]`.
 * @module
 */
import { slotPrefix, timestampKey, writerKey as pythonWriterKey } from "../lib/keys.ts";
import { FLUSH_SCRIPT } from "../lib/scripts.ts";
import { FIELDS_PER_SHARD, periodKey, shardCount } from "../lib/layouts/periods_keys.ts";
import {
  type PeriodBatch,
  type PeriodsRedis,
  PeriodsWriteStatus,
  readPeriods,
  writeBatch,
} from "../lib/layouts/periods_scripts.ts";
import {
  type BenchContext,
  benchMain,
  childEnv,
  getValues,
  lines,
  type RawClient,
  ROOT,
  type Sample,
  sleep,
  type Workload,
} from "./_util.ts";
import { createHash } from "node:crypto";

const GROUP = "big";
const FILL_CHUNK = 10_000;

// ---------------------------------------------------------------------------------------------
// Helpers

/** {@link PeriodsRedis} over a raw client: EVALSHA, then EVAL on NOSCRIPT. */
function evalWith(raw: RawClient): PeriodsRedis {
  return {
    async evalScript(script, keys, args) {
      try {
        return await raw.evalSha(createHash("sha1").update(script.source).digest("hex"), {
          keys,
          arguments: args,
        });
      } catch (error) {
        if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
        return await raw.eval(script.source, { keys, arguments: args });
      }
    },
    hGetAll: (key) => raw.hGetAll(key),
  };
}

/** Redis's clock (UNIX seconds). */
export async function redisNow(raw: RawClient): Promise<number> {
  const [seconds] = await raw.sendCommand(["TIME"]) as string[];
  return Number(seconds);
}

/** The other client: a PING every 5 ms from its own process. */
export async function startPinger(port: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", `${ROOT}bench/_pinger.ts`, String(port)],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    env: childEnv(),
  }).spawn();
  const output = lines(child.stdout);
  const first = await output.next();
  if (first.value !== "ready") throw new Error(`pinger did not start: ${first.value}`);
  const pinger = {
    /** Replies that were not PONG, and the first of them (after {@link stop}). */
    errors: 0,
    firstError: undefined as string | undefined,
    /** Stop it; the longest wait for a reply (ms). */
    async stop(): Promise<number> {
      await child.stdin.close();
      const last = await output.next();
      await child.status;
      const report = JSON.parse(String(last.value));
      pinger.errors = report.errors;
      pinger.firstError = report.firstError;
      return report.maxMs;
    },
  };
  return pinger;
}

/** Fill hash `key` with fields `e<from>` … `e<to − 1>` (value = index), in chunks. */
async function fillHash(raw: RawClient, key: string, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += FILL_CHUNK) {
    await raw.eval(
      "for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do redis.call('HSET', KEYS[1], 'e' .. i, i) end",
      { keys: [key], arguments: [String(start), String(Math.min(to, start + FILL_CHUNK) - 1)] },
    );
  }
}

/** Wait until the database is empty (DBSIZE never touches a key, so it never expires one itself). */
async function waitEmpty(raw: RawClient, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Number(await raw.dbSize()) > 0) {
    if (Date.now() > deadline) throw new Error(`${what} still in Redis after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/**
 * Longest latency (ms) Redis's own latency monitor recorded since the reset for events whose name
 * starts with `prefix` (`expire` for `expire-cycle`/`expire-del`, `command` for slow commands):
 * the time Redis itself was busy, which the machine's load does not inflate as much as the PING.
 */
export async function monitored(raw: RawClient, prefix: string): Promise<number> {
  const latest = await raw.sendCommand(["LATENCY", "LATEST"]) as unknown[][];
  let max = 0;
  for (const [event, , , worst] of latest) {
    if (String(event).startsWith(prefix)) max = Math.max(max, Number(worst));
  }
  return max;
}

/**
 * Fill hashes of `fields` each, let them expire `spreadMs` apart (0: all at once), and return the
 * longest PING wait of the other client meanwhile.
 */
async function expiry(
  context: BenchContext,
  hashes: number,
  fields: number,
  spreadMs: number,
  lazy: boolean,
): Promise<Sample> {
  const { raw } = context;
  await raw.configSet("lazyfree-lazy-expire", lazy ? "yes" : "no");
  await raw.configSet("latency-monitor-threshold", "1");
  try {
    const keys = Array.from({ length: hashes }, (_, shard) => periodKey(GROUP, "1m", 0, shard));
    for (const key of keys) await fillHash(raw, key, 0, fields);
    const errors: string[] = [];
    const total = await Promise.all(keys.map((key) => raw.hLen(key)));
    if (total.some((n) => n !== fields)) errors.push(`hash sizes ${total}, expected ${fields}`);
    await raw.sendCommand(["LATENCY", "RESET"]);
    const pinger = await startPinger(context.redis.port);
    // Let the pinger settle, then set the expiries in one pipeline.
    await sleep(100);
    const pipeline = raw.multi();
    keys.forEach((key, index) => pipeline.pExpire(key, 100 + index * spreadMs));
    await pipeline.execAsPipeline();
    await waitEmpty(raw, `${hashes} expiring hash(es)`, 60_000 + hashes * spreadMs);
    await sleep(100);
    const maxMs = await pinger.stop();
    return {
      value: maxMs,
      errors,
      notes: [`Redis's latency monitor: expiry events up to ${await monitored(raw, "expire")} ms`],
    };
  } finally {
    await raw.configSet("lazyfree-lazy-expire", "no");
    await raw.configSet("latency-monitor-threshold", "0");
  }
}

function batch(
  start: number,
  counts: ReadonlyMap<string, number>,
  seq: number,
  overrides: Partial<PeriodBatch> = {},
): PeriodBatch {
  return {
    group: GROUP,
    interval: "1m",
    intervalSeconds: 60,
    start,
    counts,
    history: 3,
    shards: shardCount(counts.size),
    graceSeconds: 2,
    writer: "bench",
    seq,
    ...overrides,
  };
}

function events(from: number, to: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = from; i < to; i++) counts.set(`e${i}`, (i % 5) + 1);
  return counts;
}

/** Compare a read with the expected counts; at most 5 messages, then their number. */
function compare(
  got: ReadonlyMap<string, number>,
  expected: ReadonlyMap<string, number>,
  what: string,
): string[] {
  const errors: string[] = [];
  let wrong = 0;
  for (const [event, count] of expected) {
    if (got.get(event) === count) continue;
    if (++wrong <= 5) errors.push(`${what}: ${event} = ${got.get(event)}, expected ${count}`);
  }
  if (got.size !== expected.size) {
    errors.push(`${what}: ${got.size} events read, expected ${expected.size}`);
  }
  if (wrong > 5) errors.push(`${what}: … ${wrong} wrong in all`);
  return errors;
}

// ---------------------------------------------------------------------------------------------
// A new period begins: its writes retire the 1 M-event period that left the history

const RETIRE_SHARDS = 16;

function retire(withOld: boolean) {
  return (context: BenchContext) => retireRun(context, withOld);
}

async function retireRun(context: BenchContext, withOld: boolean): Promise<Sample> {
  const { raw } = context;
  const run = evalWith(raw);
  const n = context.size(1_000_000);
  // A group whose shard count was sized for 131,072 events (16 shards) that got 1 M: its shards
  // of 62,500 fields are oversized, so the new period's first writes UNLINK them.
  const shards = RETIRE_SHARDS;
  const start = Math.floor(await redisNow(raw) / 60) * 60;
  const old = start - 4 * 60;
  // The old period as loggers left it (history 3), filled directly: it can no longer be written.
  const perShard = Math.ceil(n / shards);
  for (let shard = 0; withOld && shard < shards; shard++) {
    await fillHash(
      raw,
      periodKey(GROUP, "1m", old, shard),
      shard * perShard,
      (shard + 1) * perShard,
    );
  }
  await raw.configSet("latency-monitor-threshold", "1");
  await raw.sendCommand(["LATENCY", "RESET"]);
  const pinger = await startPinger(context.redis.port);
  await sleep(50);
  const expected = events(0, n);
  const all = [...expected];
  // A logger's writes of the new period, one batch of 1,000 at a time in flight per group.
  for (let i = 0; i < all.length; i += 1000) {
    await writeBatch(run, batch(start, new Map(all.slice(i, i + 1000)), i, { shards }), false);
  }
  const left = await leftShards(raw, old, shards);
  const maxMs = await pinger.stop();
  const command = await monitored(raw, "command");
  await raw.configSet("latency-monitor-threshold", "0");
  const [period] = await readPeriods(
    run,
    { group: GROUP, interval: "1m", starts: [start], shards },
    false,
  );
  return {
    value: maxMs,
    errors: [
      ...compare(period.counts, expected, "new period"),
      ...(left > 0 ? [`${left} shards of the retired period are still there`] : []),
    ],
    notes: [`Redis's latency monitor: longest command ${command} ms`],
  };
}

/** How many shards of the period starting at `start` exist (UNLINK removes a key at once). */
async function leftShards(raw: RawClient, start: number, shards: number): Promise<number> {
  let left = 0;
  for (let shard = 0; shard < shards; shard++) {
    left += await raw.exists(periodKey(GROUP, "1m", start, shard));
  }
  return left;
}

// ---------------------------------------------------------------------------------------------
// Reading a 1 M-field period

async function readLarge(context: BenchContext): Promise<Sample> {
  const { raw } = context;
  const run = evalWith(raw);
  const n = context.size(1_000_000);
  const start = Math.floor(await redisNow(raw) / 60) * 60;
  const expected = events(0, n);
  // Written as a logger would: batches of 1,000.
  const all = [...expected];
  const writes = [];
  for (let i = 0; i < all.length; i += 1000) {
    writes.push(writeBatch(
      run,
      batch(start, new Map(all.slice(i, i + 1000)), i, {
        shards: shardCount(n),
      }),
      false,
    ));
  }
  await Promise.all(writes);
  await raw.configSet("latency-monitor-threshold", "1");
  await raw.sendCommand(["LATENCY", "RESET"]);
  const pinger = await startPinger(context.redis.port);
  await sleep(50);
  const started = performance.now();
  const [period] = await readPeriods(run, {
    group: GROUP,
    interval: "1m",
    starts: [start],
    shards: shardCount(n),
  }, false);
  const readMs = performance.now() - started;
  const maxMs = await pinger.stop();
  const command = await monitored(raw, "command");
  await raw.configSet("latency-monitor-threshold", "0");
  return {
    value: maxMs,
    errors: compare(period.counts, expected, "read"),
    notes: [
      `${n} events in ${shardCount(n)} shards read in ${readMs.toFixed(0)} ms; ` +
      `Redis's latency monitor: longest command ${command} ms`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Memory per counter

async function memoryUsage(raw: RawClient, keys: readonly string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < keys.length; i += 10_000) {
    const pipeline = raw.multi();
    for (const key of keys.slice(i, i + 10_000)) {
      pipeline.addCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"]);
    }
    for (const bytes of await pipeline.execAsPipeline()) total += Number(bytes);
  }
  return total;
}

function memory(n: number) {
  return async (context: BenchContext): Promise<Sample> => {
    const { raw } = context;
    const run = evalWith(raw);
    const start = Math.floor(await redisNow(raw) / 60) * 60;
    const expected = events(0, n);
    const all = [...expected];
    for (let i = 0; i < all.length; i += 1000) {
      await writeBatch(run, batch(start, new Map(all.slice(i, i + 1000)), i), false);
    }
    const shards = shardCount(n);
    const hashKeys = Array.from({ length: shards }, (_, s) => periodKey(GROUP, "1m", start, s));
    const periodsBytes = await memoryUsage(raw, hashKeys);
    const [period] = await readPeriods(
      run,
      { group: GROUP, interval: "1m", starts: [start], shards },
      false,
    );
    const errors = compare(period.counts, expected, "periods");
    // The python layout's string keys, same events and counts.
    const prefix = slotPrefix(GROUP, "1m", "cur");
    for (let i = 0; i < all.length; i += 10_000) {
      const pipeline = raw.multi();
      for (const [event, count] of all.slice(i, i + 10_000)) {
        pipeline.set(prefix + event, String(count));
      }
      await pipeline.execAsPipeline();
    }
    const pythonBytes = await memoryUsage(raw, all.map(([event]) => prefix + event));
    const encoding = await raw.sendCommand(["OBJECT", "ENCODING", hashKeys[0]]);
    return {
      value: periodsBytes / n,
      errors,
      notes: [
        `${n} events: periods ${
          (periodsBytes / n).toFixed(1)
        } B/counter (${shards} shard(s), ${encoding}), python ${
          (pythonBytes / n).toFixed(1)
        } B/counter (MEMORY USAGE)`,
      ],
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Write rate, periods vs python

const WRITE_EVENTS = 200_000;
const WRITE_INTERVALS = [["1m", 60], ["1h", 3600]] as const;
const FLUSH_SHA = createHash("sha1").update(FLUSH_SCRIPT).digest("hex");

async function pythonWrite(raw: RawClient, n: number, now: number): Promise<number> {
  await raw.scriptLoad(FLUSH_SCRIPT);
  const all = [...events(0, n)];
  let seq = 0;
  const started = performance.now();
  const writes = [];
  for (const [interval, seconds] of WRITE_INTERVALS) {
    for (let i = 0; i < all.length; i += 1000) {
      const args = [
        String(seconds),
        String(Math.floor(now / seconds) * seconds),
        String(now),
        "2",
        slotPrefix(GROUP, interval, "cur"),
        slotPrefix(GROUP, interval, "last"),
        String(++seq),
        "3600000",
      ];
      for (const [event, count] of all.slice(i, i + 1000)) args.push(event, String(count));
      const keys = [
        timestampKey(GROUP, interval, "cur"),
        timestampKey(GROUP, interval, "last"),
        pythonWriterKey(GROUP, interval, "bench"),
      ];
      writes.push(raw.evalSha(FLUSH_SHA, { keys, arguments: args }));
    }
  }
  await Promise.all(writes);
  return performance.now() - started;
}

async function periodsWrite(raw: RawClient, n: number, now: number): Promise<number> {
  const run = evalWith(raw);
  const all = [...events(0, n)];
  let seq = 0;
  const started = performance.now();
  const writes = [];
  for (const [interval, seconds] of WRITE_INTERVALS) {
    const start = Math.floor(now / seconds) * seconds;
    for (let i = 0; i < all.length; i += 1000) {
      writes.push(writeBatch(
        run,
        batch(start, new Map(all.slice(i, i + 1000)), ++seq, {
          interval,
          intervalSeconds: seconds,
          shards: shardCount(n),
        }),
        false,
      ));
    }
  }
  const results = await Promise.all(writes);
  const ms = performance.now() - started;
  if (results.some((result) => result.status !== PeriodsWriteStatus.Written)) {
    throw new Error(`periods writes refused: ${JSON.stringify(results[0])}`);
  }
  return ms;
}

/** Microseconds Redis spent in scripts since the last `CONFIG RESETSTAT`. */
async function scriptMicros(raw: RawClient): Promise<number> {
  const info = await raw.info("commandstats");
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_(evalsha|eval):calls=\d+,usec=(\d+)/gm)) {
    total += Number(match[2]);
  }
  return total;
}

/** One timed write of a layout into an empty Redis, checked: wall time and Redis script time. */
interface WriteTiming {
  ms: number;
  micros: number;
}

async function timedPython(raw: RawClient, n: number, now: number, errors: string[]) {
  await raw.flushAll();
  await raw.configResetStat();
  const ms = await pythonWrite(raw, n, now);
  const timing: WriteTiming = { ms, micros: await scriptMicros(raw) };
  const expected = events(0, n);
  for (const [interval] of WRITE_INTERVALS) {
    const prefix = slotPrefix(GROUP, interval, "cur");
    const values = await getValues(raw, [...expected.keys()].map((event) => prefix + event));
    const got = new Map([...expected.keys()].map((event, i) => [event, Number(values[i])]));
    errors.push(...compare(got, expected, `python ${interval}`));
  }
  return timing;
}

async function timedPeriods(raw: RawClient, n: number, now: number, errors: string[]) {
  await raw.flushAll();
  await raw.configResetStat();
  const ms = await periodsWrite(raw, n, now);
  const timing: WriteTiming = { ms, micros: await scriptMicros(raw) };
  const expected = events(0, n);
  for (const [interval, seconds] of WRITE_INTERVALS) {
    const [period] = await readPeriods(evalWith(raw), {
      group: GROUP,
      interval,
      starts: [Math.floor(now / seconds) * seconds],
      shards: shardCount(n),
    }, false);
    errors.push(...compare(period.counts, expected, `periods ${interval}`));
  }
  return timing;
}

/**
 * Both layouts twice, in the order python, periods, periods, python, so that a burst of load on
 * this shared machine weighs on both alike; the ratio of the summed times.
 */
async function writeRatio(context: BenchContext): Promise<Sample> {
  const { raw } = context;
  const n = context.size(WRITE_EVENTS);
  const now = await redisNow(raw);
  const errors: string[] = [];
  const python = [await timedPython(raw, n, now, errors)];
  const periods = [await timedPeriods(raw, n, now, errors)];
  periods.push(await timedPeriods(raw, n, now, errors));
  python.push(await timedPython(raw, n, now, errors));
  const sum = (timings: WriteTiming[], key: keyof WriteTiming) =>
    timings.reduce((total, timing) => total + timing[key], 0);
  const rate = (ms: number) => ((4 * n) / (ms / 1000) / 1000).toFixed(0);
  return {
    value: (sum(python, "ms") / sum(periods, "ms")) * 100,
    errors,
    notes: [
      `python ${rate(sum(python, "ms"))} k counters/s, periods ${
        rate(sum(periods, "ms"))
      } k counters/s; Redis's script time per counter: python ${
        (sum(python, "micros") / (4 * n)).toFixed(2)
      } µs, periods ${(sum(periods, "micros") / (4 * n)).toFixed(2)} µs (${
        ((sum(python, "micros") / sum(periods, "micros")) * 100).toFixed(0)
      } %)`,
    ],
  };
}

/** Load both write scripts. */
async function writeWarmUp(context: BenchContext): Promise<void> {
  const now = await redisNow(context.raw);
  await pythonWrite(context.raw, 1000, now);
  await periodsWrite(context.raw, 1000, now);
}

// ---------------------------------------------------------------------------------------------
// History read

async function history(context: BenchContext): Promise<Sample> {
  const { raw } = context;
  const run = evalWith(raw);
  const periods = 288;
  const now = await redisNow(raw);
  const current = Math.floor(now / 300) * 300;
  const starts = Array.from({ length: periods }, (_, k) => current - (periods - k) * 300);
  const expected = events(0, 10);
  for (const [index, start] of starts.entries()) {
    const result = await writeBatch(
      run,
      batch(start, expected, index, {
        interval: "5m",
        intervalSeconds: 300,
        history: periods,
        shards: 1,
      }),
      false,
    );
    if (result.status !== PeriodsWriteStatus.Written) {
      throw new Error(`period ${start} not written: status ${result.status}`);
    }
  }
  const started = performance.now();
  const read = await readPeriods(run, { group: GROUP, interval: "5m", starts, shards: 1 }, false);
  const ms = performance.now() - started;
  const errors = read.flatMap((period) => compare(period.counts, expected, `${period.start}`));
  return { value: ms, errors: errors.slice(0, 5) };
}

// ---------------------------------------------------------------------------------------------

const M = 1_000_000;

/** The workloads. */
export const workloads: Workload[] = [
  {
    name: "periods-expire-1m-nolazy",
    title: "P1 one 1 M-field hash expiring, lazyfree-lazy-expire no: longest PING wait",
    unit: "ms",
    reference: "DEL 439 ms (TOOLCHAIN)",
    run: (context) => expiry(context, 1, context.size(M), 0, false),
  },
  {
    name: "periods-expire-1m-lazy",
    title: "P2 the same, lazyfree-lazy-expire yes",
    unit: "ms",
    target: { value: 10, better: "lower" },
    reference: "P1",
    run: (context) => expiry(context, 1, context.size(M), 0, true),
  },
  ...[1024, FIELDS_PER_SHARD, 65_536].map((fields): Workload => ({
    name: `periods-expire-shard-${fields}`,
    title: `P3 one shard of ${fields} fields expiring (lazyfree no)`,
    unit: "ms",
    target: fields === FIELDS_PER_SHARD ? { value: 10, better: "lower" } : undefined,
    reference: "P1",
    run: (context) => expiry(context, 1, fields, 0, false),
  })),
  {
    name: "periods-expire-sharded-spread",
    title: `P4 1 M fields in shards of ${FIELDS_PER_SHARD}, expiries 100 ms apart (lazyfree no)`,
    unit: "ms",
    target: { value: 10, better: "lower" },
    reference: "P1",
    run: (context) => expiry(context, shardCount(context.size(M)), FIELDS_PER_SHARD, 100, false),
  },
  {
    name: "periods-expire-sharded-together",
    title: "P5 the same shards all expiring in one instant (no spread)",
    unit: "ms",
    reference: "P4",
    run: (context) => expiry(context, shardCount(context.size(M)), FIELDS_PER_SHARD, 0, false),
  },
  {
    name: "periods-retire-1m",
    title:
      "P11 writes of a new period retiring 1 M events in 16 oversized shards (UNLINK): PING wait",
    unit: "ms",
    target: { value: 10, better: "lower" },
    reference: "P11b",
    run: retire(true),
  },
  {
    name: "periods-retire-none",
    title: "P11b the same writes, no period to retire (baseline)",
    unit: "ms",
    reference: "—",
    run: retire(false),
  },
  {
    name: "periods-read-1m",
    title: "P6 reading a 1 M-event period (field budget per call): longest PING wait",
    unit: "ms",
    target: { value: 10, better: "lower" },
    reference: "—",
    run: readLarge,
  },
  {
    name: "periods-memory-100",
    title: "P7 Redis memory per counter, 100 events (periods)",
    unit: "bytes",
    target: { value: 16, better: "lower" },
    reference: "python: see notes",
    run: memory(100),
  },
  {
    name: "periods-memory-100k",
    title: "P8 Redis memory per counter, 100,000 events (periods)",
    unit: "bytes",
    reference: "python: see notes",
    run: (context) => memory(context.size(100_000))(context),
  },
  {
    name: "periods-write",
    title: "P9 write rate, 200,000 distinct events × 2 intervals: periods / python",
    unit: "%",
    target: { value: 90, better: "higher" },
    reference: "python script, same run",
    warmUp: writeWarmUp,
    run: writeRatio,
  },
  {
    name: "periods-history",
    title: "P10 reading 288 periods of a 10-event group",
    unit: "ms",
    target: { value: 50, better: "lower" },
    reference: "—",
    run: history,
  },
];

if (import.meta.main) await benchMain(workloads);
