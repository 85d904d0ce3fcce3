/**
 * `WritePipeline` in direct mode arms its boundary timer only while counts wait in the open window
 * (tests/startup_timers_test.ts checks that a one-shot writer sets no timer at all); counts still
 * land in the period they were logged in. Against a real redis-server, with the writer's clock
 * injected: the test moves it across boundaries and opens the periods as a master would.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import { EventGroup } from "../lib/group.ts";
import { periodStart } from "../lib/interval.ts";
import type { RedisSpec } from "../lib/redis_config.ts";
import { Store } from "../lib/store.ts";
import { type RawClient, withRedis } from "./_redis.ts";
import { within } from "./_wait.ts";

const LEN = 60;

/**
 * A direct-mode writer of group `g` (events `a` and `x`, interval 1m) whose clock (`clock.seconds`,
 * moved by the test) is in period `P` (ahead of the real clock, so no real boundary interferes),
 * which a master has opened.
 */
async function writer(raw: RawClient, spec: RedisSpec) {
  const config = parseConfig({
    redis: spec,
    groups: { g: { events: ["a", "x"], intervals: ["1m"] } },
  });
  const groupConfig = config.groups.get("g")!;
  const interval = groupConfig.intervals[0];
  const store = new Store(config.redis);
  const P = periodStart(Date.now() / 1000, LEN) + 10 * LEN;
  const open = async (period: number) => {
    assert.notEqual(await store.rotate(groupConfig, interval, period), -1);
    assert.equal(await raw.get("g:1m:cur:@ts"), String(period));
  };
  await open(P);
  const clock = { seconds: P + 0.5 };
  const warnings: string[] = [];
  const group = new EventGroup(groupConfig, {
    store,
    warn: (message) => warnings.push(message),
    now: () => clock.seconds * 1000,
  });
  const close = async () => {
    await within("end of group.close()", group.close());
    await within("end of store.close()", store.close());
  };
  return { group, clock, P, open, warnings, close };
}

Deno.test("WritePipeline (direct): the first count after an idle boundary goes to the new period", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const { group, clock, P, open, warnings, close } = await writer(raw, server.spec);
    try {
      group.log("a");
      await within("end of group.flush()", group.flush());
      assert.equal(await raw.get("g:1m:cur:a"), "1");
      // Nothing waits: no timer followed the boundary. The next count stamps its own window.
      clock.seconds = P + LEN + 0.5;
      await open(P + LEN);
      group.log("a", 2);
      await within("end of group.flush()", group.flush());
      assert.deepEqual(await raw.mGet(["g:1m:last:a", "g:1m:cur:a"]), ["1", "2"]);
      assert.deepEqual(warnings, []);
    } finally {
      await close();
    }
  }));

Deno.test("WritePipeline (direct): counts waiting behind a write in flight are split at the boundary", () =>
  withRedis(async (server) => {
    const raw = await server.client();
    const { group, clock, P, open, warnings, close } = await writer(raw, server.spec);
    const B = P + LEN;
    try {
      // Redis holds every script call: the first write stays in flight.
      await raw.sendCommand(["CLIENT", "PAUSE", "30000", "WRITE"]);
      group.log("x");
      await Promise.resolve(); // its write starts (a microtask)
      // Counts logged while it is in flight wait in the open window, stamped in P; the code that
      // logged them runs past the boundary before it yields.
      clock.seconds = B - 0.5;
      group.log("a", 2);
      clock.seconds = B + 0.5;
      await Promise.resolve();
      // The boundary timer, armed for B because counts wait, is due: it seals the window before a
      // timer armed after it fires.
      await new Promise((resolve) => setTimeout(resolve, 0));
      group.log("a", 4); // in B's period
      await raw.sendCommand(["CLIENT", "UNPAUSE"]);
      // B's counts wait for the master (Deferred) until it opens B; P's go to cur, then last.
      await open(B);
      await within("end of group.flush()", group.flush());
      assert.deepEqual(
        await raw.mGet(["g:1m:last:x", "g:1m:last:a", "g:1m:cur:a", "g:1m:cur:x"]),
        ["1", "2", "4", "0"],
      );
      assert.deepEqual(warnings, []);
    } finally {
      await raw.sendCommand(["CLIENT", "UNPAUSE"]);
      await close();
    }
  }));
