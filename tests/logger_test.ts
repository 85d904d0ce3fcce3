/** `EventCountLogger`: its groups, its configuration checks, and connecting. */
import assert from "node:assert/strict";
import { ConfigError, DummyEventGroup, EventCountLogger } from "../mod.ts";
import { freePort, RedisServer } from "./_redis.ts";
import { within } from "./_wait.ts";

function collect(): { warnings: string[]; onWarning: (message: string) => void } {
  const warnings: string[] = [];
  return { warnings, onWarning: (message) => warnings.push(message) };
}

Deno.test("EventCountLogger.getGroup() handles unconfigured groups like the original", () => {
  const { warnings, onWarning } = collect();
  const ecl = new EventCountLogger({ g: { events: ["a"], intervals: ["1m"] } }, undefined, {
    onWarning,
  });
  assert.equal(ecl.getGroup("nope"), undefined);
  assert.equal(ecl.getGroup("nope"), undefined);
  const dummy = ecl.group("other");
  assert.ok(dummy instanceof DummyEventGroup);
  assert.equal(dummy.log("x"), false);
  assert.equal(ecl.getGroup("quiet", { warn: false }), undefined);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /Cannot find group "nope"/);
  assert.deepEqual(ecl.groupNames, ["g"]);
  return ecl.close();
});

Deno.test("EventCountLogger() validates its configuration", async (t) => {
  await t.step("bad interval", () => {
    assert.throws(
      () => new EventCountLogger({ g: { events: [], intervals: ["5x"] } }),
      (error: unknown) =>
        error instanceof ConfigError && error.path === "groups.g.intervals[0]" &&
        /"5x"/.test(error.message),
    );
  });
  await t.step("bad redis port", () => {
    assert.throws(
      () => new EventCountLogger({ g: { intervals: ["5m"] } }, { port: 0 }),
      (error: unknown) => error instanceof ConfigError && error.path === "redis.port",
    );
  });
});

Deno.test("EventCountLogger.ready() reports an unreachable Redis; logging still works later", async () => {
  const { warnings, onWarning } = collect();
  const port = await freePort();
  const ecl = new EventCountLogger({ g: { events: ["a"], intervals: ["1m"] } }, {
    host: "127.0.0.1",
    port,
  }, { onWarning });
  await assert.rejects(
    within("end of ecl.ready()", ecl.ready()),
    /Cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+\/0/,
  );
  const group = ecl.getGroup("g")!;
  assert.equal(group.log("a", 3), true);
  // Redis appears on that port: the pending counts are written.
  const server = await RedisServer.startOn(port);
  try {
    await within("end of group.flush()", group.flush());
    const raw = await server.client();
    assert.equal(await raw.get("g:1m:cur:a"), "3");
    await within("end of ecl.close()", ecl.close());
  } finally {
    await server.stop();
  }
  assert.ok(warnings.some((w) => /Reconnected to Redis/.test(w)), warnings.join("\n"));
});
