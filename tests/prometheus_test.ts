/** Prometheus exposition: byte for byte, validated by promtool, from Redis and from the CLI. */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { NotFoundError } from "../lib/errors.ts";
import {
  escapeLabelValue,
  formatPrometheus,
  formatValue,
  type MetricsSnapshot,
} from "../lib/format/prometheus.ts";
import type { Slot } from "../lib/keys.ts";
import { periodKey } from "../lib/layouts/periods_keys.ts";
import { readMetrics } from "../lib/metrics.ts";
import type { SlotCounts } from "../lib/reader.ts";
import { Store } from "../lib/store.ts";
import { assertValidExposition } from "./_promtool.ts";
import { runCli, writeConfig } from "./_process.ts";
import { freePort, withRedis } from "./_redis.ts";
import { waitFor, within } from "./_wait.ts";

/** A fixed clock: 23.5 s into a 5-minute period. */
const NOW = 1_700_000_123.5;

function slot(
  group: string,
  interval: string,
  which: Slot,
  start: number | undefined,
  end: number | undefined,
  counts: Record<string, number>,
): SlotCounts {
  return {
    group,
    interval,
    slot: which,
    start,
    end,
    counts: new Map(Object.entries(counts)),
    invalid: new Map(),
  };
}

const HELP = {
  current:
    "# HELP ecl_events_current Count of the event so far in the current, unfinished interval.\n" +
    "# TYPE ecl_events_current gauge\n",
  last: "# HELP ecl_events_last Count of the event in the last finished interval.\n" +
    "# TYPE ecl_events_last gauge\n",
  length: "# HELP ecl_interval_length_seconds Length of the interval in seconds.\n" +
    "# TYPE ecl_interval_length_seconds gauge\n",
  start:
    '# HELP ecl_interval_start_seconds Start (UNIX seconds) of the span in "last" (slot="last") and of the current period (slot="current").\n' +
    "# TYPE ecl_interval_start_seconds gauge\n",
  complete:
    '# HELP ecl_last_interval_complete Whether "last" covers exactly one interval (1) or several because a master missed boundaries (0); absent when its start is unknown.\n' +
    "# TYPE ecl_last_interval_complete gauge\n",
  held:
    "# HELP ecl_master_lease_held Whether an ecl master holds the master lease (1) or none does (0).\n" +
    "# TYPE ecl_master_lease_held gauge\n",
  info:
    "# HELP ecl_master_lease_info The ecl master holding the lease: holder is its ID, host:pid:random.\n" +
    "# TYPE ecl_master_lease_info gauge\n",
  up:
    "# HELP ecl_redis_up Whether Redis answered the reads of this scrape in time (1) or not (0).\n" +
    "# TYPE ecl_redis_up gauge\n",
  since:
    "# HELP ecl_seconds_since_rotation Seconds since the start of the current period, i.e. since the last rotation; more than the interval length plus a few seconds means no master rotates.\n" +
    "# TYPE ecl_seconds_since_rotation gauge\n",
};

/** The exposition of {@link SNAPSHOT} at {@link NOW}, written out by hand. */
const EXPECTED = HELP.current +
  'ecl_events_current{group="requests",interval="1h",event="error"} 0\n' +
  'ecl_events_current{group="requests",interval="1h",event="req1"} 7\n' +
  'ecl_events_current{group="requests",interval="1h",event="req2"} 0\n' +
  'ecl_events_current{group="requests",interval="5m",event="error"} 0\n' +
  'ecl_events_current{group="requests",interval="5m",event="req1"} 3\n' +
  'ecl_events_current{group="requests",interval="5m",event="req2"} 0\n' +
  HELP.last +
  String.raw`ecl_events_last{group="dyn",interval="10s",event="a\"b"} 1` + "\n" +
  String.raw`ecl_events_last{group="dyn",interval="10s",event="back\\slash"} 2` + "\n" +
  String.raw`ecl_events_last{group="dyn",interval="10s",event="new\nline"} 3` + "\n" +
  'ecl_events_last{group="dyn",interval="10s",event="ünï"} 4\n' +
  'ecl_events_last{group="requests",interval="1h",event="error"} 0\n' +
  'ecl_events_last{group="requests",interval="1h",event="req1"} 1000000\n' +
  'ecl_events_last{group="requests",interval="1h",event="req2"} 0\n' +
  'ecl_events_last{group="requests",interval="5m",event="error"} 0\n' +
  'ecl_events_last{group="requests",interval="5m",event="req1"} 54\n' +
  'ecl_events_last{group="requests",interval="5m",event="req2"} 11\n' +
  HELP.length +
  'ecl_interval_length_seconds{group="dyn",interval="10s"} 10\n' +
  'ecl_interval_length_seconds{group="requests",interval="1h"} 3600\n' +
  'ecl_interval_length_seconds{group="requests",interval="5m"} 300\n' +
  HELP.start +
  'ecl_interval_start_seconds{group="dyn",interval="10s",slot="current"} 1700000120\n' +
  'ecl_interval_start_seconds{group="requests",interval="1h",slot="current"} 1699999200\n' +
  'ecl_interval_start_seconds{group="requests",interval="1h",slot="last"} 1699992000\n' +
  'ecl_interval_start_seconds{group="requests",interval="5m",slot="current"} 1700000100\n' +
  'ecl_interval_start_seconds{group="requests",interval="5m",slot="last"} 1699999800\n' +
  HELP.complete +
  'ecl_last_interval_complete{group="requests",interval="1h"} 0\n' +
  'ecl_last_interval_complete{group="requests",interval="5m"} 1\n' +
  HELP.held +
  "ecl_master_lease_held 1\n" +
  HELP.info +
  'ecl_master_lease_info{holder="host-1:4242:abcd1234"} 1\n' +
  HELP.up +
  "ecl_redis_up 1\n" +
  HELP.since +
  'ecl_seconds_since_rotation{group="dyn",interval="10s"} 3.5\n' +
  'ecl_seconds_since_rotation{group="requests",interval="1h"} 923.5\n' +
  'ecl_seconds_since_rotation{group="requests",interval="5m"} 23.5\n';

/**
 * requests:5m rotated on time; requests:1h's `last` spans two hours (a master missed a
 * boundary); dyn:10s was rotated by a Python master (no `last:@ts`), with IDs to escape.
 */
const SNAPSHOT: MetricsSnapshot = {
  redisUp: true,
  leaseHolder: "host-1:4242:abcd1234",
  // Not in output order: the formatter sorts.
  intervals: [
    {
      seconds: 300,
      last: slot("requests", "5m", "last", 1699999800, 1700000100, {
        req2: 11,
        error: 0,
        req1: 54,
      }),
      current: slot("requests", "5m", "cur", 1700000100, 1700000400, {
        error: 0,
        req1: 3,
        req2: 0,
      }),
    },
    {
      seconds: 10,
      last: slot("dyn", "10s", "last", undefined, 1700000120, {
        "ünï": 4,
        "new\nline": 3,
        'a"b': 1,
        "back\\slash": 2,
      }),
      current: slot("dyn", "10s", "cur", 1700000120, 1700000130, {}),
    },
    {
      seconds: 3600,
      last: slot("requests", "1h", "last", 1699992000, 1699999200, {
        req1: 1000000,
        req2: 0,
        error: 0,
      }),
      current: slot("requests", "1h", "cur", 1699999200, 1700002800, {
        error: 0,
        req1: 7,
        req2: 0,
      }),
    },
  ],
};

Deno.test("prometheus: the exposition of a known snapshot, byte for byte, passes promtool", async () => {
  const text = formatPrometheus(SNAPSHOT, NOW);
  assert.equal(text, EXPECTED);
  await assertValidExposition(text);
});

Deno.test("prometheus: Redis down gives ecl_redis_up 0 and nothing else", async () => {
  const text = formatPrometheus({ redisUp: false }, NOW);
  assert.equal(text, HELP.up + "ecl_redis_up 0\n");
  await assertValidExposition(text);
  // No master: the lease is 0 and there is no info series.
  const noMaster = formatPrometheus({ redisUp: true, intervals: [] }, NOW);
  assert.equal(noMaster, HELP.held + "ecl_master_lease_held 0\n" + HELP.up + "ecl_redis_up 1\n");
  await assertValidExposition(noMaster);
});

Deno.test("prometheus: label values and sample values are written as the format says", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), String.raw`a\\b\"c\nd`);
  assert.equal(escapeLabelValue("plain ünï ✓ {}=,"), "plain ünï ✓ {}=,");
  assert.equal(formatValue(0), "0");
  assert.equal(formatValue(9007199254740991), "9007199254740991");
  assert.equal(formatValue(-3), "-3");
  assert.equal(formatValue(1.23456), "1.235");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(Infinity), "+Inf");
});

/** requests with two intervals, dyn auto-declaring, for the Redis-backed tests. */
function config(port: number) {
  return parseConfig({
    redis: { host: "127.0.0.1", port },
    groups: {
      requests: { events: ["req1", "req2", "error"], intervals: ["5m", "1h"] },
      dyn: { auto_declare_events: true, intervals: ["10s"] },
    },
  });
}

/** What Redis holds for {@link SNAPSHOT}, as masters and loggers would have written it. */
const REDIS_CONTENT: Record<string, string> = {
  "requests:5m:last:req1": "54",
  "requests:5m:last:req2": "11",
  "requests:5m:cur:req1": "3",
  "requests:5m:cur:req2": "0",
  "requests:5m:last:@ts": "1699999800",
  "requests:5m:cur:@ts": "1700000100",
  "requests:1h:last:req1": "1000000",
  "requests:1h:cur:req1": "7",
  "requests:1h:last:@ts": "1699992000",
  "requests:1h:cur:@ts": "1699999200",
  'dyn:10s:last:a"b': "1",
  "dyn:10s:last:back\\slash": "2",
  "dyn:10s:last:new\nline": "3",
  "dyn:10s:last:ünï": "4",
  // A Python master writes cur:@ts when its timer fired, a little after the boundary.
  "dyn:10s:cur:@ts": "1700000121",
  // Not counts: skipped (ecl read warns about them on stderr).
  "dyn:10s:cur:junk": "not a number",
  "dyn:10s:cur:@w:writer-1": "17",
};

Deno.test("prometheus: readMetrics reads every group from Redis, with filters", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    await raw.mSet(REDIS_CONTENT);
    await raw.set("@ecl:master", "host-1:4242:abcd1234", { PX: 60_000 });
    const store = new Store(config(server.port).redis, { reconnect: false });
    try {
      assert.equal(await readMetrics(store, config(server.port), {}, NOW), EXPECTED);

      const only5m = await readMetrics(store, config(server.port), { interval: "5m" }, NOW);
      const lines = only5m.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
      assert.deepEqual(
        lines.filter((line) => line.includes("group=")).map((line) =>
          /group="([^"]*)",interval="([^"]*)"/.exec(line)!.slice(1).join(":")
        ).filter((name, i, all) => all.indexOf(name) === i),
        ["requests:5m"],
      );
      assert.ok(only5m.includes("ecl_redis_up 1\n") && only5m.includes("ecl_master_lease_held 1"));
      await assertValidExposition(only5m);

      const dyn = await readMetrics(store, config(server.port), { group: "dyn" }, NOW);
      assert.ok(dyn.includes('ecl_events_last{group="dyn",interval="10s",event="ünï"} 4\n'));
      assert.ok(!dyn.includes('group="requests"'));

      await assert.rejects(
        readMetrics(store, config(server.port), { group: "nope" }, NOW),
        (error) =>
          error instanceof NotFoundError &&
          /Group "nope" not found in the configuration/.test(error.message),
      );
      await assert.rejects(
        readMetrics(store, config(server.port), { group: "dyn", interval: "5m" }, NOW),
        (error) =>
          error instanceof NotFoundError &&
          error.message === 'Interval "5m" not configured for group "dyn"',
      );
    } finally {
      await within("end of store.close()", store.close());
    }
  }));

Deno.test("prometheus: readMetrics without Redis answers ecl_redis_up 0", async () => {
  const port = await freePort();
  const store = new Store(config(port).redis, { reconnect: false });
  try {
    assert.equal(await readMetrics(store, config(port), {}, NOW), HELP.up + "ecl_redis_up 0\n");
  } finally {
    await within("end of store.close()", store.close());
  }
});

Deno.test("prometheus: ecl read -f prometheus prints the exposition once", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    await raw.mSet(REDIS_CONTENT);
    const file = await writeConfig(`redis:
  host: 127.0.0.1
  port: ${server.port}
groups:
  requests:
    events: [req1, req2, error]
    intervals: [5m, 1h]
  dyn:
    auto_declare_events: true
    intervals: [10s]
`);
    try {
      const all = await runCli(["read", file, "-f", "prometheus"]);
      assert.equal(all.code, 0, all.stderr);
      assert.equal(all.stderr, "");
      await assertValidExposition(all.stdout);
      // The real clock only moves ecl_seconds_since_rotation; no master: no lease lines.
      const fixed = (text: string) =>
        text.split("\n").filter((line) =>
          !line.startsWith("ecl_seconds_since_rotation{") && !line.includes("ecl_master_lease")
        ).join("\n");
      assert.equal(fixed(all.stdout), fixed(EXPECTED));
      assert.match(all.stdout, /^ecl_master_lease_held 0$/m);

      const one = await runCli(["read", file, "-f", "prometheus", "-g", "requests", "-i", "1h"]);
      assert.equal(one.code, 0, one.stderr);
      assert.match(
        one.stdout,
        /^ecl_events_last\{group="requests",interval="1h",event="req1"\} 1000000$/m,
      );
      assert.doesNotMatch(one.stdout, /interval="5m"|group="dyn"/);
      await assertValidExposition(one.stdout);

      const unknown = await runCli(["read", file, "-f", "prometheus", "-g", "nope"]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /^ERROR: Group "nope" not found/);
    } finally {
      await Deno.remove(file);
    }
  }));

Deno.test("prometheus: a periods group: last and current periods on Redis's clock, last complete", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const redisSeconds = async () => Number((await raw.sendCommand(["TIME"]) as string[])[0]);
    // Away from the hour's end, so that the periods seeded are the ones read.
    if ((await redisSeconds()) % 3600 > 3590) {
      await waitFor(
        "the next hour on Redis's clock",
        async () => (await redisSeconds()) % 3600 < 3590,
        { timeoutMs: 15_000, everyMs: 200 },
      );
    }
    const current = Math.floor((await redisSeconds()) / 3600) * 3600;
    await raw.hSet(periodKey("p", "1h", current - 3600, 0), { a: "5", [`x"y`]: "2" });
    await raw.hSet(periodKey("p", "1h", current, 0), { a: "100" });
    const periods = parseConfig({
      redis: { host: "127.0.0.1", port: server.port },
      groups: { p: { layout: "periods", events: ["a", "b"], intervals: ["1h"] } },
    });
    const store = new Store(periods.redis, { reconnect: false });
    try {
      const text = await readMetrics(store, periods, {}, await redisSeconds());
      await assertValidExposition(text);
      const samples = text.split("\n").filter((line) => line.includes('group="p"'));
      for (
        const line of [
          'ecl_events_last{group="p",interval="1h",event="a"} 5',
          'ecl_events_last{group="p",interval="1h",event="b"} 0',
          'ecl_events_current{group="p",interval="1h",event="a"} 100',
          'ecl_events_current{group="p",interval="1h",event="b"} 0',
          'ecl_last_interval_complete{group="p",interval="1h"} 1',
          `ecl_interval_start_seconds{group="p",interval="1h",slot="current"} ${current}`,
          `ecl_interval_start_seconds{group="p",interval="1h",slot="last"} ${current - 3600}`,
          'ecl_interval_length_seconds{group="p",interval="1h"} 3600',
        ]
      ) assert.ok(samples.includes(line), `${line} in:\n${samples.join("\n")}`);
    } finally {
      await within("end of store.close()", store.close());
    }
  }));
