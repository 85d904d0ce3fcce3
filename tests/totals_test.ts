/**
 * `totals: true` and `ecl_events_total`: a counter per (group, event) kept in Redis by the flush
 * that writes the interval counts. Exact across processes, a Redis restart (AOF) and rotations,
 * never decreasing, not doubled by a resend after a lost reply, invisible to the Python
 * implementation's key patterns; the periods layout's write script keeps it per shard.
 */
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { createApp } from "../lib/commands/serve.ts";
import {
  type EclConfig,
  type GroupConfig,
  loadConfig,
  parseConfig,
  parseGroups,
} from "../lib/config.ts";
import { formatPrometheus } from "../lib/format/prometheus.ts";
import { periodStart } from "../lib/interval.ts";
import { carriesTotals, RESEND_WINDOW_MS, totalsInterval } from "../lib/layouts/layout.ts";
import { shardOf, totalsKey as periodsTotalsKey } from "../lib/layouts/periods_keys.ts";
import {
  type PeriodBatch,
  type PeriodsRedis,
  type PeriodsScript,
  PeriodsWriteStatus,
  readTotals as readPeriodsTotals,
  WRITE_SCRIPT,
  writeBatch,
} from "../lib/layouts/periods_scripts.ts";
import { readSnapshot } from "../lib/metrics.ts";
import { parseRedis } from "../lib/redis_config.ts";
import { FLUSH_SCRIPT, FlushStatus } from "../lib/scripts.ts";
import { Store } from "../lib/store.ts";
import { EventCountLogger } from "../mod.ts";
import { startCluster } from "./_cluster.ts";
import { checkConfigError } from "./_config_error.ts";
import { runCli, runScript, writeConfig } from "./_process.ts";
import { LossyProxy } from "./_proxy.ts";
import { assertValidExposition } from "./_promtool.ts";
import { type RawClient, RedisServer, withRedis } from "./_redis.ts";
import { waitFor, within } from "./_wait.ts";

/** Hostile event IDs: label syntax, markup, glob and key syntax. */
const HOSTILE = ['a"b', "back\\slash", "<img src=x onerror=alert(1)>", "*:{x}"];
const EVENTS = ["hit", ...HOSTILE];
const PER_WORKER = 500 * EVENTS.length;

function group(spec: Record<string, unknown>): GroupConfig {
  return parseGroups({ g: spec }).get("g")!;
}

Deno.test("config: totals is opt-in; a value that is not true or false is a one-line ConfigError", async (t) => {
  assert.equal(group({ intervals: ["5m"] }).totals, false);
  assert.equal(group({ intervals: ["5m"], totals: true }).totals, true);
  for (const bad of ["yes", 1, null, ["true"]]) {
    await t.step(JSON.stringify(bad), () => {
      assert.throws(
        () => parseConfig({ groups: { g: { intervals: ["5m"], totals: bad } } }, { file: "f.yml" }),
        (error) =>
          checkConfigError(error, {
            file: "f.yml",
            path: "groups.g.totals",
            detail: /^Expected true or false, got /,
          }),
      );
    });
  }
});

Deno.test("totalsInterval(): the shortest interval carries the totals, in any configured order", () => {
  const g = group({ intervals: ["1h", "5s", "1m"], totals: true });
  assert.deepEqual(totalsInterval(g), { name: "5s", seconds: 5 });
  assert.deepEqual(g.intervals.map((i) => carriesTotals(g, i)), [false, true, false]);
  const off = group({ intervals: ["1h", "5s"] });
  assert.deepEqual(off.intervals.map((i) => carriesTotals(off, i)), [false, false]);
});

Deno.test("formatPrometheus(): ecl_events_total is a counter, labels escaped, validated by promtool", async () => {
  const text = formatPrometheus({
    redisUp: true,
    leaseHolder: undefined,
    intervals: [],
    totals: [
      { group: "web", totals: new Map([["hit", 12], ['a"b', 1], ["back\\slash", 2], ["n\nl", 3]]) },
      { group: "api", totals: new Map([["x", 0]]) },
    ],
  }, 1_700_000_000);
  const expected = "# HELP ecl_events_total Count of the event since its group's totals began " +
    "(totals: true); only grows.\n" +
    "# TYPE ecl_events_total counter\n" +
    'ecl_events_total{group="api",event="x"} 0\n' +
    String.raw`ecl_events_total{group="web",event="a\"b"} 1` + "\n" +
    String.raw`ecl_events_total{group="web",event="back\\slash"} 2` + "\n" +
    'ecl_events_total{group="web",event="hit"} 12\n' +
    String.raw`ecl_events_total{group="web",event="n\nl"} 3` + "\n";
  // The first family by name; the lease and Redis gauges follow.
  assert.equal(text.slice(0, expected.length), expected);
  assert.match(text.slice(expected.length), /^# HELP ecl_master_lease_held /);
  await assertValidExposition(text);
});

function configText(port: number): string {
  return `redis:
  host: 127.0.0.1
  port: ${port}
groups:
  web:
    events: [hit]
    auto_declare_events: true
    intervals: [1h, 2s]
    totals: true
  plain:
    events: [x]
    intervals: [1m]
`;
}

/** The totals of every group as `ecl read -f prometheus`'s reader gets them. */
async function totals(store: Store, config: string): Promise<Record<string, number>> {
  const snapshot = await readSnapshot(store, await loadConfig(config), {});
  assert.equal(snapshot.redisUp, true);
  const result: Record<string, number> = {};
  for (const { group, totals } of snapshot.totals ?? []) {
    for (const [event, count] of totals) result[`${group}/${event}`] = count;
  }
  return result;
}

function expected(perEvent: number): Record<string, number> {
  return Object.fromEntries(EVENTS.map((event) => [`web/${event}`, perEvent]));
}

/** Two logger processes, each logging {@link PER_WORKER} events spread over {@link EVENTS}. */
async function twoWorkers(config: string): Promise<void> {
  const results = await Promise.all(
    [0, 1].map(() =>
      runScript("tests/_log_worker.ts", [config, "web", String(PER_WORKER), ...EVENTS])
    ),
  );
  for (const result of results) assert.equal(result.code, 0, result.stderr);
}

/**
 * Rotate every interval of the config at the start of its period at `at` (seconds; now by
 * default), as the master does.
 */
async function rotateNow(store: Store, config: string, at = Date.now() / 1000): Promise<void> {
  for (const g of (await loadConfig(config)).groups.values()) {
    for (const interval of g.intervals) {
      await store.rotate(g, interval, periodStart(at, interval.seconds));
    }
  }
}

/** Wait until the period of `seconds` after the one starting at `start` has begun. */
function nextPeriod(start: number, seconds: number): Promise<void> {
  return waitFor(
    `the ${seconds} s period after ${start}`,
    () => Promise.resolve(periodStart(Date.now() / 1000, seconds) > start),
    { timeoutMs: 5000, everyMs: 10 },
  );
}

Deno.test("ecl_events_total: exact after two processes log, a Redis restart (AOF) and two rotations, never decreasing", async () => {
  const server = await RedisServer.start(["--appendonly", "yes", "--appendfsync", "always"]);
  const config = await writeConfig(configText(server.port));
  const store = new Store((await loadConfig(config)).redis);
  try {
    const raw = await server.client();
    await twoWorkers(config);
    const first = expected(2 * PER_WORKER / EVENTS.length);
    assert.deepEqual(await totals(store, config), first);

    await rotateNow(store, config);
    assert.deepEqual(await totals(store, config), first, "unchanged by a rotation");

    await server.restart();
    await within("end of store.ready()", store.ready());
    assert.deepEqual(await totals(store, config), first, "unchanged by a Redis restart");

    // The workers start at the beginning of the 2 s period after the one just rotated to, which
    // no master opens: their writes are Deferred, and close() waits until the grace (2 s) sends
    // them to cur. (Workers slower to start than that write to cur at once: the same totals.)
    const now = Date.now() / 1000;
    await rotateNow(store, config, now);
    await nextPeriod(periodStart(now, 2), 2);
    await twoWorkers(config);
    const second = expected(4 * PER_WORKER / EVENTS.length);
    assert.deepEqual(await totals(store, config), second);

    // The next period of the 2 s interval: a real second rotation of it.
    await nextPeriod(periodStart(Date.now() / 1000, 2), 2);
    await rotateNow(store, config);
    assert.deepEqual(await totals(store, config), second, "unchanged by the second rotation");

    // Stored as one hash outside every `<group>:` prefix; the Python implementation's patterns
    // (`<group>:<interval>:[^:]*:[^@]*`) and ecl's own never see it.
    assert.deepEqual(await raw.keys("@ecl:total:*"), ["@ecl:total:web"]);
    assert.equal(await raw.hGet("@ecl:total:web", "hit"), String(4 * PER_WORKER / EVENTS.length));
    for (const pattern of ["web:1h:[^:]*:[^@]*", "web:2s:[^:]*:[^@]*", "web:*"]) {
      assert.ok(!(await raw.keys(pattern)).some((key) => key.startsWith("@ecl")), pattern);
    }

    // The CLI and ecl serve show it; promtool accepts both.
    const cli = await runCli(["read", config, "-f", "prometheus"]);
    assert.equal(cli.code, 0, cli.stderr);
    const app = createApp(await loadConfig(config), store);
    const served = await (await app.request("/metrics")).text();
    for (const text of [cli.stdout, served]) {
      assert.match(text, /^# TYPE ecl_events_total counter$/m);
      assert.match(text, /^ecl_events_total\{group="web",event="hit"\} 2000$/m);
      assert.ok(text.includes(String.raw`ecl_events_total{group="web",event="a\"b"} 2000`), text);
      assert.ok(
        text.includes(String.raw`ecl_events_total{group="web",event="back\\slash"} 2000`),
        text,
      );
      assert.ok(!text.includes('ecl_events_total{group="plain"'), "only groups with totals: true");
      await assertValidExposition(text);
    }
  } finally {
    await within("end of store.close()", store.close());
    await server.stop();
    await Deno.remove(config);
  }
});

Deno.test("ecl_events_total: a flush whose reply is lost is resent and added once", async () => {
  const server = await RedisServer.start();
  const proxy = await LossyProxy.start(server.port);
  const ecl = new EventCountLogger(
    { g: { events: ["a"], intervals: ["1h", "1m"], totals: true } },
    { host: "127.0.0.1", port: proxy.port },
    { onWarning: () => {} },
  );
  try {
    const raw = await server.client();
    await raw.scriptLoad(FLUSH_SCRIPT);
    await within("end of ecl.ready()", ecl.ready());
    proxy.dropReplyTo("EVALSHA");
    ecl.getGroup("g")!.log("a", 7);
    await within("end of ecl.close()", ecl.close());
    assert.equal(proxy.dropped, 1);
    assert.deepEqual({ ...await raw.hGetAll("@ecl:total:g") }, { a: "7" });
    assert.deepEqual(await raw.mGet(["g:1h:cur:a", "g:1m:cur:a"]), ["7", "7"]);
  } finally {
    await within("end of proxy.close()", proxy.close());
    await server.stop();
  }
});

Deno.test("python layout flush: totals count Current, Last and Discarded batches; never Deferred, Duplicate or Expired ones", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const g = group({ events: ["e"], intervals: ["10s", "1h"], totals: true });
    const [short, long] = g.intervals;
    const store = new Store(parseRedis({ host: "127.0.0.1", port: server.port }));
    try {
      const now = Math.floor(Date.now() / 1000);
      const current = periodStart(now, 10);
      let seq = 0;
      const flush = (interval = short, period = current, count = 1, extra = {}) =>
        store.flush({
          group: g,
          interval,
          period,
          counts: new Map([["e", count]]),
          nowSeconds: now,
          graceSeconds: 2,
          writer: "w",
          seq: ++seq,
          ...extra,
        });
      const total = async () => Number(await raw.hGet("@ecl:total:g", "e") ?? 0);

      assert.equal((await flush()).status, FlushStatus.Current);
      assert.equal(await total(), 1);
      // Another interval's batch carries no totals.
      assert.equal((await flush(long, periodStart(now, 3600), 100)).status, FlushStatus.Current);
      assert.equal(await total(), 1);
      // Rotated: the period just rotated goes to last, an older one is Discarded; both counted.
      await store.rotate(g, short, current + 10);
      assert.equal((await flush(short, current, 2)).status, FlushStatus.Last);
      assert.equal((await flush(short, current - 10, 4)).status, FlushStatus.Discarded);
      assert.equal(await total(), 7);
      // Deferred (the master has not opened this period): nothing now, counted when written.
      const early = await within(
        "end of store.flush()",
        store.flush({
          group: g,
          interval: short,
          period: current + 20,
          counts: new Map([["e", 8]]),
          nowSeconds: current + 20,
          graceSeconds: 2,
          writer: "w2",
          seq: 1,
        }),
      );
      assert.equal(early.status, FlushStatus.Deferred);
      assert.equal(await total(), 7);
      // The same number again (a resend after a lost reply): a Duplicate adds nothing.
      seq--;
      assert.equal((await flush(short, current, 16)).status, FlushStatus.Duplicate);
      // A resend past its deadline: Expired, nothing added.
      const expired = await flush(short, current, 32, {
        resendDeadlineMs: Date.now() - RESEND_WINDOW_MS,
      });
      assert.equal(expired.status, FlushStatus.Expired);
      assert.equal(await total(), 7);

      // A total that is not a count is listed and left alone; the interval counts still go in.
      await raw.hSet("@ecl:total:g", "e", "oops");
      const bad = await flush(short, current + 10, 1);
      assert.deepEqual(bad.totalsRejected, ["e"]);
      assert.deepEqual(bad.rejected, []);
      assert.equal(await raw.hGet("@ecl:total:g", "e"), "oops");
    } finally {
      await within("end of store.close()", store.close());
    }
  }));

/** {@link PeriodsRedis} over a node-redis client. */
function periodsRedis(client: RawClient): PeriodsRedis {
  return {
    async evalScript(script: PeriodsScript, keys: string[], args: string[]) {
      try {
        return await client.evalSha(createHash("sha1").update(script.source).digest("hex"), {
          keys,
          arguments: args,
        });
      } catch (error) {
        if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
        return await client.eval(script.source, { keys, arguments: args });
      }
    },
    hGetAll: (key) => client.hGetAll(key),
  };
}

for (const perShard of [false, true]) {
  Deno.test(`periods writeBatch() (${perShard ? "per-shard calls" : "one call"}): totals per shard, once per batch, refused periods counted, summed by readTotals`, () =>
    withRedis(async (server) => {
      const raw = await server.client();
      const redis = periodsRedis(raw);
      const now = Math.floor(Date.now() / 1000);
      const counts = new Map(EVENTS.map((event, i) => [event, i + 1]));
      const batch = (seq: number, extra: Partial<PeriodBatch> = {}): PeriodBatch => ({
        group: "web",
        interval: "1m",
        intervalSeconds: 60,
        start: periodStart(now, 60),
        counts,
        history: 2,
        shards: 4,
        graceSeconds: 60,
        writer: "w",
        seq,
        totals: true,
        ...extra,
      });
      const read = () =>
        readPeriodsTotals(redis, {
          group: "web",
          intervals: [{ interval: "1m", shards: 4 }, { interval: "1h", shards: 4 }],
        });
      const times = (k: number) => new Map(EVENTS.map((event, i) => [event, k * (i + 1)]));

      assert.equal(
        (await writeBatch(redis, batch(1), perShard)).status,
        PeriodsWriteStatus.Written,
      );
      assert.deepEqual(await read(), times(1));
      // A resend of the same number: Duplicate, nothing added.
      assert.equal(
        (await writeBatch(redis, batch(1), perShard)).status,
        PeriodsWriteStatus.Duplicate,
      );
      assert.deepEqual(await read(), times(1));
      // A period past its retention: TooLate, but the events happened: counted.
      const late = await writeBatch(
        redis,
        batch(2, { start: periodStart(now, 60) - 600 }),
        perShard,
      );
      assert.equal(late.status, PeriodsWriteStatus.TooLate);
      assert.deepEqual(await read(), times(2));
      // A batch without totals (another interval's) adds nothing to them.
      await writeBatch(
        redis,
        batch(3, { interval: "1h", intervalSeconds: 3600, totals: false }),
        perShard,
      );
      assert.deepEqual(await read(), times(2));
      // What grew in another interval's hashes (it was the shortest before) is summed in.
      await writeBatch(redis, batch(4, { interval: "1h", intervalSeconds: 3600 }), perShard);
      assert.deepEqual(await read(), times(3));

      // Event IDs are only fields, spread over the shards' hashes in each shard's slot; no expiry.
      const keys = (await raw.keys("*:t")).sort();
      const shards = [...new Set(EVENTS.map((event) => shardOf(event, 4)))];
      assert.ok(shards.length > 1, "the events spread over several shards");
      assert.deepEqual(
        keys,
        ["1h", "1m"].flatMap((i) => shards.map((shard) => periodsTotalsKey("web", i, shard)))
          .sort(),
      );
      for (const key of keys) assert.equal(await raw.pTTL(key), -1, `${key} never expires`);
      // Without totals the script is unchanged: no totals key appears for another group.
      await writeBatch(redis, batch(1, { group: "plain", totals: undefined }), perShard);
      assert.deepEqual(await raw.keys("{plain*:t"), []);
    }));
}

Deno.test("periods writeBatch(): a field of a totals hash that is not a count is listed, the rest written", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const redis = periodsRedis(raw);
    const now = Math.floor(Date.now() / 1000);
    await raw.hSet(periodsTotalsKey("web", "1m", 0), "bad", "x");
    const result = await writeBatch(redis, {
      group: "web",
      interval: "1m",
      intervalSeconds: 60,
      start: periodStart(now, 60),
      counts: new Map([["bad", 1], ["good", 2]]),
      history: 1,
      shards: 1,
      graceSeconds: 60,
      writer: "w",
      seq: 1,
      totals: true,
    }, false);
    assert.equal(result.status, PeriodsWriteStatus.Written);
    assert.deepEqual(result.totalsRejected, ["bad"]);
    assert.deepEqual(result.rejected, []);
    assert.deepEqual({ ...await raw.hGetAll(periodsTotalsKey("web", "1m", 0)) }, {
      bad: "x",
      good: "2",
    });
  }));

/** A `layout: periods` group with totals, its events spread over 4 shards. */
const PERIODS_GROUP = {
  layout: "periods",
  auto_declare_events: true,
  max_events: 30_000,
  intervals: ["1h", "1m"],
  totals: true,
} as const;

/** Totals of group `web` as `ecl read -f prometheus` gets them. */
async function webTotals(store: Store, config: EclConfig) {
  const snapshot = await readSnapshot(store, config, {});
  assert.equal(snapshot.redisUp, true);
  return snapshot.totals?.find((t) => t.group === "web")?.totals;
}

Deno.test("ecl_events_total, layout periods: through EventCountLogger, exact, in the shortest interval's shard hashes, once after a lost reply", async () => {
  const server = await RedisServer.start();
  const proxy = await LossyProxy.start(server.port);
  const config = parseConfig({ groups: { web: PERIODS_GROUP } });
  const group = config.groups.get("web")!;
  assert.equal(group.shards, 4);
  const ecl = new EventCountLogger(
    { web: PERIODS_GROUP },
    { host: "127.0.0.1", port: proxy.port },
    { onWarning: () => {} },
  );
  const store = new Store(parseRedis({ host: "127.0.0.1", port: server.port }));
  try {
    const raw = await server.client();
    await raw.scriptLoad(WRITE_SCRIPT.source);
    const web = ecl.getGroup("web")!;
    for (let round = 1; round <= 3; round++) {
      for (const [i, event] of EVENTS.entries()) web.log(event, i + 1);
    }
    await within("end of web.flush()", web.flush());
    assert.deepEqual(
      await webTotals(store, config),
      new Map(EVENTS.map((event, i) => [event, 3 * (i + 1)])),
    );
    // A batch whose reply is lost is resent (with its deadline) and added once.
    proxy.dropReplyTo("EVALSHA");
    for (const [i, event] of EVENTS.entries()) web.log(event, i + 1);
    await within("end of ecl.close()", ecl.close());
    assert.equal(proxy.dropped, 1);
    const totals = new Map(EVENTS.map((event, i) => [event, 4 * (i + 1)]));
    assert.deepEqual(await webTotals(store, config), totals);
    // The interval counts agree (current + last: a period may have begun meanwhile).
    let logged = 0;
    for (const count of totals.values()) logged += count;
    for (const interval of group.intervals) {
      let written = 0;
      for (const slot of ["cur", "last"] as const) {
        const { values } = await store.readPeriod(group, interval, slot, new Set(), true);
        for (const value of values.values()) written += Number(value ?? 0);
      }
      assert.equal(written, logged, interval.name);
    }
    // The totals live in the shortest (1m) interval's shard hashes only.
    const keys = (await raw.keys("*:t")).sort();
    const shards = [...new Set(EVENTS.map((event) => shardOf(event, 4)))];
    assert.deepEqual(keys, shards.map((shard) => periodsTotalsKey("web", "1m", shard)).sort());
    assert.deepEqual(await raw.keys("@ecl:total:*"), [], "no python-layout totals hash");
  } finally {
    await within("end of ecl.close()", ecl.close());
    await within("end of store.close()", store.close());
    await within("end of proxy.close()", proxy.close());
    await server.stop();
  }
});

Deno.test("ecl_events_total, layout periods on a 3-master Redis Cluster: per-shard writes, totals exact, read by ecl read -f prometheus", async () => {
  const cluster = await startCluster(1);
  const config = parseConfig({ redis: cluster.spec, groups: { web: PERIODS_GROUP } });
  const ecl = new EventCountLogger({ web: PERIODS_GROUP }, cluster.spec, { onWarning: () => {} });
  const store = new Store(config.redis);
  const file = await writeConfig(
    `redis:\n  cluster:\n    nodes: [${cluster.spec.cluster.nodes.join(", ")}]\ngroups:\n` +
      `  web: ${JSON.stringify(PERIODS_GROUP)}\n`,
  );
  try {
    const web = ecl.getGroup("web")!;
    const events = [...EVENTS, ...Array.from({ length: 200 }, (_, i) => `e${i}`)];
    for (const event of events) web.log(event, 2);
    await within("end of ecl.close()", ecl.close());
    assert.deepEqual(await webTotals(store, config), new Map(events.map((event) => [event, 2])));
    // The 4 shards' totals hashes sit on more than one master.
    const holders = new Set<number>();
    for (const node of await cluster.masters()) {
      const keys = await (await cluster.client(node)).keys("{web:1m:*}:t");
      if (keys.length > 0) holders.add(node.port);
    }
    assert.ok(holders.size > 1, `totals on ${holders.size} master(s)`);
    const cli = await runCli(["read", file, "-f", "prometheus", "-g", "web"]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^ecl_events_total\{group="web",event="e199"\} 2$/m);
    assert.match(cli.stdout, /^ecl_events_total\{group="web",event="hit"\} 2$/m);
    await assertValidExposition(cli.stdout);
  } finally {
    await within("end of ecl.close()", ecl.close());
    await within("end of store.close()", store.close());
    await Deno.remove(file);
    await cluster.stop();
  }
});
