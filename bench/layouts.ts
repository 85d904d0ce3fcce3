/**
 * The two layouts side by side, through the product's own paths (`EventGroup` on a `Store`, the
 * master's `Store.rotate`, `EventCountLogger`, `getHistory`, `ecl read --history`), each measured
 * against the `python` layout in the same run, every count checked (issue 10, "Bench rows"):
 *
 * - L1 `layouts-boundary`: N dynamic events (`--events N`, default 200,000; the issue's 1,000,000)
 *   in one (group, interval), four periods, three boundaries. python: the master's rotation;
 *   periods: nothing happens, so the first writes of the new period (1,000 events) are measured.
 *   Redis time (`INFO commandstats`), the longest PING wait of another client (bench/_pinger.ts),
 *   and the expiry of the oldest period.
 * - L2 `layouts-small-in-1m`: a 10-event group in a database holding 1 M other keys, the same.
 * - L3 `layouts-write`: 200,000 distinct events × 2 intervals through `EventCountLogger`, write
 *   rate of both layouts; one periods group on a 3-master Redis Cluster against one Redis.
 * - L4 `layouts-memory-*`: Redis memory per counter for 100 and 100,000 events.
 * - L5 `layouts-history`: 288 periods of a 10-event group, `getHistory()` and the CLI.
 *
 * The loggers of L1, L2 and L5 run on a clock of their own (`GroupContext.now`), set to the
 * periods of the scenario, so that three boundaries take seconds instead of hours; Redis's clock
 * still judges every periods write (the periods chosen are all inside the kept history).
 *
 * Run alone: `deno run -A bench/layouts.ts [--runs N] [--quick] [--events N] [--only NAME]`.
 * @module
 */
import { EventCountLogger } from "../mod.ts";
import { type GroupConfig, parseGroups } from "../lib/config.ts";
import { EventGroup } from "../lib/group.ts";
import { parseRedis, type RedisSpec } from "../lib/redis_config.ts";
import { Store } from "../lib/store.ts";
import { periodKey } from "../lib/layouts/periods_keys.ts";
import { startCluster } from "../tests/_cluster.ts";
import {
  type BenchContext,
  benchMain,
  childEnv,
  getValues,
  type RawClient,
  ROOT,
  type Sample,
  sleep,
  type SubRow,
  type Workload,
} from "./_util.ts";
import { logAndFlush } from "./direct.ts";
import { monitored, redisNow, startPinger } from "./periods.ts";

type LayoutName = "python" | "periods";

/** The ID of the i-th distinct event (a client address). */
function eventId(index: number): string {
  return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

/** Microseconds Redis spent in scripts (`EVAL`/`EVALSHA`) since it started. */
async function scriptMicros(raw: RawClient): Promise<number> {
  const info = await raw.info("commandstats");
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_(evalsha|eval):calls=\d+,usec=(\d+)/gm)) {
    total += Number(match[2]);
  }
  return total;
}

/**
 * One group of one layout on a Store of its own, logged into by one `EventGroup` per period whose
 * clock stands in that period (as a logger process of that time would; a group seals its window
 * at a boundary with a timer, which a jumping clock would not fire).
 */
class ClockedGroup {
  readonly warnings: string[] = [];
  readonly store: Store;
  readonly config: GroupConfig;
  #group: EventGroup | undefined;

  constructor(spec: RedisSpec, name: string, groupSpec: Record<string, unknown>) {
    this.config = parseGroups({ [name]: groupSpec }).get(name)!;
    this.store = new Store(parseRedis(spec), { onWarning: (m) => this.warnings.push(m) });
  }

  /** The group of the period starting at `start` (the one before closed, its counts written). */
  async at(start: number): Promise<EventGroup> {
    await this.#group?.close();
    this.#group = new EventGroup(this.config, {
      store: this.store,
      warn: (message) => this.warnings.push(message),
      now: () => start * 1000 + 1000,
    });
    return this.#group;
  }

  async close(): Promise<void> {
    await this.#group?.close();
    await this.store.close();
  }
}

/** `count` keys `other:<i>` (strings), filled by a script in chunks. */
async function fillOtherKeys(raw: RawClient, count: number): Promise<void> {
  for (let start = 0; start < count; start += 50_000) {
    await raw.eval(
      "for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do redis.call('SET', 'other:' .. i, i) end",
      { keys: [], arguments: [String(start), String(Math.min(count, start + 50_000) - 1)] },
    );
  }
}

/** Fields and sum of values of every shard of a periods period (a script per shard). */
async function periodSums(
  raw: RawClient,
  config: GroupConfig,
  interval: string,
  start: number,
): Promise<{ fields: number; sum: number }> {
  let fields = 0;
  let sum = 0;
  for (let shard = 0; shard < config.shards; shard++) {
    const [n, s] = await raw.eval(
      "local v = redis.call('HVALS', KEYS[1]) local s = 0 " +
        "for i = 1, #v do s = s + tonumber(v[i]) end return {#v, s}",
      { keys: [periodKey(config.name, interval, start, shard)], arguments: [] },
    ) as number[];
    fields += Number(n);
    sum += Number(s);
  }
  return { fields, sum };
}

/** Every one of `events` holds `want` at `prefix + event` (python layout), at most 5 messages. */
async function checkStrings(
  raw: RawClient,
  prefix: string,
  events: number,
  want: string,
): Promise<string[]> {
  const keys = Array.from({ length: events }, (_, i) => prefix + eventId(i));
  const values = await getValues(raw, keys);
  const wrong = values.flatMap((value, i) => value === want ? [] : [`${keys[i]} = ${value}`]);
  return wrong.length === 0
    ? []
    : [`${wrong.length} of ${events} keys not ${want}: ${wrong.slice(0, 5).join(", ")}`];
}

// ---------------------------------------------------------------------------------------------
// L1, L2: boundaries and expiry

/** Events of the new period whose writes are measured as the periods layout's "boundary". */
const FIRST_WRITES = 1_000;
/** Interval of the boundary rows; its periods are chosen around Redis's now. */
const HOUR = 3600;
/** Expiry of the periods layout is minutes to hours away: its schedule is run this much faster. */
const EXPIRY_SPEED_UP = 10;

interface BoundaryFigures {
  /** Redis script time at each boundary (ms). */
  redisMs: number[];
  /** Longest PING wait at each boundary (ms). */
  pingMs: number[];
  /** Replies to the other client that were not PONG (e.g. BUSY), and the first one. */
  pingErrors: number;
  firstPingError?: string;
  /** Longest command Redis's latency monitor saw at a boundary (ms). */
  monitorMs: number;
  /** periods: longest PING wait while the oldest period expired; Redis's expire events. */
  expiryPingMs?: number;
  expiryMonitorMs?: number;
  errors: string[];
  warnings: string[];
}

/**
 * Four periods of `events` dynamic events of one (group, 1h), three boundaries between them, in a
 * database that also holds `otherKeys` keys; then (periods) the expiry of the oldest period.
 */
async function boundaries(
  context: BenchContext,
  layout: LayoutName,
  events: number,
  otherKeys: number,
): Promise<BoundaryFigures> {
  const { raw } = context;
  await raw.flushAll();
  await fillOtherKeys(raw, otherKeys);
  const name = `dyn_${layout}`;
  const clocked = new ClockedGroup(context.redis.spec, name, {
    auto_declare_events: true,
    intervals: ["1h"],
    ...(layout === "periods" ? { layout, history: 4, max_events: events } : {}),
  });
  const { store, config } = clocked;
  let group: EventGroup;
  const interval = config.intervals[0];
  const figures: BoundaryFigures = {
    redisMs: [],
    pingMs: [],
    pingErrors: 0,
    monitorMs: 0,
    errors: [],
    warnings: clocked.warnings,
  };
  await raw.configSet("latency-monitor-threshold", "1");
  await raw.sendCommand(["LATENCY", "RESET"]);
  try {
    await store.ready();
    const current = Math.floor(await redisNow(raw) / HOUR) * HOUR;
    const starts = [3, 2, 1, 0].map((k) => current - k * HOUR);
    // python: the master opens the first period (its first rotation of an empty group).
    if (layout === "python") await store.rotate(config, interval, starts[0]);
    const log = async (from: number, to: number) => {
      let accepted = 0;
      for (let i = from; i < to; i += 100) {
        for (let j = i; j < Math.min(to, i + 100); j++) if (group.log(eventId(j))) accepted++;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await group.flush();
      if (accepted !== to - from) {
        figures.errors.push(`log() accepted ${accepted} of ${to - from}`);
      }
    };
    for (const [k, start] of starts.entries()) {
      group = await clocked.at(start);
      let from = 0;
      if (k > 0) {
        const pinger = await startPinger(context.redis.port);
        await sleep(50);
        const before = await scriptMicros(raw);
        if (layout === "python") {
          const moved = await store.rotate(config, interval, start);
          if (moved !== events) {
            figures.errors.push(`rotation at ${start} moved ${moved} events, expected ${events}`);
          }
        } else {
          from = Math.min(events, FIRST_WRITES);
          await log(0, from);
        }
        const micros = await scriptMicros(raw) - before;
        figures.pingMs.push(await pinger.stop());
        figures.pingErrors += pinger.errors;
        figures.firstPingError ??= pinger.firstError;
        figures.redisMs.push(micros / 1000);
      }
      await log(from, events);
    }
    figures.monitorMs = await monitored(raw, "command");
    // Exact counts: each event once in each of the four periods.
    if (layout === "python") {
      const moved = await store.rotate(config, interval, current + HOUR);
      if (moved !== events) figures.errors.push(`last rotation moved ${moved}, expected ${events}`);
      figures.errors.push(...await checkStrings(raw, `${name}:1h:last:`, events, "1"));
    } else {
      for (const start of starts) {
        const { fields, sum } = await periodSums(raw, config, "1h", start);
        if (fields !== events || sum !== events) {
          figures.errors.push(
            `period ${start}: ${fields} events counting ${sum}, expected ${events} × 1`,
          );
        }
      }
      const last = await group!.getCounts("1h");
      const lastSum = Object.values(last).reduce((a, b) => a + b, 0);
      if (Object.keys(last).length !== events || lastSum !== events) {
        figures.errors.push(`getCounts("1h"): ${lastSum} in ${Object.keys(last).length} events`);
      }
      await expiry(context, config, starts[0], figures);
    }
  } finally {
    await clocked.close();
    await raw.configSet("latency-monitor-threshold", "0");
  }
  return figures;
}

/**
 * The oldest period's shards expire on the schedule the product set (`EXPIREAT` per shard, one
 * second apart by shard), run {@link EXPIRY_SPEED_UP} times faster; the other client's longest
 * wait meanwhile. `lazyfree-lazy-expire` stays at Redis's default (`no`).
 */
async function expiry(
  context: BenchContext,
  config: GroupConfig,
  start: number,
  figures: BoundaryFigures,
): Promise<void> {
  const { raw } = context;
  const keys = Array.from(
    { length: config.shards },
    (_, s) => periodKey(config.name, "1h", start, s),
  );
  const at = await Promise.all(
    keys.map(async (key) => Number(await raw.sendCommand(["PEXPIRETIME", key]))),
  );
  if (at.some((ms) => ms <= 0)) {
    figures.errors.push(`period ${start}: a shard without an expiry (${at})`);
    return;
  }
  const first = Math.min(...at);
  await raw.sendCommand(["LATENCY", "RESET"]);
  const pinger = await startPinger(context.redis.port);
  await sleep(50);
  const pipeline = raw.multi();
  keys.forEach((key, i) =>
    pipeline.pExpire(key, 200 + Math.round((at[i] - first) / EXPIRY_SPEED_UP))
  );
  await pipeline.execAsPipeline();
  const deadline = Date.now() + 120_000;
  while ((await Promise.all(keys.map((key) => raw.exists(key)))).some((n) => n > 0)) {
    // EXISTS of an expired key deletes it itself: poll slowly, so Redis's expire cycle does most.
    if (Date.now() > deadline) throw new Error(`period ${start} still in Redis after 120 s`);
    await sleep(500);
  }
  figures.expiryPingMs = await pinger.stop();
  figures.expiryMonitorMs = await monitored(raw, "expire");
}

function boundaryWorkload(
  otherKeys: (context: BenchContext) => number,
  events: (c: BenchContext) => number,
) {
  return async (context: BenchContext): Promise<Sample> => {
    const n = events(context);
    const others = otherKeys(context);
    const [python, periods] = [
      await boundaries(context, "python", n, others),
      await boundaries(context, "periods", n, others),
    ];
    const max = (values: number[]) => Math.max(...values);
    const rows: SubRow[] = [
      {
        key: "ping",
        title: `  longest PING wait of another client over 3 boundaries (${n} events)`,
        unit: "ms",
        value: max(periods.pingMs),
        baseline: max(python.pingMs),
        target: { value: 10, better: "lower" },
        reference: "python, same run",
      },
      {
        key: "ratio",
        title: "  python's longest PING wait ÷ periods'",
        unit: "x",
        value: max(python.pingMs) / max(periods.pingMs),
        target: others === 0 ? { value: 500, better: "higher" } : undefined,
        reference: "same run",
      },
    ];
    if (periods.expiryPingMs !== undefined) {
      rows.push({
        key: "expiry",
        title: `  periods: the oldest period (${n} events) expiring: longest PING wait`,
        unit: "ms",
        value: periods.expiryPingMs,
        target: { value: 10, better: "lower" },
        reference: "python: DEL inside the rotation",
      });
    }
    return {
      value: max(periods.redisMs),
      baseline: max(python.redisMs),
      errors: [
        ...python.errors.map((e) => `python: ${e}`),
        ...periods.errors.map((e) => `periods: ${e}`),
      ],
      notes: [
        `${n} events, ${others} other keys: Redis ms per boundary python ${
          python.redisMs.map((v) => v.toFixed(1)).join(" / ")
        }, periods ${periods.redisMs.map((v) => v.toFixed(2)).join(" / ")}; PING ms python ${
          python.pingMs.map((v) => v.toFixed(0)).join(" / ")
        }, periods ${periods.pingMs.map((v) => v.toFixed(1)).join(" / ")}; replies to PING that ` +
        `were errors: python ${python.pingErrors}${
          python.firstPingError === undefined ? "" : ` (${python.firstPingError})`
        }, periods ${periods.pingErrors}; latency monitor's ` +
        `longest command: python ${python.monitorMs} ms, periods ${periods.monitorMs} ms` +
        (periods.expiryPingMs === undefined
          ? ""
          : `; periods expiry: PING ${
            periods.expiryPingMs.toFixed(1)
          } ms, expire events ${periods.expiryMonitorMs} ms`),
        ...python.warnings.slice(0, 3),
        ...periods.warnings.slice(0, 3),
      ],
      rows,
    };
  };
}

// ---------------------------------------------------------------------------------------------
// L3: write rate

const WRITE_EVENTS = 200_000;
const WRITE_INTERVALS = ["1h", "24h"];

/** Log `events` distinct events once into a fresh group, flush; events/s and count errors. */
async function writeRun(
  spec: RedisSpec,
  raw: RawClient | undefined,
  layout: LayoutName,
  events: number,
  cached = false,
): Promise<{ rate: number; errors: string[]; scriptMicros?: number }> {
  if (raw !== undefined) await raw.flushAll();
  const microsBefore = raw === undefined ? 0 : await scriptMicros(raw);
  const name = `w_${layout}`;
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    {
      [name]: {
        auto_declare_events: true,
        intervals: WRITE_INTERVALS,
        ...(layout === "periods" ? { layout, max_events: events } : {}),
        ...(cached ? { sync_interval: 1 } : {}),
      },
    },
    spec,
    { onWarning: (message) => warnings.push(message) },
  );
  await ecl.ready();
  const group = ecl.getGroup(name)!;
  const started = performance.now();
  const accepted = await logAndFlush(group, events, eventId);
  const seconds = (performance.now() - started) / 1000;
  const micros = raw === undefined ? undefined : await scriptMicros(raw) - microsBefore;
  const errors = accepted === events ? [] : [`log() accepted ${accepted} of ${events}`];
  errors.push(...warnings.slice(0, 3));
  for (const interval of WRITE_INTERVALS) {
    if (layout === "python" && raw !== undefined) {
      errors.push(...await checkStrings(raw, `${name}:${interval}:cur:`, events, "1"));
    } else {
      const counts = await group.getCounts(interval, { current: true });
      const values = Object.values(counts);
      if (values.length !== events || values.some((count) => count !== 1)) {
        errors.push(
          `${layout} ${interval}: ${values.length} events, ${
            values.filter((c) => c !== 1).length
          } not 1`,
        );
      }
    }
  }
  await ecl.close();
  return {
    rate: (events * WRITE_INTERVALS.length) / seconds,
    errors,
    scriptMicros: micros === undefined ? undefined : micros / (events * WRITE_INTERVALS.length),
  };
}

async function writeWorkload(context: BenchContext): Promise<Sample> {
  const n = context.size(WRITE_EVENTS);
  const { spec } = context.redis;
  const errors: string[] = [];
  const rates: Record<LayoutName, number[]> = { python: [], periods: [] };
  const micros: Record<LayoutName, number[]> = { python: [], periods: [] };
  // python, periods, periods, python: a burst of load weighs on both alike.
  for (const layout of ["python", "periods", "periods", "python"] as const) {
    const { rate, errors: e, scriptMicros } = await writeRun(spec, context.raw, layout, n);
    rates[layout].push(rate);
    micros[layout].push(scriptMicros!);
    errors.push(...e.map((message) => `${layout}: ${message}`));
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const single = mean(rates.periods);
  // The same in cached mode (sync_interval: 1 s): batches of everything logged in a second
  // instead of one per event-loop turn.
  const cachedRates: Record<LayoutName, number[]> = { python: [], periods: [] };
  for (const layout of ["python", "periods", "periods", "python"] as const) {
    const { rate, errors: e } = await writeRun(spec, context.raw, layout, n, true);
    cachedRates[layout].push(rate);
    errors.push(...e.map((message) => `${layout}, cached mode: ${message}`));
  }
  const cluster = await startCluster();
  let clusterRate = 0;
  try {
    const run = await writeRun(cluster.spec, undefined, "periods", n);
    clusterRate = run.rate;
    errors.push(...run.errors.map((message) => `periods on the cluster: ${message}`));
  } finally {
    await cluster.stop();
  }
  return {
    value: single,
    baseline: mean(rates.python),
    errors,
    notes: [
      `${n} events × 2 intervals: python ${rates.python.map((r) => (r / 1000).toFixed(0))} k/s, ` +
      `periods ${rates.periods.map((r) => (r / 1000).toFixed(0))} k/s, periods on a 3-master ` +
      `cluster ${(clusterRate / 1000).toFixed(0)} k/s; Redis script time per counter: python ${
        mean(micros.python).toFixed(2)
      } µs, periods ${mean(micros.periods).toFixed(2)} µs`,
    ],
    rows: [
      {
        key: "ratio",
        title: "  periods ÷ python",
        unit: "%",
        value: (single / mean(rates.python)) * 100,
        target: { value: 90, better: "higher" },
        reference: "same run",
      },
      {
        key: "cached",
        title: "  the same in cached mode (sync_interval: 1): periods ÷ python",
        unit: "%",
        value: (mean(cachedRates.periods) / mean(cachedRates.python)) * 100,
        reference: `same run; python ${(mean(cachedRates.python) / 1000).toFixed(0)} k/s`,
      },
      {
        key: "cluster",
        title: "  one periods group on a 3-master cluster ÷ one Redis",
        unit: "x",
        value: clusterRate / single,
        baseline: 1,
        target: { value: 1.4, better: "higher" },
        reference: "one Redis, same run",
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// L4: memory per counter

/** Sum of `MEMORY USAGE` of every key of the database (the bench's own; SCAN is fine here). */
async function databaseBytes(raw: RawClient): Promise<{ bytes: number; keys: number }> {
  let bytes = 0;
  let keys = 0;
  for await (const batch of raw.scanIterator({ COUNT: 10_000 })) {
    const pipeline = raw.multi();
    for (const key of batch) pipeline.addCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"]);
    for (const reply of await pipeline.execAsPipeline()) bytes += Number(reply);
    keys += batch.length;
  }
  return { bytes, keys };
}

async function memoryOf(
  context: BenchContext,
  layout: LayoutName,
  events: number,
): Promise<{ perCounter: number; keys: number; errors: string[] }> {
  const { raw } = context;
  await raw.flushAll();
  const name = `m_${layout}`;
  const ecl = new EventCountLogger(
    {
      [name]: {
        auto_declare_events: true,
        intervals: ["1h"],
        ...(layout === "periods" ? { layout, max_events: events } : {}),
      },
    },
    context.redis.spec,
    { onWarning: () => {} },
  );
  const group = ecl.getGroup(name)!;
  for (let i = 0; i < events; i++) group.log(`e${i}`, (i % 5) + 1);
  await group.flush();
  const counts = await group.getCounts("1h", { current: true });
  const errors: string[] = [];
  let wrong = 0;
  for (let i = 0; i < events; i++) if (counts[`e${i}`] !== (i % 5) + 1) wrong++;
  if (wrong > 0 || Object.keys(counts).length !== events) {
    errors.push(`${layout}: ${wrong} wrong of ${events}, ${Object.keys(counts).length} read`);
  }
  // A clean close deletes the writer's records: what is left is the counters.
  await ecl.close();
  const { bytes, keys } = await databaseBytes(raw);
  return { perCounter: bytes / events, keys, errors };
}

function memoryWorkload(events: (context: BenchContext) => number) {
  return async (context: BenchContext): Promise<Sample> => {
    const n = events(context);
    const python = await memoryOf(context, "python", n);
    const periods = await memoryOf(context, "periods", n);
    return {
      value: periods.perCounter,
      baseline: python.perCounter,
      errors: [...python.errors, ...periods.errors],
      notes: [
        `${n} events: periods ${periods.perCounter.toFixed(1)} B/counter in ${periods.keys} ` +
        `key(s), python ${python.perCounter.toFixed(1)} B/counter in ${python.keys} keys`,
      ],
    };
  };
}

// ---------------------------------------------------------------------------------------------
// L5: history

const HISTORY = 288;
const FIVE_MINUTES = 300;

async function historyWorkload(context: BenchContext): Promise<Sample> {
  const { raw } = context;
  const events = Array.from({ length: 10 }, (_, i) => `ev${i}`);
  const name = "hist";
  const clocked = new ClockedGroup(context.redis.spec, name, {
    layout: "periods",
    history: HISTORY,
    events,
    intervals: ["5m"],
  });
  const errors: string[] = [];
  let ms = 0;
  const current = Math.floor(await redisNow(raw) / FIVE_MINUTES) * FIVE_MINUTES;
  const starts = Array.from(
    { length: HISTORY + 1 },
    (_, k) => current - (HISTORY - k) * FIVE_MINUTES,
  );
  const countOf = (k: number, e: number) => ((k + e) % 7) + 1;
  try {
    let group: EventGroup | undefined;
    for (const [k, start] of starts.entries()) {
      group = await clocked.at(start);
      events.forEach((event, e) => group!.log(event, countOf(k, e)));
      await group.flush();
    }
    errors.push(...clocked.warnings.slice(0, 3));
    const started = performance.now();
    const history = await group!.getHistory("5m", HISTORY);
    ms = performance.now() - started;
    if (history.length !== HISTORY) errors.push(`getHistory: ${history.length} periods`);
    history.forEach((period, k) => {
      if (period.start !== starts[k]) errors.push(`period ${k} starts ${period.start}`);
      events.forEach((event, e) => {
        if (period.counts[event] !== countOf(k, e) && errors.length < 5) {
          errors.push(`period ${period.start} ${event} = ${period.counts[event]}`);
        }
      });
    });
  } finally {
    await clocked.close();
  }
  // The CLI: `ecl read --history 288` against `ecl read` (the last period), same start-up.
  const config = await Deno.makeTempFile({ suffix: ".yml" });
  await Deno.writeTextFile(
    config,
    `redis: {host: 127.0.0.1, port: ${context.redis.port}}\ngroups:\n  ${name}: {layout: periods, ` +
      `history: ${HISTORY}, events: [${events.join(", ")}], intervals: [5m]}\n`,
  );
  const cli = async (extra: string[]) => {
    const started = performance.now();
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}cli.ts`, "read", config, "-g", name, "-i", "5m", ...extra],
      env: childEnv(),
      stdin: "null",
    }).output();
    const wall = performance.now() - started;
    if (!output.success) {
      errors.push(`ecl read ${extra.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
    }
    return { wall, stdout: new TextDecoder().decode(output.stdout) };
  };
  try {
    await cli([]); // warm Deno's caches
    const plain = await cli(["-f", "json"]);
    const withHistory = await cli(["--history", String(HISTORY), "-f", "json"]);
    const parsed = JSON.parse(withHistory.stdout) as {
      periods: { counts: Record<string, number> }[];
    };
    if (parsed.periods?.length !== HISTORY) {
      errors.push(`ecl read --history: ${parsed.periods?.length} periods`);
    } else if (parsed.periods[HISTORY - 1].counts.ev3 !== countOf(HISTORY - 1, 3)) {
      errors.push(`ecl read --history: newest ev3 = ${parsed.periods[HISTORY - 1].counts.ev3}`);
    }
    return {
      value: ms,
      errors,
      rows: [{
        key: "cli",
        title: "  `ecl read --history 288 -f json` (from source), wall time",
        unit: "ms",
        value: withHistory.wall,
        baseline: plain.wall,
        reference: "baseline: `ecl read -f json` (last period only)",
      }],
    };
  } finally {
    await Deno.remove(config);
  }
}

// ---------------------------------------------------------------------------------------------

const BIG_EVENTS = 200_000;

/** The workloads. */
export const workloads: Workload[] = [
  {
    name: "layouts-boundary",
    title: "L1 N dynamic events (--events): Redis time at a boundary, max of 3 (periods)",
    unit: "ms",
    target: { value: 10, better: "lower" },
    reference: "baseline: python rotation",
    run: boundaryWorkload(() => 0, (c) => c.options.events ?? c.size(BIG_EVENTS)),
  },
  {
    name: "layouts-small-in-1m",
    title: "L2 10-event group, 1 M other keys: Redis time at a boundary, max of 3",
    unit: "ms",
    target: { value: 10, better: "lower" },
    reference: "baseline: python rotation",
    run: boundaryWorkload((c) => c.size(1_000_000), () => 10),
  },
  {
    name: "layouts-write",
    title: "L3 200,000 distinct events × 2 intervals, EventCountLogger (periods)",
    unit: "rate",
    reference: "baseline: python",
    run: writeWorkload,
  },
  {
    name: "layouts-memory-100",
    title: "L4 Redis memory per counter, 100 events e0…e99 (periods)",
    unit: "bytes",
    target: { value: 16, better: "lower" },
    reference: "baseline: python",
    run: memoryWorkload(() => 100),
  },
  {
    name: "layouts-memory-100k",
    title: "L4 Redis memory per counter, 100,000 events e0… (periods)",
    unit: "bytes",
    reference: "baseline: python",
    run: memoryWorkload((c) => c.size(100_000)),
  },
  {
    name: "layouts-history",
    title: 'L5 getHistory("5m", 288) of a 10-event group',
    unit: "ms",
    target: { value: 50, better: "lower" },
    reference: "python: no history",
    run: historyWorkload,
  },
];

if (import.meta.main) await benchMain(workloads);
