/**
 * `EventGroup` against a real redis-server: what `log()` accepts, the flush policy of direct and
 * cached mode, declaring IDs, and reading counts back.
 */
import assert from "node:assert/strict";
import { EventCountLogger, NotFoundError } from "../mod.ts";
import { withRedis } from "./_redis.ts";
import { sleep, waitFor, within } from "./_wait.ts";

function collect(): { warnings: string[]; onWarning: (message: string) => void } {
  const warnings: string[] = [];
  return { warnings, onWarning: (message) => warnings.push(message) };
}

Deno.test("EventGroup.log() writes counts to cur of every interval", () =>
  withRedis(async (server) => {
    const { warnings, onWarning } = collect();
    const ecl = new EventCountLogger(
      { requests: { events: ["req1", "req2"], intervals: ["5s", "5m"] } },
      server.spec,
      { onWarning },
    );
    const group = ecl.getGroup("requests")!;
    for (let i = 0; i < 1000; i++) group.log("req1");
    group.log("req2", 7);
    await within("end of group.flush()", group.flush());
    const raw = await server.client();
    assert.equal(await raw.get("requests:5s:cur:req1"), "1000");
    assert.equal(await raw.get("requests:5m:cur:req1"), "1000");
    assert.equal(await raw.get("requests:5m:cur:req2"), "7");
    assert.deepEqual(
      await within("end of group.getCounts()", group.getCounts("5m", { current: true })),
      { req1: 1000, req2: 7 },
    );
    assert.deepEqual(await within("end of group.getCounts()", group.getCounts("5m")), {
      req1: 0,
      req2: 0,
    });
    assert.equal(await group.getCurrentCount("req1", "5s"), 1000);
    assert.equal(await group.getLastCount("req1", "5s"), 0);
    await within("end of ecl.close()", ecl.close());
    assert.deepEqual(warnings, []);
  }));

Deno.test("EventGroup.log() in direct mode coalesces one turn's calls into one write per interval", () =>
  withRedis(async (server) => {
    const ecl = new EventCountLogger(
      { g: { events: ["a"], intervals: ["1h", "1m"] } },
      server.spec,
    );
    const raw = await server.client();
    await raw.configResetStat();
    const group = ecl.getGroup("g")!;
    for (let i = 0; i < 500; i++) group.log("a");
    await within("end of group.flush()", group.flush());
    const stats = await raw.info("commandstats");
    const succeeded = (command: string) => {
      const line = new RegExp(`cmdstat_${command}:calls=(\\d+).*failed_calls=(\\d+)`).exec(stats);
      return line === null ? 0 : Number(line[1]) - Number(line[2]);
    };
    // One script run per interval (a NOSCRIPT miss of EVALSHA is followed by EVAL).
    assert.equal(succeeded("evalsha") + succeeded("eval"), 2);
    assert.equal(succeeded("incrby"), 2);
    assert.equal(await raw.get("g:1h:cur:a"), "500");
    await within("end of ecl.close()", ecl.close());
  }));

Deno.test("EventGroup.log() in cached mode writes nothing until sync_limit is reached", () =>
  withRedis(async (server) => {
    const ecl = new EventCountLogger(
      { g: { events: ["a", "b"], intervals: ["1h"], sync_interval: 3600, sync_limit: 10 } },
      server.spec,
    );
    const group = ecl.getGroup("g")!;
    const raw = await server.client();
    for (let i = 0; i < 9; i++) group.log("a");
    group.log("b", 3);
    await sleep(100);
    assert.equal(await raw.get("g:1h:cur:a"), null);
    assert.deepEqual(await group.getCurrentCounts("a"), { "1h": 9 });
    group.log("a");
    await sleep(100);
    assert.equal(await raw.get("g:1h:cur:a"), "10");
    assert.equal(await raw.get("g:1h:cur:b"), "3");
    assert.equal(group.pendingSize, 0);
    await within("end of ecl.close()", ecl.close());
  }));

Deno.test("EventGroup.log() in cached mode writes every sync_interval, not at once", () =>
  withRedis(async (server) => {
    const ecl = new EventCountLogger(
      {
        g: { events: ["a"], intervals: ["1h"], sync_interval: 1 },
        direct: { events: ["a"], intervals: ["1h"] },
      },
      server.spec,
    );
    const group = ecl.getGroup("g")!;
    const raw = await server.client();
    group.log("a", 5);
    // A direct-mode group, logged into after it on the same connection, is the witness: once its
    // count is in Redis, a direct-mode write of "g" would be there too.
    ecl.getGroup("direct")!.log("a");
    await waitFor(
      "the direct group's count in Redis",
      async () => (await raw.get("direct:1h:cur:a")) === "1",
    );
    assert.equal(await raw.get("g:1h:cur:a"), null);
    assert.equal(group.pendingSize, 1);
    await waitFor("the sync_interval write", async () => (await raw.get("g:1h:cur:a")) === "5", {
      timeoutMs: 5000,
    });
    assert.equal(group.pendingSize, 0);
    await within("end of ecl.close()", ecl.close());
  }));

Deno.test("EventGroup.log() auto-declares events in cached mode (the original breaks here)", () =>
  withRedis(async (server) => {
    const { warnings, onWarning } = collect();
    const ecl = new EventCountLogger(
      { dyn: { intervals: ["1m"], auto_declare_events: true, sync_limit: 1000 } },
      server.spec,
      { onWarning },
    );
    const group = ecl.getGroup("dyn")!;
    assert.equal(group.log("new:event with spaces"), true);
    assert.equal(group.log("ünïcødé", 4), true);
    await within("end of ecl.close()", ecl.close());
    const raw = await server.client();
    assert.equal(await raw.get("dyn:1m:cur:new:event with spaces"), "1");
    assert.equal(await raw.get("dyn:1m:cur:ünïcødé"), "4");
    assert.deepEqual(warnings, []);
  }));

Deno.test("EventGroup.log() rejects undeclared IDs and bad counts with one warning each", () =>
  withRedis(async (server) => {
    const { warnings, onWarning } = collect();
    const ecl = new EventCountLogger(
      {
        fixed: { events: ["a"], intervals: ["1m"] },
        dyn: { events: [], intervals: ["1m"], auto_declare_events: true },
      },
      server.spec,
      { onWarning },
    );
    const fixed = ecl.getGroup("fixed")!;
    const dyn = ecl.getGroup("dyn")!;
    assert.equal(fixed.log("b"), false);
    assert.equal(fixed.log("b"), false);
    assert.equal(dyn.log("@ts"), false);
    assert.equal(dyn.log(""), false);
    for (const bad of [1.5, 0, -3, NaN, 2 ** 53]) assert.equal(fixed.log("a", bad), false);
    assert.equal(fixed.log("a", 2), true);
    await within("end of ecl.close()", ecl.close());
    assert.equal(fixed.log("a"), false);
    assert.equal(warnings.length, 9, warnings.join("\n"));
    assert.match(warnings[0], /Cannot log event "b" in group "fixed": not declared/);
    assert.match(warnings[1], /must not start with "@"/);
    assert.match(warnings[2], /must not be empty/);
    assert.match(warnings[3], /Cannot log count 1\.5 of event "a"/);
    assert.match(warnings[8], /the logger is closed/);
    const raw = await server.client();
    const counters = (await raw.keys("*")).filter((key) => !key.includes(":@w:"));
    assert.deepEqual(counters, ["fixed:1m:cur:a"]);
    assert.equal(await raw.get("fixed:1m:cur:a"), "2");
  }));

Deno.test("EventGroup.declareEventId() makes log() accept an ID", () =>
  withRedis(async (server) => {
    const ecl = new EventCountLogger({ g: { events: ["a"], intervals: ["1m"] } }, server.spec, {
      onWarning: () => {},
    });
    const group = ecl.getGroup("g")!;
    assert.equal(group.log("b"), false);
    group.declareEventIds(["b", "c"]);
    assert.equal(group.log("b"), true);
    assert.throws(() => group.declareEventId("@x"), RangeError);
    assert.deepEqual(group.eventIds, ["a", "b", "c"]);
    await within("end of group.flush()", group.flush());
    assert.deepEqual(
      await within("end of group.getCounts()", group.getCounts("1m", { current: true })),
      { a: 0, b: 1, c: 0 },
    );
    await within("end of ecl.close()", ecl.close());
  }));

Deno.test("EventGroup.getCounts() rejects an interval the group does not have", () =>
  withRedis(async (server) => {
    const ecl = new EventCountLogger({ g: { events: ["a"], intervals: ["1m"] } }, server.spec);
    await assert.rejects(ecl.getGroup("g")!.getCounts("5m"), NotFoundError);
    await within("end of ecl.close()", ecl.close());
  }));

Deno.test("EventGroup.flush() writes 250,000 distinct events of one turn in bounded batches", () =>
  withRedis(async (server) => {
    const ecl = new EventCountLogger(
      { dyn: { auto_declare_events: true, intervals: ["1h"] } },
      server.spec,
    );
    const group = ecl.getGroup("dyn")!;
    for (let i = 0; i < 250_000; i++) group.log(`id${i}`, 1 + (i % 3));
    await within("end of group.flush()", group.flush());
    const raw = await server.client();
    assert.equal(
      (await raw.keys("dyn:1h:cur:id*")).length,
      250_000,
    );
    assert.deepEqual(await raw.mGet(["dyn:1h:cur:id0", "dyn:1h:cur:id249998"]), ["1", "3"]);
    await within("end of ecl.close()", ecl.close());
  }));
