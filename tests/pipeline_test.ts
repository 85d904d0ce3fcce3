/**
 * `WritePipeline` against a real redis-server: counts of a period the master has not opened yet
 * (the flush script answers Deferred) are waited for by `flush()` and `close()`, and reach Redis
 * exactly once — when the master opens the period, or in `cur` when the grace runs out. The
 * writer's clock is injected, so which period Redis has open and what time the writer thinks it is
 * are set by the test, not by when it happens to run.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { EventGroup } from "../lib/group.ts";
import { periodStart } from "../lib/interval.ts";
import type { RedisSpec } from "../lib/redis_config.ts";
import { Store } from "../lib/store.ts";
import { runCli, writeConfig } from "./_process.ts";
import { type RawClient, withRedis } from "./_redis.ts";
import { waitFor, within } from "./_wait.ts";

const LEN = 60;

/** Successful flush-script calls Redis has run since the server started. */
async function scriptCalls(raw: RawClient): Promise<number> {
  const stats = await raw.info("commandstats");
  let calls = 0;
  for (const command of ["evalsha", "eval"]) {
    const line = new RegExp(`cmdstat_${command}:calls=(\\d+).*failed_calls=(\\d+)`).exec(stats);
    if (line !== null) calls += Number(line[1]) - Number(line[2]);
  }
  return calls;
}

/** Whether `promise` has settled, as seen after the turns queued now. */
function tracked(promise: Promise<void>): { settled: () => boolean; promise: Promise<void> } {
  let settled = false;
  const done = promise.finally(() => settled = true);
  done.catch(() => {});
  return { settled: () => settled, promise: done };
}

/**
 * A writer whose clock is 0.5 s into period `P` while the master's last rotation opened `P - LEN`:
 * its writes are Deferred. `clock` is the writer's time in seconds; the test moves it.
 */
async function deferredWriter(raw: RawClient, spec: RedisSpec) {
  const config = parseConfig({ redis: spec, groups: { g: { events: ["a"], intervals: ["1m"] } } });
  const groupConfig = config.groups.get("g")!;
  const interval = groupConfig.intervals[0];
  const store = new Store(config.redis);
  // A period boundary ahead of the real clock: nothing else in the test reaches it.
  const period = periodStart(Date.now() / 1000, LEN) + 10 * LEN;
  assert.notEqual(await store.rotate(groupConfig, interval, period - LEN), -1);
  assert.equal(await raw.get("g:1m:cur:@ts"), String(period - LEN));
  const clock = { seconds: period + 0.5 };
  const warnings: string[] = [];
  const group = new EventGroup(groupConfig, {
    store,
    warn: (message) => warnings.push(message),
    now: () => clock.seconds * 1000,
  });
  return { store, group, clock, period, interval, groupConfig, warnings };
}

/** Wait until the writer has been told Deferred ten times after `calls` script calls. */
async function deferredRounds(raw: RawClient, calls: number): Promise<void> {
  await waitFor(
    "ten Deferred flush rounds",
    async () => await scriptCalls(raw) >= calls + 10,
  );
}

Deno.test("WritePipeline: flush() waits for the master to open the period of deferred counts, then they are in cur once", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const { store, group, period, interval, groupConfig, warnings } = await deferredWriter(
      raw,
      server.spec,
    );
    try {
      const calls = await scriptCalls(raw);
      group.log("a", 3);
      const flushing = tracked(group.flush());
      await deferredRounds(raw, calls);
      assert.equal(flushing.settled(), false, "flush() resolved while its counts were deferred");
      assert.equal(await raw.get("g:1m:cur:a"), "0"); // the rotation set it
      assert.equal(group.pendingSize, 1);
      // The master opens the period: the next round writes to cur, and flush() resolves.
      assert.notEqual(await store.rotate(groupConfig, interval, period), -1);
      await flushing.promise;
      assert.equal(group.pendingSize, 0);
      assert.equal(await raw.get("g:1m:cur:a"), "3");
      assert.equal(await raw.get("g:1m:last:a"), "0");
      await within("end of group.close()", group.close());
      assert.equal(await raw.get("g:1m:cur:a"), "3", "written once");
      assert.deepEqual(warnings, []);
    } finally {
      await within("end of group.close()", group.close());
      await within("end of store.close()", store.close());
    }
  }));

Deno.test("WritePipeline: close() waits out the grace for deferred counts, then writes them to cur once", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const { store, group, clock, period, warnings } = await deferredWriter(raw, server.spec);
    try {
      const calls = await scriptCalls(raw);
      group.log("a", 4);
      const closing = tracked(group.close());
      await deferredRounds(raw, calls);
      assert.equal(closing.settled(), false, "close() resolved while its counts were deferred");
      assert.equal(await raw.get("g:1m:cur:a"), "0"); // the rotation set it
      // No master opens the period; the grace (2 s) runs out by the writer's clock.
      clock.seconds = period + 2.5;
      await closing.promise;
      assert.equal(group.pendingSize, 0);
      assert.equal(await raw.get("g:1m:cur:a"), "4");
      assert.equal(await raw.get("g:1m:cur:@ts"), String(period - LEN), "no rotation happened");
      // The writer released its records: nothing is left to resend.
      assert.deepEqual(await raw.keys("g:1m:cur:@w:*"), []);
      assert.deepEqual(warnings, []);
    } finally {
      await within("end of group.close()", group.close());
      await within("end of store.close()", store.close());
    }
  }));

Deno.test("ecl log in a period no master opened: exits 0 once its count is in Redis, once", () =>
  withRedis(async (server) => {
    const config = await writeConfig(`redis:
  host: 127.0.0.1
  port: ${server.port}
groups:
  g:
    events: [a]
    intervals: [2s]
`);
    const parsed = parseConfig({
      redis: server.spec,
      groups: { g: { events: ["a"], intervals: ["2s"] } },
    });
    const groupConfig = parsed.groups.get("g")!;
    const store = new Store(parsed.redis);
    try {
      const raw = await server.client();
      // Open a period, then start `ecl log` at the beginning of the next one, which nobody opens:
      // its write is Deferred until the grace (2 s) runs out. (Started later, it writes at once.)
      const opened = periodStart(Date.now() / 1000, 2);
      await store.rotate(groupConfig, groupConfig.intervals[0], opened);
      await waitFor(
        "the next 2 s period",
        () => Promise.resolve(periodStart(Date.now() / 1000, 2) > opened),
        { timeoutMs: 5000, everyMs: 10 },
      );
      const result = await runCli(["log", config, "g", "a", "5"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "");
      assert.equal(await raw.get("g:2s:cur:a"), "5");
      assert.equal(await raw.get("g:2s:cur:@ts"), String(opened), "no rotation happened");
    } finally {
      await within("end of store.close()", store.close());
      await Deno.remove(config);
    }
  }));
