/** `ecl status`: Nagios/Icinga exit codes and first lines, against real Redis and masters. */
import assert from "node:assert/strict";
import {
  checkInterval,
  evaluateStatus,
  formatStatusText,
  type PeriodsInterval,
  STATUS_CODES,
  type StatusCheck,
  statusReport,
} from "../lib/format/status.ts";
import { parseConfig } from "../lib/config.ts";
import type { Slot } from "../lib/keys.ts";
import { Leadership } from "../lib/leadership.ts";
import { Master } from "../lib/master.ts";
import type { SlotCounts } from "../lib/reader.ts";
import { Store } from "../lib/store.ts";
import { runEcl } from "./_bundle.ts";
import { runCli, writeConfig } from "./_process.ts";
import { freePort, type RedisServer, withRedis } from "./_redis.ts";
import { sleep, within } from "./_wait.ts";

const HOLDER = "other-host:7:0badf00d";

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** Wait until the clock is at least `margin` s away from a 5-minute boundary (exact detail lines). */
async function awayFromBoundaries(margin = 3): Promise<void> {
  const into = (Date.now() / 1000) % 300;
  if (into < margin) await sleep((margin - into) * 1000);
  if (into > 300 - margin) await sleep((300 + margin - into) * 1000);
}

const YAML_GROUPS = `groups:
  requests:
    events: [req1]
    intervals: [5m, 1h]
  pages:
    events: [home]
    intervals: [5m]
`;

function configFor(server: RedisServer | { port: number }): Promise<string> {
  return writeConfig(`redis:\n  host: 127.0.0.1\n  port: ${server.port}\n${YAML_GROUPS}`);
}

Deno.test("status: OK with a master running (in process) and every interval rotated", () =>
  withRedis(async (server) => {
    await awayFromBoundaries();
    const file = await configFor(server);
    const config = parseConfig({
      redis: server.spec,
      groups: {
        requests: { events: ["req1"], intervals: ["5m", "1h"] },
        pages: { events: ["home"], intervals: ["5m"] },
      },
    });
    const now = Date.now() / 1000;
    const m5 = Math.floor(now / 300) * 300;
    const h1 = Math.floor(now / 3600) * 3600;
    // The previous periods were current when the master went down; it rotates them at start.
    const raw = await server.client();
    await raw.mSet({
      "requests:5m:cur:@ts": String(m5 - 300),
      "requests:1h:cur:@ts": String(h1 - 3600),
      "pages:5m:cur:@ts": String(m5 - 300),
    });
    const store = new Store(config.redis);
    const leadership = new Leadership(store, "test-host:1:abcdef12");
    const master = new Master(config, store, { leadership });
    await leadership.start();
    await master.start();
    try {
      const result = await runCli(["status", file]);
      assert.equal(result.stderr, "");
      assert.equal(
        result.stdout,
        [
          "ECL OK - redis up, master lease held by test-host:1:abcdef12, 3 intervals rotated on time",
          `OK: Redis at redis://127.0.0.1:${server.port}/0 answers`,
          "OK: master lease held by test-host:1:abcdef12",
          `OK: requests:5m: rotated on time (current period since ${
            iso(m5)
          }); "last" covers one interval`,
          `OK: requests:1h: rotated on time (current period since ${
            iso(h1)
          }); "last" covers one interval`,
          `OK: pages:5m: rotated on time (current period since ${
            iso(m5)
          }); "last" covers one interval`,
          "",
        ].join("\n"),
      );
      assert.equal(result.code, 0);

      const json = await runCli(["status", file, "-f", "json"]);
      assert.equal(json.code, 0);
      const parsed = JSON.parse(json.stdout);
      assert.equal(parsed.status, "OK");
      assert.equal(parsed.code, 0);
      assert.equal(
        parsed.summary,
        "redis up, master lease held by test-host:1:abcdef12, 3 intervals rotated on time",
      );
      assert.deepEqual(parsed.checks.map((c: { check: string }) => c.check), [
        "redis",
        "lease",
        "interval",
        "interval",
        "interval",
      ]);
      assert.deepEqual(parsed.checks[2], {
        check: "interval",
        status: "OK",
        message: `requests:5m: rotated on time (current period since ${
          iso(m5)
        }); "last" covers one interval`,
        group: "requests",
        interval: "5m",
        currentStart: m5,
        lastStart: m5 - 300,
        missedBoundaries: 0,
      });
    } finally {
      await master.stop();
      await leadership.stop();
      await within("end of store.close()", store.close());
      await Deno.remove(file);
    }
  }));

Deno.test("status: WARNING without a master, for a late rotation and for an incomplete last", () =>
  withRedis(async (server) => {
    await awayFromBoundaries();
    // Wait until 5 s past the hour, so that the 1h interval below is 1 boundary late for sure.
    const intoHour = (Date.now() / 1000) % 3600;
    if (intoHour < 6) await sleep((6 - intoHour) * 1000);
    const file = await configFor(server);
    const raw = await server.client();
    const now = Date.now() / 1000;
    const m5 = Math.floor(now / 300) * 300;
    const h1 = Math.floor(now / 3600) * 3600;
    await raw.mSet({
      "requests:5m:cur:@ts": String(m5),
      "requests:5m:last:@ts": String(m5 - 300),
      "requests:1h:cur:@ts": String(h1),
      "pages:5m:cur:@ts": String(m5),
      "pages:5m:last:@ts": String(m5 - 300),
    });
    const noMaster = await runCli(["status", file]);
    assert.equal(noMaster.code, 1);
    assert.equal(
      noMaster.stdout.split("\n")[0],
      "ECL WARNING - redis up, no master holds the lease, 3 intervals rotated on time",
    );
    assert.equal(noMaster.stdout.split("\n")[2], "WARNING: no master holds the lease");

    // A master holds the lease, but requests:1h was last rotated an hour ago, and pages:5m's
    // "last" covers 15 minutes: the master missed two boundaries.
    await raw.set("@ecl:master", HOLDER, { PX: 60_000 });
    await raw.mSet({
      "requests:1h:cur:@ts": String(h1 - 3600),
      "pages:5m:last:@ts": String(m5 - 900),
    });
    const late = await runCli(["status", file]);
    assert.equal(late.code, 1);
    assert.equal(
      late.stdout,
      [
        `ECL WARNING - redis up, master lease held by ${HOLDER}, 1 of 3 intervals not rotated on time (requests:1h), "last" spans several intervals for pages:5m`,
        `OK: Redis at redis://127.0.0.1:${server.port}/0 answers`,
        `OK: master lease held by ${HOLDER}`,
        `OK: requests:5m: rotated on time (current period since ${
          iso(m5)
        }); "last" covers one interval`,
        `WARNING: requests:1h: not rotated since ${
          iso(h1 - 3600)
        }: 1 boundary missed; start of "last" unknown (no last:@ts from its rotation)`,
        `WARNING: pages:5m: rotated on time (current period since ${
          iso(m5)
        }); "last" spans 3 intervals (${iso(m5 - 900)} to ${
          iso(m5)
        }): the master missed boundaries`,
        "",
      ].join("\n"),
    );
    await Deno.remove(file);
  }));

Deno.test("status: CRITICAL when Redis is down or a rotation is more than 2 intervals late", async () => {
  const port = await freePort();
  const file = await configFor({ port });
  try {
    const down = await runCli(["status", file]);
    assert.equal(down.code, 2);
    assert.equal(
      down.stdout,
      `ECL CRITICAL - redis down: Cannot connect to Redis at redis://127.0.0.1:${port}/0: connect ECONNREFUSED 127.0.0.1:${port}\n` +
        `CRITICAL: Cannot connect to Redis at redis://127.0.0.1:${port}/0: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
    assert.equal(down.stderr, "");
    const json = JSON.parse((await runCli(["status", file, "-f", "json"])).stdout);
    assert.equal(json.status, "CRITICAL");
    assert.equal(json.code, 2);
    assert.equal(json.checks[0].check, "redis");
  } finally {
    await Deno.remove(file);
  }

  await withRedis(async (server) => {
    const file = await configFor(server);
    const raw = await server.client();
    const now = Date.now() / 1000;
    const m5 = Math.floor(now / 300) * 300;
    const h1 = Math.floor(now / 3600) * 3600;
    await raw.set("@ecl:master", HOLDER, { PX: 60_000 });
    // The master stopped an hour ago.
    await raw.mSet({
      "requests:5m:cur:@ts": String(m5 - 3600),
      "requests:1h:cur:@ts": String(h1),
      "pages:5m:cur:@ts": String(m5),
    });
    const result = await runCli(["status", file]);
    assert.equal(result.code, 2);
    const lines = result.stdout.split("\n");
    assert.equal(
      lines[0],
      `ECL CRITICAL - redis up, master lease held by ${HOLDER}, 1 of 3 intervals not rotated on time (requests:5m)`,
    );
    assert.match(
      lines[3],
      new RegExp(
        `^CRITICAL: requests:5m: not rotated since ${iso(m5 - 3600)}: 1[12] boundaries missed;`,
      ),
    );
    await Deno.remove(file);
  });
});

Deno.test("status: UNKNOWN, on one line, when the configuration cannot be loaded", async () => {
  const bad = await writeConfig("groups:\n  g:\n    intervals: [5m, 7x]\n");
  try {
    const result = await runCli(["status", bad]);
    assert.equal(result.code, 3);
    assert.match(
      result.stdout,
      new RegExp(
        `^ECL UNKNOWN - ${bad}: groups\\.g\\.intervals\\[1\\]: Cannot parse interval "7x"[^\n]*\n$`,
      ),
    );
    assert.equal(result.stderr, "");
    const missing = await runCli(["status", "/nonexistent/ecl.yml"]);
    assert.equal(missing.code, 3);
    assert.equal(
      missing.stdout,
      "ECL UNKNOWN - /nonexistent/ecl.yml: Cannot read config file: no such file\n",
    );
    const json = await runCli(["status", "/nonexistent/ecl.yml", "-f", "json"]);
    assert.equal(json.code, 3);
    assert.deepEqual(JSON.parse(json.stdout), {
      status: "UNKNOWN",
      code: 3,
      summary: "/nonexistent/ecl.yml: Cannot read config file: no such file",
      checks: [{
        check: "config",
        status: "UNKNOWN",
        message: "/nonexistent/ecl.yml: Cannot read config file: no such file",
      }],
    });
    assert.equal(json.stdout.split("\n").length, 2, "one line of JSON");
  } finally {
    await Deno.remove(bad);
  }
});

function lastSlot(start: number | undefined, end: number | undefined, interval = "1m"): SlotCounts {
  return {
    group: "g",
    interval,
    slot: "last" as Slot,
    start,
    end,
    counts: new Map(),
    invalid: new Map(),
  };
}

Deno.test("status: boundaries missed, grace, clocks and never rotated (pure)", () => {
  const t = 1_700_000_040; // 40 s into a minute
  const p = t - 40;
  const judge = (end: number | undefined, now: number) =>
    checkInterval(lastSlot(end === undefined ? undefined : end - 60, end), 60, now);
  assert.equal(judge(p, t).status, "OK");
  // One boundary passed less than 5 s (STALE_GRACE_SECONDS) ago: still on time.
  assert.equal(judge(p - 60, p + 4).status, "OK");
  assert.deepEqual(
    [judge(p - 60, p + 6).status, judge(p - 60, p + 6).missedBoundaries],
    ["WARNING", 1],
  );
  assert.deepEqual([judge(p - 120, t).status, judge(p - 120, t).missedBoundaries], ["WARNING", 2]);
  assert.deepEqual([judge(p - 180, t).status, judge(p - 180, t).missedBoundaries], [
    "CRITICAL",
    3,
  ]);
  const never = judge(undefined, t);
  assert.equal(never.status, "WARNING");
  assert.equal(
    never.message,
    "g:1m: never rotated (no cur:@ts): is an ecl master running for this Redis?",
  );
  const future = judge(p + 60, t);
  assert.equal(future.status, "WARNING");
  assert.match(future.message, /in the future: are the clocks in sync\?/);

  const many = evaluateStatus({
    redisAddress: "redis://r:6379/0",
    leaseHolder: "m:1:x",
    intervals: ["a", "b", "c", "d", "e"].map((name) => ({
      slot: { ...lastSlot(p - 240, p - 180, "1m"), group: name },
      seconds: 60,
    })),
  }, t);
  assert.equal(many.status, "CRITICAL");
  assert.equal(
    many.summary,
    "redis up, master lease held by m:1:x, 5 of 5 intervals not rotated on time (a:1m, b:1m, c:1m and 2 more)",
  );
  const one = evaluateStatus({
    redisAddress: "redis://r:6379/0",
    intervals: [{ slot: lastSlot(p - 60, p), seconds: 60 }],
  }, t);
  assert.equal(one.summary, "redis up, no master holds the lease, 1 interval rotated on time");
  assert.equal(one.code, 1);
});

Deno.test("formatStatusText(): the summary line, then one line per check; UNKNOWN alone", () => {
  const checks: StatusCheck[] = [
    { check: "redis", status: "OK", message: "Redis at redis://r:6379/0 answers" },
    { check: "lease", status: "WARNING", message: "no master holds the lease" },
  ];
  assert.equal(
    formatStatusText(statusReport("WARNING", "redis up, no master holds the lease", checks)),
    "ECL WARNING - redis up, no master holds the lease\n" +
      "OK: Redis at redis://r:6379/0 answers\n" +
      "WARNING: no master holds the lease\n",
  );
  const unknown = statusReport("UNKNOWN", "ecl.yml: Cannot parse YAML", [
    { check: "config", status: "UNKNOWN", message: "ecl.yml: Cannot parse YAML" },
  ]);
  assert.equal(unknown.code, 3);
  assert.equal(formatStatusText(unknown), "ECL UNKNOWN - ecl.yml: Cannot parse YAML\n");
  assert.deepEqual(STATUS_CODES, { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 });
});

/** A periods (group, interval) as `ecl status` reads it, for the pure tests. */
function periodsInterval(
  group: string,
  interval: string,
  seconds: number,
  currentStart: number,
): PeriodsInterval {
  return { group, interval, seconds, currentStart, graceSeconds: Math.min(seconds, 60) };
}

Deno.test("status of periods groups only: OK without a master, says what it checked (pure)", () => {
  const t = 1_700_000_040;
  const report = evaluateStatus({
    redisAddress: "redis://r:6379/0",
    masterNeeded: false,
    periods: [
      periodsInterval("web", "5m", 300, 1_699_999_800),
      periodsInterval("web", "1h", 3600, 1_699_999_200),
    ],
    clock: { redisSeconds: t - 0.25, localSeconds: t },
  }, t);
  assert.equal(
    formatStatusText(report),
    [
      "ECL OK - redis up, no master needed, 2 intervals in layout periods, this host's clock within 0.3 s of Redis's",
      "OK: Redis at redis://r:6379/0 answers",
      "OK: no master needed: every group uses layout periods (nothing to rotate)",
      "OK: this host's clock is within 0.3 s of Redis's (2023-11-14T22:13:59Z; periods follow Redis's clock)",
      "OK: web:5m: layout periods, no master needed: current period since 2023-11-14T22:10:00Z on Redis's clock",
      "OK: web:1h: layout periods, no master needed: current period since 2023-11-14T22:00:00Z on Redis's clock",
      "",
    ].join("\n"),
  );
  assert.equal(report.code, 0);
  assert.deepEqual(report.checks[2], {
    check: "clock",
    status: "OK",
    message:
      "this host's clock is within 0.3 s of Redis's (2023-11-14T22:13:59Z; periods follow Redis's clock)",
    skewSeconds: 0.25,
  });
  assert.deepEqual(report.checks[3], {
    check: "interval",
    status: "OK",
    message:
      "web:5m: layout periods, no master needed: current period since 2023-11-14T22:10:00Z on Redis's clock",
    layout: "periods",
    group: "web",
    interval: "5m",
    currentStart: 1_699_999_800,
    lastStart: 1_699_999_500,
    missedBoundaries: 0,
  });
  // No "0 intervals rotated on time", no lease to hold.
  assert.doesNotMatch(report.summary, /rotated|lease/);
});

Deno.test("status: this host's clock against Redis's, with periods groups (pure)", () => {
  const t = 1_700_000_040;
  const periods = [
    periodsInterval("web", "5m", 300, 1_699_999_800),
    periodsInterval("fast", "10s", 10, 1_700_000_040),
  ];
  const judge = (skew: number) =>
    evaluateStatus({
      redisAddress: "redis://r:6379/0",
      masterNeeded: false,
      periods,
      clock: { redisSeconds: t, localSeconds: t + skew },
    }, t);
  // Within 5 s either way: OK.
  assert.deepEqual([judge(5).status, judge(-5).status], ["OK", "OK"]);
  const behind = judge(-7.26);
  assert.equal(behind.status, "WARNING");
  assert.equal(behind.code, 1);
  assert.equal(
    behind.summary,
    "redis up, no master needed, 2 intervals in layout periods, this host's clock 7.3 s behind Redis's",
  );
  assert.equal(
    behind.checks[2].message,
    "this host's clock is 7.3 s behind Redis's (2023-11-14T22:14:00Z), more than 5 s: are the clocks in sync? (periods follow Redis's clock)",
  );
  assert.equal(behind.checks[2].skewSeconds, -7.26);
  assert.equal(judge(9).status, "WARNING");
  // Ahead by more than a write of fast:10s may be (10 s): Redis refuses counts logged here.
  const ahead = judge(12);
  assert.equal(ahead.status, "CRITICAL");
  assert.equal(ahead.code, 2);
  assert.equal(
    ahead.summary,
    "redis up, no master needed, 2 intervals in layout periods, this host's clock 12.0 s ahead of Redis's: periods counts refused",
  );
  assert.equal(
    ahead.checks[2].message,
    "this host's clock is 12.0 s ahead of Redis's (2023-11-14T22:14:00Z), more than the 10 s a write to fast:10s may be: Redis refuses counts of loggers on this host; are the clocks in sync?",
  );
  // Behind by as much: late for readers, but no write is refused.
  assert.equal(judge(-12).status, "WARNING");
});

Deno.test("status of python and periods groups: the python groups are judged as without periods groups (pure)", () => {
  const t = 1_700_000_040;
  const p = t - 40;
  const python = {
    redisAddress: "redis://r:6379/0",
    leaseHolder: "m:1:x",
    intervals: [
      { slot: lastSlot(p - 60, p), seconds: 60 },
      { slot: { ...lastSlot(p - 240, p - 180), group: "late" }, seconds: 60 },
    ],
  };
  const alone = evaluateStatus(python, t);
  const mixed = evaluateStatus({
    ...python,
    masterNeeded: true,
    periods: [periodsInterval("web", "5m", 300, 1_699_999_800)],
    clock: { redisSeconds: t, localSeconds: t },
  }, t);
  assert.equal(alone.status, "CRITICAL");
  assert.equal(mixed.status, "CRITICAL");
  assert.equal(
    alone.summary,
    "redis up, master lease held by m:1:x, 1 of 2 intervals not rotated on time (late:1m)",
  );
  assert.equal(
    mixed.summary,
    `${alone.summary}, 1 interval in layout periods (no master needed), this host's clock within 0.0 s of Redis's`,
  );
  // The same checks, the clock's after the lease, the periods intervals last.
  assert.deepEqual(
    mixed.checks.filter((check) => check.check !== "clock").slice(0, 4),
    alone.checks,
  );
  assert.deepEqual(mixed.checks.map((check) => check.check), [
    "redis",
    "lease",
    "clock",
    "interval",
    "interval",
    "interval",
  ]);
  assert.equal(mixed.checks[5].layout, "periods");
  // A master is still needed, and missing: WARNING as without periods groups.
  const noMaster = evaluateStatus({
    redisAddress: "redis://r:6379/0",
    intervals: [{ slot: lastSlot(p - 60, p), seconds: 60 }],
    periods: [periodsInterval("web", "5m", 300, 1_699_999_800)],
    clock: { redisSeconds: t, localSeconds: t },
  }, t);
  assert.equal(noMaster.status, "WARNING");
  assert.equal(
    noMaster.summary,
    "redis up, no master holds the lease, 1 interval rotated on time, 1 interval in layout periods (no master needed), this host's clock within 0.0 s of Redis's",
  );
});

Deno.test("ecl status (the bundle): a config of periods groups only is OK without a master, and says what it checked", () =>
  withRedis(async (server) => {
    const file = await writeConfig(
      `redis: {host: 127.0.0.1, port: ${server.port}}\ngroups:\n  p:\n    layout: periods\n    intervals: [5m, 1h]\n`,
    );
    try {
      // Clear of a 5-minute boundary (by more than a slow start of the bundle), so that the
      // current periods read and computed here agree.
      await awayFromBoundaries(15);
      const now = Date.now() / 1000;
      const m5 = Math.floor(now / 300) * 300;
      const h1 = Math.floor(now / 3600) * 3600;
      const result = await runEcl(["status", file]);
      assert.equal(result.stderr, "");
      assert.equal(result.code, 0, result.stdout);
      // Redis runs on this host's clock: within a fraction of a second.
      const lines = result.stdout.replace(/within 0\.\d s/g, "within 0.x s").split("\n");
      assert.deepEqual(lines, [
        "ECL OK - redis up, no master needed, 2 intervals in layout periods, this host's clock within 0.x s of Redis's",
        `OK: Redis at redis://127.0.0.1:${server.port}/0 answers`,
        "OK: no master needed: every group uses layout periods (nothing to rotate)",
        lines[3],
        `OK: p:5m: layout periods, no master needed: current period since ${
          iso(m5)
        } on Redis's clock`,
        `OK: p:1h: layout periods, no master needed: current period since ${
          iso(h1)
        } on Redis's clock`,
        "",
      ]);
      assert.match(
        lines[3],
        /^OK: this host's clock is within 0\.x s of Redis's \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; periods follow Redis's clock\)$/,
      );
      const json = JSON.parse((await runEcl(["status", file, "-f", "json"])).stdout);
      assert.equal(json.status, "OK");
      assert.deepEqual(json.checks.map((c: StatusCheck) => [c.check, c.layout ?? null]), [
        ["redis", null],
        ["lease", null],
        ["clock", null],
        ["interval", "periods"],
        ["interval", "periods"],
      ]);
      assert.ok(Math.abs(json.checks[2].skewSeconds) < 1, JSON.stringify(json.checks[2]));
      assert.deepEqual(
        [json.checks[3].currentStart, json.checks[3].lastStart, json.checks[3].missedBoundaries],
        [m5, m5 - 300, 0],
      );
    } finally {
      await Deno.remove(file);
    }
  }));

Deno.test("ecl status: python and periods groups: the python groups' rotations judged as before, the periods groups listed", () =>
  withRedis(async (server) => {
    // 15 s: past the 5 s grace (requests:1h has missed exactly 3 boundaries), and no boundary
    // passes while ecl status starts.
    await awayFromBoundaries(15);
    const file = await writeConfig(
      `redis: {host: 127.0.0.1, port: ${server.port}}\n${YAML_GROUPS}  web:\n    layout: periods\n    intervals: [5m]\n`,
    );
    const now = Date.now() / 1000;
    const m5 = Math.floor(now / 300) * 300;
    const h1 = Math.floor(now / 3600) * 3600;
    const raw = await server.client();
    // requests:1h was last rotated 3 hours ago, the others on time; no master holds the lease.
    await raw.mSet({
      "requests:5m:cur:@ts": String(m5),
      "requests:5m:last:@ts": `${m5 - 300}/${m5}`,
      "requests:1h:cur:@ts": String(h1 - 3 * 3600),
      "pages:5m:cur:@ts": String(m5),
      "pages:5m:last:@ts": `${m5 - 300}/${m5}`,
    });
    try {
      const result = await runCli(["status", file]);
      assert.equal(result.stderr, "");
      assert.equal(result.code, 2, result.stdout);
      const lines = result.stdout.replace(/within 0\.\d s/g, "within 0.x s").split("\n");
      assert.deepEqual(lines, [
        "ECL CRITICAL - redis up, no master holds the lease, 1 of 3 intervals not rotated on time (requests:1h), 1 interval in layout periods (no master needed), this host's clock within 0.x s of Redis's",
        `OK: Redis at redis://127.0.0.1:${server.port}/0 answers`,
        "WARNING: no master holds the lease",
        lines[3],
        `OK: requests:5m: rotated on time (current period since ${
          iso(m5)
        }); "last" covers one interval`,
        `CRITICAL: requests:1h: not rotated since ${
          iso(h1 - 3 * 3600)
        }: 3 boundaries missed; start of "last" unknown (no last:@ts from its rotation)`,
        `OK: pages:5m: rotated on time (current period since ${
          iso(m5)
        }); "last" covers one interval`,
        `OK: web:5m: layout periods, no master needed: current period since ${
          iso(m5)
        } on Redis's clock`,
        "",
      ]);
      assert.match(lines[3], /^OK: this host's clock is within 0\.x s of Redis's/);
    } finally {
      await Deno.remove(file);
    }
  }));
