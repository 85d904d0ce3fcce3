/** Redis going away and coming back: nothing is lost that physics allows keeping. */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { Master, type RotationReport } from "../lib/master.ts";
import { FLUSH_SCRIPT } from "../lib/scripts.ts";
import { Store } from "../lib/store.ts";
import { ConfigError, EventCountLogger, RedisError } from "../mod.ts";
import { spawnScript, writeConfig } from "./_process.ts";
import { LossyProxy } from "./_proxy.ts";
import { freePort, RedisServer } from "./_redis.ts";
import { sleep, waitFor, within } from "./_wait.ts";

Deno.test("EventCountLogger.close() gives up after timeoutMs when Redis is down, saying what was lost", async () => {
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    { g: { events: ["a", "b"], intervals: ["1m", "1h"] } },
    { host: "127.0.0.1", port: await freePort() },
    { onWarning: (message) => warnings.push(message) },
  );
  const group = ecl.getGroup("g")!;
  group.log("a", 5);
  group.log("b");
  const started = Date.now();
  await within("end of ecl.close()", ecl.close({ timeoutMs: 300 }));
  assert.ok(Date.now() - started < 2000);
  assert.equal(group.pendingSize, 4);
  assert.match(
    warnings.at(-1)!,
    /^Closed with 4 counts not written: Redis at redis:\/\/127\.0\.0\.1:\d+\/0 did not confirm them within 0\.3 s$/,
  );
});

Deno.test("EventGroup.getCounts() rejects while Redis is unreachable instead of waiting", async () => {
  const ecl = new EventCountLogger(
    { g: { events: ["a"], intervals: ["1m"] } },
    { host: "127.0.0.1", port: await freePort() },
    { onWarning: () => {} },
  );
  await assert.rejects(ecl.getGroup("g")!.getCounts("1m"), RedisError);
  await within("end of ecl.close()", ecl.close({ timeoutMs: 100 }));
});

Deno.test("EventCountLogger() reports a missing TLS file as a config error", () => {
  assert.throws(
    () =>
      new EventCountLogger({ g: { intervals: ["1m"] } }, {
        tls: { ca_file: "/nonexistent/ca.pem" },
      }),
    (error: unknown) =>
      error instanceof ConfigError && error.path === "redis.tls.ca_file" &&
      /Cannot read TLS file "\/nonexistent\/ca\.pem": no such file/.test(error.message),
  );
});

Deno.test("EventGroup keeps counts through a Redis restart and writes them when it is back", async () => {
  // AOF with fsync on every write: what Redis confirmed survives SIGKILL.
  const server = await RedisServer.start(["--appendonly", "yes", "--appendfsync", "always"]);
  const warnings: string[] = [];
  const ecl = new EventCountLogger({ g: { events: ["a"], intervals: ["1h"] } }, server.spec, {
    onWarning: (message) => warnings.push(message),
  });
  const group = ecl.getGroup("g")!;
  try {
    group.log("a", 10);
    await within("end of group.flush()", group.flush());
    await server.kill();
    for (let i = 0; i < 100; i++) group.log("a");
    await sleep(300);
    await server.restart();
    await within("end of group.flush()", group.flush());
    const raw = await server.client();
    assert.equal(await raw.get("g:1h:cur:a"), "110");
    // One warning per outage, not per event: outage and reconnection alternate. (The restarted
    // server may drop the first connection again while it loads its AOF: a second, short outage.)
    const kinds = warnings.map((w) =>
      w.startsWith("Cannot reach Redis") ? "down" : w.startsWith("Reconnected") ? "up" : w
    );
    assert.ok(kinds.length >= 2 && kinds.length <= 4, warnings.join("\n"));
    kinds.forEach((kind, index) =>
      assert.equal(kind, index % 2 === 0 ? "down" : "up", warnings.join("\n"))
    );
    await within("end of ecl.close()", ecl.close());
  } finally {
    await server.stop();
  }
});

Deno.test("Master after a Redis outage over several boundaries rotates once, to the latest", async () => {
  const server = await RedisServer.start(["--appendonly", "yes", "--appendfsync", "always"]);
  const config = parseConfig({
    redis: server.spec,
    groups: { g: { events: ["a"], intervals: ["1s"] } },
  });
  const store = new Store(config.redis, { offlineQueue: false });
  const reports: (RotationReport & { at: number })[] = [];
  const master = new Master(config, store, {
    onRotation: (report) => reports.push({ ...report, at: Date.now() }),
  });
  try {
    await master.start();
    await sleep(1200);
    await server.kill();
    const downAt = Date.now();
    await sleep(3300);
    await server.restart();
    // The client retries every 2 s at most; the master every 1 s at most.
    await sleep(3500);
    await master.stop();
    const after = reports.filter((report) => report.at > downAt);
    const [catchUp] = after;
    assert.ok(catchUp !== undefined, "no rotation after the outage");
    // One rotation for the whole outage: the boundaries in between were skipped, not replayed.
    assert.ok(after.length <= 3, after.map((r) => r.boundary).join(","));
    for (let i = 1; i < after.length; i++) {
      assert.equal(after[i].boundary - after[i - 1].boundary, 1);
    }
    const raw = await server.client();
    const lastTs = Number((await raw.get("g:1s:last:@ts"))?.split("/")[0]);
    const curTs = Number(await raw.get("g:1s:cur:@ts"));
    assert.equal(curTs, after.at(-1)!.boundary);
    if (after.length === 1) assert.ok(curTs - lastTs >= 3, `span ${lastTs}..${curTs}`);
    const before = reports.filter((report) => report.at <= downAt).at(-1)!;
    assert.ok(catchUp.boundary - before.boundary >= 3, `${before.boundary} -> ${catchUp.boundary}`);
  } finally {
    await master.stop();
    await within("end of store.close()", store.close());
    await server.stop();
  }
});

/**
 * A logger behind a proxy that has just lost the reply to its first flush of 7 counts: Redis ran
 * it, the logger could not know. Returns what the two lost-reply tests need; `stop()` cleans up.
 */
async function afterLostReply() {
  const server = await RedisServer.start();
  const proxy = await LossyProxy.start(server.port);
  const ecl = new EventCountLogger(
    { g: { events: ["a"], intervals: ["1h"] } },
    { host: "127.0.0.1", port: proxy.port },
    { onWarning: () => {} },
  );
  const group = ecl.getGroup("g")!;
  const raw = await server.client();
  // Load the script first, so that the command whose reply is lost is the one that counts.
  await raw.scriptLoad(FLUSH_SCRIPT);
  await within("end of ecl.ready()", ecl.ready());
  proxy.dropReplyTo("EVALSHA");
  group.log("a", 7);
  await assert.rejects(
    within("end of group.flush()", group.flush()),
    (error: unknown) => error instanceof RedisError && error.outcomeUnknown,
  );
  return {
    proxy,
    group,
    raw,
    async stop() {
      await within("end of ecl.close()", ecl.close());
      await within("end of proxy.close()", proxy.close());
      await server.stop();
    },
  };
}

Deno.test("EventGroup: a flush whose reply is lost is resent and counted once", async () => {
  const { proxy, group, raw, stop } = await afterLostReply();
  try {
    assert.equal(proxy.dropped, 1);
    // Redis ran it: the count is there, though the logger could not know.
    assert.equal(await raw.get("g:1h:cur:a"), "7");
    assert.equal(group.pendingSize, 1);
    await within("end of group.flush()", group.flush());
    assert.equal(await raw.get("g:1h:cur:a"), "7");
    assert.equal(group.pendingSize, 0);
    group.log("a", 1);
    await within("end of group.flush()", group.flush());
    assert.equal(await raw.get("g:1h:cur:a"), "8");
  } finally {
    await stop();
  }
});

Deno.test("EventGroup: past max_pending_keys, new events are dropped, counted and reported", async () => {
  const port = await freePort();
  const warnings: string[] = [];
  const ecl = new EventCountLogger(
    { g: { auto_declare_events: true, intervals: ["1h", "1m"], max_pending_keys: 10 } },
    { host: "127.0.0.1", port },
    { onWarning: (message) => warnings.push(message) },
  );
  const group = ecl.getGroup("g")!;
  // Two intervals: each event takes two counters, so five events fit.
  const accepted = ["e1", "e2", "e3", "e4", "e5", "e6", "e7"].map((id) => group.log(id, 2));
  assert.deepEqual(accepted, [true, true, true, true, true, false, false]);
  assert.equal(group.log("e1", 3), true); // known events keep counting
  assert.equal(group.droppedCounts, 4);
  assert.equal(
    warnings.filter((w) => w.startsWith('Cannot keep counts of new events of group "g"')).length,
    1,
  );
  const server = await RedisServer.startOn(port);
  try {
    await within("end of group.flush()", group.flush());
    const raw = await server.client();
    assert.deepEqual(await raw.mGet(["g:1h:cur:e1", "g:1m:cur:e5", "g:1h:cur:e6"]), [
      "5",
      "2",
      null,
    ]);
    assert.match(warnings.at(-1)!, /^Dropped 4 counts of group "g" while max_pending_keys \(10\)/);
    assert.equal(group.log("e6"), true);
    await within("end of ecl.close()", ecl.close());
  } finally {
    await server.stop();
  }
});

Deno.test("EventCountLogger.closeOnSignals(): SIGTERM mid-interval writes every cached count", async () => {
  const server = await RedisServer.start();
  const config = await writeConfig(
    `redis: {host: 127.0.0.1, port: ${server.port}}\ngroups:\n  cached:\n    auto_declare_events: true\n    intervals: [1h]\n    sync_interval: 3600\n`,
  );
  try {
    const worker = spawnScript("tests/_signal_worker.ts", [config, "100000"]);
    const reader = worker.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value, "ready\n");
    const raw = await server.client();
    assert.deepEqual(await raw.keys("cached:1h:cur:e*"), []);
    worker.kill("SIGTERM");
    const status = await worker.status;
    await reader.cancel();
    await worker.stderr.cancel();
    assert.equal(status.signal, "SIGTERM");
    const values = await raw.mGet(Array.from({ length: 10 }, (_, i) => `cached:1h:cur:e${i}`));
    assert.deepEqual(values, Array(10).fill("10000"));
  } finally {
    await Deno.remove(config);
    await server.stop();
  }
});

for (const mode of ["direct", "cached"] as const) {
  Deno.test(`4 loggers × 200,000 events in ${mode} mode through a Redis SIGKILL and restart: exact totals`, async () => {
    // AOF with fsync on every write: whatever Redis confirmed survives SIGKILL, so every count
    // logged, before, during and after the outage, must be there exactly once.
    const server = await RedisServer.start(["--appendonly", "yes", "--appendfsync", "always"]);
    const cache = mode === "cached" ? "\n    sync_interval: 0.2\n    sync_limit: 5000" : "";
    const config = await writeConfig(
      `redis: {host: 127.0.0.1, port: ${server.port}}\ngroups:\n  load:\n    events: [e1, e2, e3, e4]\n    intervals: [1m, 1h]${cache}\n`,
    );
    try {
      const workers = Array.from(
        { length: 4 },
        () =>
          spawnScript("tests/_log_worker.ts", [config, "load", "200000", "e1", "e2", "e3", "e4"], {
            ECL_TEST_PACE_MS: "4",
          }),
      );
      const outputs = workers.map((worker) => worker.output());
      // Wait until every worker logs, then pull the plug.
      const raw = await server.client();
      await waitFor(
        "writer keys of 4 logging workers",
        async () => (await raw.keys("load:1h:cur:@w:*")).length >= 4,
        { everyMs: 20 },
      );
      await server.kill();
      await sleep(700);
      await server.restart();
      for (const output of await Promise.all(outputs)) {
        assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      }
      const check = await server.client();
      for (const interval of ["1m", "1h"]) {
        const values = await check.mGet(
          ["e1", "e2", "e3", "e4"].map((e) => `load:${interval}:cur:${e}`),
        );
        assert.deepEqual(values, ["200000", "200000", "200000", "200000"], interval);
      }
    } finally {
      await Deno.remove(config);
      await server.stop();
    }
  });
}

Deno.test("EventGroup: a batch of unknown outcome stays unknown when its resend is refused", async () => {
  const { group, raw, stop } = await afterLostReply();
  try {
    assert.equal(await raw.get("g:1h:cur:a"), "7"); // it ran
    // The resend is refused outright (here: scripts forbidden for a moment). That says nothing about
    // the first attempt, so the batch must keep its number, or it would be added a second time.
    await raw.sendCommand(["ACL", "SETUSER", "default", "-evalsha", "-eval"]);
    group.log("a", 1);
    await assert.rejects(
      within("end of group.flush()", group.flush()),
      (error: unknown) => error instanceof RedisError && error.refused,
    );
    await raw.sendCommand(["ACL", "SETUSER", "default", "+evalsha", "+eval"]);
    await within("end of group.flush()", group.flush());
    assert.equal(await raw.get("g:1h:cur:a"), "8");
    assert.equal(group.pendingSize, 0);
  } finally {
    await stop();
  }
});
