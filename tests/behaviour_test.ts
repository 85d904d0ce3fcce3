/**
 * One behavioural suite, run against both layouts (`python`, `periods`) through the same cases:
 * log and read (library and CLI), direct and cached mode, dynamic and predeclared events, late
 * writes, exactly once after a lost reply, Redis killed and restarted, close() on SIGTERM, hostile
 * IDs. Real redis-server processes; what differs between the layouts is only where a case must
 * look at raw keys or which refusal a late write meets.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { EventGroup } from "../lib/group.ts";
import { Master } from "../lib/master.ts";
import { FLUSH_SCRIPT } from "../lib/scripts.ts";
import { WRITE_SCRIPT } from "../lib/layouts/periods_scripts.ts";
import { Store } from "../lib/store.ts";
import { EventCountLogger, RedisError } from "../mod.ts";
import { runCli, spawnScript, writeConfig } from "./_process.ts";
import { LossyProxy } from "./_proxy.ts";
import { RedisServer, withRedis } from "./_redis.ts";
import { sleep, waitFor, within } from "./_wait.ts";

const LAYOUTS = ["python", "periods"] as const;
type LayoutName = typeof LAYOUTS[number];

const HOSTILE = [
  "*",
  "{g:1h:0}:p:1",
  "}{",
  "a\tDEL x\u0000",
  '=HYPERLINK("http://x")',
  "+1",
  "-1",
  "<script>alert(1)</script>",
  "é漢字🙂",
  "a:b:cur:c",
  "x".repeat(10_000),
];

function quiet(): { warnings: string[]; onWarning: (message: string) => void } {
  const warnings: string[] = [];
  return { warnings, onWarning: (message) => warnings.push(message) };
}

for (const layout of LAYOUTS) {
  Deno.test(`[${layout}] log and read: predeclared at 0, dynamic events, library and CLI agree`, () =>
    withRedis(async (server) => {
      const groups = {
        web: { layout, events: ["a", "b"], auto_declare_events: true, intervals: ["1h", "5m"] },
      };
      const ecl = new EventCountLogger(groups, server.spec);
      const group = ecl.getGroup("web")!;
      try {
        group.log("a", 3);
        group.log("x");
        group.log("x");
        await within("end of group.flush()", group.flush());
        for (const interval of ["1h", "5m"]) {
          assert.deepEqual(
            await within("end of group.getCounts()", group.getCounts(interval, { current: true })),
            {
              a: 3,
              b: 0,
              x: 2,
            },
          );
          // Nothing finished yet: the predeclared events read as 0.
          assert.deepEqual(await within("end of group.getCounts()", group.getCounts(interval)), {
            a: 0,
            b: 0,
          });
        }
        assert.equal(await group.getCurrentCount("x", "1h"), 2);
        const config = await writeConfig(
          `redis: {host: 127.0.0.1, port: ${server.port}}\ngroups:\n  web:\n    layout: ${layout}\n    events: [a, b]\n    auto_declare_events: true\n    intervals: [1h, 5m]\n`,
        );
        try {
          const text = await runCli(["read", config, "-g", "web", "-i", "1h", "--current"]);
          assert.equal(text.stdout, "a:3\nb:0\nx:2\n", text.stderr);
          const json = await runCli(["read", config, "-g", "web", "-i", "1h", "-f", "json"]);
          const last = JSON.parse(json.stdout);
          assert.deepEqual(last.last.counts, { a: 0, b: 0 });
          if (layout === "periods") {
            // No master needed: the last period is complete and never stale.
            assert.equal(last.last.complete, true);
            assert.equal(last.stale, false);
            assert.equal(last.last.end - last.last.start, 3600);
          }
          const logged = await runCli(["log", config, "web", "b", "5"]);
          assert.equal(logged.code, 0, logged.stderr);
          assert.equal(await group.getCurrentCount("b", "5m"), 5);
        } finally {
          await Deno.remove(config);
        }
      } finally {
        await within("end of ecl.close()", ecl.close());
      }
    }));

  Deno.test(`[${layout}] cached mode: nothing written before sync_limit, then exactly the counts`, () =>
    withRedis(async (server) => {
      const ecl = new EventCountLogger(
        { c: { layout, events: ["a"], intervals: ["1h"], sync_interval: 3600, sync_limit: 5 } },
        server.spec,
      );
      const group = ecl.getGroup("c")!;
      try {
        for (let i = 0; i < 4; i++) group.log("a");
        await sleep(50);
        assert.deepEqual(
          await within("end of group.getCounts()", group.getCounts("1h", { current: true })),
          { a: 0 },
        );
        group.log("a");
        await waitFor(
          "the 5 cached counts in Redis",
          async () => (await group.getCounts("1h", { current: true })).a === 5,
          { timeoutMs: 10_000 },
        );
      } finally {
        await within("end of ecl.close()", ecl.close());
      }
    }));

  Deno.test(`[${layout}] hostile event IDs are counted as themselves and touch no other key`, () =>
    withRedis(async (server) => {
      const ecl = new EventCountLogger(
        { g: { layout, auto_declare_events: true, intervals: ["1h"] } },
        server.spec,
      );
      const group = ecl.getGroup("g")!;
      const raw = await server.client();
      await raw.set("x", "keep");
      try {
        HOSTILE.forEach((id, i) => group.log(id, i + 1));
        await within("end of group.flush()", group.flush());
        const counts = await within(
          "end of group.getCounts()",
          group.getCounts("1h", { current: true }),
        );
        assert.deepEqual(counts, Object.fromEntries(HOSTILE.map((id, i) => [id, i + 1])));
        assert.equal(await raw.get("x"), "keep");
        const keys = (await raw.keys("*")).filter((key) => key !== "x");
        const own = layout === "python" ? /^g:1h:cur:/ : /^\{g:1h(:0)?\}:[pw]:/;
        assert.deepEqual(keys.filter((key) => !own.test(key)), []);
        if (layout === "periods") {
          // Event IDs only ever become hash fields: one period hash and one writer key.
          assert.equal(keys.length, 2, keys.join(", "));
        }
      } finally {
        await within("end of ecl.close()", ecl.close());
      }
    }));

  Deno.test(`[${layout}] exactly once: a flush whose reply is lost is resent and counted once`, async () => {
    const server = await RedisServer.start();
    const proxy = await LossyProxy.start(server.port);
    const ecl = new EventCountLogger(
      { g: { layout, events: ["a"], intervals: ["1h"] } },
      { host: "127.0.0.1", port: proxy.port },
      { onWarning: () => {} },
    );
    const group = ecl.getGroup("g")!;
    try {
      const raw = await server.client();
      // Load the script first, so that the command whose reply is lost is the one that counts.
      await raw.scriptLoad(layout === "python" ? FLUSH_SCRIPT : WRITE_SCRIPT.source);
      await within("end of ecl.ready()", ecl.ready());
      proxy.dropReplyTo("EVALSHA");
      group.log("a", 7);
      await assert.rejects(
        within("end of group.flush()", group.flush()),
        (error: unknown) => error instanceof RedisError && error.outcomeUnknown,
      );
      assert.equal(proxy.dropped, 1);
      assert.equal(group.pendingSize, 1);
      await within("end of group.flush()", group.flush());
      assert.equal(group.pendingSize, 0);
      assert.deepEqual(
        await within("end of group.getCounts()", group.getCounts("1h", { current: true })),
        { a: 7 },
      );
      group.log("a", 1);
      await within("end of group.flush()", group.flush());
      assert.deepEqual(
        await within("end of group.getCounts()", group.getCounts("1h", { current: true })),
        { a: 8 },
      );
    } finally {
      await within("end of ecl.close()", ecl.close());
      await within("end of proxy.close()", proxy.close());
      await server.stop();
    }
  });

  Deno.test(`[${layout}] counts logged while Redis is killed and restarted are written once`, async () => {
    // AOF with fsync on every write: what Redis confirmed survives SIGKILL.
    const server = await RedisServer.start(["--appendonly", "yes", "--appendfsync", "always"]);
    const ecl = new EventCountLogger(
      { g: { layout, events: ["a"], auto_declare_events: true, intervals: ["1h"] } },
      server.spec,
      { onWarning: () => {} },
    );
    const group = ecl.getGroup("g")!;
    try {
      group.log("a", 10);
      await within("end of group.flush()", group.flush());
      await server.kill();
      for (let i = 0; i < 100; i++) group.log(i % 2 === 0 ? "a" : "d");
      await sleep(300);
      await server.restart();
      await within("end of group.flush()", group.flush());
      assert.deepEqual(
        await within("end of group.getCounts()", group.getCounts("1h", { current: true })),
        { a: 60, d: 50 },
      );
    } finally {
      await within("end of ecl.close()", ecl.close());
      await server.stop();
    }
  });

  Deno.test(`[${layout}] close() on SIGTERM writes every cached count`, async () => {
    const server = await RedisServer.start();
    const yaml =
      `redis: {host: 127.0.0.1, port: ${server.port}}\ngroups:\n  cached:\n    layout: ${layout}\n    auto_declare_events: true\n    intervals: [1h]\n    sync_interval: 3600\n`;
    const config = await writeConfig(yaml);
    const reader = new EventCountLogger(parseConfig({
      redis: { host: "127.0.0.1", port: server.port },
      groups: { cached: { layout, auto_declare_events: true, intervals: ["1h"] } },
    }));
    try {
      const worker = spawnScript("tests/_signal_worker.ts", [config, "100000"]);
      const lines = worker.stdout.pipeThrough(new TextDecoderStream()).getReader();
      assert.equal((await lines.read()).value, "ready\n");
      const group = reader.getGroup("cached")!;
      assert.deepEqual(
        await within("end of group.getCounts()", group.getCounts("1h", { current: true })),
        {},
      );
      worker.kill("SIGTERM");
      const status = await worker.status;
      await lines.cancel();
      await worker.stderr.cancel();
      assert.equal(status.signal, "SIGTERM");
      assert.deepEqual(
        await within("end of group.getCounts()", group.getCounts("1h", { current: true })),
        Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`e${i}`, 10_000])),
      );
    } finally {
      await within("end of reader.close()", reader.close());
      await Deno.remove(config);
      await server.stop();
    }
  });

  Deno.test(`[${layout}] a late write is refused, counted and reported, never misfiled`, () =>
    withRedis(async (server) => {
      const config = parseConfig({
        redis: server.spec,
        groups: { g: { layout, events: ["a"], intervals: ["2s"] } },
      });
      const groupConfig = config.groups.get("g")!;
      const store = new Store(config.redis);
      if (layout === "python") {
        // The python layout knows "late" from the master's rotations.
        const master = new Master(config, store);
        await master.start();
        await master.stop();
      }
      const { warnings, onWarning } = quiet();
      // A writer whose clock is 20 s behind: its period left "last" / the kept history long ago.
      const late = new EventGroup(groupConfig, {
        store,
        warn: onWarning,
        now: () => Date.now() - 20_000,
      });
      try {
        late.log("a", 3);
        await within("end of late.flush()", late.flush());
        late.log("a", 4);
        await within("end of late.flush()", late.flush());
        assert.deepEqual(
          await within("end of late.getCounts()", late.getCounts("2s", { current: true })),
          { a: 0 },
        );
        assert.deepEqual(await within("end of late.getCounts()", late.getCounts("2s")), { a: 0 });
        if (layout === "python") {
          assert.equal(warnings.length, 2, warnings.join("\n"));
          assert.match(warnings[0], /^Discarded 3 counts of group "g", interval 2s/);
        } else {
          // One warning for the episode, with its first count; the total is counted.
          assert.equal(warnings.length, 1, warnings.join("\n"));
          assert.match(
            warnings[0],
            /^Cannot write 3 counts of group "g", interval 2s, period .*: Redis's clock says it left the kept history \(1 periods\); dropped/,
          );
          assert.equal(late.outOfWindowCounts, 7);
        }
      } finally {
        await within("end of late.close()", late.close());
        await within("end of store.close()", store.close());
      }
    }));
}

Deno.test("[periods] a writer whose clock runs ahead beyond the grace is refused and warned once", () =>
  withRedis(async (server) => {
    const config = parseConfig({
      redis: server.spec,
      groups: { g: { layout: "periods", events: ["a"], intervals: ["10s"] } },
    });
    const store = new Store(config.redis);
    const { warnings, onWarning } = quiet();
    const ahead = new EventGroup(config.groups.get("g")!, {
      store,
      warn: onWarning,
      now: () => Date.now() + 120_000,
    });
    try {
      ahead.log("a", 5);
      await within("end of ahead.flush()", ahead.flush());
      assert.equal(ahead.outOfWindowCounts, 5);
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0], /^Cannot write 5 counts .*starts later than Redis's clock allows/);
      assert.deepEqual(
        await within("end of ahead.getCounts()", ahead.getCounts("10s", { current: true })),
        { a: 0 },
      );
    } finally {
      await within("end of ahead.close()", ahead.close());
      await within("end of store.close()", store.close());
    }
  }));

Deno.test("[periods] getHistory() and ecl read --history: the last N finished periods, oldest first", () =>
  withRedis(async (server) => {
    const groups = {
      h: {
        layout: "periods" as const,
        history: 5,
        events: ["a"],
        auto_declare_events: true,
        intervals: ["2s"],
      },
      old: { events: ["a"], intervals: ["2s"] },
    };
    const ecl = new EventCountLogger(groups, server.spec);
    const group = ecl.getGroup("h")!;
    const yaml =
      `redis: {host: 127.0.0.1, port: ${server.port}}\ngroups:\n  h:\n    layout: periods\n    history: 5\n    events: [a]\n    auto_declare_events: true\n    intervals: [2s]\n  old:\n    events: [a]\n    intervals: [2s]\n`;
    const config = await writeConfig(yaml);
    try {
      // Log into one period, then wait for Redis's clock to finish it.
      let period = 0;
      for (;;) {
        const before = Math.floor(Date.now() / 2000) * 2;
        group.log("a", 2);
        group.log('=cmd,"x"', 1);
        await within("end of group.flush()", group.flush());
        period = Math.floor(Date.now() / 2000) * 2;
        if (period === before) break;
        await sleep(100); // Logged across a boundary: try again in one period.
      }
      await waitFor(`period ${period} finished on Redis's clock`, async () => {
        const [newest] = await group.getHistory("2s", 1);
        return newest.start >= period;
      }, { timeoutMs: 10_000 });
      const history = await within("end of group.getHistory()", group.getHistory("2s", 5));
      assert.equal(history.length, 5);
      for (let i = 1; i < history.length; i++) {
        assert.equal(history[i].start - history[i - 1].start, 2);
        assert.equal(history[i].end - history[i].start, 2);
      }
      const mine = history.filter((entry) => entry.start === period);
      assert.equal(mine.length, 1);
      assert.deepEqual(mine[0].counts, { '=cmd,"x"': 1, a: 2 });
      for (const entry of history) if (entry.start !== period) assert.equal(entry.counts.a, 0);
      await assert.rejects(group.getHistory("2s", 6), RangeError);

      const json = await runCli(["read", config, "-g", "h", "--history", "5", "-f", "json"]);
      assert.equal(json.code, 0, json.stderr);
      const periods = JSON.parse(json.stdout).periods as { start: number; counts: unknown }[];
      assert.equal(periods.length, 5);
      const found = periods.find((entry) => entry.start === period);
      // The CLI ran later: the period may have left the last 5 only if > 10 s passed.
      if (found !== undefined) assert.deepEqual(found.counts, { '=cmd,"x"': 1, a: 2 });
      const csv = await runCli(["read", config, "-g", "h", "--history", "5", "-f", "csv"]);
      const rows = csv.stdout.trimEnd().split("\n");
      assert.equal(rows[0], "period_start,period_end,event,count");
      assert.equal(rows.length, 1 + 5 + (found ? 1 : 0), csv.stdout);
      if (found) {
        assert.ok(rows.includes(`${period},${period + 2},"'=cmd,""x""",1`), csv.stdout);
      }
      const text = await runCli(["read", config, "-g", "h", "--history", "2"]);
      assert.match(text.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ to .*Z:\n/);
      assert.equal(text.stdout.split("\n").filter((line) => line.endsWith("Z:")).length, 2);
      const python = await runCli(["read", config, "-g", "old", "--history", "2"]);
      assert.equal(python.code, 2);
      assert.match(
        python.stderr,
        /^ERROR: Cannot read the history of group "old": it uses layout "python"/,
      );
      assert.equal(python.stderr.trim().split("\n").length, 1);
      const bad = await runCli(["read", config, "-g", "h", "--history", "0"]);
      assert.equal(bad.code, 2);
    } finally {
      await within("end of ecl.close()", ecl.close());
      await Deno.remove(config);
    }
  }));
